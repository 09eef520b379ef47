import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { AuthorizeRedemptionRequest, AuthorizeRedemptionResponse } from '../../gen/giftcard/v1/holds';
import type { GiftCardApi } from './api';
import { credentialsOf, newKey } from './builders';

/** A hold of `amount` USD on the card, named by its credentials; override any field of the request. */
export function authorize(
  api: GiftCardApi,
  card: { cardNumber: string; passcode: string },
  amount: bigint,
  overrides: Partial<AuthorizeRedemptionRequest> = {},
): Promise<AuthorizeRedemptionResponse> {
  return api.authorizeRedemption({
    idempotencyKey: newKey(),
    ...credentialsOf(card),
    amount,
    currency: 'USD',
    ...overrides,
  });
}

/** A google.protobuf.Duration of whole milliseconds. */
export const durationOf = (ms: number): { seconds: bigint; nanos: number } => ({
  seconds: BigInt(Math.floor(ms / 1_000)),
  nanos: (ms % 1_000) * 1_000_000,
});

/** A hold as its row says, for audits the API does not show. */
export async function holdRow(
  db: Connection,
  holdId: string,
): Promise<{ status: string; capturedMinor: bigint | null; closedAt: Date | null; expiresAt: Date; createdAt: Date }> {
  const [[row]] = await db.query<RowDataPacket[]>(
    'SELECT status, captured_minor, closed_at, expires_at, created_at FROM card_hold WHERE public_id = ?',
    [holdId],
  );
  if (row === undefined) throw new Error(`no hold ${holdId}`);
  return {
    status: String(row.status),
    capturedMinor: row.captured_minor === null ? null : BigInt(String(row.captured_minor)),
    closedAt: row.closed_at as Date | null,
    expiresAt: row.expires_at as Date,
    createdAt: row.created_at as Date,
  };
}

/** The hold's history events, oldest first: [type, signed amount, available after, when]. */
export async function holdEventsOf(db: Connection, holdId: string): Promise<[string, bigint, bigint, Date][]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT v.event_type, v.amount_minor, v.available_after_minor, v.occurred_at
     FROM hold_event v JOIN card_hold h ON h.id = v.hold_id WHERE h.public_id = ? ORDER BY v.id`,
    [holdId],
  );
  return rows.map((row) => [
    String(row.event_type),
    BigInt(String(row.amount_minor)),
    BigInt(String(row.available_after_minor)),
    row.occurred_at as Date,
  ]);
}
