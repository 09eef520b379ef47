import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startTestService, type TestService } from '../support/test-service';

/**
 * Runs reflection_check.py, the strict reflection check on Google's C-core gRPC, against the real
 * server. Needs Debian's python3-grpcio and python3-grpc-tools; not part of `npm test`.
 */
const PYTHON = process.env.REFLECTION_CHECK_PYTHON ?? '/usr/bin/python3';

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService();
});

afterAll(async () => {
  await svc.stop();
});

it('passes the strict reflection check on C-core, for v1 and v1alpha', async () => {
  // Asynchronously: the server answering the script runs in this process.
  const outcome = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      PYTHON,
      [join(__dirname, 'reflection_check.py'), svc.address],
      { timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          output: stdout + stderr,
        });
      },
    );
  });
  process.stdout.write(outcome.output);
  expect(outcome.code).toBe(0);
});
