import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CardSecrets } from '../application/ports';

export interface SecretKeys {
  /** HMAC key for the card-number index: lookups without storing the number. */
  readonly numberIndexKey: Buffer;
  /** HMAC key for passcodes and request fingerprints. */
  readonly passcodeKey: Buffer;
  /** AES-256-GCM key sealing stored idempotent responses, which may hold a new card's secrets. */
  readonly sealingKey: Buffer;
}

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const EMPTY_HASH = Buffer.alloc(32);

function hmac(key: Buffer, ...parts: string[]): Buffer {
  const mac = createHmac('sha256', key);
  // Length-prefix each part so ("ab", "c") and ("a", "bc") never hash alike.
  for (const part of parts) mac.update(`${part.length}:${part};`);
  return mac.digest();
}

export class HmacCardSecrets implements CardSecrets {
  constructor(private readonly keys: SecretKeys) {}

  numberHash(cardNumber: string): Uint8Array {
    return hmac(this.keys.numberIndexKey, 'card-number', cardNumber);
  }

  /** Bound to the card's id, so equal passcodes on two cards store different hashes. */
  hashPasscode(cardPublicId: string, passcode: string): Uint8Array {
    return hmac(this.keys.passcodeKey, 'passcode', cardPublicId, passcode);
  }

  verifyPasscode(cardPublicId: string, passcode: string, hash: Uint8Array | null): boolean {
    const candidate = Buffer.from(this.hashPasscode(cardPublicId, passcode));
    const stored = hash === null || hash.length !== candidate.length ? EMPTY_HASH : Buffer.from(hash);
    return timingSafeEqual(candidate, stored) && hash !== null;
  }

  fingerprint(canonicalRequest: string): Uint8Array {
    return hmac(this.keys.passcodeKey, 'request', canonicalRequest);
  }

  seal(plaintext: Uint8Array): Uint8Array {
    const iv = randomBytes(GCM_IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.sealingKey, iv);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Uint8Array): Uint8Array {
    const bytes = Buffer.from(sealed);
    const iv = bytes.subarray(0, GCM_IV_BYTES);
    const tag = bytes.subarray(GCM_IV_BYTES, GCM_IV_BYTES + GCM_TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.keys.sealingKey, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(bytes.subarray(GCM_IV_BYTES + GCM_TAG_BYTES)), decipher.final()]);
  }
}
