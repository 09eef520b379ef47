import pino, { type DestinationStream } from 'pino';
import type { LogLevel } from '../config';
import { withoutSecrets } from './log-redaction';

export { REDACTED_FIELDS } from './log-redaction';

export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * JSON lines on stderr, through pino. Callers pass ids, codes and reasons only: card numbers,
 * passcodes, tokens and keys are never handed to the logger; the redaction (log-redaction.ts) is the
 * net under that rule, for a field a future change might pass by mistake.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Whether a line at this level would be written: lets a hot path skip building its fields. */
  enabled(level: LogLevel): boolean;
  /** Writes out what is buffered; called before the process exits. */
  flush(): void;
}

export function createLogger(
  level: LogLevel,
  destination: DestinationStream = pino.destination({ dest: 2, sync: false }),
): Logger {
  const base = pino(
    {
      level,
      base: { pid: process.pid },
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return {
    debug: (message, fields) => {
      base.debug(fields === undefined ? {} : withoutSecrets(fields), message);
    },
    info: (message, fields) => {
      base.info(fields === undefined ? {} : withoutSecrets(fields), message);
    },
    warn: (message, fields) => {
      base.warn(fields === undefined ? {} : withoutSecrets(fields), message);
    },
    error: (message, fields) => {
      base.error(fields === undefined ? {} : withoutSecrets(fields), message);
    },
    enabled: (at) => base.isLevelEnabled(at),
    flush: () => {
      const stream = destination as { flushSync?: () => void };
      try {
        stream.flushSync?.();
      } catch {
        // Nothing buffered, or the stream is not ready yet: nothing to lose.
      }
    },
  };
}
