import { hkdfSync } from 'node:crypto';

/** Binds every subkey to this service, so the same master used elsewhere yields other keys. */
const HKDF_SALT = 'giftcard.v1 subkey';
const SUBKEY_BYTES = 32;

/**
 * A key for one purpose, derived from a master key with HKDF-SHA256 (RFC 5869): subkeys for
 * different purposes are independent, and none reveals the master or another subkey.
 */
export function deriveSubkey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, HKDF_SALT, purpose, SUBKEY_BYTES));
}
