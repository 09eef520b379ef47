import 'reflect-metadata';
import { credentials } from '@grpc/grpc-js';
import { GiftCardServiceClient } from '../../gen/giftcard/v1/gift_card_service';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { startService, type Service, type ServiceOverrides } from '../../src/main';
import { testDatabaseUrl } from './test-database';
import { GiftCardApi } from './api';

export interface TestService {
  readonly service: Service;
  readonly api: GiftCardApi;
  readonly address: string;
  readonly config: Config;
  stop(): Promise<void>;
}

export interface TestServiceOptions extends ServiceOverrides {
  /** Receives every log line the service writes, for specs that read the logs. */
  readonly logLines?: string[];
}

/** The real server on an ephemeral port against the run's test database. */
export async function startTestService(
  env: Record<string, string> = {},
  options: TestServiceOptions = {},
): Promise<TestService> {
  const config = loadConfig({
    DATABASE_URL: testDatabaseUrl(),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    LOG_LEVEL: 'error',
    // Off unless a spec asks for the endpoint (on a port the system picks, see ServiceOverrides).
    METRICS_PORT: '0',
    SHUTDOWN_GRACE_MS: '2000',
    ...env,
  });
  const { logLines, ...overrides } = options;
  const log = createLogger(
    config.logLevel,
    logLines === undefined ? undefined : { write: (line: string) => void logLines.push(line) },
  );
  const service = await startService(config, log, overrides);
  const address = `127.0.0.1:${service.server.port}`;
  const client = new GiftCardServiceClient(address, credentials.createInsecure());
  return {
    service,
    api: new GiftCardApi(client),
    address,
    config,
    stop: async () => {
      client.close();
      await service.stop();
    },
  };
}
