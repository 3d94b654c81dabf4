/**
 * The check-value fingerprints an HSM computes for a symmetric key (cmac-aes, kcv-aes), reproduced in software
 * so that a key in hand can be compared with one in a token; and the pattern every fingerprint must match.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { cmacAesCommitment, cmacAesFingerprint, COMMITMENT_LABEL, COMMITMENT_PATTERN, FINGERPRINT_PATTERN, fingerprintCanonical, kcvAesFingerprint, KEY_IDENTIFIER_PATTERN, SYMMETRIC_FINGERPRINT_LABEL } from '../../src/material';
import { aesCmac, symmetricCommitment } from '../../src/material/fingerprint';
import { KEY_TYPES } from '../../src/key-types';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('AES-CMAC (RFC 4493 test vectors, section 4)', () => {
  const key = hex('2b7e1516 28aed2a6 abf71588 09cf4f3c');
  const message = hex(
    '6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51 30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710',
  );
  it.each([
    [0, 'bb1d6929 e9593728 7fa37d12 9b756746'],
    [16, '070a16b4 6b4d4144 f79bdd9d d04a287c'],
    [40, 'dfa66747 de9ae630 30ca3261 1497c827'],
    [64, '51f0bebf 7e3b9d92 fc497417 79363cfe'],
  ])('a %i-byte message', (length, mac) => {
    expect(aesCmac(key, message.subarray(0, length)).toString('hex')).toBe(mac.replace(/ /g, ''));
  });

  it('an AES-256 key (RFC 4493 is defined for AES-128; NIST SP 800-38B example D.3, empty message)', () => {
    const key256 = hex('603deb10 15ca71be 2b73aef0 857d7781 1f352c07 3b6108d7 2d9810a3 0914dff4');
    expect(aesCmac(key256, Buffer.alloc(0)).toString('hex')).toBe('028962f61b7bf89efc6b551f4667d983');
  });
});

describe('HSM check-value fingerprints', () => {
  it('cmac-aes is the CMAC of the fingerprint label; kcv-aes the ECB encryption of a zero block', () => {
    const key = randomBytes(32);
    expect(cmacAesFingerprint(key)).toBe(`cmac-aes:${aesCmac(key, Buffer.from(SYMMETRIC_FINGERPRINT_LABEL, 'ascii')).toString('hex')}`);
    const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    expect(kcvAesFingerprint(key)).toBe(`kcv-aes:${Buffer.concat([ecb.update(Buffer.alloc(16)), ecb.final()]).toString('hex')}`);
    expect(kcvAesFingerprint(key)).not.toBe(fingerprintCanonical(key, KEY_TYPES['aes256-gcm96']).replace('hmac-sha256', 'kcv-aes'));
  });

  it('refuses a key that is not an AES key size', () => {
    expect(() => kcvAesFingerprint(randomBytes(20))).toThrow(/16, 24 or 32 bytes; received 20/);
  });

  it('every fingerprint kind matches FINGERPRINT_PATTERN and KEY_IDENTIFIER_PATTERN, and nothing near them does', () => {
    const key = randomBytes(16);
    for (const fp of [cmacAesFingerprint(key), kcvAesFingerprint(key), fingerprintCanonical(key, KEY_TYPES['aes128-gcm96'])]) {
      expect(fp).toMatch(FINGERPRINT_PATTERN);
      expect(fp).toMatch(KEY_IDENTIFIER_PATTERN);
    }
    for (const bad of [`kcv-aes:${'a'.repeat(64)}`, `cmac-aes:${'a'.repeat(31)}`, `hmac-sha256:${'a'.repeat(32)}`, `kcv-aes:${'A'.repeat(32)}`, `kcv:${'a'.repeat(32)}`]) {
      expect(bad).not.toMatch(FINGERPRINT_PATTERN);
    }
  });
});

describe('the commitment of a key in an HSM (cmac-aes over the commitment label)', () => {
  it('is the AES-CMAC of COMMITMENT_LABEL, differs from the fingerprint, and matches COMMITMENT_PATTERN', () => {
    const key = randomBytes(32);
    const commitment = cmacAesCommitment(key);
    expect(commitment).toBe(`cmac-aes:${aesCmac(key, Buffer.from(COMMITMENT_LABEL, 'ascii')).toString('hex')}`);
    expect(COMMITMENT_LABEL).not.toBe(SYMMETRIC_FINGERPRINT_LABEL);
    expect(commitment).not.toBe(cmacAesFingerprint(key));
    expect(COMMITMENT_PATTERN.test(commitment)).toBe(true);
    expect(COMMITMENT_PATTERN.test(symmetricCommitment(key))).toBe(true);
    for (const bad of [cmacAesFingerprint(key).replace('cmac-aes', 'kcv-aes'), `${commitment}0`, commitment.toUpperCase(), `hmac-sha256:${'a'.repeat(63)}`]) {
      expect(COMMITMENT_PATTERN.test(bad)).toBe(false);
    }
  });
});
