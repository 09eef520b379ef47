import { invalidArgument, type DomainError } from '../domain/errors';
import type { CardSecrets } from './ports';

/** Where a listing stopped: the last internal card id shown to this user. */
export interface PagePosition {
  readonly userId: string;
  readonly afterCardId: bigint;
}

/** Tells a page token from any other sealed payload, and a future format from this one. */
const TOKEN_PURPOSE = 'ListGiftCards/v1';
const CARD_ID = /^[1-9]\d{0,18}$/;
const MAX_CARD_ID = 2n ** 63n - 1n;

/**
 * Page tokens are sealed with AES-GCM: opaque, because internal card ids never leave the service,
 * and tamper-evident, because a forged position must be refused rather than followed.
 */
export function writePageToken(secrets: CardSecrets, position: PagePosition): string {
  const body = JSON.stringify({ p: TOKEN_PURPOSE, u: position.userId, a: position.afterCardId.toString() });
  return Buffer.from(secrets.sealPageToken(Buffer.from(body, 'utf8'))).toString('base64url');
}

/** The card id to continue after; INVALID_ARGUMENT for anything this service did not issue to this user. */
export function readPageToken(secrets: CardSecrets, token: string, userId: string): bigint {
  const position = openToken(secrets, token);
  if (position === null) throw invalidPageToken('is not a page token issued by this service');
  if (position.userId !== userId) throw invalidPageToken('was issued for another userId');
  return position.afterCardId;
}

function openToken(secrets: CardSecrets, token: string): PagePosition | null {
  let parsed: unknown;
  try {
    const sealed = Buffer.from(token, 'base64url');
    // Node's decoder skips characters outside the alphabet; only the canonical spelling is ours.
    if (sealed.toString('base64url') !== token) return null;
    parsed = JSON.parse(Buffer.from(secrets.openPageToken(sealed)).toString('utf8'));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  const { p, u, a } = parsed as Record<string, unknown>;
  if (p !== TOKEN_PURPOSE || typeof u !== 'string' || typeof a !== 'string' || !CARD_ID.test(a)) return null;
  const afterCardId = BigInt(a);
  return afterCardId > MAX_CARD_ID ? null : { userId: u, afterCardId };
}

function invalidPageToken(description: string): DomainError {
  return invalidArgument([{ field: 'pageToken', description }]);
}
