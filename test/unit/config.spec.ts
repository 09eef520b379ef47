import { loadConfig } from '../../src/config';

describe('config', () => {
  it('has working defaults and reports the secrets left at development values', () => {
    const config = loadConfig({});
    expect(config.grpcPort).toBe(50051);
    expect(config.databaseUrl).toBe('mysql://root@127.0.0.1:3306/giftcard');
    expect(config.defaultedSecrets).toEqual(['CARD_NUMBER_INDEX_KEY', 'PASSCODE_HASH_KEY', 'RESPONSE_SEALING_KEY']);
  });

  it('refuses bad values at start, naming each', () => {
    expect(() => loadConfig({ GRPC_PORT: 'abc', MAX_BALANCE_MINOR: '-1', CARD_NUMBER_INDEX_KEY: 'short' })).toThrow(
      /GRPC_PORT[\s\S]*MAX_BALANCE_MINOR[\s\S]*CARD_NUMBER_INDEX_KEY/,
    );
  });

  it('refuses an idempotency retention under 24 hours', () => {
    expect(() => loadConfig({ IDEMPOTENCY_RETENTION_MS: '1000' })).toThrow(/IDEMPOTENCY_RETENTION_MS/);
  });

  it('refuses two settings holding the same key, naming both', () => {
    const key = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
    expect(() => loadConfig({ CARD_NUMBER_INDEX_KEY: key, RESPONSE_SEALING_KEY: key })).toThrow(
      /CARD_NUMBER_INDEX_KEY and RESPONSE_SEALING_KEY/,
    );
  });

  it.each([
    ['all zeros', '00'.repeat(32)],
    ['one repeated byte', 'ab'.repeat(32)],
    ['a repeated short pattern', '0123456789abcdef'.repeat(4)],
  ])('refuses a weak key: %s', (_name, key) => {
    expect(() => loadConfig({ PASSCODE_HASH_KEY: key })).toThrow(/PASSCODE_HASH_KEY/);
  });

  it('turns events off without EVENTS_AMQP_URL, and on with it', () => {
    expect(loadConfig({}).events).toBeNull();
    expect(loadConfig({ EVENTS_AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672' }).events).toMatchObject({
      amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
      exchange: 'giftcard.events',
      batchSize: 100,
    });
  });

  it('refuses a broker URL that is not AMQP and an exchange name RabbitMQ reserves', () => {
    expect(() => loadConfig({ EVENTS_AMQP_URL: 'http://broker' })).toThrow(/EVENTS_AMQP_URL/);
    expect(() => loadConfig({ EVENTS_AMQP_URL: 'amqp://broker', EVENTS_EXCHANGE: 'amq.topic' })).toThrow(
      /EVENTS_EXCHANGE/,
    );
  });
});
