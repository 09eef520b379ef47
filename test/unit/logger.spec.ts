import { createLogger, REDACTED_FIELDS } from '../../src/observability/logger';

describe('logger', () => {
  it('writes one JSON object per line with the level, the time and the message', () => {
    const lines: string[] = [];
    createLogger('info', { write: (line: string) => void lines.push(line) }).info('listening', { port: 50051 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 'info', message: 'listening', port: 50051 });
  });

  it('redacts a secret field handed to it by mistake, at the top level or one down', () => {
    const lines: string[] = [];
    const log = createLogger('debug', { write: (line: string) => void lines.push(line) });
    for (const field of REDACTED_FIELDS) log.warn('oops', { [field]: '4111111111111111' });
    log.warn('nested', { request: { cardNumber: '4111111111111111', passcode: '12345678' } } as never);
    expect(lines).toHaveLength(REDACTED_FIELDS.length + 1);
    expect(lines.join('')).not.toMatch(/4111111111111111|12345678/);
    expect(lines.join('')).toContain('[redacted]');
  });

  it('redacts deeper down and inside lists too, and keeps the fields around the secret', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    const deep = { outer: { inner: [{ token: 'tok-secret-1' }, { key: 'key-secret-2', rpc: 'Redeem' }] } };
    log.info('nested', deep as never);
    expect(lines.join('')).not.toMatch(/tok-secret-1|key-secret-2/);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      outer: { inner: [{ token: '[redacted]' }, { key: '[redacted]', rpc: 'Redeem' }] },
    });
    expect(deep.outer.inner[0]).toEqual({ token: 'tok-secret-1' });
  });

  it('writes a line without secret fields as it was given', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    log.info('call', { rpc: 'Redeem', code: 'OK', ms: 1.5, caller: 'checkout', requestId: 'r-1', traceId: undefined });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ rpc: 'Redeem', code: 'OK', ms: 1.5, caller: 'checkout' });
  });

  it('skips lines below its level', () => {
    const lines: string[] = [];
    const log = createLogger('warn', { write: (line: string) => void lines.push(line) });
    log.info('quiet');
    expect(log.enabled('info')).toBe(false);
    expect(lines).toEqual([]);
  });
});
