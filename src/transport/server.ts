import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { GiftCardServiceService } from '../../gen/giftcard/v1/gift_card_service';
import type { AppContext } from '../application/ports';
import type { Logger } from '../logger';
import type { ErrorTranslator } from './error-status';
import { giftCardService } from './gift-card-service';
import { withTolerantDecoding } from './unary';

export const SERVICE_NAME = 'giftcard.v1.GiftCardService';
/** Built by `npm run generate` from proto/ (buf build), so reflection serves the real contract. */
const DESCRIPTOR_SET_PATH = join(__dirname, '..', '..', '..', 'gen', 'giftcard.binpb');
/** Upper bound on a request: the largest valid one is a few KB; more is abuse. */
const MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024;

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
  readonly translateError: ErrorTranslator;
}

export interface RunningServer {
  readonly port: number;
  readonly health: HealthImplementation;
  /** Health NOT_SERVING, stop accepting, let calls in flight finish within the grace period. */
  shutdown(graceMs: number): Promise<void>;
}

function findDescriptorSet(): Buffer {
  // From src/ under ts-jest the path is one level shorter than from dist/src/.
  for (const path of [DESCRIPTOR_SET_PATH, join(__dirname, '..', '..', 'gen', 'giftcard.binpb')]) {
    try {
      return readFileSync(path);
    } catch {
      // try the next layout
    }
  }
  throw new Error('gen/giftcard.binpb is missing; run `npm run generate`');
}

function reflectionPackages(): PackageDefinition {
  const options = { keepCase: false, longs: String, enums: String, defaults: true };
  return {
    ...loadFileDescriptorSetFromBuffer(findDescriptorSet(), options),
    ...loadSync(healthProtoPath, options),
  };
}

export async function startServer(app: AppContext, options: ServerOptions): Promise<RunningServer> {
  const server = new Server({ 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES });
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  };
  server.addService(
    withTolerantDecoding(GiftCardServiceService),
    giftCardService(app, { log: options.log, translateError: options.translateError, track }),
  );
  const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);
  new ReflectionService(reflectionPackages()).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });

  const shutdown = async (graceMs: number): Promise<void> => {
    health.setStatus('', 'NOT_SERVING');
    health.setStatus(SERVICE_NAME, 'NOT_SERVING');
    const drained = new Promise<void>((resolve) => {
      server.tryShutdown(() => {
        resolve();
      });
    });
    const deadline = new Promise<'timeout'>((resolve) =>
      setTimeout(() => {
        resolve('timeout');
      }, graceMs).unref(),
    );
    const result = await Promise.race([
      drained.then(() => Promise.all(inFlight)).then(() => 'drained' as const),
      deadline,
    ]);
    if (result === 'timeout') {
      options.log.warn('shutdown grace period over; cancelling calls in flight', { inFlight: inFlight.size });
      server.forceShutdown();
    }
  };
  return { port, health, shutdown };
}
