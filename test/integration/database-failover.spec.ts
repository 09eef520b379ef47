import { createServer } from 'node:net';
import { HealthProbe } from '../faults/support/health-probe';
import { TcpProxy } from '../faults/support/tcp-proxy';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { testDatabaseName, TEST_SERVER_URL } from '../support/test-database';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Issue 19: DATABASE_URL may name several nodes of a cluster. Here the "nodes" are the test server
 * itself and a proxy in front of it that can be cut: what fails over is the service's choice of
 * host, which is the same whatever sits behind each address.
 */
const server = new URL(TEST_SERVER_URL);
const direct = `${server.hostname}:${server.port || '3306'}`;
const userInfo =
  server.username === '' ? '' : `${server.username}${server.password === '' ? '' : `:${server.password}`}@`;
const clusterUrl = (...hosts: string[]): string => `mysql://${userInfo}${hosts.join(',')}/${testDatabaseName()}`;
/** A liveness bound on a loaded machine: the probe notices within interval + timeout. */
const FAILOVER_TIMEOUT_MS = 20_000;
const FAST_PROBE = { DB_HEALTH_INTERVAL_MS: '100', DB_HEALTH_TIMEOUT_MS: '500', DB_CONNECT_TIMEOUT_MS: '1000' };

/** A port nobody listens on: bound for a moment and let go. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

async function eventually<T>(attempt: () => Promise<T>, timeoutMs: number): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('A service whose DATABASE_URL names several nodes', () => {
  let svc: TestService | undefined;
  let proxy: TcpProxy | undefined;
  let health: HealthProbe | undefined;

  afterEach(async () => {
    health?.close();
    await svc?.stop();
    await proxy?.close();
    svc = undefined;
    proxy = undefined;
    health = undefined;
  });

  it('starts and serves through the next node when the first refuses connections', async () => {
    const logLines: string[] = [];
    svc = await startTestService(
      { DATABASE_URL: clusterUrl(`127.0.0.1:${await closedPort()}`, direct), LOG_LEVEL: 'info', ...FAST_PROBE },
      { logLines },
    );
    const card = await issueCard(svc.api, { amount: 1_000n });
    const redeemed = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 400n,
      currency: 'USD',
    });
    expect(redeemed.balance).toBe(600n);
    expect(logLines.join('')).toContain(`"node":"${direct}","nodes":2,"message":"database node in use"`);
  });

  it('moves every pool to the next node when the one in use stops answering, and calls resume without a restart', async () => {
    proxy = await TcpProxy.start(server.hostname, Number(server.port || 3306));
    const logLines: string[] = [];
    svc = await startTestService(
      { DATABASE_URL: clusterUrl(`127.0.0.1:${proxy.port}`, direct), LOG_LEVEL: 'info', ...FAST_PROBE },
      { logLines },
    );
    const api = svc.api;
    health = new HealthProbe(svc.address);
    const card = await issueCard(api, { amount: 1_000n });
    expect(logLines.join('')).toContain(`"node":"127.0.0.1:${proxy.port}","nodes":2,"message":"database node in use"`);

    // Connections to the node hang, as when it is cut off: only the probe can tell.
    proxy.cut('blackhole');
    const cutAt = Date.now();
    const redeemed = await eventually(
      () =>
        api.redeem(
          { idempotencyKey: 'failover-redeem', ...credentialsOf(card), amount: 300n, currency: 'USD' },
          { deadlineMs: 2_000 },
        ),
      FAILOVER_TIMEOUT_MS,
    );
    expect(Date.now() - cutAt).toBeLessThan(FAILOVER_TIMEOUT_MS);
    expect(redeemed.balance).toBe(700n);
    expect(await health.check()).toBe('SERVING');
    expect(logLines.join('')).toContain(`"node":"${direct}","nodes":2,"message":"database node in use"`);
    const inquiry = await api.balanceInquiry(credentialsOf(card));
    expect(inquiry.balance).toBe(700n);
  });

  it('reports NOT_SERVING while no node answers, and SERVING again when one does', async () => {
    proxy = await TcpProxy.start(server.hostname, Number(server.port || 3306));
    svc = await startTestService({
      DATABASE_URL: clusterUrl(`127.0.0.1:${proxy.port}`, `127.0.0.1:${await closedPort()}`),
      ...FAST_PROBE,
    });
    health = new HealthProbe(svc.address);
    const probe = health;
    proxy.cut('refuse');
    await probe.waitFor('NOT_SERVING', FAILOVER_TIMEOUT_MS);
    proxy.restore();
    await probe.waitFor('SERVING', FAILOVER_TIMEOUT_MS);
    await issueCard(svc.api);
  });
});
