/**
 * `thalassa-byok wrap` and `fingerprint` with a key inside a real SoftHSM2 token (this file creates it), run as
 * the built CLI in a child process: the same fingerprints and blob format as `src/hsm` and the file path, usage
 * errors that name the options, and token errors that never show the PIN. Fails, never skips, without SoftHSM2.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprintInToken, type Pkcs11KeyRef } from '../../src/hsm';
import { derSequenceLength } from '../../src/material/der';
import { spkiFingerprint } from '../../src/material';
import { checkWrappedBlob, unwrap, WrappingKey } from '../../src/wrapping';
import { runCli, type CliResult } from '../support/cli';
import { expectNoLeak } from '../support/no-leak';
import { createToken, PIN_ENV, type TestToken } from '../hsm/softhsm';

let token: TestToken;
let wkPem: string;
let wkPriv: KeyObject;
let wrappingKey: WrappingKey;
let env: NodeJS.ProcessEnv;
/** Every CLI result of this file, searched for the PIN at the end. */
const results: CliResult[] = [];

beforeAll(async () => {
  // A long random PIN, so that finding it in an output could not be chance; "Pq" first, so that it always has the
  // shape of a variable name in both cases (the hardest for the "is it the value itself?" check below).
  token = await createToken('byok-cli', `Pq${randomBytes(18).toString('base64url')}`);
  token.tool(['--keygen', '--key-type', 'AES:32', '--label', 'aes256', '--id', 'c1', '--extractable']);
  token.tool(['--keygen', '--key-type', 'AES:16', '--label', 'aes128', '--id', 'c2', '--extractable']);
  token.tool(['--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'p256', '--id', 'c3', '--extractable']);
  token.tool(['--keypairgen', '--key-type', 'EC:edwards25519', '--label', 'ed', '--id', 'c4', '--extractable']);
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  wkPriv = pair.privateKey;
  wkPem = join(token.dir, 'wrapping-key.pem');
  writeFileSync(wkPem, pair.publicKey.export({ format: 'pem', type: 'spki' }));
  wrappingKey = WrappingKey.fromPemFile(wkPem);
  env = { SOFTHSM2_CONF: process.env.SOFTHSM2_CONF, [PIN_ENV]: token.pin };
});

afterAll(() => {
  for (const r of results) expectNoLeak(r.stdout + r.stderr, token.pin);
  token?.cleanup();
});

const tokenArgs = (key: string[]): string[] => ['--pkcs11-module', token.module, '--token-label', token.label, '--pin-env', PIN_ENV, ...key];
const ref = (extra: Partial<Pkcs11KeyRef>): Pkcs11KeyRef => ({ module: token.module, tokenLabel: token.label, pinEnv: PIN_ENV, ...extra });

async function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const result = await runCli(args, { ...env, ...extraEnv });
  results.push(result);
  expectNoLeak(result.stdout + result.stderr, token.pin);
  return result;
}

/** The material a blob unwraps to, without the zero bytes SoftHSM2's KWP adds after a PKCS#8 (docs/hsm.md). */
function unwrapped(blob: Buffer, hash: string, asymmetric: boolean): Buffer {
  const raw = unwrap(blob, wkPriv, { hash: hash as 'sha1' });
  return asymmetric ? raw.subarray(0, derSequenceLength(raw)) : raw;
}

describe('thalassa-byok fingerprint with a key in a PKCS#11 token', () => {
  it('prints the fingerprint src/hsm computes, by label or by id, as text or JSON', async () => {
    const byLabel = await cli(['fingerprint', '--key-type', 'aes256-gcm96', ...tokenArgs(['--key-label', 'aes256'])]);
    expect(byLabel).toEqual({ code: 0, stdout: `${fingerprintInToken(ref({ keyLabel: 'aes256' }), 'aes256-gcm96')}\n`, stderr: '' });
    expect(byLabel.stdout).toMatch(/^cmac-aes:[0-9a-f]{32}\n$/);
    const byId = await cli(['fingerprint', '--key-type', 'aes256-gcm96', '--json', ...tokenArgs(['--key-id', 'C1'])]);
    expect(byId.code).toBe(0);
    expect(JSON.parse(byId.stdout)).toEqual({ keyType: 'aes256-gcm96', fingerprint: byLabel.stdout.trim() });
  });

  it('an EC key\'s fingerprint is its public key\'s, the same as `fingerprint --material` of the key as PEM', async () => {
    const result = await cli(['fingerprint', '--key-type', 'ecdsa-p256', ...tokenArgs(['--key-label', 'p256'])]);
    expect(result.code).toBe(0);
    // The token's own key, as PEM: what a wrap in the token carries, unwrapped here with the wrapping key's private half.
    const wrapped = await cli(['wrap', '--key-type', 'ecdsa-p256', '--wrapping-key', wkPem, '--hash', 'sha1', ...tokenArgs(['--key-label', 'p256'])]);
    const pkcs8 = unwrapped(Buffer.from(wrapped.stdout.trim(), 'base64'), 'sha1', true);
    const pemFile = join(token.dir, 'p256.pem');
    writeFileSync(pemFile, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const fromFile = await cli(['fingerprint', '--key-type', 'ecdsa-p256', '--material', pemFile]);
    expect(fromFile).toEqual({ code: 0, stdout: result.stdout, stderr: '' });
    expect(result.stdout.trim()).toBe(spkiFingerprint(createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }))));
    expectNoLeak(result.stdout + wrapped.stderr, pkcs8);
  });
});

describe('thalassa-byok wrap with a key in a PKCS#11 token', () => {
  it('prints a blob in the import format, that unwraps to the token\'s key and passes import\'s blob check', async () => {
    const result = await cli(['wrap', '--key-type', 'aes128-gcm96', '--wrapping-key', wkPem, '--hash', 'sha1', '--pin', wrappingKey.fingerprint, ...tokenArgs(['--key-label', 'aes128'])]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^[A-Za-z0-9+/]+=*\n$/);
    const blob = Buffer.from(result.stdout.trim(), 'base64');
    // RSA-OAEP of the session key (the modulus), then KWP of 16 bytes (24): as the file path makes it.
    expect(blob.length).toBe(256 + 24);
    const material = unwrapped(blob, 'sha1', false);
    expect(material.length).toBe(16);
    expect(() => checkWrappedBlob(blob, { modulusBytes: 256, fingerprint: wrappingKey.fingerprint }, { expectedFingerprint: wrappingKey.fingerprint, fileBytes: Buffer.from(result.stdout) })).not.toThrow();
    expectNoLeak(result.stdout + result.stderr, material);
  });

  it('--out writes the blob with mode 0600 and reports key, fingerprint, wrapping key and hash as the file path does', async () => {
    const out = join(token.dir, 'blob.b64');
    const result = await cli(['wrap', '--key-type', 'aes256-gcm96', '--wrapping-key', wkPem, '--hash', 'sha1', '--out', out, ...tokenArgs(['--key-id', 'c1'])]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const fingerprint = fingerprintInToken(ref({ keyId: 'c1' }), 'aes256-gcm96');
    expect(result.stderr).toBe(
      `Wrapped aes256-gcm96 key ${fingerprint} with wrapping key ${wrappingKey.fingerprint} (sha1) into ${out}\n` +
        `warning: the wrapping key is not pinned; pass --pin ${wrappingKey.fingerprint} once you have verified it.\n`,
    );
    const blob = Buffer.from(readFileSync(out, 'utf8').trim(), 'base64');
    expect(unwrapped(blob, 'sha1', false).length).toBe(32);
    expect(result.stderr).not.toContain(blob.toString('base64').slice(0, 40));
  });

  it('wraps with exactly the requested hash: SoftHSM2 refuses the default sha256, and the error says to pass --hash', async () => {
    const result = await cli(['wrap', '--key-type', 'aes256-gcm96', '--wrapping-key', wkPem, ...tokenArgs(['--key-label', 'aes256'])]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/refused CKM_RSA_PKCS_OAEP with sha256.*--hash sha1.*\[HSM_HASH_REFUSED\]/);
  });
});

describe('usage errors name the options (exit 2, nothing done)', () => {
  it.each<[string, string[], RegExp]>([
    ['--material with a token key', ['--material', 'x', '--pkcs11-module', '/x.so', '--token-label', 't', '--pin-env', 'P', '--key-label', 'k'], /--material cannot be combined with --pkcs11-module, --token-label, --pin-env, --key-label/],
    ['--passphrase-env with a token key', ['--passphrase-env', 'PP', '--pkcs11-module', '/x.so', '--token-label', 't', '--pin-env', 'P', '--key-id', '01'], /--passphrase-env cannot be combined with --pkcs11-module/],
    ['--key-label alone', ['--key-label', 'k'], /\(--key-label\) also needs --pkcs11-module, --token-label, --pin-env/],
    ['no --pin-env', ['--pkcs11-module', '/x.so', '--token-label', 't', '--key-label', 'k'], /also needs --pin-env: .*NAME of the variable/],
    ['neither --key-label nor --key-id', ['--pkcs11-module', '/x.so', '--token-label', 't', '--pin-env', 'P'], /exactly one of --key-label L .* or --key-id HEX/],
    ['both --key-label and --key-id', ['--pkcs11-module', '/x.so', '--token-label', 't', '--pin-env', 'P', '--key-label', 'k', '--key-id', '01'], /exactly one of --key-label/],
    ['a --key-id that is not hex', ['--pkcs11-module', '/x.so', '--token-label', 't', '--pin-env', 'P', '--key-id', 'xyz'], /--key-id must be the key's CKA_ID as hex.*received 3 characters/],
  ])('%s', async (_name, args, message) => {
    for (const command of [['fingerprint'], ['wrap', '--wrapping-key', wkPem]]) {
      const result = await cli([...command, '--key-type', 'aes256-gcm96', ...args]);
      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
      expect(result.stderr).toMatch(message);
    }
  });

  it('--help of both commands lists the token options', async () => {
    for (const command of ['wrap', 'fingerprint']) {
      const result = await cli([command, '--help']);
      for (const option of ['--pkcs11-module', '--token-label', '--pin-env', '--key-label', '--key-id']) expect(result.stdout).toContain(option);
    }
  });
});

describe('token errors are clear and never show the PIN (exit 1)', () => {
  const wrongPin = randomBytes(12).toString('base64url');

  it.each<[string, () => { args: string[]; env?: NodeJS.ProcessEnv }, RegExp]>([
    ['a wrong PIN', () => ({ args: ['--pkcs11-module', token.module, '--token-label', token.label, '--pin-env', 'WRONG_PIN', '--key-label', 'aes256'], env: { WRONG_PIN: wrongPin } }), /refused the PIN from environment variable WRONG_PIN \(CKR_PIN_INCORRECT\).*\[HSM_PIN_WRONG\]/],
    ['the PIN itself given as --pin-env', () => ({ args: ['--pkcs11-module', token.module, '--token-label', token.label, '--pin-env', token.pin, '--key-label', 'aes256'] }), /not a variable name \(is it the value itself\?\).*\[HSM_PIN_MISSING\]/],
    ['a PIN variable not set', () => ({ args: ['--pkcs11-module', token.module, '--token-label', token.label, '--pin-env', 'NO_SUCH_PIN', '--key-label', 'aes256'] }), /NO_SUCH_PIN, which is not set or empty.*\[HSM_PIN_MISSING\]/],
    ['a module that does not load', () => ({ args: tokenArgs(['--key-label', 'aes256']).map((a) => (a === token.module ? join(token.dir, 'no-such.so') : a)) }), /Cannot load the PKCS#11 module .*no-such\.so.*\[HSM_MODULE\]/],
    ['a token that does not exist', () => ({ args: tokenArgs(['--key-label', 'aes256']).map((a) => (a === token.label ? 'other-token' : a)) }), /No token labelled "other-token".*"byok-cli".*\[HSM_TOKEN_NOT_FOUND\]/],
    ['a key that is not there', () => ({ args: tokenArgs(['--key-label', 'nope']) }), /No secret key object is the key labelled "nope".*\[HSM_KEY_NOT_FOUND\]/],
    ['a key of another size', () => ({ args: tokenArgs(['--key-label', 'aes128']) }), /an AES key of 128 bits; key type aes256-gcm96 needs an AES key of 256 bits.*\[HSM_KEY_TYPE_MISMATCH\]/],
  ])('%s', async (_name, make, message) => {
    const { args, env: extra } = make();
    for (const command of [['fingerprint'], ['wrap', '--wrapping-key', wkPem, '--hash', 'sha1']]) {
      const result = await cli([...command, '--key-type', 'aes256-gcm96', ...args], extra);
      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain(wrongPin);
    }
  });

  it('an Ed25519 key SoftHSM2 2.6.1 will not wrap, and ChaCha20, which a token cannot hold here', async () => {
    const ed = await cli(['wrap', '--key-type', 'ed25519', '--wrapping-key', wkPem, '--hash', 'sha1', ...tokenArgs(['--key-label', 'ed'])]);
    expect({ code: ed.code, stdout: ed.stdout }).toEqual({ code: 1, stdout: '' });
    expect(ed.stderr).toMatch(/CKR_KEY_NOT_WRAPPABLE.*must be extractable.*SoftHSM2 2\.6\.1 does not.*\[HSM_KEY_NOT_EXTRACTABLE\]/);
    const chacha = await cli(['wrap', '--key-type', 'chacha20-poly1305', '--wrapping-key', wkPem, '--hash', 'sha1', ...tokenArgs(['--key-label', 'aes256'])]);
    expect({ code: chacha.code, stdout: chacha.stdout }).toEqual({ code: 1, stdout: '' });
    expect(chacha.stderr).toMatch(/AES keys only.*\[HSM_KEY_TYPE_UNSUPPORTED\]/);
  });
});
