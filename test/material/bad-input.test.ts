/**
 * Acceptance: the bad-input table for key material. Every case fails with its typed error and exact code,
 * and no rendering of the error (message, String(), stack, JSON, util.inspect) contains the material.
 */
import { createPublicKey, KeyObject, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByokError } from '../../src/errors';
import { KeyTypeError } from '../../src/key-types';
import { KeyMaterial, KeyMaterialError, type KeyMaterialOptions, type MaterialFormat } from '../../src/material';
import { keyPair, pemMarker, PASSPHRASE, PASSPHRASE_ENV } from '../support/key-fixtures';
import { errorRenderings, expectNoLeak, thrownBy } from '../support/no-leak';
import { makeTempDir, openssl, removeDir } from '../support/openssl';

type Secret = Buffer | string;

interface Case {
  /** Throws the error under test. */
  readonly run: () => unknown;
  readonly error: typeof KeyMaterialError | typeof KeyTypeError;
  readonly code: string;
  /** The material that must not appear in the error (evaluated after beforeAll). */
  readonly secrets?: () => Secret[];
}

interface Keys {
  rsa2048: KeyObject;
  rsa3072: KeyObject;
  p256: KeyObject;
  p384: KeyObject;
  p521: KeyObject;
  k256: KeyObject;
  ed25519: KeyObject;
  ed448: KeyObject;
  x25519: KeyObject;
  certPem: string;
  certDer: Buffer;
  dir: string;
}
let k: Keys;

beforeAll(async () => {
  const [rsa2048, rsa3072, p256, p384, p521, k256, ed25519, ed448, x25519] = await Promise.all(
    ['rsa:2048', 'rsa:3072', 'ec:P-256', 'ec:P-384', 'ec:P-521', 'ec:secp256k1', 'ed25519', 'ed448', 'x25519'].map(async (s) => (await keyPair(s)).privateKey),
  );
  const dir = makeTempDir();
  writeFileSync(join(dir, 'key.pem'), p256.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  openssl(['req', '-x509', '-new', '-key', join(dir, 'key.pem'), '-subj', '/CN=byok-test', '-days', '1', '-out', join(dir, 'cert.pem')]);
  openssl(['x509', '-in', join(dir, 'cert.pem'), '-outform', 'DER', '-out', join(dir, 'cert.der')]);
  k = {
    rsa2048, rsa3072, p256, p384, p521, k256, ed25519, ed448, x25519, dir,
    certPem: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    certDer: readFileSync(join(dir, 'cert.der')),
  };
  process.env[PASSPHRASE_ENV] = PASSPHRASE;
  process.env.BYOK_TEST_WRONG_PASSPHRASE = 'not the passphrase';
  process.env.BYOK_TEST_EMPTY = '';
  delete process.env.BYOK_TEST_UNSET;
});

afterAll(() => {
  removeDir(k?.dir);
  delete process.env[PASSPHRASE_ENV];
  delete process.env.BYOK_TEST_WRONG_PASSPHRASE;
  delete process.env.BYOK_TEST_EMPTY;
});

const load = (bytes: Buffer | string, type: string, options: KeyMaterialOptions = {}) => () =>
  KeyMaterial.fromBytes(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, options).load(type);
const pem = (key: KeyObject, type: 'pkcs8' | 'pkcs1' | 'sec1' | 'spki') =>
  (type === 'spki' ? createPublicKey(key).export({ format: 'pem', type }) : key.export({ format: 'pem', type })) as string;
const der = (key: KeyObject, type: 'pkcs8' | 'pkcs1' | 'sec1') => key.export({ format: 'der', type });
const canonical = (key: KeyObject) => der(key, 'pkcs8');
const encryptedPem = (key: KeyObject, type: 'pkcs8' | 'pkcs1' = 'pkcs8') =>
  key.export({ format: 'pem', type, cipher: 'aes-256-cbc', passphrase: PASSPHRASE }) as string;
const lengthCase = (type: string, bytes: () => Buffer, format?: MaterialFormat, code = 'MATERIAL_LENGTH'): Case => {
  let input: Buffer | undefined;
  return {
    run: () => load((input = bytes()), type, { format })(),
    error: KeyMaterialError,
    code,
    secrets: () => [input as Buffer],
  };
};
/** Random bytes that are surely not text (so auto-detection sees binary). */
const binary = (n: number) => {
  const b = randomBytes(n);
  b[0] = 0x00;
  return b;
};
const bothOf = (text: string) => [text, Buffer.from(text.trim(), /^[0-9a-f]+$/i.test(text.trim()) ? 'hex' : 'base64')];
const textCase = (type: string, make: () => string, format?: MaterialFormat, code = 'MATERIAL_LENGTH'): Case => {
  let text = '';
  return { run: () => load((text = make()), type, { format })(), error: KeyMaterialError, code, secrets: () => bothOf(text) };
};

const CASES: [string, Case][] = [
  // Symmetric lengths.
  ['aes128-gcm96: 15 raw bytes', lengthCase('aes128-gcm96', () => binary(15))],
  ['aes128-gcm96: 17 raw bytes', lengthCase('aes128-gcm96', () => binary(17))],
  ['aes256-gcm96: 31 raw bytes', lengthCase('aes256-gcm96', () => binary(31))],
  ['aes256-gcm96: 33 raw bytes', lengthCase('aes256-gcm96', () => binary(33))],
  ['chacha20-poly1305: 16 raw bytes', lengthCase('chacha20-poly1305', () => binary(16))],
  ['chacha20-poly1305: 64 raw bytes', lengthCase('chacha20-poly1305', () => binary(64))],
  ['aes256-gcm96: 32 raw bytes + a newline, format raw', lengthCase('aes256-gcm96', () => Buffer.concat([binary(32), Buffer.from('\n')]), 'raw')],
  ['aes128-gcm96: hex of 15 bytes', textCase('aes128-gcm96', () => randomBytes(15).toString('hex'))],
  ['aes128-gcm96: hex of 17 bytes + newline', textCase('aes128-gcm96', () => `${randomBytes(17).toString('hex')}\n`)],
  ['aes256-gcm96: hex of 31 bytes, format hex', textCase('aes256-gcm96', () => randomBytes(31).toString('hex'), 'hex')],
  ['aes256-gcm96: odd-length hex, format hex', textCase('aes256-gcm96', () => randomBytes(32).toString('hex').slice(1), 'hex', 'MATERIAL_FORMAT')],
  ['aes256-gcm96: base64 of 16 bytes', textCase('aes256-gcm96', () => randomBytes(16).toString('base64'))],
  ['chacha20-poly1305: base64 of 33 bytes + newline', textCase('chacha20-poly1305', () => `${randomBytes(33).toString('base64')}\n`)],
  ['aes128-gcm96: base64url of 20 bytes, format base64', textCase('aes128-gcm96', () => randomBytes(20).toString('base64url'), 'base64')],
  ['aes128-gcm96: hex of 8 bytes (16 characters: the raw size, ambiguous)', textCase('aes128-gcm96', () => randomBytes(8).toString('hex'), undefined, 'MATERIAL_FORMAT')],
  ['aes256-gcm96: base64url of 23 bytes + newline (32 characters: the raw size, ambiguous)', textCase('aes256-gcm96', () => `${randomBytes(23).toString('base64url')}\n`, undefined, 'MATERIAL_FORMAT')],
  ['aes128-gcm96: 15-character text + newline (16 bytes: the raw size, ambiguous)', textCase('aes128-gcm96', () => `${randomBytes(15).toString('base64url').slice(0, 15)}\n`, undefined, 'MATERIAL_FORMAT')],
  ['aes256-gcm96: base64 text given as format hex', textCase('aes256-gcm96', () => `${randomBytes(32).toString('base64')}`, 'hex', 'MATERIAL_FORMAT')],
  ['aes128-gcm96: JWK oct with a 32-byte k', (() => {
    const key = randomBytes(32);
    return { run: load(JSON.stringify({ kty: 'oct', k: key.toString('base64url') }), 'aes128-gcm96'), error: KeyMaterialError, code: 'MATERIAL_LENGTH', secrets: () => [key] };
  })()],
  ['aes256-gcm96: JWK of kty RSA', { run: () => load(JSON.stringify(k.rsa2048.export({ format: 'jwk' })), 'aes256-gcm96')(), error: KeyMaterialError, code: 'MATERIAL_FORMAT', secrets: () => [canonical(k.rsa2048)] }],
  ['aes256-gcm96: a PEM private key', { run: () => load(pem(k.p256, 'pkcs8'), 'aes256-gcm96')(), error: KeyMaterialError, code: 'MATERIAL_FORMAT', secrets: () => [pem(k.p256, 'pkcs8'), canonical(k.p256)] }],
  ['aes128-gcm96: JSON that does not parse', { run: load('{"kty":"oct","k":', 'aes128-gcm96'), error: KeyMaterialError, code: 'MATERIAL_FORMAT' }],

  // Wrong curve, wrong RSA size, wrong algorithm.
  ['ecdsa-p256: a P-384 key (PKCS#8 PEM)', { run: () => load(pem(k.p384, 'pkcs8'), 'ecdsa-p256')(), error: KeyMaterialError, code: 'MATERIAL_CURVE', secrets: () => [pem(k.p384, 'pkcs8'), canonical(k.p384)] }],
  ['ecdsa-p384: a P-256 key (JWK)', { run: () => load(JSON.stringify(k.p256.export({ format: 'jwk' })), 'ecdsa-p384')(), error: KeyMaterialError, code: 'MATERIAL_CURVE', secrets: () => [canonical(k.p256)] }],
  ['ecdsa-p521: a secp256k1 key (SEC1 DER)', { run: () => load(der(k.k256, 'sec1'), 'ecdsa-p521')(), error: KeyMaterialError, code: 'MATERIAL_CURVE', secrets: () => [der(k.k256, 'sec1'), canonical(k.k256)] }],
  ['ecdsa-p384: a P-521 key (SEC1 PEM)', { run: () => load(pem(k.p521, 'sec1'), 'ecdsa-p384')(), error: KeyMaterialError, code: 'MATERIAL_CURVE', secrets: () => [pem(k.p521, 'sec1'), canonical(k.p521)] }],
  ['rsa-3072: an RSA-2048 key (PKCS#1 PEM)', { run: () => load(pem(k.rsa2048, 'pkcs1'), 'rsa-3072')(), error: KeyMaterialError, code: 'MATERIAL_RSA_SIZE', secrets: () => [pem(k.rsa2048, 'pkcs1'), canonical(k.rsa2048)] }],
  ['rsa-4096: an RSA-2048 key (PKCS#8 DER)', { run: () => load(canonical(k.rsa2048), 'rsa-4096')(), error: KeyMaterialError, code: 'MATERIAL_RSA_SIZE', secrets: () => [canonical(k.rsa2048)] }],
  ['rsa-2048: an RSA-3072 key (JWK)', { run: () => load(JSON.stringify(k.rsa3072.export({ format: 'jwk' })), 'rsa-2048')(), error: KeyMaterialError, code: 'MATERIAL_RSA_SIZE', secrets: () => [canonical(k.rsa3072)] }],
  ['rsa-2048: an EC key', { run: () => load(canonical(k.p256), 'rsa-2048')(), error: KeyMaterialError, code: 'MATERIAL_ALGORITHM', secrets: () => [canonical(k.p256)] }],
  ['ecdsa-p256: an RSA key', { run: () => load(pem(k.rsa2048, 'pkcs8'), 'ecdsa-p256')(), error: KeyMaterialError, code: 'MATERIAL_ALGORITHM', secrets: () => [pem(k.rsa2048, 'pkcs8'), canonical(k.rsa2048)] }],
  ['ecdsa-p256: an X25519 key', { run: () => load(canonical(k.x25519), 'ecdsa-p256')(), error: KeyMaterialError, code: 'MATERIAL_ALGORITHM', secrets: () => [canonical(k.x25519)] }],
  ['ed25519: an Ed448 key', { run: () => load(pem(k.ed448, 'pkcs8'), 'ed25519')(), error: KeyMaterialError, code: 'MATERIAL_ALGORITHM', secrets: () => [pem(k.ed448, 'pkcs8'), canonical(k.ed448)] }],
  ['ed25519: an ECDSA key', { run: () => load(canonical(k.p256), 'ed25519')(), error: KeyMaterialError, code: 'MATERIAL_ALGORITHM', secrets: () => [canonical(k.p256)] }],
  ['ed25519: a 31-byte seed', lengthCase('ed25519', () => randomBytes(31), 'seed')],
  ['ed25519: hex of a 31-byte seed', textCase('ed25519', () => randomBytes(31).toString('hex'), 'seed')],
  ['ed25519: format hex (a symmetric format)', textCase('ed25519', () => randomBytes(32).toString('hex'), 'hex', 'MATERIAL_FORMAT')],
  ['rsa-2048: format seed (ed25519 only)', { run: () => load(canonical(k.rsa2048), 'rsa-2048', { format: 'seed' })(), error: KeyMaterialError, code: 'MATERIAL_FORMAT', secrets: () => [canonical(k.rsa2048)] }],
  ['rsa-2048: unknown format "pkcs12"', { run: () => load(canonical(k.rsa2048), 'rsa-2048', { format: 'pkcs12' as MaterialFormat })(), error: KeyMaterialError, code: 'MATERIAL_FORMAT', secrets: () => [canonical(k.rsa2048)] }],

  // Public keys and certificates given as private.
  ['rsa-2048: SPKI PEM public key', { run: () => load(pem(k.rsa2048, 'spki'), 'rsa-2048')(), error: KeyMaterialError, code: 'MATERIAL_NOT_PRIVATE' }],
  ['rsa-2048: PKCS#1 PEM public key', { run: () => load(createPublicKey(k.rsa2048).export({ format: 'pem', type: 'pkcs1' }) as string, 'rsa-2048')(), error: KeyMaterialError, code: 'MATERIAL_NOT_PRIVATE' }],
  ['ecdsa-p256: SPKI DER public key', { run: () => load(createPublicKey(k.p256).export({ format: 'der', type: 'spki' }), 'ecdsa-p256')(), error: KeyMaterialError, code: 'MATERIAL_NOT_PRIVATE' }],
  ['rsa-2048: PKCS#1 DER public key', { run: () => load(createPublicKey(k.rsa2048).export({ format: 'der', type: 'pkcs1' }), 'rsa-2048')(), error: KeyMaterialError, code: 'MATERIAL_NOT_PRIVATE' }],
  ['ed25519: public JWK', { run: () => load(JSON.stringify(createPublicKey(k.ed25519).export({ format: 'jwk' })), 'ed25519')(), error: KeyMaterialError, code: 'MATERIAL_NOT_PRIVATE' }],
  ['rsa-2048: public JWK', { run: () => load(JSON.stringify(createPublicKey(k.rsa2048).export({ format: 'jwk' })), 'rsa-2048')(), error: KeyMaterialError, code: 'MATERIAL_NOT_PRIVATE' }],
  ['ecdsa-p256: X.509 certificate (PEM)', { run: () => load(k.certPem, 'ecdsa-p256')(), error: KeyMaterialError, code: 'MATERIAL_NOT_PRIVATE' }],
  ['ecdsa-p256: X.509 certificate (DER)', { run: () => load(k.certDer, 'ecdsa-p256')(), error: KeyMaterialError, code: 'MATERIAL_NOT_PRIVATE' }],

  // Damaged PEM.
  ['rsa-2048: PEM truncated before its END line', (() => {
    let text = '';
    return { run: () => load((text = pem(k.rsa2048, 'pkcs8').slice(0, 900)), 'rsa-2048')(), error: KeyMaterialError, code: 'MATERIAL_FORMAT', secrets: () => [text, canonical(k.rsa2048)] };
  })()],
  ['rsa-2048: PEM with half its body cut out', (() => {
    let text = '';
    return {
      run: () => {
        const lines = pem(k.rsa2048, 'pkcs1').trim().split('\n');
        text = [...lines.slice(0, 10), lines[lines.length - 1]].join('\n');
        return load(text, 'rsa-2048')();
      },
      error: KeyMaterialError, code: 'MATERIAL_FORMAT', secrets: () => [text, canonical(k.rsa2048)],
    };
  })()],
  ['ecdsa-p256: PEM with a garbage body', (() => {
    const body = randomBytes(120).toString('base64').replace(/(.{64})/g, '$1\n');
    const text = `${pemMarker('BEGIN', 'PRIVATE KEY')}\n${body}\n${pemMarker('END', 'PRIVATE KEY')}\n`;
    return { run: load(text, 'ecdsa-p256'), error: KeyMaterialError, code: 'MATERIAL_FORMAT', secrets: () => [text] };
  })()],
  ['ecdsa-p256: PEM of an unknown label', (() => {
    const text = () => pem(k.p256, 'pkcs8').replace(/PRIVATE KEY/g, 'SECRET THING');
    return { run: () => load(text(), 'ecdsa-p256')(), error: KeyMaterialError, code: 'MATERIAL_FORMAT', secrets: () => [text(), canonical(k.p256)] };
  })()],
  ['rsa-2048: binary garbage', lengthCase('rsa-2048', () => binary(600), undefined, 'MATERIAL_FORMAT')],
  ['rsa-2048: binary garbage, format der', lengthCase('rsa-2048', () => Buffer.concat([Buffer.from([0x30, 0x82]), binary(600)]), 'der', 'MATERIAL_FORMAT')],

  // Passphrases.
  ['rsa-2048: encrypted PKCS#8 PEM without a passphrase', { run: () => load(encryptedPem(k.rsa2048), 'rsa-2048')(), error: KeyMaterialError, code: 'MATERIAL_PASSPHRASE_MISSING', secrets: () => [encryptedPem(k.rsa2048), canonical(k.rsa2048)] }],
  ['ecdsa-p384: encrypted PKCS#8 PEM, wrong passphrase', { run: () => load(encryptedPem(k.p384), 'ecdsa-p384', { passphraseEnv: 'BYOK_TEST_WRONG_PASSPHRASE' })(), error: KeyMaterialError, code: 'MATERIAL_PASSPHRASE_WRONG', secrets: () => [canonical(k.p384), 'not the passphrase'] }],
  ['ed25519: encrypted PKCS#8 PEM, passphrase variable unset', { run: () => load(encryptedPem(k.ed25519), 'ed25519', { passphraseEnv: 'BYOK_TEST_UNSET' })(), error: KeyMaterialError, code: 'MATERIAL_PASSPHRASE_MISSING', secrets: () => [canonical(k.ed25519)] }],
  ['ecdsa-p256: encrypted PKCS#8 PEM, passphrase variable empty', { run: () => load(encryptedPem(k.p256), 'ecdsa-p256', { passphraseEnv: 'BYOK_TEST_EMPTY' })(), error: KeyMaterialError, code: 'MATERIAL_PASSPHRASE_MISSING', secrets: () => [canonical(k.p256)] }],
  ['rsa-2048: encrypted PKCS#1 PEM (Proc-Type) without a passphrase', { run: () => load(encryptedPem(k.rsa2048, 'pkcs1'), 'rsa-2048')(), error: KeyMaterialError, code: 'MATERIAL_PASSPHRASE_MISSING', secrets: () => [canonical(k.rsa2048)] }],
  ['rsa-2048: encrypted PKCS#1 PEM, wrong passphrase', { run: () => load(encryptedPem(k.rsa2048, 'pkcs1'), 'rsa-2048', { passphraseEnv: 'BYOK_TEST_WRONG_PASSPHRASE' })(), error: KeyMaterialError, code: 'MATERIAL_PASSPHRASE_WRONG', secrets: () => [canonical(k.rsa2048), 'not the passphrase'] }],
  ['ecdsa-p256: encrypted PKCS#8 DER without a passphrase', { run: () => load(k.p256.export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }), 'ecdsa-p256')(), error: KeyMaterialError, code: 'MATERIAL_PASSPHRASE_MISSING', secrets: () => [canonical(k.p256)] }],
  ['ecdsa-p256: encrypted PKCS#8 DER, wrong passphrase', { run: () => load(k.p256.export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }), 'ecdsa-p256', { passphraseEnv: 'BYOK_TEST_WRONG_PASSPHRASE' })(), error: KeyMaterialError, code: 'MATERIAL_PASSPHRASE_WRONG', secrets: () => [canonical(k.p256)] }],

  // Key types.
  ['hmac: not importable', { run: () => load(randomBytes(32), 'hmac')(), error: KeyTypeError, code: 'KEY_TYPE_NOT_IMPORTABLE' }],
  ['hmac-sha512: not importable', { run: () => load(randomBytes(64), 'hmac-sha512')(), error: KeyTypeError, code: 'KEY_TYPE_NOT_IMPORTABLE' }],
  ['unknown key type "aes512-gcm"', { run: () => load(randomBytes(32), 'aes512-gcm')(), error: KeyTypeError, code: 'KEY_TYPE_UNKNOWN' }],

  // Sources.
  ['a file that does not exist', { run: () => KeyMaterial.fromFile(join(k.dir, 'nope.key')).load('aes256-gcm96'), error: KeyMaterialError, code: 'MATERIAL_SOURCE' }],
  ['a file that is a directory (unreadable as a file)', { run: () => { mkdirSync(join(k.dir, 'a-dir'), { recursive: true }); return KeyMaterial.fromFile(join(k.dir, 'a-dir')).load('aes256-gcm96'); }, error: KeyMaterialError, code: 'MATERIAL_SOURCE' }],
  ['an empty file', { run: () => { writeFileSync(join(k.dir, 'empty'), ''); return KeyMaterial.fromFile(join(k.dir, 'empty')).load('aes256-gcm96'); }, error: KeyMaterialError, code: 'MATERIAL_SOURCE' }],
  ['an unset environment variable', { run: () => KeyMaterial.fromEnv('BYOK_TEST_UNSET').load('aes256-gcm96'), error: KeyMaterialError, code: 'MATERIAL_SOURCE' }],
  ['an empty environment variable', { run: () => KeyMaterial.fromEnv('BYOK_TEST_EMPTY').load('ecdsa-p256'), error: KeyMaterialError, code: 'MATERIAL_SOURCE' }],
];

describe('bad key material', () => {
  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('%s', async (_name, c) => {
    const error = await thrownBy(c.run);
    expect(error).toBeInstanceOf(c.error);
    expect(error).toBeInstanceOf(ByokError);
    expect((error as ByokError).code).toBe(c.code);
    expect((error as Error).message.length).toBeGreaterThan(20);
    expectNoLeak(errorRenderings(error), ...(c.secrets?.() ?? []));
  });

  it('names what was expected and what was received (length, curve, bits)', async () => {
    const length = await thrownBy(load(binary(31), 'aes256-gcm96'));
    expect((length as Error).message).toMatch(/exactly 32 bytes.*received 31 bytes/);
    const curve = await thrownBy(() => load(pem(k.p384, 'pkcs8'), 'ecdsa-p256')());
    expect((curve as Error).message).toMatch(/P-256.*secp384r1/);
    const bits = await thrownBy(() => load(canonical(k.rsa2048), 'rsa-4096')());
    expect((bits as Error).message).toMatch(/4096-bit.*2048-bit/);
    const hmac = await thrownBy(load(randomBytes(32), 'hmac-sha256'));
    expect((hmac as Error).message).toMatch(/cannot be imported.*HMAC/);
    const lines = pem(k.rsa2048, 'pkcs1').trim().split('\n');
    const cut = await thrownBy(() => load([...lines.slice(0, 10), lines[lines.length - 1]].join('\n'), 'rsa-2048')());
    expect((cut as Error).message).toMatch(/does not parse \([^)]+\): is it damaged or cut short/);
    const file = await thrownBy(() => KeyMaterial.fromFile(join(k.dir, 'nope.key')).load('aes256-gcm96'));
    expect((file as Error).message).toContain(join(k.dir, 'nope.key'));
  });
});
