import { invalidArgument, type DomainError } from '../domain/errors';
import type { CardSecrets } from './ports';

/**
 * What a page token belongs to: the listing (its purpose, which also tells a future format from
 * this one) and what it lists (a user's cards, one card's history with one filter). A token is
 * only ever followed within the scope it was written for.
 */
export interface PageScope {
  readonly purpose: string;
  readonly scope: string;
  /** Named when a token from another scope is refused, e.g. "user_id". */
  readonly scopeName: string;
}

const ID = /^(0|[1-9]\d{0,18})$/;
const MAX_ID = 2n ** 63n - 1n;

/**
 * Page tokens are sealed with AES-GCM: opaque, because internal ids never leave the service, and
 * tamper-evident, because a forged position must be refused rather than followed. The position is
 * the internal ids where the page stopped, in the listing's own order.
 */
export function writePageToken(secrets: CardSecrets, scope: PageScope, position: readonly bigint[]): string {
  const body = JSON.stringify({ p: scope.purpose, s: scope.scope, a: position.map((id) => id.toString()) });
  return Buffer.from(secrets.sealPageToken(Buffer.from(body, 'utf8'))).toString('base64url');
}

/** The position to continue after; INVALID_ARGUMENT for anything this service did not issue for this scope. */
export function readPageToken(secrets: CardSecrets, token: string, scope: PageScope, length: number): bigint[] {
  const opened = openToken(secrets, token, scope.purpose, length);
  if (opened === null) throw invalidPageToken('is not a page token issued by this service');
  if (opened.scope !== scope.scope) throw invalidPageToken(`was issued for another ${scope.scopeName}`);
  return opened.position;
}

function openToken(
  secrets: CardSecrets,
  token: string,
  purpose: string,
  length: number,
): { scope: string; position: bigint[] } | null {
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
  const { p, s, a } = parsed as Record<string, unknown>;
  if (p !== purpose || typeof s !== 'string' || !Array.isArray(a) || a.length !== length) return null;
  const position: bigint[] = [];
  for (const id of a as unknown[]) {
    if (typeof id !== 'string' || !ID.test(id) || BigInt(id) > MAX_ID) return null;
    position.push(BigInt(id));
  }
  return { scope: s, position };
}

function invalidPageToken(description: string): DomainError {
  return invalidArgument([{ field: 'pageToken', description }]);
}
