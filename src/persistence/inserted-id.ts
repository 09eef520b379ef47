import type { InsertResult } from 'typeorm';

/**
 * The AUTO_INCREMENT id of a single-row insert. mysql2 reports it raw (a number or, with
 * bigNumberStrings, a string), bypassing the column transformer, so it is converted here.
 */
export function insertedId(result: InsertResult): bigint {
  const raw = (result.raw as { insertId?: unknown } | undefined)?.insertId;
  if (typeof raw !== 'number' && typeof raw !== 'string') throw new Error('insert reported no AUTO_INCREMENT id');
  return BigInt(raw);
}
