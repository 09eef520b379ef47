import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { connect as connectTcp, type Socket } from 'node:net';
import {
  credentials,
  loadPackageDefinition,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Issue 10, point 6: a client must not be able to hold the server's connections and streams
 * without bound. The attack: 2,000 health Watch streams and 500 idle sockets that never sent a
 * byte were all held.
 */
let svc: TestService;
const opened: { close(): void }[] = [];

const LIMITS = {
  GRPC_MAX_CONNECTIONS: '40',
  GRPC_MAX_CONCURRENT_STREAMS: '50',
  GRPC_HANDSHAKE_TIMEOUT_MS: '1000',
  GRPC_CONNECTION_IDLE_MS: '1500',
  HEALTH_MAX_WATCHES: '20',
};

beforeAll(async () => {
  svc = await startTestService(LIMITS);
});

afterEach(() => {
  for (const item of opened.splice(0)) item.close();
});

afterAll(async () => {
  await svc.stop();
});

type WatchClient = Client & {
  Watch(request: { service: string }): ClientReadableStream<{ status: string }>;
  Check(request: { service: string }, callback: (error: ServiceError | null, reply?: { status: string }) => void): void;
};

function healthClient(): WatchClient {
  const pkg = loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true, enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, creds: unknown, options?: object) => WatchClient } } };
  };
  // Each client its own connection, as separate attackers would have.
  const client = new pkg.grpc.health.v1.Health(svc.address, credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
  opened.push(client);
  return client;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function openSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(Number(svc.address.split(':')[1]), '127.0.0.1', () => {
      resolve(socket);
    });
    socket.on('error', reject);
    // Reads (and drops) what the server sends, so its closing the socket is seen; sends nothing.
    socket.resume();
    opened.push({ close: () => socket.destroy() });
  });
}

const isClosed = (socket: Socket): boolean => socket.destroyed || socket.readableEnded;

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) return false;
    await sleep(50);
  }
  return true;
}

describe('Connection limits', () => {
  it('advertises its per-connection stream limit in the HTTP/2 settings', async () => {
    const session: ClientHttp2Session = connectHttp2(`http://${svc.address}`);
    opened.push({
      close: () => {
        session.destroy();
      },
    });
    const settings = await new Promise<{ maxConcurrentStreams?: number }>((resolve) => {
      session.once('remoteSettings', resolve);
    });
    expect(settings.maxConcurrentStreams).toBe(50);
  });

  it('holds at most HEALTH_MAX_WATCHES health Watch streams and refuses the rest with RESOURCE_EXHAUSTED', async () => {
    const outcomes: Promise<string>[] = [];
    for (let c = 0; c < 20; c++) {
      const client = healthClient();
      for (let s = 0; s < 100; s++) {
        const stream = client.Watch({ service: '' });
        outcomes.push(
          new Promise((resolve) => {
            stream.on('data', () => {
              resolve('held');
            });
            stream.on('error', (error: ServiceError) => {
              resolve(`refused ${error.code}`);
            });
          }),
        );
      }
    }
    const settled = await Promise.race([Promise.all(outcomes), sleep(20_000).then(() => null)]);
    const counts: Record<string, number> = {};
    for (const outcome of settled ?? []) counts[outcome] = (counts[outcome] ?? 0) + 1;
    expect(counts).toEqual({ held: 20, 'refused 8': 1_980 });
  });

  it('closes 500 sockets that never send a byte, and still serves a real client afterwards', async () => {
    const sockets = await Promise.all(Array.from({ length: 500 }, () => openSocket().catch(() => null)));
    const connected = sockets.filter((s): s is Socket => s !== null);
    // Past the cap at once, the rest within the handshake timeout (1 s) and a loaded machine's margin.
    expect(await waitUntil(() => connected.filter((s) => !isClosed(s)).length <= 40, 3_000)).toBe(true);
    expect(await waitUntil(() => connected.every(isClosed), 5_000)).toBe(true);
    const reply = await new Promise<{ status: string } | undefined>((resolve, reject) => {
      healthClient().Check({ service: '' }, (error, response) => {
        if (error) reject(error);
        else resolve(response);
      });
    });
    expect(reply?.status).toBe('SERVING');
  });

  it('closes a connection that made no call for GRPC_CONNECTION_IDLE_MS', async () => {
    const session: ClientHttp2Session = connectHttp2(`http://${svc.address}`);
    opened.push({
      close: () => {
        session.destroy();
      },
    });
    const closed = new Promise<boolean>((resolve) => {
      session.once('goaway', () => {
        resolve(true);
      });
      session.once('close', () => {
        resolve(true);
      });
    });
    expect(await Promise.race([closed, sleep(6_000).then(() => false)])).toBe(true);
  });
});

describe('Keepalive', () => {
  let keepalive: TestService;

  beforeAll(async () => {
    keepalive = await startTestService({ GRPC_KEEPALIVE_TIME_MS: '300', GRPC_KEEPALIVE_TIMEOUT_MS: '300' });
  });

  afterAll(async () => {
    await keepalive.stop();
  });

  it('pings a connection and drops the peer that stops answering, within the keepalive time and timeout', async () => {
    const port = Number(keepalive.address.split(':')[1]);
    const socket = connectTcp(port, '127.0.0.1');
    opened.push({ close: () => socket.destroy() });
    // A client that speaks HTTP/2 once (the preface and its SETTINGS), then never answers again.
    socket.write(
      Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]),
    );
    const frameTypes = new Set<number>();
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 9) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < 9 + length) break;
        frameTypes.add(pending[3]!);
        pending = pending.subarray(9 + length);
      }
    });
    const closed = new Promise<boolean>((resolve) => {
      socket.once('close', () => {
        resolve(true);
      });
    });
    // Liveness bound only: ping after 0.3 s, give up 0.3 s later, on a loaded machine.
    expect(await Promise.race([closed, sleep(10_000).then(() => false)])).toBe(true);
    const PING = 0x6;
    expect(frameTypes.has(PING)).toBe(true);
  });
});
