import type { Connection } from 'mysql2/promise';
import { GUARDED_FRAMING, PLAIN_FRAMING } from '../../src/persistence/guarded-transaction';
import { Rng } from '../faults/support/random';
import { credentialsOf, issueCard, newKey, newPurchase } from '../support/builders';
import { assertLedgerInvariants } from '../support/ledger-invariants';
import { lockingReadCount } from '../support/lock-waits';
import { settle, type DecodedRpcError } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import { rawConnection, testDatabaseName } from '../support/test-database';
import type { TestService } from '../support/test-service';

/*
 * Calls on one card that arrive while a transaction on it is in flight are applied together in
 * the next one (issue 12). Whatever the batching, each call's answer must be the one it would get
 * if the calls ran one after another in the order they arrived. This spec makes random arrivals
 * on one card, in a known order, and checks every answer against a sequential model of them.
 */

let svc: TestService;
let db: Connection;

/** Small batches, so that a round's arrivals span several, and the bound is tried. */
const BATCH_MAX_OPERATIONS = 6;
/** Every arrival must be admitted at once, to wait in the card's line rather than for admission. */
const MAX_ARRIVALS = 40;

const SEED = Number(process.env.BATCH_SEED ?? Date.now() % 2 ** 31);
const ROUNDS = 12;
const POLL_MS = 5;

type Card = Awaited<ReturnType<typeof issueCard>>;

/** What a call was told, reduced to what the model predicts. */
type Told =
  | { readonly ok: true; readonly fields: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly reason: string };

/** One call as the test sends it, and as the model runs it. */
interface Arrival {
  readonly label: string;
  /** The key and what the service fingerprints; null for a read or a wrong passcode. */
  readonly keyed: { readonly key: string; readonly signature: string } | null;
  send(): Promise<Told>;
  model(state: CardModel): Told;
  /** The same request again, same key: a retry. */
  again(): Arrival;
}

interface RedemptionModel {
  readonly taken: bigint;
  givenBack: bigint;
}

/** The card as calls applied one at a time would leave it. */
class CardModel {
  readonly keys = new Map<string, { signature: string; told: Told }>();
  readonly redemptions = new Map<string, RedemptionModel>();
  /** Funding references of reloads that went through: a purchase funds once. */
  readonly purchases = new Set<string>();

  constructor(
    public balance: bigint,
    readonly maxBalance: bigint,
  ) {}

  /** A key's first successful answer again for the same request; another request with it is refused. */
  run(arrival: Arrival): Told {
    const keyed = arrival.keyed;
    if (keyed === null) return arrival.model(this);
    const prior = this.keys.get(keyed.key);
    if (prior !== undefined) {
      return prior.signature === keyed.signature ? prior.told : { ok: false, reason: 'IDEMPOTENCY_KEY_REUSED' };
    }
    const told = arrival.model(this);
    if (told.ok) this.keys.set(keyed.key, { signature: keyed.signature, told });
    return told;
  }
}

const refused = (reason: string): Told => ({ ok: false, reason });
const told = (fields: Record<string, bigint | boolean>): Told => ({
  ok: true,
  fields: Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, String(value)])),
});

async function answer<T>(call: Promise<T>, fields: (value: T) => Record<string, bigint | boolean>): Promise<Told> {
  const outcome = await settle(call);
  return outcome.ok ? told(fields(outcome.value)) : refused(reasonOf(outcome.error));
}

function reasonOf(error: DecodedRpcError): string {
  return error.reason ?? error.codeName;
}

function redeemArrival(card: Card, key: string, amount: bigint, allowPartial: boolean): Arrival {
  const request = { idempotencyKey: key, ...credentialsOf(card), amount, currency: 'USD', allowPartial };
  return {
    label: `redeem ${amount}${allowPartial ? ' partial' : ''} ${key}`,
    keyed: { key, signature: `redeem:${amount}:${allowPartial}` },
    again: () => redeemArrival(card, key, amount, allowPartial),
    send: () =>
      answer(svc.api.redeem(request), ({ redeemedAmount, balance, partial }) => ({ redeemedAmount, balance, partial })),
    model: (state) => {
      if (state.balance >= amount) {
        state.balance -= amount;
        return told({ redeemedAmount: amount, balance: state.balance, partial: false });
      }
      if (!allowPartial || state.balance === 0n) return refused('INSUFFICIENT_FUNDS');
      const taken = state.balance;
      state.balance = 0n;
      return told({ redeemedAmount: taken, balance: 0n, partial: true });
    },
  };
}

function reloadArrival(card: Card, key: string, amount: bigint, purchase: string): Arrival {
  const request = {
    idempotencyKey: key,
    ...credentialsOf(card),
    amount,
    currency: 'USD',
    sourceTransactionId: purchase,
  };
  return {
    label: `reload ${amount} ${key}`,
    keyed: { key, signature: `reload:${amount}:${purchase}` },
    again: () => reloadArrival(card, key, amount, purchase),
    send: () => answer(svc.api.reload(request), ({ balance }) => ({ balance })),
    model: (state) => {
      if (state.balance + amount > state.maxBalance) return refused('BALANCE_LIMIT_EXCEEDED');
      if (state.purchases.has(purchase)) return refused('SOURCE_TRANSACTION_USED');
      state.purchases.add(purchase);
      state.balance += amount;
      return told({ balance: state.balance });
    },
  };
}

function refundArrival(transactionId: string, key: string, amount: bigint): Arrival {
  const request = { idempotencyKey: key, transactionId, amount, currency: 'USD' };
  return {
    label: `refund ${amount} of ${transactionId} ${key}`,
    keyed: { key, signature: `refund:${transactionId}:${amount}` },
    again: () => refundArrival(transactionId, key, amount),
    send: () =>
      answer(svc.api.refund(request), ({ refundedAmount, balance, refundableAmount }) => ({
        refundedAmount,
        balance,
        refundableAmount,
      })),
    model: (state) => {
      const redemption = state.redemptions.get(transactionId);
      if (redemption === undefined) throw new Error(`the model knows no redemption ${transactionId}`);
      const refundable = redemption.taken - redemption.givenBack;
      if (amount > refundable) return refused('REFUND_EXCEEDS_REDEMPTION');
      if (state.balance + amount > state.maxBalance) return refused('BALANCE_LIMIT_EXCEEDED');
      state.balance += amount;
      redemption.givenBack += amount;
      return told({ refundedAmount: amount, balance: state.balance, refundableAmount: refundable - amount });
    },
  };
}

function inquiryArrival(card: Card): Arrival {
  return {
    label: 'inquiry',
    keyed: null,
    again: () => inquiryArrival(card),
    send: () => answer(svc.api.balanceInquiry(credentialsOf(card)), ({ balance }) => ({ balance })),
    model: (state) => told({ balance: state.balance }),
  };
}

function wrongPasscodeArrival(card: Card, key: string): Arrival {
  const request = {
    idempotencyKey: key,
    cardNumber: card.cardNumber,
    passcode: otherPasscode(card.passcode),
    amount: 1n,
    currency: 'USD',
  };
  return {
    label: `redeem with a wrong passcode ${key}`,
    keyed: null,
    again: () => wrongPasscodeArrival(card, key),
    send: () => answer(svc.api.redeem(request), () => ({})),
    model: () => refused('INVALID_CARD_CREDENTIALS'),
  };
}

/**
 * Holds the card's row lock, sends `blocker` (which waits for it inside the database), then each
 * arrival once the one before it waits in the card's line, and lets them all go: the service sees
 * them in exactly this order, the later ones queued behind the blocker's transaction.
 */
async function arriveInOrder(card: Card, blocker: Arrival, arrivals: readonly Arrival[]): Promise<Told[]> {
  const locker = await rawConnection();
  try {
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM gift_card WHERE public_id = ? FOR UPDATE', [card.giftCardId]);
    const answers: Promise<Told>[] = [blocker.send()];
    await until(
      async () => (await lockingReadCount(locker, testDatabaseName())) >= 1,
      `${blocker.label} wait for the card`,
    );
    for (const [index, arrival] of arrivals.entries()) {
      answers.push(arrival.send());
      await until(
        () => Promise.resolve(svc.service.app.cardLines.waiting() >= index + 1),
        `${arrival.label} wait in the card's line`,
      );
    }
    await locker.query('ROLLBACK');
    return await Promise.all(answers);
  } finally {
    await locker.end();
  }
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const giveUpAt = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error(`never saw ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/*
 * Once as on a single server, once framed as on a Galera node (a savepoint every COMMIT releases
 * first, src/persistence/guarded-transaction.ts): every commit the single-card path makes, a
 * batch's, a call's alone, a wrong passcode's, a refused key's, runs here in both.
 */
describe.each([PLAIN_FRAMING, GUARDED_FRAMING])('Hot-card batches, $name transactions', (framing) => {
  useTestService(
    (started) => {
      ({ svc, db } = started);
    },
    { CARD_BATCH_MAX_OPERATIONS: String(BATCH_MAX_OPERATIONS), MAX_IN_FLIGHT_CALLS: String(MAX_ARRIVALS + 8) },
    { transactionFraming: framing },
  );

  it(`answer every call as the calls one by one in arrival order would (seed ${SEED})`, async () => {
    const rng = new Rng(SEED);
    const maxBalance = svc.config.maxBalanceMinor;
    for (let round = 0; round < ROUNDS; round++) {
      const opening = rng.amount(2_500n, 6_000n);
      const card = await issueCard(svc.api, { amount: opening });
      const model = new CardModel(opening, maxBalance);
      // Before the batch, one at a time: redemptions to refund, and keys the batch finds stored.
      const before: Arrival[] = [];
      const redemptionIds: string[] = [];
      for (let i = rng.int(0, 3); i > 0; i--) {
        const key = newKey();
        const amount = rng.amount(1n, 800n);
        const redemption = await svc.api.redeem({
          idempotencyKey: key,
          ...credentialsOf(card),
          amount,
          currency: 'USD',
        });
        const arrival = redeemArrival(card, key, amount, false);
        expect(model.run(arrival)).toEqual(
          told({ redeemedAmount: amount, balance: redemption.balance, partial: false }),
        );
        model.redemptions.set(redemption.transactionId, { taken: amount, givenBack: 0n });
        redemptionIds.push(redemption.transactionId);
        before.push(arrival);
      }
      const arrivals: Arrival[] = [];
      const purchases: string[] = [];
      const count = rng.int(2, MAX_ARRIVALS);
      while (arrivals.length < count) {
        const earlier = [...before, ...arrivals].filter((arrival) => arrival.keyed !== null);
        const roll = rng.next();
        if (roll < 0.3) {
          arrivals.push(redeemArrival(card, newKey(), rng.amount(1n, 2_500n), rng.chance(0.3)));
        } else if (roll < 0.45) {
          // Now and then a purchase an earlier reload used: its batch fails at the funding
          // reference's unique key, and every call of it runs by itself instead.
          const used = purchases.length > 0 && rng.chance(0.1) ? rng.pick(purchases) : newPurchase();
          purchases.push(used);
          arrivals.push(reloadArrival(card, newKey(), rng.amount(1n, 2_000n), used));
        } else if (roll < 0.6 && redemptionIds.length > 0) {
          arrivals.push(refundArrival(rng.pick(redemptionIds), newKey(), rng.amount(1n, 500n)));
        } else if (roll < 0.72) {
          arrivals.push(inquiryArrival(card));
        } else if (roll < 0.75) {
          arrivals.push(wrongPasscodeArrival(card, newKey()));
        } else if (earlier.length > 0) {
          // A retry of an earlier call, or another request under its key.
          const original = rng.pick(earlier);
          const key = original.keyed?.key ?? newKey();
          arrivals.push(rng.chance(0.7) ? original.again() : redeemArrival(card, key, rng.amount(1n, 2_500n), true));
        }
      }
      const blocker = inquiryArrival(card);
      const answers = await arriveInOrder(card, blocker, arrivals);
      const expected = [blocker, ...arrivals].map((arrival) => ({ call: arrival.label, told: model.run(arrival) }));
      const got = [blocker, ...arrivals].map((arrival, index) => ({ call: arrival.label, told: answers[index] }));
      expect({ round, calls: got }).toEqual({ round, calls: expected });
      expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(model.balance);
    }
    await assertLedgerInvariants(db);
  });
});

/** A passcode of the right form that is not the card's. */
function otherPasscode(passcode: string): string {
  const last = passcode.at(-1) === '0' ? '1' : '0';
  return passcode.slice(0, -1) + last;
}
