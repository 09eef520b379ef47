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

/** A stable text for a request: object keys sorted, bigints as decimal strings. */
export function canonicalize(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v.toString()}n`;
    if (v instanceof Date) return v.toISOString();
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}
