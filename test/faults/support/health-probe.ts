import { credentials, loadPackageDefinition, type ChannelOptions, type Client, type ServiceError } from '@grpc/grpc-js';
import { FAST_RECONNECT } from './channel-options';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

export type HealthState = 'SERVING' | 'NOT_SERVING' | 'UNREACHABLE';

type CheckMethod = (
  request: { service: string },
  options: { deadline: number },
  callback: (error: ServiceError | null, response?: { status: string }) => void,
) => void;

interface HealthClient extends Client {
  check: CheckMethod;
}

type HealthClientConstructor = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options: ChannelOptions,
) => HealthClient;

const CHECK_DEADLINE_MS = 2_000;
const POLL_MS = 100;

const healthPackage = loadPackageDefinition(loadSync(protoPath, { keepCase: true, enums: String })) as unknown as {
  grpc: { health: { v1: { Health: HealthClientConstructor } } };
};

/** grpc.health.v1 Check as a load balancer or an orchestrator's readiness probe would call it. */
export class HealthProbe {
  private readonly client: HealthClient;

  /** `service` is the health entry checked: the service's own by default. */
  constructor(
    address: string,
    private readonly service = 'giftcard.v1.GiftCardService',
  ) {
    this.client = new healthPackage.grpc.health.v1.Health(address, credentials.createInsecure(), FAST_RECONNECT);
  }

  check(): Promise<HealthState> {
    return new Promise((resolve) => {
      this.client.check({ service: this.service }, { deadline: Date.now() + CHECK_DEADLINE_MS }, (error, response) => {
        if (error !== null || response === undefined) resolve('UNREACHABLE');
        else resolve(response.status === 'SERVING' ? 'SERVING' : 'NOT_SERVING');
      });
    });
  }

  /** Polls until health reports `wanted`; the bound is for liveness only, generous on a loaded machine. */
  async waitFor(wanted: HealthState, timeoutMs: number): Promise<void> {
    const giveUpAt = Date.now() + timeoutMs;
    let last = await this.check();
    while (last !== wanted) {
      if (Date.now() > giveUpAt) throw new Error(`health stayed ${last}, never ${wanted}, for ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      last = await this.check();
    }
  }

  close(): void {
    this.client.close();
  }
}
