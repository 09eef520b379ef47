import type { Connection } from 'mysql2/promise';
import { assertLedgerInvariants } from './ledger-invariants';
import { rawConnection } from './test-database';
import { startTestService, type TestService } from './test-service';

export interface StartedTestService {
  readonly svc: TestService;
  readonly db: Connection;
}

/**
 * The hooks every integration spec needs: the real server and a raw database connection for the
 * whole file, and the ledger invariants of SPEC §3 checked after every test.
 */
export function useTestService(onStart: (started: StartedTestService) => void, env: Record<string, string> = {}): void {
  let started: StartedTestService | undefined;
  beforeAll(async () => {
    started = { svc: await startTestService(env), db: await rawConnection() };
    onStart(started);
  });
  afterAll(async () => {
    await started?.db.end();
    await started?.svc.stop();
  });
  afterEach(async () => {
    if (started) await assertLedgerInvariants(started.db);
  });
}
