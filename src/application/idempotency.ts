import { randomUUID } from 'node:crypto';
import { currentKeyScope } from '../call-caller';
import { DomainError, ErrorReason } from '../domain/errors';
import { operationReversed } from '../domain/reversal';
import type { Outcome } from './outcome';
import {
  IdempotencyKeyTaken,
  RecordFormat,
  type AppContext,
  type IdempotencyRecord,
  type ScopedKey,
  type SealedReply,
  type TransactionScope,
} from './ports';
import {
  canonicalize,
  decodeResult,
  encodeResult,
  splitCardSecrets,
  withAvailableBalances,
  withoutPasscodes,
} from './replay-codec';

/** Which request a key guards: the operation's name and everything the caller sent but the key. */
export interface IdempotentRequest {
  readonly operation: string;
  readonly key: string | null;
  readonly payload: unknown;
  /**
   * The work proves the caller may have the first answer (its card access) before a replay, as it
   * proves a passcode: for answers holding card credentials a caller must still be entitled to.
   */
  readonly verifyBeforeReplay?: boolean;
}

/**
 * Claims the request's key and names the operation: every ledger entry the request writes carries
 * the operation id it returns, and the key's record keeps it, so a key leads to its entries.
 * Calling it again returns the same id.
 */
export type Claim = () => Promise<string>;

/**
 * The work of one operation. It takes its row locks and checks the caller's passcode first, then
 * calls claim() before deciding anything, so a concurrent duplicate waits on the lock or the key
 * and then replays, and no replay is answered to a wrong passcode.
 */
export type IdempotentWork<R> = (tx: TransactionScope, claim: Claim) => Promise<Outcome<R>>;

/** What a replay compares: the request as each record format fingerprints it. */
export interface RequestFingerprint {
  readonly request: IdempotentRequest;
  readonly current: Uint8Array;
  /** The payload names its card by a passcode, which must be checked before any replay. */
  readonly namesPasscode: boolean;
}

export function fingerprintOf(ctx: AppContext, request: IdempotentRequest): RequestFingerprint {
  const { rest, hadPasscode } = withoutPasscodes(request.payload);
  const current = ctx.secrets.fingerprint(
    canonicalize({ operation: request.operation, payload: rest }),
    RecordFormat.CURRENT,
  );
  return { request, current, namesPasscode: hadPasscode };
}

/**
 * Runs the work at most once per idempotency key of the calling service. The claim is inserted in
 * the same database transaction as the change, so a rolled-back change leaves the key unused for a
 * retry.
 */
export async function runOnce<R>(ctx: AppContext, request: IdempotentRequest, work: IdempotentWork<R>): Promise<R> {
  const key: ScopedKey | null = request.key === null ? null : { scope: currentKeyScope(), key: request.key };
  const fingerprint = fingerprintOf(ctx, request);
  // A request that names its card by passcode is answered from its key only inside the work,
  // once the passcode has been checked (and a wrong one counted): never from here. So is one
  // whose work checks the caller's entitlement to the answer first.
  if (key !== null && !fingerprint.namesPasscode && request.verifyBeforeReplay !== true) {
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
          await tx.idempotency.claim({
            key,
            rpc: request.operation,
            fingerprint: fingerprint.current,
            operationId,
            now,
            expiresAt,
          });
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
      if (key !== null) await tx.idempotency.complete(key, sealReply(ctx, result.value));
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

/** A new card's number and passcode are sealed apart, to be replayed only within their window. */
export function sealReply(ctx: AppContext, value: unknown): SealedReply {
  const { rest, secrets } = splitCardSecrets(value);
  return {
    sealedReply: ctx.secrets.sealReply(encodeResult(rest)),
    sealedSecrets: secrets === null ? null : ctx.secrets.sealReply(encodeResult(secrets)),
    secretsExpireAt:
      secrets === null ? null : new Date(ctx.clock.now().getTime() + ctx.limits.cardSecretReplayWindowMs),
  };
}

/**
 * The fingerprint the record was written with. A LEGACY record's covers the passcode too; it is
 * computed only here, after the work checked the passcode, so comparing it judges nothing.
 */
function expectedFingerprint(ctx: AppContext, record: IdempotencyRecord, fingerprint: RequestFingerprint): Uint8Array {
  if (record.format === RecordFormat.CURRENT) return fingerprint.current;
  const { operation, payload } = fingerprint.request;
  return ctx.secrets.fingerprint(canonicalize({ operation, payload }), RecordFormat.LEGACY);
}

/**
 * The first answer again, for the same request. A key whose call was reversed (or reserved as
 * reversed before the call arrived) answers OPERATION_REVERSED instead, whatever is asked with it:
 * a payment orchestrator that heard the first answer now would take a reversed payment for made.
 */
export function replay(ctx: AppContext, record: IdempotencyRecord, fingerprint: RequestFingerprint): unknown {
  if (record.sealedReversal !== null) throw operationReversed();
  if (!Buffer.from(record.fingerprint).equals(Buffer.from(expectedFingerprint(ctx, record, fingerprint)))) {
    throw new DomainError(
      ErrorReason.IDEMPOTENCY_KEY_REUSED,
      'idempotency key was already used for a different request',
    );
  }
  const { reply } = record;
  if (reply === null) throw new Error('committed idempotency record has no response');
  ctx.telemetry.idempotentReplay(fingerprint.request.operation);
  const rest = withAvailableBalances(decodeResult(ctx.secrets.openReply(reply.sealedReply, record.format)));
  const { sealedSecrets, secretsExpireAt } = reply;
  // Past the window the reply still tells the outcome, with the card's number and passcode empty.
  if (sealedSecrets === null || secretsExpireAt === null || secretsExpireAt <= ctx.clock.now()) return rest;
  const secrets = decodeResult(ctx.secrets.openReply(sealedSecrets, record.format)) as object;
  return { ...(rest as object), ...secrets };
}
