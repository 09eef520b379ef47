import { createHash } from 'node:crypto';
import { RecordFormat } from '../../src/application/ports';
import { HmacCardSecrets } from '../../src/security/card-secrets';

const key = (name: string): Buffer => createHash('sha256').update(name).digest();
const secrets = new HmacCardSecrets({
  numberIndexKey: key('kat number index'),
  passcodeKey: key('kat passcode'),
  sealingKey: key('kat sealing'),
});
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * Known answers computed with the code of the release before issue 10 (same keys, same inputs):
 * the hashes stored by it must keep matching, and its records must stay readable.
 */
const PREVIOUS_RELEASE = {
  numberHash: 'e96e8e290e257dbf1f7f83c9bd703cb97dcba0670a38257ebda8b60ff86d7fea',
  passcodeHash: 'df6ed1396a07aa2e91f87b8d6d214454c859ffb6af6b47cdae03d97d96ed18be',
  fingerprint: '80dd2368ebff1963a117cd2db2d47ba9f0143f0c2da579f4911e7f9ac77eab6b',
  sealedReply:
    '83d47adc5078000a755bbe47272cba89e001169dc9e4a1264e50e0d8b089c0a486e477510b9dae1c0dcc3b5a45a7abb796071b4876cbec32d72654c1',
};

describe('Card secrets and their keys', () => {
  it('keeps the card-number and passcode hashes every stored card was written with', () => {
    expect(hex(secrets.numberHash('4111111111111111'))).toBe(PREVIOUS_RELEASE.numberHash);
    expect(hex(secrets.hashPasscode('6827b20f-8a2d-43c8-a4a9-ca0995cdc3d1', '76296658'))).toBe(
      PREVIOUS_RELEASE.passcodeHash,
    );
  });

  it('still reads the idempotency records of the previous release: their fingerprints and sealed replies', () => {
    expect(hex(secrets.fingerprint('{"operation":"Redeem"}', RecordFormat.LEGACY))).toBe(PREVIOUS_RELEASE.fingerprint);
    const reply = secrets.openReply(Buffer.from(PREVIOUS_RELEASE.sealedReply, 'hex'), RecordFormat.LEGACY);
    expect(Buffer.from(reply).toString('utf8')).toBe('{"balanceMinor":{"$bigint":"5"}}');
  });

  it('gives each purpose its own key: fingerprints, stored replies and page tokens do not open each other', () => {
    expect(hex(secrets.fingerprint('{"operation":"Redeem"}', RecordFormat.CURRENT))).not.toBe(
      PREVIOUS_RELEASE.fingerprint,
    );
    const plaintext = Buffer.from('{"p":"ListGiftCards/v1"}');
    const reply = secrets.sealReply(plaintext);
    const token = secrets.sealPageToken(plaintext);
    expect(Buffer.from(secrets.openReply(reply, RecordFormat.CURRENT))).toEqual(plaintext);
    expect(Buffer.from(secrets.openPageToken(token))).toEqual(plaintext);
    expect(() => secrets.openPageToken(reply)).toThrow();
    expect(() => secrets.openReply(token, RecordFormat.CURRENT)).toThrow();
    expect(() => secrets.openReply(reply, RecordFormat.LEGACY)).toThrow();
  });

  it('seals every message under its own IV, across the blocks the IVs are cut from, and opens each', () => {
    const plaintext = Buffer.from('{"balanceMinor":{"$bigint":"5"}}');
    const sealed = Array.from({ length: 1_000 }, () => Buffer.from(secrets.sealReply(plaintext)));
    const ivs = new Set(sealed.map((message) => message.subarray(0, 12).toString('hex')));
    expect(ivs.size).toBe(sealed.length);
    for (const message of sealed) {
      expect(Buffer.from(secrets.openReply(message, RecordFormat.CURRENT))).toEqual(plaintext);
    }
  });
});
