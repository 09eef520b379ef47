/**
 * Loaded into a fault test's server process with `node --require` (built by server-build.ts): the
 * process's wall clock runs at an offset the test sets, as on a machine whose clock is wrong,
 * without touching the machine's clock. Everything in the process that reads the time of day
 * (the service's clock, its logs, deadlines) sees the skew; timers, which run on the monotonic
 * clock, do not, as on a real machine. The offset in ms is read from the file FAULT_CLOCK_FILE
 * names, at start and again on SIGUSR2; each reading is acknowledged on stderr, in the service's
 * log format, so the test knows the jump has happened.
 */
import { readFileSync } from 'node:fs';

const offsetFile = process.env.FAULT_CLOCK_FILE;

if (offsetFile !== undefined) {
  const SystemDate = Date;
  let offsetMs = 0;

  const readOffset = (): void => {
    const value = Number(readFileSync(offsetFile, 'utf8').trim());
    offsetMs = Number.isFinite(value) ? value : 0;
    process.stderr.write(
      `${JSON.stringify({ time: new SystemDate(SystemDate.now() + offsetMs).toISOString(), level: 'info', message: 'fault clock offset', offsetMs })}\n`,
    );
  };

  globalThis.Date = new Proxy(SystemDate, {
    construct: (target, args: unknown[], newTarget: NewableFunction) =>
      Reflect.construct(target, args.length === 0 ? [SystemDate.now() + offsetMs] : args, newTarget) as object,
    apply: () => new SystemDate(SystemDate.now() + offsetMs).toString(),
    get: (target, property, receiver) =>
      property === 'now' ? () => SystemDate.now() + offsetMs : (Reflect.get(target, property, receiver) as unknown),
  });
  readOffset();
  process.on('SIGUSR2', readOffset);
}
