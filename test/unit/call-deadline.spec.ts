import { callBudget, currentWorkDeadline, withWorkDeadline } from '../../src/call-deadline';

describe('callBudget', () => {
  it('has no budget for a call without a deadline', () => {
    expect(callBudget(Number.POSITIVE_INFINITY, 1_000)).toBeNull();
  });

  it('keeps a fifth of the time back for the answer, the work giving up before the transport answers', () => {
    expect(callBudget(5_000, 0)).toEqual({ workByMs: 4_000, replyByMs: 4_500 });
  });

  it('keeps at most a second back from a long deadline and at least 50 ms from a short one', () => {
    expect(callBudget(60_000, 0)).toEqual({ workByMs: 59_000, replyByMs: 59_500 });
    expect(callBudget(100, 0)).toEqual({ workByMs: 50, replyByMs: 75 });
  });
});

describe('withWorkDeadline', () => {
  it('carries the deadline through awaits of the call and nowhere else', async () => {
    const seen = await withWorkDeadline(1_234, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentWorkDeadline();
    });
    expect(seen).toBe(1_234);
    expect(currentWorkDeadline()).toBeNull();
  });
});
