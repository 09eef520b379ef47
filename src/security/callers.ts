import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { ANONYMOUS_KEY_SCOPE } from '../call-caller';
import { CALLER_GROUPS, RPC_GROUPS, type CallerGroup } from './rpc-groups';

/** A calling service as the callers file names it. */
export interface Caller {
  readonly name: string;
  /** Whose idempotency keys the call's key is among: two callers never share a key. */
  readonly keyScope: string;
}

/**
 * Everyone, when no callers file is configured (outside production only). Its key scope is the
 * empty string, which no named caller can have: keys written before callers existed stay its own.
 */
export const ANONYMOUS_CALLER: Caller = Object.freeze({ name: 'anonymous', keyScope: ANONYMOUS_KEY_SCOPE });

/** What a call presents to prove who sent it. */
export interface PresentedCredentials {
  /** The token of an `authorization: Bearer <token>` header, if any. */
  readonly bearerToken: string | null;
  /** The client certificate of a mutual-TLS connection, verified against TLS_CLIENT_CA_FILE. */
  readonly certificate: PeerCertificate | null;
}

export type Identification =
  { readonly ok: true; readonly caller: Caller } | { readonly ok: false; readonly why: string };

/** Who may call what: the service's view of a callers file, or of its absence. */
export interface CallerPolicy {
  identify(presented: PresentedCredentials): Identification;
  mayCall(caller: Caller, rpc: string): boolean;
}

/** No callers file: every call comes from the anonymous caller and may call everything. */
export const OPEN_POLICY: CallerPolicy = {
  identify: () => ({ ok: true, caller: ANONYMOUS_CALLER }),
  mayCall: () => true,
};

/** Caller names become idempotency scopes and log fields: short, printable, unambiguous. */
const CALLER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

interface CertificateMatch {
  /** Attributes the subject must carry, e.g. { CN: 'checkout', O: 'Example Shop' }. */
  readonly subject: ReadonlyMap<string, string> | null;
  /** One subjectAltName entry as OpenSSL prints it, e.g. `URI:spiffe://shop.example/checkout`. */
  readonly san: string | null;
}

interface CallerEntry {
  readonly caller: Caller;
  readonly certificate: CertificateMatch | null;
  readonly allowedRpcs: ReadonlySet<string>;
}

/** Every problem names the file and the entry, so the operator knows what to fix. */
class CallersFileError extends Error {
  constructor(file: string, problem: string) {
    super(`CALLERS_FILE ${file}: ${problem}`);
    this.name = 'CallersFileError';
  }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `CN=checkout, O=Example Shop` -> { CN: 'checkout', O: 'Example Shop' }; a comma inside a value is allowed. */
function parseSubject(text: string): Map<string, string> | null {
  const attributes = new Map<string, string>();
  for (const part of text.split(/,(?=\s*[A-Za-z.0-9]+=)/)) {
    const at = part.indexOf('=');
    if (at <= 0) return null;
    attributes.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return attributes.size > 0 ? attributes : null;
}

function subjectMatches(wanted: ReadonlyMap<string, string>, certificate: PeerCertificate): boolean {
  const subject = certificate.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  if (subject === undefined) return false;
  for (const [attribute, value] of wanted) {
    const actual = subject[attribute];
    if (Array.isArray(actual) ? !actual.includes(value) : actual !== value) return false;
  }
  return true;
}

function sanMatches(wanted: string, certificate: PeerCertificate): boolean {
  return (certificate.subjectaltname ?? '').split(', ').includes(wanted);
}

function certificateMatches(match: CertificateMatch, certificate: PeerCertificate): boolean {
  return (
    (match.subject === null || subjectMatches(match.subject, certificate)) &&
    (match.san === null || sanMatches(match.san, certificate))
  );
}

/** Identified certificates, by fingerprint: a connection's calls all present the same one. */
const CERTIFICATE_CACHE_LIMIT = 1_024;

/** The callers file, parsed and checked once; SIGHUP or a change on disk loads a new one. */
export class CallersFile implements CallerPolicy {
  private readonly byTokenHash = new Map<string, CallerEntry>();
  private readonly byCertificate: CallerEntry[] = [];
  private readonly entries = new Map<string, CallerEntry>();
  private readonly certificateCache = new Map<string, Identification>();

  private constructor(file: string, document: unknown) {
    const list = (document as { callers?: unknown } | null)?.callers;
    if (!Array.isArray(list)) throw new CallersFileError(file, 'expected {"callers": [...]}');
    list.forEach((raw: unknown, index) => {
      this.add(file, index, raw);
    });
  }

  static load(file: string): CallersFile {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new CallersFileError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new CallersFileError(file, `is not JSON (${(error as Error).message})`);
    }
    return new CallersFile(file, document);
  }

  get callerNames(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * A bearer token, when one is sent, decides who the caller is; otherwise the client certificate.
   * Either way an unknown one is refused: a call never falls back to a weaker proof.
   */
  identify(presented: PresentedCredentials): Identification {
    if (presented.bearerToken !== null) {
      const entry = this.byTokenHash.get(sha256Hex(presented.bearerToken));
      return entry === undefined ? { ok: false, why: 'unknown bearer token' } : { ok: true, caller: entry.caller };
    }
    if (presented.certificate === null) return { ok: false, why: 'no bearer token and no client certificate' };
    return this.identifyCertificate(presented.certificate);
  }

  mayCall(caller: Caller, rpc: string): boolean {
    return this.entries.get(caller.name)?.allowedRpcs.has(rpc) === true;
  }

  private identifyCertificate(certificate: PeerCertificate): Identification {
    const cached = this.certificateCache.get(certificate.fingerprint256);
    if (cached !== undefined) return cached;
    const matches = this.byCertificate.filter(
      (entry) => entry.certificate && certificateMatches(entry.certificate, certificate),
    );
    const identification: Identification =
      matches.length === 1 && matches[0] !== undefined
        ? { ok: true, caller: matches[0].caller }
        : {
            ok: false,
            why:
              matches.length === 0
                ? 'client certificate matches no caller'
                : 'client certificate matches several callers',
          };
    if (this.certificateCache.size >= CERTIFICATE_CACHE_LIMIT) this.certificateCache.clear();
    this.certificateCache.set(certificate.fingerprint256, identification);
    return identification;
  }

  private add(file: string, index: number, raw: unknown): void {
    const fail = (problem: string): never => {
      throw new CallersFileError(file, `callers[${index}]: ${problem}`);
    };
    if (raw === null || typeof raw !== 'object') fail('must be an object');
    const entry = raw as Record<string, unknown>;
    const known = new Set(['name', 'certificate', 'tokenSha256', 'allow']);
    for (const field of Object.keys(entry)) if (!known.has(field)) fail(`unknown field "${field}"`);
    const name = entry.name;
    if (typeof name !== 'string' || !CALLER_NAME.test(name)) {
      return fail('"name" must be 1-64 letters, digits, dots, dashes or underscores');
    }
    if (this.entries.has(name)) fail(`"${name}" is listed twice`);
    const certificate = entry.certificate === undefined ? null : this.certificateMatch(entry.certificate, fail);
    const tokenHashes = this.tokenHashes(entry.tokenSha256, fail);
    if (certificate === null && tokenHashes.length === 0) fail(`"${name}" needs "certificate" or "tokenSha256"`);
    const parsed: CallerEntry = {
      caller: Object.freeze({ name, keyScope: name }),
      certificate,
      allowedRpcs: this.allowedRpcs(entry.allow, fail),
    };
    this.entries.set(name, parsed);
    if (certificate !== null) this.byCertificate.push(parsed);
    for (const hash of tokenHashes) {
      if (this.byTokenHash.has(hash)) fail('a tokenSha256 is listed for two callers');
      this.byTokenHash.set(hash, parsed);
    }
  }

  private certificateMatch(raw: unknown, fail: (problem: string) => never): CertificateMatch {
    const { subject, san } = (raw ?? {}) as { subject?: unknown; san?: unknown };
    if (subject !== undefined && typeof subject !== 'string') fail('"certificate.subject" must be a string');
    if (san !== undefined && (typeof san !== 'string' || !/^[A-Za-z ]+:\S/.test(san))) {
      fail('"certificate.san" must look like "URI:spiffe://..." or "DNS:name"');
    }
    const parsedSubject = typeof subject === 'string' ? parseSubject(subject) : null;
    if (typeof subject === 'string' && parsedSubject === null)
      fail('"certificate.subject" must look like "CN=name,O=org"');
    if (parsedSubject === null && san === undefined) fail('"certificate" needs "subject" or "san"');
    return { subject: parsedSubject, san: typeof san === 'string' ? san : null };
  }

  private tokenHashes(raw: unknown, fail: (problem: string) => never): string[] {
    if (raw === undefined) return [];
    const list = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(list) || list.some((hash) => typeof hash !== 'string' || !SHA256_HEX.test(hash))) {
      return fail('"tokenSha256" must be the lowercase hex SHA-256 of each token (64 characters), or a list of them');
    }
    return list as string[];
  }

  private allowedRpcs(raw: unknown, fail: (problem: string) => never): Set<string> {
    if (!Array.isArray(raw) || raw.length === 0) return fail('"allow" must list groups or RPC names');
    const allowed = new Set<string>();
    for (const item of raw) {
      if ((CALLER_GROUPS as readonly unknown[]).includes(item)) {
        for (const [rpc, group] of RPC_GROUPS) if (group === (item as CallerGroup)) allowed.add(rpc);
      } else if (typeof item === 'string' && RPC_GROUPS.has(item)) {
        allowed.add(item);
      } else {
        fail(`"allow" has ${JSON.stringify(item)}: not a group (${CALLER_GROUPS.join(', ')}) nor an RPC name`);
      }
    }
    return allowed;
  }
}
