import { CoalescingQueue } from '../../src/application/card-queue';

interface Item {
  readonly name: string;
  readonly bytes: number;
  failedWith?: unknown;
  fail(error: unknown): void;
}

const item = (name: string, bytes = 1): Item => ({
  name,
  bytes,
  fail(error) {
    this.failedWith = error;
  },
});

/** A runner that records its batches and finishes each only when the test says so. */
function gatedRunner() {
  const batches: string[][] = [];
  const gates: (() => void)[] = [];
  const run = (batch: readonly Item[]): Promise<void> => {
    batches.push(batch.map((i) => i.name));
    return new Promise((resolve) => gates.push(resolve));
  };
  const finishNext = async (): Promise<void> => {
    gates.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, run, finishNext };
}

describe('CoalescingQueue', () => {
  it('runs an item for an idle line at once, by itself', () => {
    const runner = gatedRunner();
    const queue = new CoalescingQueue(runner.run, { maxOperations: 8, maxBytes: 100 });
    queue.add('card', item('a'));
    expect(runner.batches).toEqual([['a']]);
    expect(queue.waiting()).toBe(0);
  });

  it('batches the items that arrive while the line is busy, in arrival order, after it', async () => {
    const runner = gatedRunner();
    const queue = new CoalescingQueue(runner.run, { maxOperations: 8, maxBytes: 100 });
    for (const name of ['a', 'b', 'c', 'd']) queue.add('card', item(name));
    expect(queue.waiting()).toBe(3);
    await runner.finishNext();
    expect(runner.batches).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('keeps lines apart: a busy card does not hold up another', () => {
    const runner = gatedRunner();
    const queue = new CoalescingQueue(runner.run, { maxOperations: 8, maxBytes: 100 });
    queue.add('card-1', item('a'));
    queue.add('card-2', item('b'));
    expect(runner.batches).toEqual([['a'], ['b']]);
  });

  it('bounds a batch by its count and by its bytes, one item at least', async () => {
    const runner = gatedRunner();
    const queue = new CoalescingQueue(runner.run, { maxOperations: 3, maxBytes: 10 });
    queue.add('card', item('first'));
    for (const name of ['a', 'b', 'c', 'd']) queue.add('card', item(name, 2));
    queue.add('card', item('big', 50));
    queue.add('card', item('e', 9));
    queue.add('card', item('f', 2));
    for (let i = 0; i < 5; i++) await runner.finishNext();
    expect(runner.batches).toEqual([['first'], ['a', 'b', 'c'], ['d'], ['big'], ['e'], ['f']]);
  });

  it('fails the items of a batch whose runner throws, and goes on with the line', async () => {
    const batches: string[][] = [];
    let calls = 0;
    const queue = new CoalescingQueue(
      (batch: readonly Item[]) => {
        batches.push(batch.map((i) => i.name));
        calls++;
        return calls === 1 ? Promise.reject(new Error('broken')) : Promise.resolve();
      },
      { maxOperations: 8, maxBytes: 100 },
    );
    const first = item('a');
    queue.add('card', first);
    queue.add('card', item('b'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(first.failedWith).toEqual(new Error('broken'));
    expect(batches).toEqual([['a'], ['b']]);
    expect(queue.waiting()).toBe(0);
  });
});
