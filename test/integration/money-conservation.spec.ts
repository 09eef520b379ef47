import { credentials } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { GiftCardServiceClient } from '../../gen/giftcard/v1/gift_card_service';
import { GiftCardApi } from '../support/api';
import { issueCard, newKey, newPurchase } from '../support/builders';
import { settle, type DecodedRpcError } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';

/**
 * SPEC §3 and §5 by doing it: clients hammer a small set of cards with every kind of money
 * movement at once, then the books must balance against what the clients were told.
 */
const CLIENTS = 8;
const USERS = 4;
const CARDS_PER_USER = 5;
const OPERATIONS_PER_CLIENT = 40;
const OPENING_BALANCE = 5_000n;
/** Cards the clients pick from at any moment. */
const WORKING_SET = USERS * CARDS_PER_USER;
/**
 * The only refusals a correct service gives here: the picks are random and the clients' view
 * of the cards is stale by design. Anything else (INTERNAL, ABORTED, a limit we never approach,
 * a refund beyond what the clients reserved) is a failure.
 */
const EXPECTED_REFUSALS = new Set([
  'INSUFFICIENT_FUNDS',
  'CARD_NOT_ACTIVE',
  'CARD_NOT_FOUND',
  // A gift in flight gave the card new credentials (SPEC §10): the old ones now answer as an
  // unknown card's, and, guessed at often enough, lock like one.
  'INVALID_CARD_CREDENTIALS',
  'PASSCODE_LOCKED',
]);

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

/** mulberry32: a seeded generator, so a failing run can be replayed with its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What the clients believe about a card; it may be stale, which only earns refusals. */
interface KnownCard {
  readonly giftCardId: string;
  readonly cardNumber: string;
  readonly passcode: string;
  owner: string | null;
  retired: boolean;
  /** False once a gift of the card was acknowledged: the gift reissued its credentials, shown to nobody. */
  credentialsLive?: boolean;
}

interface KnownRedemption {
  readonly transactionId: string;
  /** Not yet refunded or reserved by a refund in flight, so no refund is ever refused for excess. */
  unreserved: bigint;
}

interface Tally {
  issued: bigint;
  reloaded: bigint;
  redeemed: bigint;
  refunded: bigint;
}

const OPERATION_KINDS = ['redeem', 'reload', 'refund', 'transfer', 'combine', 'giftExisting', 'giftNew'] as const;
type OperationKind = (typeof OPERATION_KINDS)[number];

class Run {
  readonly cards: KnownCard[] = [];
  readonly redemptions: KnownRedemption[] = [];
  readonly tally: Tally = { issued: 0n, reloaded: 0n, redeemed: 0n, refunded: 0n };
  readonly succeeded = new Map<OperationKind, number>(OPERATION_KINDS.map((k) => [k, 0]));
  readonly unexpected: { kind: OperationKind; error: DecodedRpcError }[] = [];

  constructor(
    readonly users: readonly string[],
    private readonly random: () => number,
  ) {}

  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.random() * items.length)];
  }

  amount(max: number): bigint {
    return BigInt(1 + Math.floor(this.random() * max));
  }

  /**
   * The oldest cards still in use, at most WORKING_SET of them: new cards replace retired ones
   * instead of spreading the load, so the clients keep colliding on the same rows.
   */
  liveCards(owner?: string): KnownCard[] {
    return this.cards
      .filter((c) => !c.retired)
      .slice(0, WORKING_SET)
      .filter((c) => owner === undefined || c.owner === owner);
  }

  /** Counts the call's outcome; says whether it succeeded. */
  async record<T>(kind: OperationKind, call: Promise<T>, onSuccess: (value: T) => void): Promise<boolean> {
    const outcome = await settle(call);
    if (outcome.ok) {
      this.succeeded.set(kind, (this.succeeded.get(kind) ?? 0) + 1);
      onSuccess(outcome.value);
      return true;
    }
    if (!EXPECTED_REFUSALS.has(outcome.error.reason ?? '')) this.unexpected.push({ kind, error: outcome.error });
    return false;
  }

  async step(api: GiftCardApi): Promise<unknown> {
    const kind = this.pick(OPERATION_KINDS)!;
    const card = this.pick(this.liveCards());
    if (card === undefined) return;
    const byCredentials =
      card.credentialsLive === false ? null : { cardNumber: card.cardNumber, passcode: card.passcode };
    const bySavedCard = card.owner === null ? null : { giftCardId: card.giftCardId, userId: card.owner };
    // Half the calls name the card as its owner's saved card, half by its credentials, where both work.
    const naming =
      bySavedCard !== null && (byCredentials === null || this.random() < 0.5) ? bySavedCard : byCredentials;
    if (naming === null) return;
    switch (kind) {
      case 'redeem':
        return this.record(
          kind,
          api.redeem({
            idempotencyKey: newKey(),
            ...naming,
            amount: this.amount(800),
            currency: 'USD',
            allowPartial: this.random() < 0.3,
          }),
          (r) => {
            this.tally.redeemed += r.redeemedAmount;
            this.redemptions.push({ transactionId: r.transactionId, unreserved: r.redeemedAmount });
          },
        );
      case 'reload': {
        const amount = this.amount(500);
        return this.record(
          kind,
          api.reload({
            idempotencyKey: newKey(),
            ...naming,
            amount,
            currency: 'USD',
            sourceTransactionId: newPurchase(),
          }),
          () => {
            this.tally.reloaded += amount;
          },
        );
      }
      case 'refund': {
        const redemption = this.pick(this.redemptions.filter((r) => r.unreserved > 0n));
        if (redemption === undefined) return;
        const amount = this.amount(Number(redemption.unreserved));
        redemption.unreserved -= amount;
        const refunded = await this.record(
          kind,
          api.refund({
            idempotencyKey: newKey(),
            transactionId: redemption.transactionId,
            amount,
            currency: 'USD',
            sourceTransactionId: 'cancel',
          }),
          (r) => {
            this.tally.refunded += r.refundedAmount;
          },
        );
        if (!refunded) redemption.unreserved += amount;
        return;
      }
      case 'transfer': {
        const whole = this.random() < 0.5;
        return this.record(
          kind,
          api.balanceTransfer({
            idempotencyKey: newKey(),
            ...naming,
            amount: whole ? 0n : this.amount(1_500),
            currency: 'USD',
            isDeleteSourceCard: whole,
          }),
          (r) => {
            if (whole) card.retired = true;
            this.cards.push({ ...r, owner: card.owner, retired: false });
          },
        );
      }
      case 'combine': {
        const user = this.pick(this.users)!;
        const owned = this.liveCards(user);
        const target = this.pick(owned);
        if (target === undefined) return;
        const sources = owned.filter((c) => c !== target && this.random() < 0.4).slice(0, 3);
        if (sources.length === 0) return;
        return this.record(
          kind,
          api.combineCards({
            idempotencyKey: newKey(),
            userId: user,
            targetGiftCardId: target.giftCardId,
            sourceGiftCardIds: sources.map((s) => s.giftCardId),
          }),
          () => {
            for (const source of sources) source.retired = true;
          },
        );
      }
      case 'giftExisting': {
        if (card.owner === null) return;
        const recipient = this.pick(this.users.filter((u) => u !== card.owner))!;
        return this.record(
          kind,
          api.giftDigitalCard({
            idempotencyKey: newKey(),
            userId: card.owner,
            recipientUserId: recipient,
            giftCardId: card.giftCardId,
          }),
          () => {
            card.owner = recipient;
            card.credentialsLive = false;
          },
        );
      }
      case 'giftNew': {
        const [sender, recipient] = [this.pick(this.users)!, this.pick(this.users)!];
        if (sender === recipient) return;
        const amount = this.amount(2_000);
        return this.record(
          kind,
          api.giftDigitalCard({
            idempotencyKey: newKey(),
            userId: sender,
            recipientUserId: recipient,
            amount,
            currency: 'USD',
            sourceTransactionId: newPurchase(),
          }),
          (r) => {
            this.tally.issued += amount;
            this.cards.push({ ...r, owner: recipient, retired: false });
          },
        );
      }
    }
  }
}

/** A client on its own connection, as a separate service calling in would be. */
function newClient(address: string): GiftCardApi {
  return new GiftCardApi(
    new GiftCardServiceClient(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  );
}

async function booksOf(giftCardIds: readonly string[]): Promise<RowDataPacket> {
  const [[books]] = await db.query<RowDataPacket[]>(
    `SELECT
       (SELECT COALESCE(SUM(balance_minor), 0) FROM gift_card WHERE public_id IN (?)) AS balances,
       (SELECT COUNT(*) FROM gift_card WHERE public_id IN (?) AND balance_minor < 0) AS negative,
       (SELECT COUNT(*) FROM gift_card c WHERE c.public_id IN (?) AND c.balance_minor <>
          (SELECT COALESCE(SUM(e.amount_minor), 0) FROM ledger_entry e WHERE e.card_id = c.id)) AS drifted,
       ${['ISSUE', 'RELOAD', 'REDEEM', 'REFUND']
         .map(
           (type) => `(SELECT COALESCE(SUM(e.amount_minor), 0) FROM ledger_entry e JOIN gift_card c ON c.id = e.card_id
              WHERE c.public_id IN (?) AND e.entry_type = '${type}') AS ${type.toLowerCase()}`,
         )
         .join(',\n')}`,
    Array(7).fill(giftCardIds),
  );
  return books!;
}

describe('Money conservation', () => {
  it('holds across a concurrent mix of transfers, combines, gifts, redemptions, reloads and refunds', async () => {
    const seed = Number(process.env.CONSERVATION_SEED ?? Date.now() % 2 ** 31);
    const users = Array.from({ length: USERS }, (_, i) => `conservation-${process.pid}-${seed}-${i}`);
    const run = new Run(users, seededRandom(seed));
    for (const owner of users) {
      for (let i = 0; i < CARDS_PER_USER; i++) {
        const card = await issueCard(svc.api, { amount: OPENING_BALANCE, userId: owner });
        run.tally.issued += OPENING_BALANCE;
        run.cards.push({ ...card, owner, retired: false });
      }
    }
    const clients = Array.from({ length: CLIENTS }, () => newClient(svc.address));
    try {
      await Promise.all(
        clients.map(async (api) => {
          for (let i = 0; i < OPERATIONS_PER_CLIENT; i++) await run.step(api);
        }),
      );
    } finally {
      for (const api of clients) api.client.close();
    }

    // The seed rides along in every comparison, so a failure names the run to replay.
    expect({ seed, unexpected: run.unexpected }).toEqual({ seed, unexpected: [] });
    const { issued, reloaded, redeemed, refunded } = run.tally;
    const books = await booksOf(run.cards.map((c) => c.giftCardId));
    expect({
      seed,
      balances: String(books.balances),
      negative: Number(books.negative),
      drifted: Number(books.drifted),
      byType: [books.issue, books.reload, books.redeem, books.refund].map(String),
    }).toEqual({
      seed,
      balances: (issued + reloaded - redeemed + refunded).toString(),
      negative: 0,
      drifted: 0,
      byType: [issued, reloaded, -redeemed, refunded].map(String),
    });
    // Every kind of operation really happened, or the run proved less than it claims.
    for (const kind of OPERATION_KINDS)
      expect({ seed, kind, succeeded: run.succeeded.get(kind)! > 0 }).toEqual({ seed, kind, succeeded: true });
  });
});
