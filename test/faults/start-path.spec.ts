import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { credentials } from '@grpc/grpc-js';
import { GiftCardServiceClient } from '../../gen/giftcard/v1/gift_card_service';
import { GiftCardApi } from '../support/api';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { settle } from '../support/rpc-error';
import { rawConnection, testDatabaseName, testDatabaseUrl } from '../support/test-database';
import { waitForLockWaits } from '../support/lock-waits';
import { ensureServerBuilt, REPOSITORY_ROOT, SETUP_WITH_BUILD_TIMEOUT_MS } from './support/server-build';

/** Liveness bounds only: a cold start on a loaded machine, an exit after a signal. */
const START_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 30_000;

const keys = (): Record<string, string> => ({
  CARD_NUMBER_INDEX_KEY: randomBytes(32).toString('hex'),
  PASSCODE_HASH_KEY: randomBytes(32).toString('hex'),
  RESPONSE_SEALING_KEY: randomBytes(32).toString('hex'),
});

const baseEnv = (): Record<string, string> => ({
  DATABASE_URL: testDatabaseUrl(),
  GRPC_HOST: '127.0.0.1',
  GRPC_PORT: '0',
  METRICS_PORT: '0',
  LOG_LEVEL: 'info',
  ...keys(),
});

interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a command as an operator's shell would, keeping everything it writes. */
function run(command: string, args: string[], env: Record<string, string>): Started {
  // NODE_ENV comes from the spec's env only: jest sets it to "test" for its own process.
  const inherited = { ...process.env };
  delete inherited.NODE_ENV;
  const child = spawn(command, args, {
    cwd: REPOSITORY_ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  return { child, output: () => text, exited };
}

/** The JSON lines the server wrote (npm's own banner lines are not JSON and are skipped). */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs: number, started: Started): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > giveUpAt)
      throw new Error(`${what} did not happen within ${timeoutMs} ms:\n${started.output().slice(-3_000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function listening(started: Started): Promise<{ port: number; pid: number }> {
  return waitFor(
    () => {
      const line = jsonLines(started.output()).find((l) => l.message === 'gift card service listening');
      return line === undefined ? undefined : { port: line.port as number, pid: line.pid as number };
    },
    'the server listening',
    START_TIMEOUT_MS,
    started,
  );
}

async function exitWithin(
  started: Started,
  ms = EXIT_TIMEOUT_MS,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      started.child.kill('SIGKILL');
      reject(new Error(`no exit within ${ms} ms:\n${started.output().slice(-3_000)}`));
    }, ms);
  });
  try {
    return await Promise.race([started.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let entry: string;
const leftovers: ChildProcess[] = [];
beforeAll(async () => {
  entry = await ensureServerBuilt();
}, SETUP_WITH_BUILD_TIMEOUT_MS);
afterAll(() => {
  for (const child of leftovers) child.kill('SIGKILL');
});

function startServer(env: Record<string, string>): Started {
  const started = run(process.execPath, [entry], env);
  leftovers.push(started.child);
  return started;
}

describe('Production refuses an unsafe start (NODE_ENV=production)', () => {
  it('exits non-zero on the development keys, plaintext and no callers file, naming each setting', async () => {
    const withoutKeys = Object.fromEntries(Object.entries(baseEnv()).filter(([name]) => !name.endsWith('_KEY')));
    const started = startServer({ ...withoutKeys, NODE_ENV: 'production' });
    expect((await exitWithin(started)).code).toBe(1);
    const [failure] = jsonLines(started.output()).filter((line) => line.level === 'error');
    expect(failure?.message).toBe('gift card service failed to start');
    for (const setting of [
      'CARD_NUMBER_INDEX_KEY',
      'PASSCODE_HASH_KEY',
      'RESPONSE_SEALING_KEY',
      'TLS_CERT_FILE',
      'CALLERS_FILE',
    ]) {
      expect(failure?.error).toContain(setting);
    }
  });

  it('names only what is missing once the keys are real', async () => {
    const started = startServer({ ...baseEnv(), NODE_ENV: 'production' });
    expect((await exitWithin(started)).code).toBe(1);
    const text = started.output();
    expect(text).not.toContain('CARD_NUMBER_INDEX_KEY');
    expect(text).toContain('TLS_CERT_FILE and TLS_KEY_FILE must be set');
    expect(text).toContain('CALLERS_FILE must be set');
  });
});

describe('Startup failures name the setting, as JSON lines', () => {
  it('names DATABASE_URL with its host and port when nothing listens there', async () => {
    const closed = await unusedPort();
    const started = startServer({ ...baseEnv(), DATABASE_URL: `mysql://root@127.0.0.1:${closed}/giftcard` });
    expect((await exitWithin(started)).code).toBe(1);
    expect(jsonLines(started.output()).map((line) => line.error)).toContain(
      `DATABASE_URL points at 127.0.0.1:${closed}: connection refused`,
    );
    expect(
      started
        .output()
        .trim()
        .split('\n')
        .every((line) => line.startsWith('{')),
    ).toBe(true);
  });

  it('names GRPC_HOST:GRPC_PORT when the port is taken', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const started = startServer({ ...baseEnv(), GRPC_PORT: String(port) });
      expect((await exitWithin(started)).code).toBe(1);
      const failure = jsonLines(started.output()).find((line) => line.message === 'gift card service failed to start');
      expect(failure?.error).toContain(`GRPC_HOST:GRPC_PORT 127.0.0.1:${port} cannot be bound`);
      expect(
        started
          .output()
          .trim()
          .split('\n')
          .every((line) => line.startsWith('{')),
      ).toBe(true);
    } finally {
      taken.close();
    }
  });
});

describe('The documented start command (`npm start`)', () => {
  it('stops on SIGTERM to the process it started, leaving no server listening', async () => {
    const started = run('npm', ['start'], baseEnv());
    leftovers.push(started.child);
    const server = await listening(started);
    try {
      expect(await accepts(server.port)).toBe(true);
      started.child.kill('SIGTERM');
      const exit = await exitWithin(started);
      expect({ listening: await accepts(server.port), serverAlive: processExists(server.pid) }).toEqual({
        listening: false,
        serverAlive: false,
      });
      expect(exit).toMatchObject({ code: 0 });
      expect(jsonLines(started.output()).some((line) => line.message === 'shutting down')).toBe(true);
    } finally {
      if (processExists(server.pid)) process.kill(server.pid, 'SIGKILL');
    }
  });
});

describe('A second signal', () => {
  it('forces the exit while calls are still in flight', async () => {
    const started = startServer({ ...baseEnv(), SHUTDOWN_GRACE_MS: '60000', DB_LOCK_WAIT_TIMEOUT_SECONDS: '60' });
    const server = await listening(started);
    const client = new GiftCardServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const api = new GiftCardApi(client);
    const db = await rawConnection();
    try {
      const card = await issueCard(api);
      await db.query('BEGIN');
      await db.query('SELECT id FROM gift_card WHERE public_id = ? FOR UPDATE', [card.giftCardId]);
      const blocked = settle(
        api.redeem(
          { idempotencyKey: newKey(), ...credentialsOf(card), amount: 1n, currency: 'USD' },
          { deadlineMs: 60_000 },
        ),
      );
      await waitForLockWaits(db, testDatabaseName(), 1);
      started.child.kill('SIGTERM');
      await waitFor(
        () => (started.output().includes('"message":"shutting down"') ? true : undefined),
        'shutting down',
        10_000,
        started,
      );
      // Well past the window in which a repeat counts as the same Ctrl-C.
      await new Promise((resolve) => setTimeout(resolve, 500));
      started.child.kill('SIGTERM');
      expect((await exitWithin(started, 10_000)).code).toBe(1);
      expect(started.output()).toContain('second signal: exiting now');
      expect(await accepts(server.port)).toBe(false);
      await db.query('ROLLBACK');
      expect((await blocked).ok).toBe(false);
    } finally {
      await db.query('ROLLBACK');
      await db.end();
      client.close();
    }
  });
});

function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => {
        resolve(port);
      });
    });
  });
}
