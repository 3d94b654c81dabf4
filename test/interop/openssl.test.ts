/**
 * Acceptance: interop with the openssl command line, both directions, for all 10 importable types.
 *
 * (a) openssl wraps (`openssl rand` + `enc -id-aes256-wrap-pad` + `pkeyutl` OAEP) → our `unwrap`;
 * (b) our `wrap` → openssl unwraps (`pkeyutl -decrypt` + `enc -d -id-aes256-wrap-pad`).
 * Asymmetric material comes from `openssl genpkey` + `openssl pkcs8 -topk8 -nocrypt -outform DER`.
 */
import { createPrivateKey, KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_TYPES, type ImportableKeyType } from '../../src/key-types';
import { KeyMaterial, normalizeMaterial, parseCanonicalMaterial } from '../../src/material';
import { unwrap, wrap, WrappingKey } from '../../src/wrapping';
import { IMPORTABLE_TYPES } from '../support/key-fixtures';
import { makeTempDir, openssl, removeDir, useTempDir } from '../support/openssl';

const HASHES = ['sha256', 'sha1', 'sha384', 'sha512'] as const;

interface Wrapper {
  bits: number;
  privatePem: string;
  publicPem: string;
  privateKey: KeyObject;
}

let shared: string;
const wrappers = new Map<number, Wrapper>();

function opensslWrappingKey(bits: number): Wrapper {
  const priv = join(shared, `wk-${bits}.pem`);
  const pub = join(shared, `wk-${bits}.pub.pem`);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`, '-out', priv]);
  openssl(['pkey', '-in', priv, '-pubout', '-out', pub]);
  return { bits, privatePem: priv, publicPem: pub, privateKey: createPrivateKey(readFileSync(priv)) };
}

/** Generates material of `type` with openssl, in `dir`; returns the file openssl made and its canonical bytes. */
function opensslMaterial(type: ImportableKeyType, dir: string): { file: string; canonical: Buffer } {
  if (type.category === 'symmetric') {
    const file = join(dir, 'key.bin');
    openssl(['rand', '-out', file, String(type.sizeBytes)]);
    return { file, canonical: readFileSync(file) };
  }
  const pem = join(dir, 'key.pem');
  const der = join(dir, 'key.der');
  const args =
    type.category === 'rsa' ? ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${type.modulusBits}`]
      : type.category === 'ecdsa' ? ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${type.curve}`, '-pkeyopt', 'ec_param_enc:named_curve']
        : ['-algorithm', 'ED25519'];
  openssl(['genpkey', ...args, '-out', pem]);
  openssl(['pkcs8', '-topk8', '-nocrypt', '-in', pem, '-outform', 'DER', '-out', der]);
  return { file: pem, canonical: readFileSync(der) };
}

const oaep = (hash: string) => ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${hash}`, '-pkeyopt', `rsa_mgf1_md:${hash}`];

/** (a) The blob openssl makes. */
function opensslWrap(material: Buffer, wk: Wrapper, hash: string, dir: string): Buffer {
  writeFileSync(join(dir, 'material.bin'), material, { mode: 0o600 });
  const hex = openssl(['rand', '-hex', '32']).toString().trim();
  writeFileSync(join(dir, 'eph.bin'), Buffer.from(hex, 'hex'), { mode: 0o600 });
  openssl(['enc', '-id-aes256-wrap-pad', '-K', hex, '-iv', 'A65959A6', '-in', join(dir, 'material.bin'), '-out', join(dir, 'kwp.bin')]);
  openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', wk.publicPem, ...oaep(hash), '-in', join(dir, 'eph.bin'), '-out', join(dir, 'eph.enc')]);
  return Buffer.concat([readFileSync(join(dir, 'eph.enc')), readFileSync(join(dir, 'kwp.bin'))]);
}

/** (b) What openssl unwraps from our blob. */
function opensslUnwrap(blob: Buffer, wk: Wrapper, hash: string, dir: string): Buffer {
  const split = wk.bits / 8;
  writeFileSync(join(dir, 'eph.enc'), blob.subarray(0, split));
  writeFileSync(join(dir, 'kwp.bin'), blob.subarray(split));
  openssl(['pkeyutl', '-decrypt', '-inkey', wk.privatePem, ...oaep(hash), '-in', join(dir, 'eph.enc'), '-out', join(dir, 'eph.bin')]);
  const eph = readFileSync(join(dir, 'eph.bin'));
  expect(eph.length).toBe(32);
  openssl(['enc', '-d', '-id-aes256-wrap-pad', '-K', eph.toString('hex'), '-iv', 'A65959A6', '-in', join(dir, 'kwp.bin'), '-out', join(dir, 'out.bin')]);
  return readFileSync(join(dir, 'out.bin'));
}

beforeAll(() => {
  shared = makeTempDir('byok-interop-');
  wrappers.set(4096, opensslWrappingKey(4096));
  wrappers.set(2048, opensslWrappingKey(2048));
});

afterAll(() => removeDir(shared));

describe.each(IMPORTABLE_TYPES)('%s', (name) => {
  const type = KEY_TYPES[name] as ImportableKeyType;
  const dir = useTempDir();
  let materialDir: string;
  let material: { file: string; canonical: Buffer };

  beforeAll(() => {
    materialDir = makeTempDir('byok-interop-material-');
    material = opensslMaterial(type, materialDir);
  });
  afterAll(() => removeDir(materialDir));

  it('our canonical form of the openssl key is byte-for-byte openssl\'s PKCS#8 DER (or the raw bytes)', () => {
    expect(normalizeMaterial(readFileSync(material.file), type, { format: type.category === 'symmetric' ? 'raw' : 'auto' }).equals(material.canonical)).toBe(true);
    expect(KeyMaterial.fromFile(material.file, { format: type.category === 'symmetric' ? 'raw' : 'auto' }).load(type).bytes().equals(material.canonical)).toBe(true);
  });

  it.each(HASHES)('(a) openssl wraps with %s → our unwrap gives the canonical material', (hash) => {
    const wk = wrappers.get(4096) as Wrapper;
    const blob = opensslWrap(material.canonical, wk, hash, dir());
    const unwrapped = unwrap(blob, wk.privateKey, { hash });
    expect(unwrapped.equals(material.canonical)).toBe(true);
    expect(() => parseCanonicalMaterial(unwrapped, type)).not.toThrow();
  });

  it.each(HASHES)('(b) our wrap with %s → openssl unwraps the canonical material', (hash) => {
    const wk = wrappers.get(4096) as Wrapper;
    const loaded = KeyMaterial.fromFile(material.file, { format: type.category === 'symmetric' ? 'raw' : 'auto' }).load(type);
    const blob = wrap(loaded, WrappingKey.fromPemFile(wk.publicPem), { hash });
    expect(opensslUnwrap(blob, wk, hash, dir()).equals(material.canonical)).toBe(true);
  });

  it('both directions with an RSA-2048 wrapping key (the split follows the modulus, sha512)', () => {
    const wk = wrappers.get(2048) as Wrapper;
    expect(unwrap(opensslWrap(material.canonical, wk, 'sha512', dir()), wk.privateKey, { hash: 'sha512' }).equals(material.canonical)).toBe(true);
    const blob = wrap(material.canonical, WrappingKey.fromPemFile(wk.publicPem), { hash: 'sha512' });
    expect(opensslUnwrap(blob, wk, 'sha512', dir()).equals(material.canonical)).toBe(true);
  });
});

describe('key files as other openssl commands write them', () => {
  const dir = useTempDir();

  it('openssl ecparam -genkey (EC PARAMETERS block before the EC PRIVATE KEY) loads as ecdsa-p256', () => {
    const file = join(dir(), 'ec.pem');
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-out', file]);
    expect(readFileSync(file, 'utf8')).toMatch(/EC PARAMETERS[\s\S]*EC PRIVATE KEY/);
    const expected = openssl(['pkcs8', '-topk8', '-nocrypt', '-in', file, '-outform', 'DER']);
    expect(KeyMaterial.fromFile(file).load('ecdsa-p256').bytes().equals(expected)).toBe(true);
  });

  it('openssl genrsa -traditional (PKCS#1) and an openssl-encrypted PKCS#8 PEM load as rsa-2048', () => {
    const file = join(dir(), 'rsa.pem');
    openssl(['genrsa', '-traditional', '-out', file, '2048']);
    const expected = openssl(['pkcs8', '-topk8', '-nocrypt', '-in', file, '-outform', 'DER']);
    expect(KeyMaterial.fromFile(file).load('rsa-2048').bytes().equals(expected)).toBe(true);
    const encrypted = join(dir(), 'rsa.enc.pem');
    process.env.BYOK_TEST_OPENSSL_PASS = 'interop passphrase';
    try {
      openssl(['pkcs8', '-topk8', '-in', file, '-v2', 'aes-256-cbc', '-passout', 'env:BYOK_TEST_OPENSSL_PASS', '-out', encrypted]);
      expect(KeyMaterial.fromFile(encrypted, { passphraseEnv: 'BYOK_TEST_OPENSSL_PASS' }).load('rsa-2048').bytes().equals(expected)).toBe(true);
    } finally {
      delete process.env.BYOK_TEST_OPENSSL_PASS;
    }
  });
});
