import type { Connection } from 'mysql2/promise';
import { ledgerViolations } from './ledger-invariants';
import { rawConnection } from './test-database';
import { startTestService, type TestService, type TestServiceOptions } from './test-service';

export interface StartedTestService {
  readonly svc: TestService;
  readonly db: Connection;
}

/**
 * The hooks every integration spec needs: the real server and a raw database connection for the
 * whole file, and the ledger invariants of SPEC §3 checked after every test. `env` as a function
 * is read when the server starts, after the spec's earlier beforeAll hooks (a proxy's port, say).
 */
export function useTestService(
  onStart: (started: StartedTestService) => void,
  env: Record<string, string> | (() => Record<string, string>) = {},
  options: TestServiceOptions = {},
): void {
  let started: StartedTestService | undefined;
  beforeAll(async () => {
    started = {
      svc: await startTestService(typeof env === 'function' ? env() : env, options),
      db: await rawConnection(),
    };
    onStart(started);
  });
  afterAll(async () => {
    await started?.db.end();
    await started?.svc.stop();
  });
  afterEach(async () => {
    if (started) checkLedger(await ledgerViolations(started.db), expect.getState().currentTestName ?? 'a test');
  });
}

/** Each violation seen in this spec file, and the test after which it first appeared. */
const culprits = new Map<string, string>();

/**
 * The whole file shares one database, so a broken balance stays broken for every later test.
 * Only the test that broke an invariant fails with it; a later one says who broke it instead of
 * repeating the failure as if it were its own, and fails with its own lines if it breaks more.
 */
function checkLedger(violations: readonly string[], testName: string): void {
  const fresh = violations.filter((violation) => !culprits.has(violation));
  for (const violation of fresh) culprits.set(violation, testName);
  if (fresh.length > 0) {
    throw new Error(`"${testName}" broke the ledger invariants of SPEC §3:\n  ${fresh.join('\n  ')}`);
  }
  if (violations.length > 0) {
    const brokenBy = [...new Set(violations.map((violation) => `"${culprits.get(violation)}"`))].join(', ');
    throw new Error(`ledger was already broken by ${brokenBy}; this test broke nothing more (see that failure)`);
  }
}
