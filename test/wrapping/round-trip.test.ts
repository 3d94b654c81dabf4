/**
 * Acceptance: wrap → unwrap for all 10 importable types × every accepted input format × every hash gives
 * back exactly the canonical material, and every wrap uses a fresh ephemeral key.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_TYPES, type ImportableKeyType } from '../../src/key-types';
import { KeyMaterial, parseCanonicalMaterial } from '../../src/material';
import { unwrap, wrap, WrappingKey } from '../../src/wrapping';
import { HASHES, IMPORTABLE_TYPES, inputLabels, inputOf, keyFixture, keyPair, PASSPHRASE, PASSPHRASE_ENV } from '../support/key-fixtures';
import { makeTempDir, removeDir } from '../support/openssl';

let wrappingKey: WrappingKey;
let unwrappingKey: import('node:crypto').KeyObject;

beforeAll(async () => {
  process.env[PASSPHRASE_ENV] = PASSPHRASE;
  const pair = await keyPair('rsa:4096');
  wrappingKey = WrappingKey.fromPem(pair.publicKey.export({ format: 'pem', type: 'spki' }) as string);
  unwrappingKey = pair.privateKey;
  // Start every fixture now so RSA generation overlaps.
  await Promise.all(IMPORTABLE_TYPES.map((n) => keyFixture(n)));
});

afterAll(() => {
  delete process.env[PASSPHRASE_ENV];
});

/** The length of an RFC 5649 output for n bytes of plaintext. */
const kwpLength = (n: number) => Math.ceil(n / 8) * 8 + 8;

describe.each(IMPORTABLE_TYPES)('%s', (name) => {
  const type = KEY_TYPES[name] as ImportableKeyType;
  const rows = inputLabels(type).flatMap((label) => HASHES.map((hash) => [label, hash] as const));

  it.each(rows)('%s, %s: unwraps to the canonical material; two wraps differ', async (label, hash) => {
    const fixture = await keyFixture(name);
    const input = inputOf(fixture, label);
    const material = KeyMaterial.fromBytes(input.bytes, {
      format: input.format,
      passphraseEnv: input.encrypted ? PASSPHRASE_ENV : undefined,
    }).load(name);
    expect(material.bytes().equals(fixture.canonical)).toBe(true);

    const first = wrap(material, wrappingKey, { hash });
    const second = wrap(material, wrappingKey, { hash });
    expect(first.length).toBe(512 + kwpLength(fixture.canonical.length));
    // Its own memory, not a slice of Node's shared pool (a kept blob would keep the whole slab alive).
    expect([first.byteOffset, first.buffer.byteLength]).toEqual([0, first.length]);
    expect(first.equals(second)).toBe(false);
    // Fresh ephemeral key: both halves differ, not just the randomized OAEP padding.
    expect(first.subarray(512).equals(second.subarray(512))).toBe(false);

    for (const blob of [first, second]) {
      const unwrapped = unwrap(blob, unwrappingKey, { hash });
      expect(unwrapped.equals(fixture.canonical)).toBe(true);
      // What the importer does next: the unwrapped bytes are valid canonical material of the type.
      expect(() => parseCanonicalMaterial(unwrapped, type)).not.toThrow();
    }
  });

  it('loads the same canonical material from a file and (for text) from an environment variable', async () => {
    const fixture = await keyFixture(name);
    const dir = makeTempDir();
    try {
      for (const input of fixture.inputs) {
        const options = { format: input.format, passphraseEnv: input.encrypted ? PASSPHRASE_ENV : undefined };
        const file = join(dir, 'material');
        writeFileSync(file, input.bytes, { mode: 0o600 });
        expect(KeyMaterial.fromFile(file, options).load(name).bytes().equals(fixture.canonical)).toBe(true);
        if (input.text) {
          process.env.BYOK_TEST_MATERIAL = input.bytes.toString('utf8');
          expect(KeyMaterial.fromEnv('BYOK_TEST_MATERIAL', options).load(type).bytes().equals(fixture.canonical)).toBe(true);
        }
      }
    } finally {
      delete process.env.BYOK_TEST_MATERIAL;
      removeDir(dir);
    }
  });
});

describe('wrapping keys other than RSA-4096', () => {
  it.each([2048, 3072])('splits at the modulus length of an RSA-%i wrapping key', async (bits) => {
    const pair = await keyPair(`rsa:${bits}`);
    const key = WrappingKey.fromApiResponse({ publicKey: pair.publicKey.export({ format: 'pem', type: 'pkcs1' }) as string, algorithm: 'RSA_OAEP_SHA256' });
    expect(key.modulusBits).toBe(bits);
    for (const name of ['aes128-gcm96', 'ecdsa-p521', 'rsa-2048'] as const) {
      const fixture = await keyFixture(name);
      const blob = wrap(fixture.canonical, key, { hash: 'sha512' });
      expect(blob.length).toBe(bits / 8 + kwpLength(fixture.canonical.length));
      expect(unwrap(blob, pair.privateKey, { hash: 'sha512' }).equals(fixture.canonical)).toBe(true);
    }
  });

  it('uses sha256 when no hash is given (wrap and unwrap agree, and sha256 unwraps it)', async () => {
    const fixture = await keyFixture('aes256-gcm96');
    const blob = wrap(fixture.canonical, wrappingKey);
    expect(unwrap(blob, unwrappingKey).equals(fixture.canonical)).toBe(true);
    expect(unwrap(blob, unwrappingKey, { hash: 'sha256' }).equals(fixture.canonical)).toBe(true);
  });

  it('accepts the common spellings of a hash name (SHA-256, SHA384)', async () => {
    const fixture = await keyFixture('chacha20-poly1305');
    expect(unwrap(wrap(fixture.canonical, wrappingKey, { hash: 'SHA-256' }), unwrappingKey, { hash: 'sha256' }).equals(fixture.canonical)).toBe(true);
    expect(unwrap(wrap(fixture.canonical, wrappingKey, { hash: 'SHA384' }), unwrappingKey, { hash: 'sha384' }).equals(fixture.canonical)).toBe(true);
  });
});

describe('CanonicalKeyMaterial.destroy', () => {
  it('zeroes the bytes and makes the material unusable for wrapping', async () => {
    const fixture = await keyFixture('aes256-gcm96');
    const material = KeyMaterial.fromBytes(fixture.canonical).load('aes256-gcm96');
    const bytes = material.bytes();
    material.destroy();
    expect(bytes.every((b) => b === 0)).toBe(true);
    // Wrapping a destroyed key would import 32 zero bytes as a valid AES key.
    expect(() => wrap(material, wrappingKey)).toThrow();
  });
});
