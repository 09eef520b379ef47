import { AdmissionControl } from '../../src/transport/admission';

/** A call that runs until the test lets it finish. */
function heldCall(): { finish: () => void; work: () => Promise<string> } {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { finish, work: () => done.then(() => 'done') };
}

const reasonOf = (call: Promise<unknown>): Promise<string> =>
  call.then(
    () => 'admitted',
    (error: unknown) => (error as { reason?: string }).reason ?? String(error),
  );

describe('Admission control', () => {
  it('runs up to the limit at once, queues the next in order, refuses the rest at once with OVERLOADED', async () => {
    const admission = new AdmissionControl({ maxInFlight: 1, maxQueued: 1, maxQueueWaitMs: 10_000 });
    const first = heldCall();
    const second = heldCall();
    const running = admission.run(first.work, null);
    const queued = admission.run(second.work, null);
    expect(await reasonOf(admission.run(() => Promise.resolve('third'), null))).toBe('OVERLOADED');
    first.finish();
    second.finish();
    expect(await running).toBe('done');
    expect(await queued).toBe('done');
    expect(await admission.run(() => Promise.resolve('later'), null)).toBe('later');
  });

  it('refuses a queued call once it has waited its limit, or past its own deadline', async () => {
    const admission = new AdmissionControl({ maxInFlight: 1, maxQueued: 10, maxQueueWaitMs: 50 });
    const held = heldCall();
    const running = admission.run(held.work, null);
    expect(await reasonOf(admission.run(() => Promise.resolve('x'), null))).toBe('OVERLOADED');
    expect(await reasonOf(admission.run(() => Promise.resolve('x'), Date.now() + 5))).toBe('OVERLOADED');
    held.finish();
    await running;
    expect(await admission.run(() => Promise.resolve('free again'), null)).toBe('free again');
  });

  it('frees its place when the work fails', async () => {
    const admission = new AdmissionControl({ maxInFlight: 1, maxQueued: 0, maxQueueWaitMs: 0 });
    await expect(admission.run(() => Promise.reject(new Error('boom')), null)).rejects.toThrow('boom');
    expect(await admission.run(() => Promise.resolve('next'), null)).toBe('next');
  });
});
