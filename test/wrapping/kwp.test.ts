/**
 * Acceptance: RFC 5649 section 6's published AES key wrap with padding vectors pass through kwpWrap /
 * kwpUnwrap, and openssl's id-aes192-wrap-pad agrees with them (a second, independent check).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { kwpUnwrap, kwpWrap } from '../../src/wrapping';
import { openssl, useTempDir } from '../support/openssl';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 5649, section 6 ("Padded Key Wrap Test Vectors"), 192-bit KEK.
const KEK = hex('5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8');
const VECTORS = [
  {
    name: '20-octet key',
    plaintext: hex('c37b7e6492584340 bed1220780894115 5068f738'),
    ciphertext: hex('138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a'),
  },
  {
    name: '7-octet key (single-block case)',
    plaintext: hex('466f7250617369'),
    ciphertext: hex('afbeb0f07dfbf541 9200f2ccb50bb24f'),
  },
];

describe('RFC 5649 test vectors', () => {
  const dir = useTempDir();

  it.each(VECTORS)('$name: kwpWrap gives the published ciphertext and kwpUnwrap reverses it', ({ plaintext, ciphertext }) => {
    expect(kwpWrap(KEK, plaintext).toString('hex')).toBe(ciphertext.toString('hex'));
    expect(kwpUnwrap(KEK, ciphertext)?.toString('hex')).toBe(plaintext.toString('hex'));
  });

  it.each(VECTORS)('$name: openssl enc -id-aes192-wrap-pad agrees with the vector', ({ plaintext, ciphertext }) => {
    const pt = join(dir(), 'pt.bin');
    const ct = join(dir(), 'ct.bin');
    const back = join(dir(), 'back.bin');
    writeFileSync(pt, plaintext);
    openssl(['enc', '-id-aes192-wrap-pad', '-K', KEK.toString('hex'), '-iv', 'A65959A6', '-in', pt, '-out', ct]);
    expect(readFileSync(ct).toString('hex')).toBe(ciphertext.toString('hex'));
    openssl(['enc', '-d', '-id-aes192-wrap-pad', '-K', KEK.toString('hex'), '-iv', 'A65959A6', '-in', ct, '-out', back]);
    expect(readFileSync(back).toString('hex')).toBe(plaintext.toString('hex'));
  });

  it.each(VECTORS)('$name: a flipped bit in the ciphertext fails the integrity check', ({ ciphertext }) => {
    for (const index of [0, 7, 8, ciphertext.length - 1]) {
      const damaged = Buffer.from(ciphertext);
      damaged[index] ^= 0x01;
      expect(kwpUnwrap(KEK, damaged)).toBeUndefined();
    }
  });

  it('rejects a wrong KEK and malformed ciphertext lengths', () => {
    const { ciphertext } = VECTORS[0];
    const otherKek = Buffer.from(KEK);
    otherKek[0] ^= 0x80;
    expect(kwpUnwrap(otherKek, ciphertext)).toBeUndefined();
    expect(kwpUnwrap(KEK, ciphertext.subarray(0, 8))).toBeUndefined();
    expect(kwpUnwrap(KEK, ciphertext.subarray(0, 31))).toBeUndefined();
    expect(() => kwpWrap(randomBytes(20), Buffer.alloc(8))).toThrow(RangeError);
  });

  it('round-trips every plaintext length from 1 to 80 bytes under AES-128/192/256 KEKs, and openssl agrees for AES-256', () => {
    for (const kekBytes of [16, 24, 32]) {
      const kek = randomBytes(kekBytes);
      for (let n = 1; n <= 80; n++) {
        const plaintext = randomBytes(n);
        const wrapped = kwpWrap(kek, plaintext);
        expect(wrapped.length).toBe(Math.ceil(n / 8) * 8 + 8);
        expect(kwpUnwrap(kek, wrapped)?.equals(plaintext)).toBe(true);
      }
    }
    const kek = randomBytes(32);
    for (const n of [1, 8, 9, 16, 121, 1218]) {
      const plaintext = randomBytes(n);
      writeFileSync(join(dir(), 'pt.bin'), plaintext);
      openssl(['enc', '-id-aes256-wrap-pad', '-K', kek.toString('hex'), '-iv', 'A65959A6', '-in', join(dir(), 'pt.bin'), '-out', join(dir(), 'ct.bin')]);
      expect(readFileSync(join(dir(), 'ct.bin')).equals(kwpWrap(kek, plaintext))).toBe(true);
    }
  });
});
