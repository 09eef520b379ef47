import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from '../observability/logger';
import { CallersFile, type Caller, type CallerPolicy, type Identification, type PresentedCredentials } from './callers';
import type { ReloadableServerCredentials } from './tls-credentials';

/** The callers file in force, swapped whole for a new one when it changes and parses. */
export class ReloadableCallers implements CallerPolicy {
  private current: CallersFile;

  constructor(readonly file: string) {
    this.current = CallersFile.load(file);
  }

  get callerNames(): string[] {
    return this.current.callerNames;
  }

  identify(presented: PresentedCredentials): Identification {
    return this.current.identify(presented);
  }

  mayCall(caller: Caller, rpc: string): boolean {
    return this.current.mayCall(caller, rpc);
  }

  /** Throws, keeping the file in force, when the new one does not parse. */
  reload(): void {
    this.current = CallersFile.load(this.file);
  }
}

/**
 * Reloads the TLS files and the callers file on SIGHUP (main.ts) and when one of them changes on
 * disk. A reload that fails keeps what is in force and says why in the log: a broken rotation must
 * not take the service down or open it up.
 */
export class SecurityReloader {
  private readonly watched = new Map<string, (now: Stats, before: Stats) => void>();

  constructor(
    private readonly credentials: ReloadableServerCredentials | null,
    private readonly callers: ReloadableCallers | null,
    private readonly log: Logger,
  ) {}

  reload(trigger: string): void {
    if (this.credentials !== null) {
      try {
        const certificate = this.credentials.reload();
        this.log.info('TLS certificate reloaded', { trigger, ...certificate });
      } catch (error) {
        this.log.error('TLS reload failed; keeping the certificate in use', {
          trigger,
          error: (error as Error).message,
        });
      }
    }
    if (this.callers !== null) {
      try {
        this.callers.reload();
        this.log.info('callers file reloaded', { trigger, callers: this.callers.callerNames.join(',') });
      } catch (error) {
        this.log.error('callers file reload failed; keeping the callers in force', {
          trigger,
          error: (error as Error).message,
        });
      }
    }
  }

  /** Polls the files: atomic renames (how cert-manager and friends rotate) are seen too. */
  watch(intervalMs: number): void {
    const files = [...(this.credentials?.watchedFiles ?? []), ...(this.callers === null ? [] : [this.callers.file])];
    for (const file of files) {
      const listener = (now: Stats, before: Stats): void => {
        if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) {
          this.reload(`${file} changed`);
        }
      };
      watchFile(file, { interval: intervalMs, persistent: false }, listener);
      this.watched.set(file, listener);
    }
  }

  stop(): void {
    for (const [file, listener] of this.watched) unwatchFile(file, listener);
    this.watched.clear();
  }
}
