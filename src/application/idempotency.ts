import { randomUUID } from 'node:crypto';
import { DomainError, ErrorReason } from '../domain/errors';
import type { Outcome } from './outcome';
import { IdempotencyKeyTaken, type AppContext, type IdempotencyRecord, type TransactionScope } from './ports';
import { canonicalize, decodeResult, encodeResult } from './replay-codec';

/** Which request a key guards: the operation's name and everything the caller sent but the key. */
export interface IdempotentRequest {
  readonly operation: string;
  readonly key: string | null;
  readonly payload: unknown;
}

/**
 * Claims the request's key and names the operation: every ledger entry the request writes carries
 * the operation id it returns, and the key's record keeps it, so a key leads to its entries.
 * Calling it again returns the same id.
 */
export type Claim = () => Promise<string>;

/**
 * The work of one operation. It takes its row locks first, then calls claim() before deciding
 * anything, so a concurrent duplicate waits on the lock or the key and then replays.
 */
export type IdempotentWork<R> = (tx: TransactionScope, claim: Claim) => Promise<Outcome<R>>;

/**
 * Runs the work at most once per idempotency key. The claim is inserted in the same database
 * transaction as the change, so a rolled-back change leaves the key unused for a retry.
 */
export async function runOnce<R>(ctx: AppContext, request: IdempotentRequest, work: IdempotentWork<R>): Promise<R> {
  const { key } = request;
  const fingerprint = ctx.secrets.fingerprint(canonicalize({ operation: request.operation, payload: request.payload }));
  if (key !== null) {
    const prior = await ctx.uow.reads.idempotency.find(key);
    if (prior !== null) return replay(ctx, prior, fingerprint) as R;
  }
  let outcome: Outcome<R>;
  try {
    outcome = await ctx.uow.run(async (tx) => {
      const state: { operationId: string | null } = { operationId: null };
      const claim = async (): Promise<string> => {
        if (state.operationId !== null) return state.operationId;
        const operationId = randomUUID();
        if (key !== null) {
          const now = ctx.clock.now();
          const expiresAt = new Date(now.getTime() + ctx.limits.idempotencyRetentionMs);
          await tx.idempotency.claim({ key, fingerprint, operationId, now, expiresAt });
        }
        state.operationId = operationId;
        return operationId;
      };
      const result = await work(tx, claim);
      const claimed = state.operationId !== null;
      if (!result.ok) {
        // Committing a claimed key without a response would block every retry; roll it back.
        if (claimed) throw result.error;
        return result;
      }
      if (!claimed) throw new Error(`${request.operation} finished without claiming its idempotency key`);
      if (key !== null) await tx.idempotency.complete(key, ctx.secrets.seal(encodeResult(result.value)));
      return result;
    });
  } catch (error) {
    if (!(error instanceof IdempotencyKeyTaken) || key === null) throw error;
    const winner = await ctx.uow.reads.idempotency.find(key);
    if (winner === null) throw new Error('idempotency key reported taken but no record is stored');
    return replay(ctx, winner, fingerprint) as R;
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

function replay(ctx: AppContext, record: IdempotencyRecord, fingerprint: Uint8Array): unknown {
  if (!Buffer.from(record.fingerprint).equals(Buffer.from(fingerprint))) {
    throw new DomainError(
      ErrorReason.IDEMPOTENCY_KEY_REUSED,
      'idempotency key was already used for a different request',
    );
  }
  if (record.sealedResponse === null) throw new Error('committed idempotency record has no response');
  return decodeResult(ctx.secrets.open(record.sealedResponse));
}
