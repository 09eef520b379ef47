import { shuttingDown, type DomainError } from '../../src/domain/errors';
import { CallsInFlight } from '../../src/transport/calls-in-flight';

describe('CallsInFlight', () => {
  it('is idle at once with no call in flight', async () => {
    await expect(new CallsInFlight().idle()).resolves.toBeUndefined();
  });

  it('becomes idle only when the last call in flight has been answered', async () => {
    const calls = new CallsInFlight();
    const leaveFirst = calls.enter(() => undefined);
    const leaveSecond = calls.enter(() => undefined);
    let idle = false;
    const waiting = calls.idle().then(() => {
      idle = true;
    });
    leaveFirst();
    await Promise.resolve();
    expect(idle).toBe(false);
    expect(calls.size).toBe(1);
    leaveSecond();
    await waiting;
    expect(idle).toBe(true);
    expect(calls.size).toBe(0);
  });

  it('answers every call still in flight when abandoned, once each', () => {
    const calls = new CallsInFlight();
    const heard: DomainError[] = [];
    const leaves: (() => void)[] = [];
    for (let i = 0; i < 3; i++) {
      leaves.push(
        calls.enter((error) => {
          heard.push(error);
          leaves[i]?.();
        }),
      );
    }
    calls.abandonAll(shuttingDown());
    expect(heard).toHaveLength(3);
    expect(calls.size).toBe(0);
  });
});
