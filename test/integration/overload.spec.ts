import { status } from '@grpc/grpc-js';
import { credentialsOf, issueCard } from '../support/builders';
import { useTestService } from '../support/integration-hooks';
import { settle } from '../support/rpc-error';
import type { TestService } from '../support/test-service';

/**
 * Issue 10, point 3: a burst must never be answered INTERNAL. The attack: 300 concurrent
 * BalanceInquiry calls; before the fix about half failed INTERNAL ("Queue limit reached." from
 * mysql2's pool). A two-connection pool makes the same burst overflow on any machine.
 */
let svc: TestService;

useTestService(
  (started) => {
    ({ svc } = started);
  },
  { DB_POOL_SIZE: '2', MAX_IN_FLIGHT_CALLS: '8', MAX_QUEUED_CALLS: '16' },
);

describe('Overload', () => {
  it('answers a burst of 300 BalanceInquiry with OK or UNAVAILABLE and a retry delay, never INTERNAL', async () => {
    const card = await issueCard(svc.api);
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, () => settle(svc.api.balanceInquiry(credentialsOf(card)))),
    );
    const refusals = outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
    expect(refusals.map((e) => e.codeName).filter((name) => name !== 'UNAVAILABLE')).toEqual([]);
    expect(outcomes.filter((o) => o.ok).length).toBeGreaterThan(0);
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ code: status.UNAVAILABLE, reason: 'OVERLOADED' });
      expect(refusal.retryDelayMs).toBeGreaterThan(0);
    }
  });
});
