import {
  credentials,
  loadPackageDefinition,
  type Client,
  type GrpcObject,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService();
});

afterAll(async () => {
  await svc.stop();
});

type DynamicClient = Client & Record<string, (...args: unknown[]) => unknown>;

function clientFor(protoFile: string, servicePath: string[]): DynamicClient {
  const pkg = loadPackageDefinition(
    loadSync(protoFile, { keepCase: true, longs: String, enums: String, defaults: true }),
  );
  const ctor = servicePath.reduce<unknown>((node, name) => (node as GrpcObject)[name], pkg) as ServiceClientConstructor;
  return new ctor(svc.address, credentials.createInsecure()) as never;
}

describe('Service surface', () => {
  it('answers grpc.health.v1.Health/Check with SERVING, for the server and for GiftCardService', async () => {
    const health = clientFor(healthProtoPath, ['grpc', 'health', 'v1', 'Health']);
    for (const service of ['', 'giftcard.v1.GiftCardService']) {
      const response = await new Promise<{ status: string }>((resolve, reject) => {
        health.Check!({ service }, (error: Error | null, reply: { status: string }) => {
          if (error) reject(error);
          else resolve(reply);
        });
      });
      expect(response.status).toBe('SERVING');
    }
    health.close();
  });
});
