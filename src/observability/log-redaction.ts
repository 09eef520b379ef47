/** Field names that would hold a secret wherever they appear; their values are replaced, never written. */
export const REDACTED_FIELDS = [
  'cardNumber',
  'card_number',
  'passcode',
  'authorization',
  'token',
  'bearer',
  'key',
  'privateKey',
  'password',
] as const;

export const CENSOR = '[redacted]';

const SECRET_NAMES: ReadonlySet<string> = new Set(REDACTED_FIELDS);

/**
 * Below this many levels of nesting a value is not inspected but replaced whole: a log field is a
 * flat value by its type, so anything this deep was passed by mistake and could hold anything.
 */
const MAX_INSPECTED_DEPTH = 8;

function isNested(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}

/**
 * The fields as they may be written: every secret-named field, at any depth, censored. The request
 * log's own fields (ids, codes, durations) hold no secret, so the usual case is a scan of a few
 * names that returns the object itself; a copy is made only when something has to be censored.
 * This replaces pino's `redact`, which rebuilt every line through path matching and cost about
 * twice the rest of writing the line (docs/benchmarks.md, issue 12).
 */
export function withoutSecrets<T extends object>(fields: T): T {
  for (const name in fields) {
    if (SECRET_NAMES.has(name) || isNested(fields[name])) return censored(fields, 0) as T;
  }
  return fields;
}

function censored(value: unknown, depth: number): unknown {
  if (!isNested(value)) return value;
  if (depth >= MAX_INSPECTED_DEPTH) return CENSOR;
  if (Array.isArray(value)) return value.map((item: unknown) => censored(item, depth + 1));
  const kept: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    kept[name] = SECRET_NAMES.has(name) ? CENSOR : censored(field, depth + 1);
  }
  return kept;
}
