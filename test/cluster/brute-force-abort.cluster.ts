import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { GaleraCluster } from '../faults/support/galera-cluster';
import { GUARDED_FRAMING, PLAIN_FRAMING } from '../../src/persistence/guarded-transaction';

/*
 * What a Galera node does to a multi-statement write round trip whose transaction a replicated
 * writeset aborts midway, and why the single-card path guards its COMMITs
 * (src/persistence/guarded-transaction.ts). Two nodes; the round trip is the path's shape (the
 * key's record, the card, the ledger entry, COMMIT) on a table each, with `DO SLEEP(3)` standing in
 * for the statement that happens to be running when the other node's write to the card arrives.
 * The first two tests pin the engine's behaviour (if MariaDB ever stops doing this, they say so);
 * the third is the guard. Not part of `npm test`: `npm run test:cluster`.
 */

const CARD_BALANCE = 100;
const SPENT = 10;
const OTHER_NODE_ADDS = 1_000;
const ABORT_AFTER_MS = 800;

interface Stored {
  records: number;
  balance: number;
  entries: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let cluster: GaleraCluster | undefined;

beforeAll(async () => {
  cluster = await GaleraCluster.create(2);
}, 600_000);

afterAll(async () => {
  await cluster?.destroy();
});

function connect(node: number, database?: string): Promise<Connection> {
  const port = (cluster as GaleraCluster).node(node).port;
  return createConnection({ uri: `mysql://root@127.0.0.1:${port}/${database ?? ''}`, multipleStatements: true });
}

/** A fresh schema on node 0 with one card, replicated to node 1 before the test goes on. */
async function freshDatabase(name: string): Promise<void> {
  const admin = await connect(0);
  try {
    await admin.query(
      `CREATE DATABASE ${name}; USE ${name}; ` +
        'CREATE TABLE record (id INT PRIMARY KEY); ' +
        'CREATE TABLE card (id INT PRIMARY KEY, balance INT NOT NULL); ' +
        'CREATE TABLE entry (id INT AUTO_INCREMENT PRIMARY KEY, amount INT NOT NULL); ' +
        `INSERT INTO card VALUES (1, ${CARD_BALANCE})`,
    );
  } finally {
    admin.destroy();
  }
  const other = await connect(1);
  try {
    await other.query(`SET SESSION wsrep_sync_wait = 1; SELECT id FROM ${name}.card`);
  } finally {
    other.destroy();
  }
}

async function stored(database: string): Promise<Stored> {
  const reader = await connect(0, database);
  try {
    const [rows] = await reader.query<RowDataPacket[]>(
      'SELECT (SELECT COUNT(*) FROM record) AS records, (SELECT balance FROM card WHERE id = 1) AS balance, ' +
        '(SELECT COUNT(*) FROM entry) AS entries',
    );
    const row = rows[0] as RowDataPacket;
    return { records: Number(row.records), balance: Number(row.balance), entries: Number(row.entries) };
  } finally {
    reader.destroy();
  }
}

/**
 * Locks the card on node 0, sends the write round trip, and while it is in flight commits a
 * change to the same card on node 1, whose writeset aborts node 0's transaction. Then does what
 * the card path does after a failed write: ROLLBACK, or closes the session when that fails too.
 */
async function writeAbortedMidway(
  database: string,
  session: { setup: string; begin: string; commit: string },
): Promise<{ reply: string }> {
  const local = await connect(0, database);
  const remote = await connect(1, database);
  try {
    await local.query(`${session.setup}${session.begin}; SELECT balance FROM card WHERE id = 1 FOR UPDATE`);
    const write = local
      .query(
        `INSERT INTO record VALUES (1); UPDATE card SET balance = ${CARD_BALANCE - SPENT} WHERE id = 1; ` +
          `DO SLEEP(3); INSERT INTO entry (amount) VALUES (${SPENT}); ${session.commit}`,
      )
      .then(
        () => 'ok',
        (error: unknown) => `error ${String((error as { errno?: number }).errno)}`,
      );
    await sleep(ABORT_AFTER_MS);
    await remote.query(`UPDATE card SET balance = balance + ${OTHER_NODE_ADDS} WHERE id = 1`);
    const reply = await write;
    if (reply !== 'ok') {
      await local.query('ROLLBACK').catch(() => {
        local.destroy();
      });
    }
    return { reply };
  } finally {
    local.destroy();
    remote.destroy();
  }
}

describe('one statement per round trip, as the unit of work sends them', () => {
  const untouched: Stored = { records: 0, balance: CARD_BALANCE + OTHER_NODE_ADDS, entries: 0 };

  it('a statement sent after the abort landed between round trips is refused with a deadlock', async () => {
    await freshDatabase('abort_between');
    const local = await connect(0, 'abort_between');
    const remote = await connect(1, 'abort_between');
    try {
      await local.query('START TRANSACTION; SELECT balance FROM card WHERE id = 1 FOR UPDATE');
      await remote.query(`UPDATE card SET balance = balance + ${OTHER_NODE_ADDS} WHERE id = 1`);
      await sleep(ABORT_AFTER_MS);
      await expect(local.query('INSERT INTO record VALUES (1)')).rejects.toMatchObject({ errno: 1213 });
      await local.query('ROLLBACK');
    } finally {
      local.destroy();
      remote.destroy();
    }
    expect(await stored('abort_between')).toEqual(untouched);
  });

  it('the round trip the abort lands in is refused, so a client that stops at its first error stores nothing', async () => {
    await freshDatabase('abort_during');
    const local = await connect(0, 'abort_during');
    const remote = await connect(1, 'abort_during');
    try {
      for (const statement of [
        'START TRANSACTION',
        'SELECT balance FROM card WHERE id = 1 FOR UPDATE',
        'INSERT INTO record VALUES (1)',
        `UPDATE card SET balance = ${CARD_BALANCE - SPENT} WHERE id = 1`,
      ]) {
        await local.query(statement);
      }
      const running = local.query('DO SLEEP(3)');
      running.catch(() => undefined);
      await sleep(ABORT_AFTER_MS);
      await remote.query(`UPDATE card SET balance = balance + ${OTHER_NODE_ADDS} WHERE id = 1`);
      await expect(running).rejects.toMatchObject({ errno: 1213 });
      // The unit of work rolls back here. Had it sent its next statement instead, that statement
      // would run, and commit, by itself: the same hazard as within one round trip.
      await local.query('ROLLBACK');
    } finally {
      local.destroy();
      remote.destroy();
    }
    expect(await stored('abort_during')).toEqual(untouched);
  });
});

describe('a write round trip on a Galera node whose transaction another node aborts midway', () => {
  const READ_COMMITTED = 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED';
  const untouched: Stored = { records: 0, balance: CARD_BALANCE + OTHER_NODE_ADDS, entries: 0 };

  it('under autocommit, stores the statements after the abort by themselves and answers success', async () => {
    await freshDatabase('abort_autocommit');
    const { reply } = await writeAbortedMidway('abort_autocommit', {
      setup: `${READ_COMMITTED}; `,
      begin: PLAIN_FRAMING.begin,
      commit: PLAIN_FRAMING.commit,
    });
    expect(reply).toBe('ok');
    const after = await stored('abort_autocommit');
    expect(after.records).toBe(0);
    expect(after.balance).toBe(CARD_BALANCE + OTHER_NODE_ADDS);
    expect(after.entries).toBeGreaterThan(0);
  });

  it('with autocommit off, commits them with the round trip’s COMMIT and only then reports the abort', async () => {
    await freshDatabase('abort_autocommit_off');
    const { reply } = await writeAbortedMidway('abort_autocommit_off', {
      setup: `${READ_COMMITTED}; ${GUARDED_FRAMING.session}`,
      begin: PLAIN_FRAMING.begin,
      commit: PLAIN_FRAMING.commit,
    });
    expect(reply).toBe('error 1213');
    expect(await stored('abort_autocommit_off')).toEqual({ ...untouched, entries: 1 });
  });

  it('as the card path sends it (autocommit off, guarded COMMIT), stores nothing and reports the abort', async () => {
    await freshDatabase('abort_guarded');
    const { reply } = await writeAbortedMidway('abort_guarded', {
      setup: `${READ_COMMITTED}; ${GUARDED_FRAMING.session}`,
      begin: GUARDED_FRAMING.begin,
      commit: GUARDED_FRAMING.commit,
    });
    expect(reply).toMatch(/^error (1213|1305)$/);
    expect(await stored('abort_guarded')).toEqual(untouched);
  });
});
