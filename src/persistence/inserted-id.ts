/**
 * The AUTO_INCREMENT id of a single-row INSERT sent through `manager.query`. mysql2 reports it in
 * its result header as a number or, with bigNumberStrings, a string; it becomes a bigint here.
 */
export function insertIdOf(header: unknown): bigint {
  const raw = (header as { insertId?: unknown } | undefined)?.insertId;
  if (typeof raw !== 'number' && typeof raw !== 'string') throw new Error('insert reported no AUTO_INCREMENT id');
  return BigInt(raw);
}
