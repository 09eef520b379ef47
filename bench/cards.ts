import { readFileSync } from 'node:fs';

/** A seeded card as the load generators see it: credentials for gRPC, keys for the raw SQL. */
export interface BenchCard {
  readonly id: string;
  readonly publicId: string;
  readonly cardNumber: string;
  readonly passcode: string;
  /** The HMAC index of the number, hex: what the service computes before its locking SELECT. */
  readonly numberHashHex: string;
}

export interface CardSet {
  /** Cards for the distinct-card workloads; each virtual user owns its own slice of them. */
  readonly distinct: readonly BenchCard[];
  /** The one card every virtual user of the hot-card workload redeems from. */
  readonly hot: BenchCard;
}

export function readCardSet(path: string): CardSet {
  return JSON.parse(readFileSync(path, 'utf8')) as CardSet;
}

/**
 * The cards a virtual user cycles through: a slice no other user touches, so concurrent calls of
 * the distinct-card workloads never wait on each other's row locks.
 */
export function sliceFor(cards: readonly BenchCard[], user: number, totalUsers: number): readonly BenchCard[] {
  const size = Math.max(1, Math.floor(cards.length / totalUsers));
  const start = (user * size) % cards.length;
  return cards.slice(start, start + size);
}
