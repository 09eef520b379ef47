import type { DataSource } from 'typeorm';

/** Global settings as SHOW GLOBAL VARIABLES names them (a variable the server lacks is absent), or why they could not be read. */
export type ServerVariables = ReadonlyMap<string, string> | Error;

/** Reads, once at start and in one query, the settings the service judges the server by (durability, Galera). */
export async function readServerVariables(dataSource: DataSource, names: readonly string[]): Promise<ServerVariables> {
  try {
    const rows: { Variable_name: string; Value: string }[] = await dataSource.query(
      `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${names.map(() => '?').join(', ')})`,
      [...names],
    );
    return new Map(rows.map((row) => [row.Variable_name, row.Value]));
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
