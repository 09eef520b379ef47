import type { InsertResult } from 'typeorm';

/**
 * The AUTO_INCREMENT id of a single-row insert. mysql2 reports it raw (a number or, with
 * bigNumberStrings, a string), bypassing the column transformer, so it is converted here.
 */
export function insertedId(result: InsertResult): bigint {
  return insertIdOf(result.raw);
}

/** The same, from mysql2's own result header, as a raw `manager.query` INSERT returns it. */
export function insertIdOf(header: unknown): bigint {
  const raw = (header as { insertId?: unknown } | undefined)?.insertId;
  if (typeof raw !== 'number' && typeof raw !== 'string') throw new Error('insert reported no AUTO_INCREMENT id');
  return BigInt(raw);
}
