import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { testDatabaseName } from '../../support/test-database';

export const REPOSITORY_ROOT = resolve(__dirname, '..', '..', '..');
const DIST = join(REPOSITORY_ROOT, 'dist');
export const SERVER_ENTRY = join(DIST, 'src', 'main.js');
/** The wall-clock skew preload for server processes (clock-preload.ts), built alongside the server. */
export const CLOCK_PRELOAD = join(DIST, 'fault-suite', 'clock-preload.js');
const CLOCK_PRELOAD_SOURCE = join(REPOSITORY_ROOT, 'test', 'faults', 'support', 'clock-preload.ts');
/** Names the test run dist/ was last built for. */
const MARKER = join(DIST, '.fault-suite-build');
/** A cold build on a loaded 2-core machine takes about half a minute. */
export const BUILD_TIMEOUT_MS = 180_000;
/**
 * For a spec's setup that may be the run's first build: the build, then a server start. Jest's
 * minute is not enough for the first on a loaded machine, and which spec comes first varies.
 */
export const SETUP_WITH_BUILD_TIMEOUT_MS = BUILD_TIMEOUT_MS + 60_000;
const POLL_MS = 200;

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Builds the server the way production runs it (`tsc -p tsconfig.build.json` into dist/), once per
 * test run: every fault spec of the run shares the build, and the marker names the run's throwaway
 * database so a build from an earlier run is never trusted. Incremental, so a local rerun
 * recompiles only what changed.
 */
export async function ensureServerBuilt(): Promise<string> {
  const runId = testDatabaseName();
  const lock = `${MARKER}.lock`;
  const started = Date.now();
  mkdirSync(DIST, { recursive: true });
  while (builtFor() !== runId) {
    if (tryLock(lock)) {
      try {
        await run(
          process.execPath,
          [
            join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
            '-p',
            join(REPOSITORY_ROOT, 'tsconfig.build.json'),
            '--incremental',
            '--tsBuildInfoFile',
            join(DIST, '.tsbuildinfo'),
          ],
          { cwd: REPOSITORY_ROOT, timeout: BUILD_TIMEOUT_MS },
        );
        await buildClockPreload();
        writeFileSync(MARKER, runId);
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    } else {
      if (Date.now() - started > BUILD_TIMEOUT_MS) throw new Error('gave up waiting for the server build');
      await sleep(POLL_MS);
    }
  }
  return SERVER_ENTRY;
}

/** One file, no imports of our own: transpiled alone, outside the production build. */
async function buildClockPreload(): Promise<void> {
  const { transpileModule, ModuleKind, ScriptTarget } = await import('typescript');
  const { outputText } = transpileModule(readFileSync(CLOCK_PRELOAD_SOURCE, 'utf8'), {
    compilerOptions: { module: ModuleKind.CommonJS, target: ScriptTarget.ES2022 },
  });
  mkdirSync(dirname(CLOCK_PRELOAD), { recursive: true });
  writeFileSync(CLOCK_PRELOAD, outputText);
}

function builtFor(): string | null {
  try {
    return readFileSync(MARKER, 'utf8');
  } catch {
    return null;
  }
}

/** mkdir is atomic: exactly one jest worker builds, the others wait for its marker. */
function tryLock(path: string): boolean {
  // A lock older than any build was left by a run that died while building.
  try {
    if (Date.now() - statSync(path).mtimeMs > BUILD_TIMEOUT_MS) rmSync(path, { recursive: true, force: true });
  } catch {
    // no lock to clear
  }
  try {
    mkdirSync(path);
    return true;
  } catch {
    return false;
  }
}
