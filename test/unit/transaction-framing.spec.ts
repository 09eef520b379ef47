import { framingFor, framingOf, GUARDED_FRAMING, PLAIN_FRAMING } from '../../src/persistence/guarded-transaction';

describe('how the single-card path frames its transactions', () => {
  it('guards every COMMIT on a Galera node (wsrep_on is ON)', () => {
    expect(framingFor('ON')).toBe(GUARDED_FRAMING);
    expect(framingFor('on')).toBe(GUARDED_FRAMING);
  });

  it('guards them when the server settings could not be read at start', () => {
    expect(framingOf(new Error('access denied'))).toBe(GUARDED_FRAMING);
    expect(framingOf(new Map([['wsrep_on', 'OFF']]))).toBe(PLAIN_FRAMING);
  });

  it('sends plain transactions to a single server, with or without Galera support built in', () => {
    expect(framingFor('OFF')).toBe(PLAIN_FRAMING);
    expect(framingFor(undefined)).toBe(PLAIN_FRAMING);
  });

  it('releases, just before COMMIT, the savepoint set when the transaction began, with autocommit off', () => {
    expect(GUARDED_FRAMING.begin).toBe('START TRANSACTION; SAVEPOINT locked_transaction');
    expect(GUARDED_FRAMING.commit).toBe('RELEASE SAVEPOINT locked_transaction; COMMIT');
    expect(GUARDED_FRAMING.session).toContain('autocommit = 0');
  });
});
