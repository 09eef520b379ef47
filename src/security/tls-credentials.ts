import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { ServerCredentials } from '@grpc/grpc-js';
import type { TlsFiles } from '../config';

function readFile(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`${setting} ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/**
 * Reads the files and proves they make a working TLS context (certificate and key belong together,
 * PEM parses) before anything uses them: a half-written rotation must not become the live context.
 */
function loadContext(files: TlsFiles): SecureContextOptions {
  const options: SecureContextOptions = {
    cert: readFile('TLS_CERT_FILE', files.certFile),
    key: readFile('TLS_KEY_FILE', files.keyFile),
    ...(files.clientCaFile === null ? {} : { ca: readFile('TLS_CLIENT_CA_FILE', files.clientCaFile) }),
  };
  try {
    createSecureContext(options);
  } catch (error) {
    throw new Error(
      `TLS_CERT_FILE / TLS_KEY_FILE${files.clientCaFile === null ? '' : ' / TLS_CLIENT_CA_FILE'} ` +
        `do not make a usable TLS context: ${(error as Error).message}`,
    );
  }
  return options;
}

/**
 * TLS server credentials whose certificate, key and client CA can be replaced while the server
 * runs. grpc-js hands a new context to its HTTP/2 server (setSecureContext): connections already
 * open, and the calls on them, carry on; new handshakes get the new certificate.
 *
 * With a client CA, every connection must present a certificate that CA signed (mutual TLS); the
 * handshake refuses any other before a call can start.
 */
export class ReloadableServerCredentials extends ServerCredentials {
  private constructor(
    private readonly files: TlsFiles,
    initial: SecureContextOptions,
  ) {
    const mutual = files.clientCaFile !== null;
    super({ requestCert: mutual, rejectUnauthorized: mutual }, initial);
  }

  static load(files: TlsFiles): ReloadableServerCredentials {
    return new ReloadableServerCredentials(files, loadContext(files));
  }

  /** Loads the files again; throws (keeping the context in use) when they do not make a working one. */
  reload(): { subject: string; validTo: string } {
    const options = loadContext(this.files);
    this.updateSecureContextOptions(options);
    const certificate = new X509Certificate(options.cert as Buffer);
    return { subject: certificate.subject.replace(/\n/g, ', '), validTo: certificate.validTo };
  }

  get watchedFiles(): string[] {
    const { certFile, keyFile, clientCaFile } = this.files;
    return clientCaFile === null ? [certFile, keyFile] : [certFile, keyFile, clientCaFile];
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
