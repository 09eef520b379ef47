import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { status } from '@grpc/grpc-js';
import type { GiftCardApi } from '../../support/api';
import { decodeRpcError, type DecodedRpcError } from '../../support/rpc-error';
import { OPERATIONS } from './operations';
import {
  planned,
  type BalanceEffect,
  type PlannedCall,
  type ReversalNote,
  type WorkloadOperation,
} from './planned-call';
import type { Rng } from './random';
import type { WorkloadWorld } from './world';

/**
 * Answers that settle a call: the service decided, and said so. Everything else (UNAVAILABLE,
 * DEADLINE_EXCEEDED, ABORTED, CANCELLED, a dropped connection) leaves the outcome unknown, and a
 * payment orchestrator retries with the same key until it hears one of these or a success.
 */
const DEFINITE_REFUSALS = new Set<status>([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.PERMISSION_DENIED,
  status.FAILED_PRECONDITION,
  status.RESOURCE_EXHAUSTED,
  status.OUT_OF_RANGE,
  status.UNIMPLEMENTED,
  status.UNAUTHENTICATED,
]);

/** How the service words an INTERNAL it sent itself (a bug), as opposed to one grpc-js made up. */
const SERVER_INTERNAL = /^internal error \(id /;

const RETRY_BACKOFF_MIN_MS = 50;
const RETRY_BACKOFF_MAX_MS = 1_000;
const COVERAGE_POLL_MS = 200;

export interface WorkloadOptions {
  readonly clients: number;
  /** Each call's deadline; an answer that does not come in time is an unknown outcome. */
  readonly callDeadlineMs: number;
  /** Share of acknowledged calls sent once more with the same key, as a lost response would be. */
  readonly replayShare: number;
  /** After stop, how long clients may still retry to reach a definite answer. */
  readonly drainTimeoutMs: number;
}

export type CallOutcome = 'acknowledged' | 'refused' | 'unresolved';

/** What one client was told about one call, after all its retries. */
export interface CallRecord {
  readonly operation: string;
  readonly key: string | null;
  readonly externalRef: string | null;
  readonly outcome: CallOutcome;
  readonly attempts: number;
  readonly effects: readonly BalanceEffect[];
  readonly refusal?: { readonly code: string; readonly reason: string | undefined };
  /** For an acknowledged reversal: the key it named and whether it found a call applied. */
  readonly reversal?: ReversalNote;
  /** Sent after a reversal reserved its key: it must end refused with OPERATION_REVERSED. */
  readonly afterReversal?: boolean;
}

/** A call that did what its row exists for: acknowledged, or a late original refused as reversed. */
const completed = (record: CallRecord): boolean =>
  record.outcome === 'acknowledged' ||
  (record.afterReversal === true && record.refusal?.reason === 'OPERATION_REVERSED');

export interface WorkloadResult {
  readonly records: readonly CallRecord[];
  /** Sends beyond each call's first. */
  readonly retries: number;
  /** Acknowledged calls sent again with their key, and how many of those answers differed. */
  readonly replays: number;
  readonly replayMismatches: readonly string[];
  /** Every non-OK answer clients got, by code (and reason where there was one). */
  readonly answers: Readonly<Record<string, number>>;
  /** Findings against the rules seen on the wire: INTERNAL from the server, refusals the rules forbid. */
  readonly anomalies: readonly string[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Jittered exponential backoff between retries of one call. */
function backoff(attempt: number, rng: Rng): number {
  const ceiling = Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_MIN_MS * 2 ** (attempt - 1));
  return rng.int(RETRY_BACKOFF_MIN_MS, ceiling);
}

/**
 * N concurrent clients doing a random mix of the operation table on a fixed set of cards, each
 * retrying an unknown outcome with the same idempotency key and recording what it was told.
 */
export class Workload {
  private readonly records: CallRecord[] = [];
  private readonly answers: Record<string, number> = {};
  private readonly anomalies: string[] = [];
  private readonly replayMismatches: string[] = [];
  private retries = 0;
  private replays = 0;
  private stopping = false;
  private giveUpAt = Number.POSITIVE_INFINITY;
  private readonly runTag = randomBytes(4).toString('hex');
  private running: Promise<void>[] = [];
  /** Rows of the table with at least one acknowledged call. */
  private readonly acknowledgedRows = new Set<string>();

  constructor(
    private readonly world: WorkloadWorld,
    private readonly apis: readonly GiftCardApi[],
    private readonly rng: Rng,
    private readonly options: WorkloadOptions,
    private readonly operations: readonly WorkloadOperation[] = OPERATIONS,
  ) {}

  /** Issues the fixed cards through the service itself, each owned by a user, and records them. */
  async issueCards(count: number, openingMinor: bigint): Promise<void> {
    const api = this.apis[0];
    if (api === undefined) throw new Error('the workload needs at least one client');
    for (let i = 0; i < count; i++) {
      const key = this.key('setup', i);
      const userId = `fault-user-${this.runTag}-${i}`;
      const request = {
        idempotencyKey: key,
        amount: openingMinor,
        currency: this.world.currency,
        sourceTransactionId: key,
        userId,
      };
      const record = await this.perform(
        api,
        planned({
          operation: 'IssueVirtualCard',
          key,
          externalRef: key,
          send: (client, settings) => client.issueVirtualCard(request, settings),
          acknowledge: (card, world) => {
            world.learnCard(card);
            world.cards.push({
              giftCardId: card.giftCardId,
              cardNumber: card.cardNumber,
              passcode: card.passcode,
              userId,
            });
            return [{ giftCardId: card.giftCardId, deltaMinor: card.balance, transactionId: card.transactionId }];
          },
        }),
      );
      if (record.outcome !== 'acknowledged') throw new Error(`could not issue the workload's cards: ${record.outcome}`);
    }
  }

  start(): void {
    this.running = this.apis.slice(0, this.options.clients).map((api, index) => this.client(api, index));
  }

  /**
   * Waits until every row of the operation table has been acknowledged at least once, or the
   * liveness bound passes, and names the rows still missing: a run proves nothing about a row it
   * never completed, and a slow machine should make the run longer, not fail it.
   */
  async untilEveryOperationAcknowledged(timeoutMs: number): Promise<string[]> {
    const giveUp = Date.now() + timeoutMs;
    for (;;) {
      const missing = this.operations.map((o) => o.name).filter((name) => !this.acknowledgedRows.has(name));
      if (missing.length === 0 || Date.now() > giveUp) return missing;
      await sleep(COVERAGE_POLL_MS);
    }
  }

  /** Ends the run: no new calls; calls in progress keep retrying until answered or the drain ends. */
  async stop(): Promise<WorkloadResult> {
    this.stopping = true;
    this.giveUpAt = Date.now() + this.options.drainTimeoutMs;
    await Promise.all(this.running);
    return {
      records: this.records,
      retries: this.retries,
      replays: this.replays,
      replayMismatches: this.replayMismatches,
      answers: this.answers,
      anomalies: this.anomalies,
    };
  }

  private key(client: number | string, sequence: number): string {
    return `fw-${this.runTag}-${client}-${sequence}`;
  }

  private async client(api: GiftCardApi, index: number): Promise<void> {
    const rng = this.rng.fork(`client-${index}`);
    for (let sequence = 0; !this.stopping; sequence++) {
      const operation = rng.weighted(this.operations);
      const plan = operation.plan(this.world, rng, this.key(index, sequence));
      if (plan === null) continue;
      // A row of several calls sends them at once (a reversal racing its original), each drawing
      // from a generator of its own so the interleaving of their retries cannot shift the others'.
      const calls: readonly PlannedCall[] = Array.isArray(plan) ? plan : [plan as PlannedCall];
      const records = await Promise.all(
        calls.map((call, at) =>
          this.perform(api, call, calls.length === 1 ? rng : rng.fork(`${index}-${sequence}-${at}`)),
        ),
      );
      if (records.some(completed)) this.acknowledgedRows.add(operation.name);
    }
  }

  /** `rng`: the calling client's own generator; the setup, before any client starts, uses the workload's. */
  private async perform(api: GiftCardApi, call: PlannedCall, rng: Rng = this.rng): Promise<CallRecord> {
    try {
      return await this.sendUntilAnswered(api, call, rng);
    } finally {
      call.settled?.();
    }
  }

  private async sendUntilAnswered(api: GiftCardApi, call: PlannedCall, rng: Rng): Promise<CallRecord> {
    const base = {
      operation: call.operation,
      key: call.key,
      externalRef: call.externalRef,
      ...(call.afterReversal === true ? { afterReversal: true } : {}),
    };
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) this.retries++;
      let response: unknown;
      try {
        response = await call.send(api, { deadlineMs: this.options.callDeadlineMs });
      } catch (error) {
        const answer = this.noteAnswer(call, decodeRpcError(error));
        if (DEFINITE_REFUSALS.has(answer.code)) {
          return this.keep({
            ...base,
            outcome: 'refused',
            attempts: attempt,
            effects: [],
            refusal: { code: answer.codeName, reason: answer.reason },
          });
        }
        if (Date.now() > this.giveUpAt)
          return this.keep({ ...base, outcome: 'unresolved', attempts: attempt, effects: [] });
        await sleep(backoff(attempt, rng));
        continue;
      }
      const effects = call.acknowledge(response, this.world);
      const reversal = call.reversalOf?.(response);
      if (call.key !== null && rng.chance(this.options.replayShare)) await this.replay(api, call, response, rng);
      return this.keep({
        ...base,
        outcome: 'acknowledged',
        attempts: attempt,
        effects,
        ...(reversal === undefined ? {} : { reversal }),
      });
    }
  }

  /** Sends an acknowledged call again, as after a lost response: the answer must be the first, field for field. */
  private async replay(api: GiftCardApi, call: PlannedCall, first: unknown, rng: Rng): Promise<void> {
    this.replays++;
    for (let attempt = 1; ; attempt++) {
      try {
        const again = await call.send(api, { deadlineMs: this.options.callDeadlineMs });
        if (!isDeepStrictEqual(again, first)) this.replayMismatches.push(`${call.operation} ${call.key ?? ''}`);
        return;
      } catch (error) {
        const decoded = decodeRpcError(error);
        // Another client may have reversed the call since: its key answers that from then on.
        const reversedSince = call.key !== null && this.world.reversalTargets.has(call.key);
        const answer = this.noteAnswer(call, decoded, reversedSince ? ['OPERATION_REVERSED'] : []);
        if (answer.reason === 'OPERATION_REVERSED' && reversedSince) return;
        if (DEFINITE_REFUSALS.has(answer.code)) {
          this.replayMismatches.push(
            `${call.operation} ${call.key ?? ''}: replay refused ${answer.reason ?? answer.codeName}`,
          );
          return;
        }
        if (Date.now() > this.giveUpAt) return;
        await sleep(backoff(attempt, rng));
      }
    }
  }

  private noteAnswer(call: PlannedCall, answer: DecodedRpcError, alsoAllowed: readonly string[] = []): DecodedRpcError {
    const label = answer.reason === undefined ? answer.codeName : `${answer.codeName}/${answer.reason}`;
    this.answers[label] = (this.answers[label] ?? 0) + 1;
    if (answer.code === status.INTERNAL && SERVER_INTERNAL.test(answer.message)) {
      this.anomalies.push(`${call.operation}: INTERNAL from the server: ${answer.message}`);
    } else if (
      DEFINITE_REFUSALS.has(answer.code) &&
      ![...call.allowedRefusals, ...alsoAllowed].includes(answer.reason ?? '')
    ) {
      this.anomalies.push(`${call.operation} ${call.key ?? ''}: refused ${label}, which the rules do not allow here`);
    }
    return answer;
  }

  private keep(record: CallRecord): CallRecord {
    this.records.push(record);
    return record;
  }
}
