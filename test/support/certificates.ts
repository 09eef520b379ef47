import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A throwaway certificate authority in a temp dir, driven by the openssl CLI the way an operator
 * would make certificates: P-256 keys, a CA, and leaf certificates with the subject and SANs asked for.
 */
export class TestCertificateAuthority {
  readonly dir: string;
  readonly caFile: string;
  private readonly caKey: string;
  private serial = 0;

  constructor(name = 'Gift Card Test CA') {
    this.dir = mkdtempSync(join(tmpdir(), 'giftcard-certs-'));
    this.caFile = join(this.dir, 'ca.pem');
    this.caKey = join(this.dir, 'ca.key');
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      this.caKey,
      '-out',
      this.caFile,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ]);
  }

  /** A leaf certificate: `subject` as openssl's -subj (`/CN=checkout/O=Example Shop`), `san` as its extension. */
  issue(name: string, subject: string, san: string, usage: 'serverAuth' | 'clientAuth'): IssuedCertificate {
    const base = join(this.dir, `${name}-${++this.serial}`);
    const extensions = `${base}.ext`;
    writeFileSync(extensions, `subjectAltName=${san}\nextendedKeyUsage=${usage}\n`);
    openssl([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
      '-subj',
      subject,
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      this.caFile,
      '-CAkey',
      this.caKey,
      '-set_serial',
      String(Date.now() * 100 + this.serial),
      '-out',
      `${base}.pem`,
      '-days',
      '2',
      '-extfile',
      extensions,
    ]);
    return { certFile: `${base}.pem`, keyFile: `${base}.key` };
  }

  /** A certificate for the server at 127.0.0.1. */
  issueServer(commonName = 'giftcard.test'): IssuedCertificate {
    return this.issue('server', `/CN=${commonName}`, `DNS:localhost,IP:127.0.0.1`, 'serverAuth');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
