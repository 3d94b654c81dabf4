/**
 * Acceptance: `thalassa-byok wrap` and `thalassa-byok fingerprint`, run as the built CLI in a child process.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyMaterial } from '../../src/material';
import { unwrap } from '../../src/wrapping';
import { runCli } from '../support/cli';
import { keyFixture, keyPair, PASSPHRASE } from '../support/key-fixtures';
import { expectNoLeak } from '../support/no-leak';
import { makeTempDir, removeDir } from '../support/openssl';

let dir: string;
let wkPem: string;
let wkPriv: import('node:crypto').KeyObject;
let wkFingerprint: string;

beforeAll(async () => {
  dir = makeTempDir('byok-cli-');
  const pair = await keyPair('rsa:2048');
  wkPriv = pair.privateKey;
  wkPem = join(dir, 'wrapping-key.pem');
  writeFileSync(wkPem, createPublicKey(pair.privateKey).export({ format: 'pem', type: 'spki' }));
  const { WrappingKey } = await import('../../src/wrapping');
  wkFingerprint = WrappingKey.fromPemFile(wkPem).fingerprint;
});

afterAll(() => removeDir(dir));

/** Writes material to a fresh owner-only file in the test folder. */
function materialFile(name: string, bytes: Buffer | string): string {
  const file = join(dir, name);
  writeFileSync(file, bytes, { mode: 0o600 });
  return file;
}

describe('thalassa-byok wrap', () => {
  it('prints a base64 blob that unwraps to the material (and warns when the wrapping key is not pinned)', async () => {
    const key = randomBytes(32);
    const file = materialFile('aes.hex', `${key.toString('hex')}\n`);
    const result = await runCli(['wrap', '--key-type', 'aes256-gcm96', '--material', file, '--wrapping-key', wkPem]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[A-Za-z0-9+/]+=*\n$/);
    const blob = Buffer.from(result.stdout.trim(), 'base64');
    expect(unwrap(blob, wkPriv).equals(key)).toBe(true);
    expect(result.stderr).toMatch(/not pinned/);
    expectNoLeak(result.stderr, key);
    expectNoLeak(result.stdout, key);
  });

  it('wraps an encrypted ECDSA PEM with --hash sha512 and --pin, without the warning', async () => {
    const fixture = await keyFixture('ecdsa-p384');
    const file = materialFile('ec.pem', fixture.privateKey?.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }) as string);
    const result = await runCli(
      ['wrap', '--key-type', 'ecdsa-p384', '--material', file, '--passphrase-env', 'KEY_PASS', '--wrapping-key', wkPem, '--hash', 'sha512', '--pin', wkFingerprint],
      { KEY_PASS: PASSPHRASE },
    );
    expect(result.code).toBe(0);
    expect(unwrap(Buffer.from(result.stdout.trim(), 'base64'), wkPriv, { hash: 'sha512' }).equals(fixture.canonical)).toBe(true);
    expect(result.stderr).toBe('');
  });

  it('--out FILE writes the blob with mode 0600 and prints no blob on stdout', async () => {
    const fixture = await keyFixture('ed25519');
    const file = materialFile('ed.der', fixture.canonical);
    const out = join(dir, 'blob.b64');
    writeFileSync(out, 'old contents', { mode: 0o644 });
    const result = await runCli(['wrap', '--key-type', 'ed25519', '--material', file, '--wrapping-key', wkPem, '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const blob = Buffer.from(readFileSync(out, 'utf8').trim(), 'base64');
    expect(unwrap(blob, wkPriv).equals(fixture.canonical)).toBe(true);
    expect(result.stderr).toContain(KeyMaterial.fromBytes(fixture.canonical).load('ed25519').fingerprint);
    expect(result.stderr).not.toContain(blob.toString('base64').slice(0, 40));
  });

  it('--material-env reads the material from the environment', async () => {
    const key = randomBytes(16);
    const result = await runCli(['wrap', '--key-type', 'aes128-gcm96', '--material-env', 'BYOK_KEY', '--wrapping-key', wkPem, '--hash', 'sha1'], { BYOK_KEY: key.toString('base64') });
    expect(result.code).toBe(0);
    expect(unwrap(Buffer.from(result.stdout.trim(), 'base64'), wkPriv, { hash: 'sha1' }).equals(key)).toBe(true);
  });

  it('fails (exit 1) on a wrong pin, without a blob', async () => {
    const file = materialFile('pin.bin', randomBytes(32));
    const result = await runCli(['wrap', '--key-type', 'chacha20-poly1305', '--material', file, '--format', 'raw', '--wrapping-key', wkPem, '--pin', `spki-sha256:${'1'.repeat(64)}`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/WRAPPING_KEY_PIN_MISMATCH/);
  });
});

describe('thalassa-byok fingerprint', () => {
  it('prints the same fingerprint as the library, for a symmetric and an asymmetric key', async () => {
    const key = randomBytes(32);
    const symmetric = await runCli(['fingerprint', '--key-type', 'aes256-gcm96', '--material', materialFile('fp.bin', key), '--format', 'raw']);
    expect(symmetric.code).toBe(0);
    expect(symmetric.stdout).toBe(`${KeyMaterial.fromBytes(key, { format: 'raw' }).load('aes256-gcm96').fingerprint}\n`);
    expectNoLeak(symmetric.stdout + symmetric.stderr, key);

    const fixture = await keyFixture('rsa-3072');
    const pem = fixture.privateKey?.export({ format: 'pem', type: 'pkcs1' }) as string;
    const rsa = await runCli(['fingerprint', '--key-type', 'rsa-3072', '--material', materialFile('fp-rsa.pem', pem), '--json']);
    expect(rsa.code).toBe(0);
    expect(JSON.parse(rsa.stdout)).toEqual({ keyType: 'rsa-3072', fingerprint: KeyMaterial.fromBytes(fixture.canonical).load('rsa-3072').fingerprint });
  });

  it('--material-env works', async () => {
    const fixture = await keyFixture('ecdsa-p256');
    const result = await runCli(['fingerprint', '--key-type', 'ecdsa-p256', '--material-env', 'EC_KEY'], { EC_KEY: JSON.stringify(fixture.privateKey?.export({ format: 'jwk' })) });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(KeyMaterial.fromBytes(fixture.canonical).load('ecdsa-p256').fingerprint);
  });
});

describe('usage and failures', () => {
  it.each([['wrap'], ['fingerprint']])('%s --help exits 0 with its usage on stdout', async (command) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: thalassa-byok ${command}`);
    expect(result.stdout).toContain('--key-type');
  });

  it('thalassa-byok --help exits 0 and lists wrap and fingerprint', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wrap[\s\S]*fingerprint/);
  });

  it.each<[string, string[], RegExp]>([
    ['an unknown option', ['fingerprint', '--key-type', 'aes256-gcm96', '--material', 'x', '--colour'], /--colour/],
    ['a missing --key-type', ['fingerprint', '--material', 'x'], /--key-type/],
    ['a missing --wrapping-key', ['wrap', '--key-type', 'aes256-gcm96', '--material', 'x'], /--wrapping-key/],
    ['both --material and --material-env', ['fingerprint', '--key-type', 'aes256-gcm96', '--material', 'x', '--material-env', 'Y'], /exactly one of --material/],
    ['neither --material nor --material-env', ['fingerprint', '--key-type', 'aes256-gcm96'], /exactly one of --material/],
    ['an unknown --format', ['fingerprint', '--key-type', 'aes256-gcm96', '--material', 'x', '--format', 'pkcs12'], /--format/],
    ['an option without its value', ['fingerprint', '--key-type'], /--key-type/],
    ['an unknown command', ['wrapp'], /unknown command/],
  ])('%s exits 2 with the message on stderr', async (_name, args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  it.each<[string, string, () => Buffer, RegExp]>([
    ['a 31-byte AES-256 key', 'aes256-gcm96', () => randomBytes(31), /exactly 32 bytes.*received 31 bytes/],
    ['hex of 20 bytes for AES-128', 'aes128-gcm96', () => Buffer.from(randomBytes(20).toString('hex')), /exactly 16 bytes.*received 20 bytes/],
  ])('bad material (%s) exits 1, names the problem, and shows no material', async (_name, type, make, message) => {
    const bytes = make();
    const file = materialFile('bad.key', bytes);
    for (const args of [['fingerprint', '--key-type', type, '--material', file], ['wrap', '--key-type', type, '--material', file, '--wrapping-key', wkPem]]) {
      const result = await runCli(args);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/\[MATERIAL_LENGTH\]/);
      expectNoLeak(result.stdout + result.stderr, bytes);
    }
  });

  it('a public key as material exits 1 with MATERIAL_NOT_PRIVATE', async () => {
    const result = await runCli(['wrap', '--key-type', 'rsa-2048', '--material', wkPem, '--wrapping-key', wkPem]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/MATERIAL_NOT_PRIVATE/);
  });

  it('an HMAC key type exits 1 and says HMAC keys cannot be imported', async () => {
    const result = await runCli(['fingerprint', '--key-type', 'hmac-sha256', '--material', materialFile('h.bin', randomBytes(32))]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot be imported/);
  });

  it('a missing material file exits 1 and names the file', async () => {
    const result = await runCli(['fingerprint', '--key-type', 'aes256-gcm96', '--material', join(dir, 'absent.key')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(join(dir, 'absent.key'));
    expect(result.stderr).toMatch(/MATERIAL_SOURCE/);
  });
});
