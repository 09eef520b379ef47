import type { Connection, RowDataPacket } from 'mysql2/promise';

/**
 * Card numbers (16 digits) and passcodes (8 digits) that appear in clear in the text. A number is
 * found inside any run of digits; a passcode only as a run of its own, since 8 digits can occur by
 * chance inside longer hex or digit strings (a UUID, a timestamp) without being a leak.
 */
export function secretsIn(text: string, secrets: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  for (const [run] of text.matchAll(/\d{16,}/g)) {
    for (let i = 0; i + 16 <= run.length; i++) {
      const window = run.slice(i, i + 16);
      if (secrets.has(window)) found.add(window);
    }
  }
  for (const [run] of text.matchAll(/(?<![0-9A-Za-z])\d{8}(?![0-9A-Za-z])/g)) {
    if (secrets.has(run)) found.add(run);
  }
  return [...found].map(mask);
}

/** Every value of every table of the database, bytes as they are stored, searched for secrets. */
export async function secretsInDatabase(
  db: Connection,
  database: string,
  secrets: ReadonlySet<string>,
): Promise<string[]> {
  const [tables] = await db.query<RowDataPacket[]>(
    'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
    [database],
  );
  const hits: string[] = [];
  for (const { name } of tables) {
    const [rows] = await db.query<RowDataPacket[]>(`SELECT * FROM \`${String(name)}\``);
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        for (const secret of secretsIn(asStoredText(value), secrets)) hits.push(`${String(name)}.${column}: ${secret}`);
      }
    }
  }
  return hits;
}

/** Binary columns read byte for byte (latin1), so ASCII digits stored anywhere show as digits. */
function asStoredText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

/** A finding names the leak without repeating it in the test output. */
function mask(secret: string): string {
  return `${'*'.repeat(secret.length - 4)}${secret.slice(-4)}`;
}
