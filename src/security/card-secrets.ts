import { createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { RecordFormat, type CardSecrets } from '../application/ports';
import { deriveSubkey } from './subkeys';

/** The three configured keys (config.ts refuses them equal or weak). */
export interface SecretKeys {
  /** HMAC key for the card-number index: lookups without storing the number. */
  readonly numberIndexKey: Buffer;
  /** HMAC key for passcodes. */
  readonly passcodeKey: Buffer;
  /** Master of the keys that protect stored idempotency records: their fingerprints and sealed replies. */
  readonly sealingKey: Buffer;
}

/**
 * One key per purpose. The number index and the passcode hashes keep the configured keys exactly
 * as they always used them: every hash already stored must keep matching, and neither can be
 * recomputed without the card's secrets. Records of the current format and page tokens use
 * subkeys derived from the sealing key; LEGACY records (at most the retention period old) are still read with the keys
 * they were written with: request fingerprints under the passcode key, replies under the raw
 * sealing key. Once no LEGACY record is left, those two uses can go.
 */
interface KeySchedule {
  readonly numberIndex: Buffer;
  readonly passcodes: Buffer;
  readonly fingerprints: Readonly<Record<RecordFormat, Buffer>>;
  readonly replies: Readonly<Record<RecordFormat, Buffer>>;
  readonly pageTokens: Buffer;
}

function keySchedule(keys: SecretKeys): KeySchedule {
  return {
    numberIndex: keys.numberIndexKey,
    passcodes: keys.passcodeKey,
    fingerprints: {
      [RecordFormat.LEGACY]: keys.passcodeKey,
      [RecordFormat.CURRENT]: deriveSubkey(keys.sealingKey, 'idempotency-record/request-fingerprint'),
    },
    replies: {
      [RecordFormat.LEGACY]: keys.sealingKey,
      [RecordFormat.CURRENT]: deriveSubkey(keys.sealingKey, 'idempotency-record/reply-sealing'),
    },
    pageTokens: deriveSubkey(keys.sealingKey, 'page-token'),
  };
}

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const EMPTY_HASH = Buffer.alloc(32);
/** The message labels of each HMAC use; LEGACY fingerprints were labelled 'request'. */
const FINGERPRINT_LABEL: Readonly<Record<RecordFormat, string>> = {
  [RecordFormat.LEGACY]: 'request',
  [RecordFormat.CURRENT]: 'request-without-passcode',
};

function hmac(key: Buffer, ...parts: string[]): Buffer {
  const mac = createHmac('sha256', key);
  // Length-prefix each part so ("ab", "c") and ("a", "bc") never hash alike.
  for (const part of parts) mac.update(`${part.length}:${part};`);
  return mac.digest();
}

/**
 * IVs are cut from blocks of CSPRNG output, each block filled once and never refilled: a call to
 * the CSPRNG per message cost about 3 us, a third of sealing a reply, on every money call.
 */
const IV_BLOCK_BYTES = GCM_IV_BYTES * 256;
let ivBlock = Buffer.alloc(0);
let ivOffset = 0;

function freshIv(): Buffer {
  if (ivOffset + GCM_IV_BYTES > ivBlock.length) {
    ivBlock = randomFillSync(Buffer.allocUnsafe(IV_BLOCK_BYTES));
    ivOffset = 0;
  }
  const iv = ivBlock.subarray(ivOffset, ivOffset + GCM_IV_BYTES);
  ivOffset += GCM_IV_BYTES;
  return iv;
}

/** AES-256-GCM: a fresh random 96-bit IV per message, laid out as iv | tag | ciphertext. */
function seal(key: Buffer, plaintext: Uint8Array): Uint8Array {
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Throws unless `sealed` was sealed with `key` and is intact. */
function open(key: Buffer, sealed: Uint8Array): Uint8Array {
  const bytes = Buffer.from(sealed);
  const iv = bytes.subarray(0, GCM_IV_BYTES);
  const tag = bytes.subarray(GCM_IV_BYTES, GCM_IV_BYTES + GCM_TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(bytes.subarray(GCM_IV_BYTES + GCM_TAG_BYTES)), decipher.final()]);
}

export class HmacCardSecrets implements CardSecrets {
  private readonly keys: KeySchedule;

  constructor(keys: SecretKeys) {
    this.keys = keySchedule(keys);
  }

  numberHash(cardNumber: string): Uint8Array {
    return hmac(this.keys.numberIndex, 'card-number', cardNumber);
  }

  /** Bound to the card's id, so equal passcodes on two cards store different hashes. */
  hashPasscode(cardPublicId: string, passcode: string): Uint8Array {
    return hmac(this.keys.passcodes, 'passcode', cardPublicId, passcode);
  }

  verifyPasscode(cardPublicId: string, passcode: string, hash: Uint8Array | null): boolean {
    const candidate = Buffer.from(this.hashPasscode(cardPublicId, passcode));
    const stored = hash === null || hash.length !== candidate.length ? EMPTY_HASH : Buffer.from(hash);
    return timingSafeEqual(candidate, stored) && hash !== null;
  }

  fingerprint(canonicalRequest: string, format: RecordFormat): Uint8Array {
    return hmac(this.keys.fingerprints[format], FINGERPRINT_LABEL[format], canonicalRequest);
  }

  sealReply(plaintext: Uint8Array): Uint8Array {
    return seal(this.keys.replies[RecordFormat.CURRENT], plaintext);
  }

  openReply(sealed: Uint8Array, format: RecordFormat): Uint8Array {
    return open(this.keys.replies[format], sealed);
  }

  sealPageToken(plaintext: Uint8Array): Uint8Array {
    return seal(this.keys.pageTokens, plaintext);
  }

  openPageToken(sealed: Uint8Array): Uint8Array {
    return open(this.keys.pageTokens, sealed);
  }
}
