/**
 * Acceptance: fingerprints are stable across input formats of the same key, and equal what openssl computes
 * independently; loaded material prints and serializes without its bytes.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, inspect } from 'node:util';
import { KEY_TYPES, type ImportableKeyType } from '../../src/key-types';
import {
  CanonicalKeyMaterial, parseCanonicalMaterial,
  fingerprintCanonical, FINGERPRINT_PATTERN, KeyMaterial, spkiFingerprint, SYMMETRIC_FINGERPRINT_LABEL,
} from '../../src/material';
import { WrappingKey } from '../../src/wrapping';
import { IMPORTABLE_TYPES, keyFixture, PASSPHRASE, PASSPHRASE_ENV } from '../support/key-fixtures';
import { expectNoLeak } from '../support/no-leak';
import { openssl, useTempDir } from '../support/openssl';

beforeAll(async () => {
  process.env[PASSPHRASE_ENV] = PASSPHRASE;
  await Promise.all(IMPORTABLE_TYPES.map((n) => keyFixture(n)));
});
afterAll(() => {
  delete process.env[PASSPHRASE_ENV];
});

/** What openssl says the fingerprint is, computed without our code. */
function opensslFingerprint(type: ImportableKeyType, canonical: Buffer, dir: string): string {
  if (type.category === 'symmetric') {
    const out = openssl(['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${canonical.toString('hex')}`], { input: Buffer.from(SYMMETRIC_FINGERPRINT_LABEL, 'ascii') });
    return `hmac-sha256:${out.toString().trim().split(/\s+/).pop()}`;
  }
  const key = join(dir, 'key.der');
  const spki = join(dir, 'spki.der');
  writeFileSync(key, canonical, { mode: 0o600 });
  openssl(['pkey', '-inform', 'DER', '-in', key, '-pubout', '-outform', 'DER', '-out', spki]);
  const out = openssl(['dgst', '-sha256', '-r', spki]);
  return `spki-sha256:${out.toString().trim().split(/\s+/)[0]}`;
}

describe.each(IMPORTABLE_TYPES)('%s', (name) => {
  const type = KEY_TYPES[name] as ImportableKeyType;
  const dir = useTempDir();

  it('gives one fingerprint for every input format, equal to openssl\'s', async () => {
    const fixture = await keyFixture(name);
    const expected = opensslFingerprint(type, fixture.canonical, dir());
    expect(expected).toMatch(FINGERPRINT_PATTERN);
    expect(expected.startsWith(type.category === 'symmetric' ? 'hmac-sha256:' : 'spki-sha256:')).toBe(true);
    const seen = new Map<string, string>();
    for (const input of fixture.inputs) {
      const material = KeyMaterial.fromBytes(input.bytes, { format: input.format, passphraseEnv: input.encrypted ? PASSPHRASE_ENV : undefined }).load(name);
      seen.set(input.label, material.fingerprint);
    }
    expect(new Set(seen.values())).toEqual(new Set([expected]));
    expect(seen.size).toBe(fixture.inputs.length);
    expect(fingerprintCanonical(fixture.canonical, type)).toBe(expected);
    if (fixture.publicKey) expect(spkiFingerprint(fixture.publicKey)).toBe(expected);
    if (fixture.privateKey) expect(spkiFingerprint(fixture.privateKey)).toBe(expected);
  });

  it('prints, inspects and serializes as key type and fingerprint only', async () => {
    const fixture = await keyFixture(name);
    const material = KeyMaterial.fromBytes(fixture.inputs[0].bytes, { format: fixture.inputs[0].format }).load(name);
    const renderings = [
      String(material), `${material}`, JSON.stringify(material), JSON.stringify({ material }), inspect(material),
      inspect({ material }, { depth: 5, showHidden: true }), inspect(material, { customInspect: false, showHidden: true }),
      format('%s %o %O %j', material, material, material, material), JSON.stringify({ ...material }), Object.keys(material).join(),
    ].join('\n');
    expect(renderings).toContain(material.fingerprint);
    expectNoLeak(renderings, fixture.canonical, fixture.inputs[0].bytes);
  });
});

describe('fingerprints', () => {
  const dir = useTempDir();

  it('differ between keys of the same type', () => {
    const a = KeyMaterial.fromBytes(randomBytes(32), { format: 'raw' }).load('aes256-gcm96');
    const b = KeyMaterial.fromBytes(randomBytes(32), { format: 'raw' }).load('aes256-gcm96');
    expect(a.fingerprint).not.toBe(b.fingerprint);
  });

  it('of a symmetric key depends only on the bytes (32-byte AES and ChaCha20 keys alike)', () => {
    // aes256-gcm96 and chacha20-poly1305 both take 32 raw bytes: the check value depends only on the bytes.
    const key = randomBytes(32);
    expect(fingerprintCanonical(key, KEY_TYPES['aes256-gcm96'])).toBe(fingerprintCanonical(key, KEY_TYPES['chacha20-poly1305']));
  });

  it('of a wrapping key equals openssl\'s SPKI SHA-256', async () => {
    const fixture = await keyFixture('rsa-3072');
    const pem = fixture.publicKey?.export({ format: 'pem', type: 'pkcs1' }) as string;
    writeFileSync(join(dir(), 'wk.pem'), pem);
    openssl(['pkey', '-pubin', '-in', join(dir(), 'wk.pem'), '-outform', 'DER', '-out', join(dir(), 'spki.der')]);
    const expected = `spki-sha256:${openssl(['dgst', '-sha256', '-r', join(dir(), 'spki.der')]).toString().split(/\s+/)[0]}`;
    expect(WrappingKey.fromPem(pem).fingerprint).toBe(expected);
    expect(WrappingKey.fromPemFile(join(dir(), 'wk.pem')).fingerprint).toBe(expected);
    expect(readFileSync(join(dir(), 'spki.der')).length).toBeGreaterThan(384);
  });

  it('a KeyMaterial source from bytes never shows the bytes, even without its custom inspection', () => {
    const key = randomBytes(32);
    const source = KeyMaterial.fromBytes(key, { format: 'raw' });
    const renderings = [
      String(source), JSON.stringify(source), inspect(source), inspect(source, { customInspect: false, showHidden: true, depth: 5 }),
      JSON.stringify({ ...source }),
    ].join('\n');
    expectNoLeak(renderings, key);
  });
});

describe('the key parsed at load, reused for the fingerprint', () => {
  it('is used once: material built again on the same bytes is fingerprinted from them, and zeroed bytes are not the key', async () => {
    const fixture = await keyFixture('rsa-2048');
    const loaded = KeyMaterial.fromBytes(fixture.inputs[0].bytes, { format: fixture.inputs[0].format }).load('rsa-2048');
    const again = new CanonicalKeyMaterial(loaded.keyType, loaded.bytes(), 'the same bytes');
    expect(again.fingerprint).toBe(loaded.fingerprint);
    loaded.destroy();
    // The buffer `bytes()` handed out is now zeros: no fingerprint of the old key may come with it.
    expect(() => new CanonicalKeyMaterial(loaded.keyType, again.bytes(), 'zeroed bytes')).toThrow();
  });
});

describe('parseCanonicalMaterial (what an importer checks after unwrapping)', () => {
  it('accepts exactly one PKCS#8 DER key and refuses trailing bytes that OpenSSL would ignore', () => {
    const der = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(parseCanonicalMaterial(der, KEY_TYPES['ecdsa-p256'])?.asymmetricKeyType).toBe('ec');
    expect(() => parseCanonicalMaterial(Buffer.concat([der, Buffer.from([0, 1, 2])]), KEY_TYPES['ecdsa-p256']))
      .toThrow(expect.objectContaining({ code: 'MATERIAL_FORMAT', message: expect.stringMatching(/exactly one PKCS#8 DER private key.*of which the key takes/) }));
  });
});
