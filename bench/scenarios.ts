/** The workloads the bench drives, against the service and against each ceiling alike. */
export const SCENARIOS = ['redeem-distinct', 'redeem-hot', 'balance-inquiry', 'issue-virtual-card', 'mix'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const SCENARIO_TITLES: Readonly<Record<Scenario, string>> = {
  'redeem-distinct': 'Redeem, distinct cards',
  'redeem-hot': 'Redeem, one hot card',
  'balance-inquiry': 'BalanceInquiry',
  'issue-virtual-card': 'IssueVirtualCard',
  mix: 'Mix 70/20/5/5',
};

/** The operations a call of a scenario may be. */
export type Operation = 'redeem' | 'redeem-hot' | 'inquiry' | 'reload' | 'issue';

/** The mix of the issue: 70% inquiry, 20% redeem, 5% reload, 5% issue, drawn per call. */
const MIX: readonly (readonly [Operation, number])[] = [
  ['inquiry', 0.7],
  ['redeem', 0.2],
  ['reload', 0.05],
  ['issue', 0.05],
];

/** Picks the next call's operation; `draw` is uniform in [0, 1). */
export function operationFor(scenario: Scenario, draw: number): Operation {
  switch (scenario) {
    case 'redeem-distinct':
      return 'redeem';
    case 'redeem-hot':
      return 'redeem-hot';
    case 'balance-inquiry':
      return 'inquiry';
    case 'issue-virtual-card':
      return 'issue';
    case 'mix': {
      let cumulative = 0;
      for (const [operation, share] of MIX) {
        cumulative += share;
        if (draw < cumulative) return operation;
      }
      return 'issue';
    }
  }
}

/** Each call moves one minor unit, so seeded balances last for any run length. */
export const AMOUNT_MINOR = 1n;
export const CURRENCY = 'USD';
/** An issued card's opening balance. */
export const ISSUE_AMOUNT_MINOR = 5_000n;

export function isScenario(name: string): name is Scenario {
  return (SCENARIOS as readonly string[]).includes(name);
}
