import { format } from 'node:util';
import { setLogger } from '@grpc/grpc-js';
import type { Logger } from './logger';

/** grpc-js's own log lines (its GRPC_VERBOSITY, ERROR by default) become JSON lines like ours. */
export function routeGrpcLogs(log: Logger): void {
  setLogger({
    error: (...args: unknown[]) => {
      log.error('grpc-js', { detail: format(...args) });
    },
    info: (...args: unknown[]) => {
      log.info('grpc-js', { detail: format(...args) });
    },
    debug: (...args: unknown[]) => {
      log.debug('grpc-js', { detail: format(...args) });
    },
  });
}
