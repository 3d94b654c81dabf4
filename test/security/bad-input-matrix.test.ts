/**
 * The bad-input matrix (issue 6, item 3): user mistakes through the two public surfaces — the
 * `ImportedKmsKey` construct (construction and app synth) and the `thalassa-byok` CLI against an in-process
 * emulator over real HTTP. Every case must fail before any key exists, with a message that names the fix or
 * the expected value (one regex per case), and the emulator must show no key created.
 *
 * Most cases fail before any request (config resolution, material validation, usage errors); the CLI cases
 * marked `api: 'refused'` reach the API on purpose (a blob for another region, a tampered blob) and must be
 * answered with a clean 400 that creates nothing. Field-by-field checks live in test/constructs/validation,
 * test/material/bad-input, test/wrapping/bad-input and test/cli; this file is the end-to-end view.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { KmsClient } from '../../src/api';
import { ImportedKmsKey, type ImportedKmsKeyProps } from '../../src/constructs';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { wrap, WrappingKey } from '../../src/wrapping';
import { baseProps, wrappingKey as fixtureWrappingKey, wrappingKeyPair } from '../constructs/fixtures';
import { runCli } from '../support/cli';
import { PASSPHRASE } from '../support/key-fixtures';
import { expectNoLeak } from '../support/no-leak';
import { makeTempDir, removeDir } from '../support/openssl';

const TOKEN = 'matrix-token-9d2e7c';
const ORG = 'org-matrix';

let emulator: RunningEmulator;
let client: KmsClient;
let dir: string;
let env: NodeJS.ProcessEnv;
const keys: Record<string, KeyObject> = {};
const files: Record<string, string> = {};
const aes = randomBytes(32);

const pem = (key: KeyObject, type: 'pkcs8' | 'spki' = 'pkcs8', passphrase?: string): string =>
  type === 'spki' ? (createPublicKey(key).export({ format: 'pem', type }) as string)
    : (key.export({ format: 'pem', type, ...(passphrase ? { cipher: 'aes-256-cbc', passphrase } : {}) }) as string);

function file(name: string, content: string | Buffer, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  return path;
}

beforeAll(async () => {
  dir = makeTempDir('byok-matrix-');
  emulator = await startEmulator({ tokens: [{ token: TOKEN, organisation: ORG }], regions: ['nl-01', 'de-01'] });
  env = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: ORG };
  client = KmsClient.fromEnvironment({ env });
  for (const [name, spec] of Object.entries({ rsa2048: ['rsa', { modulusLength: 2048 }], p256: ['ec', { namedCurve: 'P-256' }], p384: ['ec', { namedCurve: 'P-384' }], rsa1024: ['rsa', { modulusLength: 1024 }] } as const)) {
    keys[name] = generateKeyPairSync(spec[0] as 'rsa', spec[1] as { modulusLength: number }).privateKey;
  }
  const nl = WrappingKey.fromApiResponse(await client.wrappingKey('nl-01'));
  const de = WrappingKey.fromApiResponse(await client.wrappingKey('de-01'));
  const loaded = KeyMaterial.fromBytes(aes, { format: 'raw' }).load('aes256-gcm96');
  const blob = wrap(loaded, nl);
  const tampered = Buffer.from(blob);
  tampered[tampered.length - 3] ^= 0x10;
  Object.assign(files, {
    nlPem: file('nl-01.pem', nl.pem, 0o644),
    dePem: file('de-01.pem', de.pem, 0o644),
    aesShort: file('aes16.bin', randomBytes(16)),
    aesHex: file('aes.hex', aes.toString('hex')),
    p384: file('p384.pem', pem(keys.p384)),
    p256: file('p256.pem', pem(keys.p256)),
    rsa2048: file('rsa2048.pem', pem(keys.rsa2048)),
    encrypted: file('p256-encrypted.pem', pem(keys.p256, 'pkcs8', PASSPHRASE)),
    blobNl: file('nl.wrapped', blob.toString('base64')),
    blobTampered: file('tampered.wrapped', tampered.toString('base64')),
    fingerprint: loaded.fingerprint,
    deFingerprint: de.fingerprint,
  });
  mkdirSync(join(dir, 'a-directory'));
  loaded.destroy();
}, 120_000);

afterAll(async () => {
  await client.close();
  await emulator.close();
  removeDir(dir);
});

/** Every key in every region of the emulator, as the API lists them. */
async function allKeys(): Promise<number> {
  return (await client.listKeys('nl-01')).length + (await client.listKeys('de-01')).length;
}

const keyCreates = (): number => emulator.requestLog.filter((e) => e.method === 'POST' && /^\/v1\/kms\/[^/]+\/keys$/.test(e.path)).length;

// ---------------------------------------------------------------------------------------------------------
// The construct: every case fails at construction or at app synth, naming the fix.
// ---------------------------------------------------------------------------------------------------------

type PropsMaker = () => Partial<ImportedKmsKeyProps> | Record<string, unknown>;

const CONSTRUCT_CASES: [string, PropsMaker, RegExp][] = [
  ['region in upper case', () => ({ region: 'NL-01' }), /property "region" must be a region slug matching .*\(e\.g\. "nl-01"\)/],
  ['region without the dash', () => ({ region: 'nl01' }), /e\.g\. "nl-01"/],
  ['name with a space', () => ({ name: 'master key' }), /property "name" must be 1\.\.246 characters from \[A-Za-z0-9\._-\]/],
  ['name too long for the suffix', () => ({ name: 'k'.repeat(247) }), /1\.\.246 characters/],
  ['unknown key type', () => ({ keyType: 'aes-256' }), /Expected one of: aes128-gcm96, aes256-gcm96/],
  ['HMAC key type', () => ({ keyType: 'hmac-sha256' }), /create it in Thalassa Cloud without importKeyMaterial/],
  ['symmetric material of the wrong size', () => ({ material: KeyMaterial.fromBytes(randomBytes(16)) }), /needs exactly 32 bytes of key material \(32 raw bytes, 64 hex or 44 base64/],
  ['hex text of the wrong length', () => ({ material: KeyMaterial.fromBytes(randomBytes(24).toString('hex')) }), /needs exactly 32 bytes.*64 hex/],
  ['a symmetric format forced on asymmetric material', () => ({ keyType: 'ecdsa-p256', material: KeyMaterial.fromFile(files.p256, { format: 'hex' }) }), /pem, der, jwk/],
  ['an EC key for an RSA type', () => ({ keyType: 'rsa-2048', material: KeyMaterial.fromFile(files.p256) }), /needs an RSA private key; received an EC key/],
  ['the wrong curve', () => ({ keyType: 'ecdsa-p256', material: KeyMaterial.fromFile(files.p384) }), /needs an EC key on curve P-256 \(prime256v1\); received .*secp384r1/],
  ['the wrong RSA size', () => ({ keyType: 'rsa-3072', material: KeyMaterial.fromFile(files.rsa2048) }), /Use key type rsa-2048 if that size is intended/],
  ['a public key instead of the private key', () => ({ keyType: 'ecdsa-p256', material: KeyMaterial.fromBytes(pem(keys.p256, 'spki')) }), /export the private key from your key source/],
  ['material environment variable not set', () => ({ material: KeyMaterial.fromEnv('BYOK_MATRIX_UNSET_MATERIAL') }), /Environment variable BYOK_MATRIX_UNSET_MATERIAL is not set or empty.*Export it before running/],
  ['passphrase environment variable not set', () => ({ keyType: 'ecdsa-p256', material: KeyMaterial.fromFile(files.encrypted, { passphraseEnv: 'BYOK_MATRIX_UNSET_PASS' }) }), /Export BYOK_MATRIX_UNSET_PASS before running/],
  ['encrypted PEM without a passphrase', () => ({ keyType: 'ecdsa-p256', material: KeyMaterial.fromFile(files.encrypted) }), /Set passphraseEnv to the name of an environment variable/],
  ['material file missing', () => ({ material: KeyMaterial.fromFile(join(dir, 'nope.key')) }), /it does not exist\. Check the path/],
  ['material path is a directory', () => ({ material: KeyMaterial.fromFile(join(dir, 'a-directory')) }), /it is a directory\. Check the path/],
  ['label value with a space', () => ({ labels: { team: 'key ops' } }), /values of 0\.\.63 characters from \[A-Za-z0-9\._-\]/],
  ['reserved annotation key', () => ({ annotations: { 'cdktf-thalassa-byok/fingerprint': 'mine' } }), /not under the reserved prefix "cdktf-thalassa-byok\/"/],
  ['too many labels', () => ({ labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])) }), /at most 62 entries/],
  ['rotation without allowRotation', () => ({ rotation: { enabled: true, periodInDays: 90 } }), /left out unless allowRotation is true/],
  ['rotation period 0', () => ({ allowRotation: true, rotation: { enabled: true, periodInDays: 0 } }), /a whole number of days from 1 to 3650/],
  ['rotation period 3651', () => ({ allowRotation: true, rotation: { enabled: true, periodInDays: 3651 } }), /from 1 to 3650/],
  ['unsupported hash function', () => ({ hashFunction: 'sha3-256' }), /"sha1", "sha256", "sha384" or "sha512"/],
  ['a wrapping key that is a string, not a WrappingKey', () => ({ wrappingKey: wrappingKeyPair().publicPem }), /WrappingKey\.fromPemFile \/ fromPem/],
  ['a tampered pre-wrapped blob (truncated)', () => ({ material: KeyMaterial.preWrapped(randomBytes(256 + 24 - 5), { fingerprint: 'kcv:0a1b2c' }) }), /256 bytes of RSA-OAEP followed by a multiple of 8 \(at least 16\)/],
  ['a pre-wrapped asymmetric blob identified by a check value', () => ({ keyType: 'ed25519', material: KeyMaterial.preWrapped(randomBytes(256 + 48), { fingerprint: 'kcv:0a1b2c' }) }), /"spki-sha256:" followed by 64 hex digits/],
];

/** Mistakes made while preparing the props: they throw before the construct exists, naming the fix. */
const PREPARATION_CASES: [string, () => unknown, RegExp][] = [
  ['a substituted wrapping key (pin mismatch)', () => WrappingKey.fromPem(pem(keys.rsa2048, 'spki'), { pin: fixtureWrappingKey().fingerprint }), /is not the pinned fingerprint( spki-sha256:[0-9a-f]{64})?\. The key may have been substituted.*update the pin/],
  ['a malformed pin', () => WrappingKey.fromPem(wrappingKeyPair().publicPem, { pin: 'sha256:abc' }), /expected "spki-sha256:" followed by 64 hex digits/],
  ['a wrapping key under 2048 bits', () => WrappingKey.fromPem(pem(keys.rsa1024, 'spki')), /at least RSA-2048 is required/],
  ['a private key where the wrapping key belongs', () => WrappingKey.fromPem(pem(keys.rsa2048)), /a wrapping key is the region's public key/],
  ['the wrapping key file missing', () => WrappingKey.fromPemFile(join(dir, 'missing.pem')), /Fetch it with "thalassa-byok wrapping-key --region <region> --out/],
  ['a pre-wrapped blob that is not base64', () => KeyMaterial.preWrapped('not base64!', { fingerprint: 'kcv:0a1b2c' }), /is not valid base64/],
  ['a pre-wrapped blob without a usable fingerprint', () => KeyMaterial.preWrapped(randomBytes(300), { fingerprint: 'x' }), /needs a fingerprint: "spki-sha256:<64 hex>" for asymmetric keys, or a stable identifier/],
];

describe('bad input through the construct fails at synth with the fix named, and creates nothing', () => {
  let before: { creates: number; keys: number };
  beforeAll(async () => {
    before = { creates: keyCreates(), keys: await allKeys() };
  });
  afterAll(async () => {
    expect(keyCreates()).toBe(before.creates);
    expect(await allKeys()).toBe(before.keys);
  });

  it.each(CONSTRUCT_CASES)('%s', (_name, props, fix) => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'stack');
    let error: unknown;
    try {
      new ImportedKmsKey(stack, 'key', baseProps(props() as Partial<ImportedKmsKeyProps>));
      app.synth();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    // cdktf's validation report: each problem once, after its construct path.
    expect(message).toMatch(/\[stack\/key\] ImportedKmsKey: property "[a-zA-Z.]+" must be/);
    expect(message).toMatch(fix);
    expectNoLeak(message, aes, pem(keys.p256), pem(keys.p384), pem(keys.rsa2048));
  });

  it.each(PREPARATION_CASES)('%s', (_name, prepare, fix) => {
    expect(prepare).toThrow(fix);
  });

  it('two keys with the same name and region in one app fail app synth, naming both paths', () => {
    const app = Testing.app();
    new ImportedKmsKey(new TerraformStack(app, 'a'), 'key', baseProps({ physicalName: 'shared-name' }));
    new ImportedKmsKey(new TerraformStack(app, 'b'), 'key', baseProps({ physicalName: 'shared-name' }));
    expect(() => app.synth()).toThrow(/must be unique per region within the app; received physical name "shared-name" in region "nl-01", which ImportedKmsKey "b\/key" also declares/);
  });

  it('a stack synthesized with Testing.synth fails on the duplicate too', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    new ImportedKmsKey(stack, 'one', baseProps({ name: 'same' }));
    new ImportedKmsKey(stack, 'two', baseProps({ name: 'same' }));
    expect(() => Testing.synth(stack, true)).toThrow(/unique per region within the app/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The CLI against the emulator.
// ---------------------------------------------------------------------------------------------------------

interface CliCase {
  readonly args: () => string[];
  readonly env?: () => NodeJS.ProcessEnv;
  /** 2 for usage errors, 1 for refused input. */
  readonly exit: 1 | 2;
  readonly fix: RegExp;
  /** `none`: no request at all; `read`: reads only (e.g. the wrapping key); `refused`: one create, answered 400. */
  readonly api: 'none' | 'read' | 'refused';
}

const wrapArgs = (...extra: string[]) => ['wrap', '--wrapping-key', files.nlPem, '--pin', WrappingKey.fromPemFile(files.nlPem).fingerprint, ...extra];
const importArgs = (overrides: Record<string, string | undefined> = {}, ...extra: string[]) => {
  const base: Record<string, string | undefined> = {
    region: 'nl-01', name: `matrix-${randomBytes(3).toString('hex')}`, 'key-type': 'aes256-gcm96', 'wrapped-file': files.blobNl, fingerprint: files.fingerprint, ...overrides,
  };
  return ['import', ...Object.entries(base).filter(([, v]) => v !== undefined).flatMap(([k, v]) => [`--${k}`, v as string]), ...extra];
};
const withoutEnv = (...names: string[]) => () => Object.fromEntries(Object.entries(env).filter(([k]) => !names.includes(k)));
const FP = () => files.fingerprint;

const CLI_CASES: [string, CliCase][] = [
  ['wrap: symmetric material of the wrong size', { args: () => wrapArgs('--key-type', 'aes256-gcm96', '--material', files.aesShort), exit: 1, fix: /needs exactly 32 bytes.*64 hex or 44 base64/, api: 'none' }],
  ['wrap: a PEM format forced on a symmetric key', { args: () => wrapArgs('--key-type', 'aes256-gcm96', '--material', files.aesHex, '--format', 'pem'), exit: 1, fix: /raw, hex, base64 or jwk/, api: 'none' }],
  ['wrap: an unknown --format', { args: () => wrapArgs('--key-type', 'aes256-gcm96', '--material', files.aesHex, '--format', 'b64'), exit: 2, fix: /--format must be one of auto, raw, hex, base64, pem, der, jwk, seed/, api: 'none' }],
  ['wrap: the wrong curve', { args: () => wrapArgs('--key-type', 'ecdsa-p256', '--material', files.p384), exit: 1, fix: /needs an EC key on curve P-256/, api: 'none' }],
  ['wrap: an HMAC key type', { args: () => wrapArgs('--key-type', 'hmac', '--material', files.aesHex), exit: 1, fix: /create it in Thalassa Cloud without importKeyMaterial/, api: 'none' }],
  ['wrap: the material variable is not set', { args: () => wrapArgs('--key-type', 'aes256-gcm96', '--material-env', 'BYOK_MATRIX_NOPE'), exit: 1, fix: /Environment variable BYOK_MATRIX_NOPE is not set or empty.*Export it before running/, api: 'none' }],
  ['wrap: the passphrase variable is not set', { args: () => wrapArgs('--key-type', 'ecdsa-p256', '--material', files.encrypted, '--passphrase-env', 'BYOK_MATRIX_PASS'), exit: 1, fix: /Export BYOK_MATRIX_PASS before running/, api: 'none' }],
  ['wrap: a wrong passphrase', { args: () => wrapArgs('--key-type', 'ecdsa-p256', '--material', files.encrypted, '--passphrase-env', 'BYOK_MATRIX_PASS'), env: () => ({ ...env, BYOK_MATRIX_PASS: 'wrong' }), exit: 1, fix: /passphrase is wrong or the key is damaged/, api: 'none' }],
  ['wrap: the material file does not exist', { args: () => wrapArgs('--key-type', 'aes256-gcm96', '--material', join(dir, 'missing.key')), exit: 1, fix: /it does not exist\. Check the path/, api: 'none' }],
  ['wrap: the wrapping-key file does not exist', { args: () => ['wrap', '--wrapping-key', join(dir, 'nope.pem'), '--key-type', 'aes256-gcm96', '--material', files.aesHex], exit: 1, fix: /thalassa-byok wrapping-key --region <region> --out/, api: 'none' }],
  ['wrap: a pin that does not match the wrapping key', { args: () => ['wrap', '--wrapping-key', files.nlPem, '--pin', files.deFingerprint, '--key-type', 'aes256-gcm96', '--material', files.aesHex], exit: 1, fix: /update the pin/, api: 'none' }],
  ['wrap: both --material and --material-env', { args: () => wrapArgs('--key-type', 'aes256-gcm96', '--material', files.aesHex, '--material-env', 'X'), exit: 2, fix: /Give exactly one of --material PATH, --material-env VAR, or a key in a PKCS#11 token/, api: 'none' }],
  ['fingerprint: the wrong RSA size', { args: () => ['fingerprint', '--key-type', 'rsa-4096', '--material', files.rsa2048], exit: 1, fix: /Use key type rsa-2048 if that size is intended/, api: 'none' }],
  ['fingerprint: an unknown key type', { args: () => ['fingerprint', '--key-type', 'aes-256-gcm', '--material', files.aesHex], exit: 1, fix: /Expected one of: aes128-gcm96/, api: 'none' }],
  ['import: THALASSA_ORGANISATION not set', { args: () => importArgs(), env: withoutEnv('THALASSA_ORGANISATION'), exit: 1, fix: /Export THALASSA_ORGANISATION/, api: 'none' }],
  ['import: no credentials', { args: () => importArgs(), env: withoutEnv('THALASSA_API_TOKEN'), exit: 1, fix: /Export THALASSA_API_TOKEN .*or THALASSA_CLIENT_ID and THALASSA_CLIENT_SECRET/, api: 'none' }],
  ['import: half of the client credentials', { args: () => importArgs(), env: () => ({ ...withoutEnv('THALASSA_API_TOKEN')(), THALASSA_CLIENT_ID: 'ci' }), exit: 1, fix: /THALASSA_CLIENT_SECRET is not; the client-credentials grant needs both/, api: 'none' }],
  ['import: http:// to a host that is not loopback', { args: () => importArgs(), env: () => ({ ...env, THALASSA_API_ENDPOINT: 'http://kms.example.invalid' }), exit: 1, fix: /Use https:\/\/, or http:\/\/ only to 127\.0\.0\.1/, api: 'none' }],
  ['import: an endpoint that is not a URL', { args: () => importArgs(), env: () => ({ ...env, THALASSA_API_ENDPOINT: 'api.thalassa.cloud' }), exit: 1, fix: /expected e\.g\. https:\/\/api\.thalassa\.cloud/, api: 'none' }],
  ['import: a region that is not a slug', { args: () => importArgs({ region: 'NL-01' }), exit: 2, fix: /--region must be a region slug such as nl-01/, api: 'none' }],
  ['import: an HMAC key type', { args: () => importArgs({ 'key-type': 'hmac-sha512' }), exit: 1, fix: /cannot be imported.*create it in Thalassa Cloud without importKeyMaterial/, api: 'none' }],
  ['import: the wrapped file does not exist', { args: () => importArgs({ 'wrapped-file': join(dir, 'none.wrapped') }), exit: 2, fix: /Was the stack synthesized \(cdktf synth\) on this machine\?/, api: 'none' }],
  ['import: the wrapped variable holds no base64', { args: () => importArgs({ 'wrapped-file': undefined, 'wrapped-env': 'BYOK_MATRIX_BLOB' }), env: () => ({ ...env, BYOK_MATRIX_BLOB: 'not*base64' }), exit: 2, fix: /should hold the wrapped blob as base64|does not hold base64/, api: 'none' }],
  ['import: a malformed fingerprint', { args: () => importArgs({ fingerprint: 'abc' }), exit: 2, fix: /--fingerprint must be spki-sha256:<64 hex>, hmac-sha256:<64 hex>/, api: 'none' }],
  ['import: an unsupported --hash', { args: () => importArgs({ hash: 'md5' }), exit: 1, fix: /Expected one of: sha1, sha256, sha384, sha512/, api: 'none' }],
  ['import: a --label without =', { args: () => importArgs({}, '--label', 'team'), exit: 2, fix: /--label takes key=value/, api: 'none' }],
  ['import: a reserved --annotation key', { args: () => importArgs({}, '--annotation', 'cdktf-thalassa-byok/fingerprint=mine'), exit: 2, fix: /reserved for this tool.*choose another key/, api: 'none' }],
  ['import: a name the API refuses (over 255 characters)', { args: () => importArgs({ name: 'n'.repeat(256) }), exit: 1, fix: /"name" must be 1 to 255 characters long; received 256/, api: 'refused' }],
  ['import: a blob wrapped for nl-01 imported into de-01', { args: () => importArgs({ region: 'de-01' }), exit: 1, fix: /answered 400.*wrapped for another key or region/, api: 'refused' }],
  ['import: a tampered blob', { args: () => importArgs({ 'wrapped-file': files.blobTampered }), exit: 1, fix: /answered 400.*integrity check.*damaged/, api: 'refused' }],
  ['import: the blob declared as another key type', { args: () => importArgs({ 'key-type': 'ed25519', fingerprint: `spki-sha256:${'ab'.repeat(32)}` }), exit: 1, fix: /answered 400.*does not match keyType ed25519/, api: 'refused' }],
  ['delete: a malformed fingerprint', { args: () => ['delete', '--region', 'nl-01', '--name', 'x', '--fingerprint', 'sha:1'], exit: 2, fix: /--fingerprint must be spki-sha256:<64 hex>/, api: 'none' }],
  ['delete: THALASSA_ORGANISATION not set', { args: () => ['delete', '--region', 'nl-01', '--name', 'x', '--fingerprint', FP()], env: withoutEnv('THALASSA_ORGANISATION'), exit: 1, fix: /Export THALASSA_ORGANISATION/, api: 'none' }],
  ['set-rotation: period 0', { args: () => ['set-rotation', '--region', 'nl-01', '--name', 'x', '--fingerprint', FP(), '--enabled', 'true', '--period-days', '0'], exit: 2, fix: /--period-days must be a whole number of days from 1 to 3650/, api: 'none' }],
  ['set-rotation: period 3651', { args: () => ['set-rotation', '--region', 'nl-01', '--name', 'x', '--fingerprint', FP(), '--enabled', 'true', '--period-days', '3651'], exit: 2, fix: /from 1 to 3650/, api: 'none' }],
  ['set-rotation: --enabled yes', { args: () => ['set-rotation', '--region', 'nl-01', '--name', 'x', '--fingerprint', FP(), '--enabled', 'yes'], exit: 2, fix: /--enabled must be true or false/, api: 'none' }],
  ['wrapping-key: a pin that does not match (a substituted key)', { args: () => ['wrapping-key', '--region', 'nl-01', '--pin', files.deFingerprint, '--out', join(dir, 'never.pem')], exit: 1, fix: /is not the pinned fingerprint( spki-sha256:[0-9a-f]{64})?\. The key may have been substituted, or it belongs to another region.*update the pin/, api: 'read' }],
  ['wrapping-key: a region that is not a slug', { args: () => ['wrapping-key', '--region', 'nl_01'], exit: 2, fix: /--region must be a region slug such as nl-01/, api: 'none' }],
  ['wrapping-key: a region that does not exist', { args: () => ['wrapping-key', '--region', 'xx-99'], exit: 1, fix: /answered 404.*Either region xx-99 does not exist/, api: 'read' }],
];

describe('bad input through the CLI fails before any key exists, with the fix named', () => {
  it('the matrix has at least 40 cases across the two surfaces', () => {
    expect(CONSTRUCT_CASES.length + PREPARATION_CASES.length + 2 + CLI_CASES.length).toBeGreaterThanOrEqual(40);
    expect(CLI_CASES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(CLI_CASES)('%s', async (_name, c) => {
    const keysBefore = await allKeys();
    const logBefore = emulator.requestLog.length;
    const createsBefore = keyCreates();
    const result = await runCli(c.args(), c.env?.() ?? env);
    const seen = emulator.requestLog.slice(logBefore);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: c.exit, stderr: expect.stringMatching(c.fix) });
    expect(result.stderr).toMatch(/^thalassa-byok [a-z-]+: .*\[[A-Z_]+\]$|^thalassa-byok [a-z-]+: /m);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toMatch(/unexpected error| {4}at /);
    expectNoLeak(`${result.stdout}\n${result.stderr}`, aes, TOKEN);
    if (c.api === 'none') expect(seen).toEqual([]);
    if (c.api === 'read') expect(seen.every((e) => e.method === 'GET')).toBe(true);
    if (c.api === 'refused') {
      const creates = seen.filter((e) => e.method === 'POST');
      expect(creates.map((e) => e.status)).toEqual([400]);
    } else {
      expect(keyCreates()).toBe(createsBefore);
    }
    // The one thing that matters: no key was created, in any region.
    expect(await allKeys()).toBe(keysBefore);
  });

  it('the wrapping-key pin mismatch saved nothing', async () => {
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(dir, 'never.pem'))).toBe(false);
  });
});
