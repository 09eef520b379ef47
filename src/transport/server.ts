import { Server, type ServerCredentials } from '@grpc/grpc-js';
import { GiftCardServiceService } from '../../gen/giftcard/v1/gift_card_service';
import type { AppContext } from '../application/ports';
import type { AdmissionSettings, ConnectionSettings } from '../config';
import { shuttingDown } from '../domain/errors';
import type { CallObserver } from '../observability/call-observer';
import type { Logger } from '../observability/logger';
import type { CallerPolicy } from '../security/callers';
import { AdmissionControl } from './admission';
import { CallsInFlight } from './calls-in-flight';
import { connectionOptions, listen } from './connection-limits';
import type { ErrorTranslator } from './error-status';
import { giftCardService } from './gift-card-service';
import { HealthService } from './health';
import { loadDescriptorCatalog } from './reflection/descriptor-catalog';
import { addReflectionService } from './reflection/reflection-service';
import { withTolerantDecoding } from './unary';

export const SERVICE_NAME = 'giftcard.v1.GiftCardService';
/** Upper bound on a request: the largest valid one is a few KB; more is abuse. */
const MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024;
/** After the grace period, how long the answers to abandoned calls get to leave before the sockets close. */
const ANSWER_FLUSH_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** The database as the transport sees it: whether it answers, and news when that changes. */
export interface DatabaseHealth {
  isUp(): boolean;
  /** Returns the function that unsubscribes the listener. */
  onChange(listener: (up: boolean) => void): () => void;
}

const ALWAYS_UP: DatabaseHealth = { isUp: () => true, onChange: () => () => undefined };

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
  readonly translateError: ErrorTranslator;
  /** Health follows it: NOT_SERVING while the database is unreachable, SERVING again when it returns. */
  readonly database?: DatabaseHealth;
  readonly connections: ConnectionSettings;
  readonly admission: AdmissionSettings;
  /** TLS (or mutual TLS) credentials; plaintext without them, which config allows outside production only. */
  readonly credentials: ServerCredentials;
  readonly callers: CallerPolicy;
  readonly observer: CallObserver;
}

export interface RunningServer {
  readonly port: number;
  /** Health entries of parts of the service, reported apart from its own (HealthService.setDetail). */
  readonly healthDetails: Pick<HealthService, 'setDetail'>;
  /** Health NOT_SERVING, stop accepting, let calls in flight finish within the grace period. */
  shutdown(graceMs: number): Promise<void>;
}

export async function startServer(app: AppContext, options: ServerOptions): Promise<RunningServer> {
  const server = new Server({
    'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
    ...connectionOptions(options.connections),
  });
  const inFlight = new CallsInFlight();
  const database = options.database ?? ALWAYS_UP;
  server.addService(
    withTolerantDecoding(GiftCardServiceService),
    giftCardService(app, {
      log: options.log,
      translateError: options.translateError,
      track: (abandon) => inFlight.enter(abandon),
      databaseUp: () => database.isUp(),
      admission: new AdmissionControl(options.admission),
      callers: options.callers,
      observer: options.observer,
    }),
  );
  const health = new HealthService(['', SERVICE_NAME], options.connections.maxHealthWatches);
  let draining = false;
  const reportHealth = (): void => {
    health.setStatus(!draining && database.isUp() ? 'SERVING' : 'NOT_SERVING');
  };
  reportHealth();
  const unsubscribe = database.onChange(reportHealth);
  health.addTo(server);
  addReflectionService(server, loadDescriptorCatalog());

  const address = `${options.host}:${options.port}`;
  const listener = await listen(
    server,
    options.credentials,
    { host: options.host, port: options.port },
    options.connections,
  ).catch((error: unknown) => {
    throw new Error(`GRPC_HOST:GRPC_PORT ${address} cannot be bound: ${(error as Error).message}`, { cause: error });
  });

  const shutdown = async (graceMs: number): Promise<void> => {
    draining = true;
    unsubscribe();
    reportHealth();
    // Watchers have heard NOT_SERVING; a stream left open would hold the drain to its end.
    health.endWatches();
    listener.close();
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
    const result = await Promise.race([drained.then(() => inFlight.idle()).then(() => 'drained' as const), deadline]);
    if (result === 'timeout') {
      options.log.warn('shutdown grace period over; answering calls in flight UNAVAILABLE', {
        inFlight: inFlight.size,
      });
      // An answer tells the caller to retry elsewhere; a cancelled stream would leave it guessing.
      inFlight.abandonAll(shuttingDown());
      await Promise.race([drained, sleep(ANSWER_FLUSH_MS)]);
      server.forceShutdown();
    }
  };
  return { port: listener.port, healthDetails: health, shutdown };
}
