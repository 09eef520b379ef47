/**
 * Results are stored for idempotent replay as JSON. bigint and Date do not survive plain JSON, so
 * they are tagged on the way in and revived on the way out: a replay returns the first response
 * field for field.
 */
const BIGINT_TAG = '$bigint';
const DATE_TAG = '$date';

export function encodeResult(value: unknown): Uint8Array {
  const json = JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    const raw = this[key];
    if (typeof raw === 'bigint') return { [BIGINT_TAG]: raw.toString() };
    if (raw instanceof Date) return { [DATE_TAG]: raw.toISOString() };
    return v;
  });
  return Buffer.from(json, 'utf8');
}

export function decodeResult(bytes: Uint8Array): unknown {
  return JSON.parse(Buffer.from(bytes).toString('utf8'), (_key, v: unknown) => {
    if (v !== null && typeof v === 'object') {
      const tagged = v as Record<string, unknown>;
      if (typeof tagged[BIGINT_TAG] === 'string') return BigInt(tagged[BIGINT_TAG]);
      if (typeof tagged[DATE_TAG] === 'string') return new Date(tagged[DATE_TAG]);
    }
    return v;
  }) as unknown;
}

/**
 * A stable text for a request: object keys sorted, bigints as decimal strings with an `n`. Stored
 * fingerprints hash this text, so it must never change: it is exactly what JSON.stringify wrote
 * with a replacer that rebuilt every object with its entries sorted (test/unit/replay-codec.spec.ts
 * keeps that replacer as the oracle). Written out here because that rebuild ran on every money call.
 */
export function canonicalize(value: unknown): string {
  return canonicalText(value, '') ?? 'null';
}

/** JSON.stringify's steps for one value: toJSON, then the replacer's rules, then the text. */
function canonicalText(raw: unknown, key: string): string | undefined {
  const value = hasToJson(raw) ? raw.toJSON(key) : raw;
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(`${value.toString()}n`);
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? arrayText(value) : objectText(value);
    default:
      return undefined;
  }
}

function hasToJson(value: unknown): value is { toJSON(key: string): unknown } {
  return value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

function arrayText(items: readonly unknown[]): string {
  let text = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) text += ',';
    text += canonicalText(items[i], String(i)) ?? 'null';
  }
  return `${text}]`;
}

function objectText(object: object): string {
  const fields = object as Record<string, unknown>;
  let text = '{';
  for (const name of sortedKeys(object)) {
    const field = canonicalText(fields[name], name);
    if (field === undefined) continue;
    if (text.length > 1) text += ',';
    text += `${JSON.stringify(name)}:${field}`;
  }
  return `${text}}`;
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;
const MAX_ARRAY_INDEX = 2 ** 32 - 2;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

function isArrayIndex(name: string): boolean {
  const first = name.charCodeAt(0);
  return first >= DIGIT_0 && first <= DIGIT_9 && ARRAY_INDEX.test(name) && Number(name) <= MAX_ARRAY_INDEX;
}

/**
 * The keys in the order the replacer's rebuilt object held them: sorted by code unit (the default
 * sort), except that a JavaScript object always lists array-index keys first, in numeric order,
 * whatever the order they were added in.
 */
function sortedKeys(object: object): string[] {
  const names = Object.keys(object).sort();
  if (!names.some(isArrayIndex)) return names;
  const indices = names.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
  return [...indices, ...names.filter((name) => !isArrayIndex(name))];
}

/**
 * The field no fingerprint holds: a retry is recognised by what it asks for, never by the secret
 * it proves itself with, so that comparing fingerprints can never judge a passcode.
 */
const PASSCODE_FIELD = 'passcode';

/** The request without its passcodes, at any depth, and whether it named a card by one. */
export function withoutPasscodes(value: unknown): { readonly rest: unknown; readonly hadPasscode: boolean } {
  let hadPasscode = false;
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object' || node instanceof Date) return node;
    const kept: Record<string, unknown> = {};
    for (const [field, v] of Object.entries(node)) {
      if (field === PASSCODE_FIELD) hadPasscode = true;
      else kept[field] = strip(v);
    }
    return kept;
  };
  const rest = strip(value);
  return { rest, hadPasscode };
}

/** The fields of a reply that hold a new card's secrets (IssueVirtualCard, BalanceTransfer, a gift). */
const CARD_SECRET_FIELDS = ['cardNumber', 'passcode'] as const;

/**
 * Splits a card's number and passcode out of a reply so they can be sealed and erased apart from
 * the rest. The reply keeps the fields, emptied, so it still has its shape once they are gone.
 */
export function splitCardSecrets(reply: unknown): { readonly rest: unknown; readonly secrets: object | null } {
  if (reply === null || typeof reply !== 'object') return { rest: reply, secrets: null };
  const fields = reply as Record<string, unknown>;
  const secrets: Record<string, unknown> = {};
  for (const field of CARD_SECRET_FIELDS) {
    if (typeof fields[field] === 'string' && fields[field] !== '') secrets[field] = fields[field];
  }
  if (Object.keys(secrets).length === 0) return { rest: reply, secrets: null };
  const emptied = Object.fromEntries(Object.keys(secrets).map((field) => [field, '']));
  return { rest: { ...fields, ...emptied }, secrets };
}

/**
 * Results stored before holds existed carry balances without available balances. No card had a
 * hold then, so each available balance is its balance: filled in on replay, a retry of a call made
 * before the upgrade gets today's shape of answer rather than a field the wire cannot encode.
 */
export function withAvailableBalances(result: unknown): unknown {
  if (result === null || typeof result !== 'object') return result;
  const stored = result as Record<string, unknown>;
  const filled: Record<string, unknown> = {};
  if (typeof stored.balanceMinor === 'bigint' && !('availableMinor' in stored)) {
    filled.availableMinor = stored.balanceMinor;
  }
  if (typeof stored.sourceBalanceMinor === 'bigint' && !('sourceAvailableMinor' in stored)) {
    filled.sourceAvailableMinor = stored.sourceBalanceMinor;
  }
  return { ...stored, ...filled };
}
