/**
 * `ImportedKmsKey` with `KeyMaterial.fromPkcs11`, against a real SoftHSM2 2.6.1 token this file creates: the
 * token wraps its key at synth with exactly the declared hash, the blob file holds the token's key (unwrapped
 * here with the wrapping key's private half, then checked against the token), a symmetric key that may sign
 * carries the token's AES-CMAC commitment, and every failure is a synth error naming the construct and the fix,
 * never the PIN. Fails (never skips) without SoftHSM2.
 */
import { createCipheriv, createPublicKey, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import * as pkcs11js from 'pkcs11js';
import { ImportedKmsKey, ImportedKmsKeyError } from '../../src/constructs';
import { HsmKeyMaterial, KeyMaterial, KeyMaterialError } from '../../src';
import { cmacAesCommitment, cmacAesFingerprint, spkiFingerprint, type Pkcs11KeySource } from '../../src/material';
import { unwrap } from '../../src/wrapping';
import { readCommitmentFile } from '../../src/cli/owner-only-file';
import { readManifest, readManifestEntries } from '../../src/cli/manifest';
import { wrappedKeyOf } from '../support/wrapped-keys';
import type { StackManifest } from '../../src/protocol';
import { argv, baseProps, buildKey, fullSynth, newStack, synthJson, wrappingKeyPair, type Provisioner } from '../constructs/fixtures';
import { createToken, findObject, PIN, PIN_ENV, type TestToken } from './softhsm';

let token: TestToken;

beforeAll(async () => {
  token = await createToken('construct-test');
  token.tool(['--keygen', '--key-type', 'AES:32', '--label', 'data-key', '--id', 'c1', '--extractable']);
  token.tool(['--keygen', '--key-type', 'AES:32', '--label', 'fixed-key', '--id', 'c2']);
  token.tool(['--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'signing-key', '--id', 'c3', '--extractable']);
  token.tool(['--keypairgen', '--key-type', 'EC:edwards25519', '--label', 'ed-key', '--id', 'c4', '--extractable']);
  token.withSession((p, session) => {
    p.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }, { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 }, { type: pkcs11js.CKA_TOKEN, value: true }, { type: pkcs11js.CKA_LABEL, value: 'encrypt-only' },
      { type: pkcs11js.CKA_SIGN, value: false }, { type: pkcs11js.CKA_ENCRYPT, value: true }, { type: pkcs11js.CKA_DECRYPT, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true }, { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    ]);
  });
});

afterAll(() => token?.cleanup());

const PATH = 'stack/key';
const source = (extra: Partial<Pkcs11KeySource> = {}): Pkcs11KeySource => ({ module: token.module, tokenLabel: token.label, pinEnv: PIN_ENV, keyLabel: 'data-key', ...extra });
const hsmKey = (extra: Partial<Pkcs11KeySource> = {}, props: Record<string, unknown> = {}, stack = newStack()): ImportedKmsKey =>
  buildKey(stack, 'key', baseProps({ material: KeyMaterial.fromPkcs11(source(extra)), hashFunction: 'sha1', ...props }));
const warnings = (key: ImportedKmsKey): string[] =>
  key.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data)).filter((m) => !m.includes('CLI was not found'));

interface Synthesized {
  readonly key: ImportedKmsKey;
  readonly stackDir: string;
  readonly blob: Buffer;
  readonly commitment?: string;
  readonly manifest: StackManifest;
  readonly importArgv: string[];
  readonly triggers: Record<string, unknown>;
}

function synthOne(props: Record<string, unknown>, extra: Partial<Pkcs11KeySource> = {}): Synthesized {
  let key: ImportedKmsKey | undefined;
  const outdir = fullSynth((stack) => {
    key = hsmKey(extra, props, stack);
  });
  const stackDir = join(outdir, 'stacks', 'stack');
  const json = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as { resource: { terraform_data: Record<string, { triggers_replace: Record<string, unknown>; provisioner: Provisioner[] }> } };
  const resource = Object.entries(json.resource.terraform_data).find(([id]) => id.startsWith('key_'))![1];
  const { blob, commitment } = wrappedKeyOf(stackDir, key!);
  return {
    key: key!, stackDir, blob, commitment,
    manifest: JSON.parse(readFileSync(join(stackDir, 'byok', 'keys.json'), 'utf8')) as StackManifest,
    importArgv: argv(resource.provisioner.find((p) => p['local-exec'].when === undefined)!),
    triggers: resource.triggers_replace,
  };
}

/** AES-GCM decryption inside the token (nonce 12, tag 16), to prove a key unwrapped from a blob is the token's. */
function decryptInToken(label: string, iv: Buffer, body: Buffer): Buffer {
  return token.withSession((p, session) => {
    const key = findObject(p, session, pkcs11js.CKO_SECRET_KEY, label);
    p.C_DecryptInit(session, { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, ivBits: 96, tagBits: 128 } as pkcs11js.AesGCM }, key);
    return Buffer.from(p.C_Decrypt(session, body, Buffer.alloc(body.length)));
  });
}

describe('an AES-256 key in the token', () => {
  it('is wrapped by the token: the blob holds the token\'s key, with the token\'s fingerprint and commitment', () => {
    const s = synthOne({ name: 'data' });
    const raw = unwrap(s.blob, wrappingKeyPair().privateKey, { hash: 'sha1' });
    expect(raw.length).toBe(32);
    const iv = randomBytes(12);
    const plaintext = randomBytes(48);
    const cipher = createCipheriv('aes-256-gcm', raw, iv);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    expect(decryptInToken('data-key', iv, body)).toEqual(plaintext);

    expect(s.key.fingerprint).toBe(cmacAesFingerprint(raw));
    expect(s.commitment).toBe(cmacAesCommitment(raw));
    expect(s.commitment).toMatch(/^cmac-aes:[0-9a-f]{32}$/);
    expect(s.commitment).not.toBe(s.key.fingerprint);
    // What import and sweep read back: the CLI accepts the token's commitment as it accepts an HMAC one.
    expect(readManifestEntries(readManifest(join(s.stackDir, 'byok', 'keys.json')), s.stackDir, 'manifest').get(s.key.constructId)?.commitment).toBe(s.commitment);
    // The commitment is in the wrapped-keys file only, never in the configuration.
    expect(readFileSync(join(s.stackDir, 'cdk.tf.json'), 'utf8')).not.toContain(s.commitment!.split(':')[1]);
  });

  it('imports with the hash actually used, and the triggers repeat across synths', () => {
    const first = synthOne({ name: 'data' });
    const second = synthOne({ name: 'data' });
    expect(first.key.hashFunction).toBe('sha1');
    expect(first.importArgv).toContain('--hash=sha1');
    expect(first.importArgv).toContain('--wrapped-file=byok/keys.wrapped');
    expect(first.triggers).toMatchObject({ hashFunction: 'sha1', fingerprint: first.key.fingerprint });
    expect(second.triggers).toEqual(first.triggers);
    expect(second.key.physicalName).toBe(first.key.physicalName);
    expect(second.blob.equals(first.blob)).toBe(false);
    expect(second.commitment).toBe(first.commitment);
  });

  it('by keyId as by keyLabel', () => {
    expect(hsmKey({ keyLabel: undefined, keyId: 'C1' }).fingerprint).toBe(hsmKey().fingerprint);
  });

  it('warns that SHA-1 is weak, and nothing else', () => {
    const found = warnings(hsmKey());
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/hashFunction "sha1" is weak/);
  });

  it('fails synth where the token refuses the default sha256, naming hashFunction: \'sha1\' as the fix and that it is weak', () => {
    const err = caught(() => buildKey(newStack(), 'key', baseProps({ material: KeyMaterial.fromPkcs11(source()) })));
    expect({ code: err.code, prop: err.prop, path: err.constructPath }).toEqual({ code: 'MATERIAL_INVALID', prop: 'hashFunction', path: PATH });
    expect(err.message).toMatch(/^ImportedKmsKey "stack\/key": property "hashFunction" must be .*hashFunction: 'sha1'.*weak.*received "sha256", which PKCS#11 token "construct-test".*refused.*CKM_RSA_PKCS_OAEP with sha256/s);
  });
});

describe('an AES key in the token that may encrypt but not sign', () => {
  it('gets the KCV fingerprint and no commitment, and the synth warns that it is never adopted', () => {
    const s = synthOne({ name: 'enc' }, { keyLabel: 'encrypt-only' });
    expect(s.key.fingerprint).toMatch(/^kcv-aes:[0-9a-f]{32}$/);
    expect(s.commitment).toBeUndefined();
    expect(s.importArgv.some((a) => a.startsWith('--commitment-file'))).toBe(false);
    const found = warnings(s.key).filter((w) => !w.includes('is weak'));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^ImportedKmsKey "stack\/key": the key in PKCS#11 token "construct-test".*may not sign \(CKA_SIGN is not true\).*never adopted.*CKA_SIGN true/);
  });
});

describe('a P-256 key in the token', () => {
  it('is fingerprinted by the token\'s public key, carries no commitment, and imports with the hash used', () => {
    const s = synthOne({ name: 'sig', keyType: 'ecdsa-p256' }, { keyLabel: 'signing-key' });
    token.tool(['--read-object', '--type', 'pubkey', '--label', 'signing-key', '--output-file', join(token.dir, 'signing-key.der')]);
    const spki = createPublicKey({ key: readFileSync(join(token.dir, 'signing-key.der')), format: 'der', type: 'spki' });
    expect(s.key.fingerprint).toBe(spkiFingerprint(spki));
    expect(s.commitment).toBeUndefined();
    expect(s.importArgv).toContain('--hash=sha1');
    expect(s.triggers).toMatchObject({ keyType: 'ecdsa-p256', hashFunction: 'sha1', fingerprint: s.key.fingerprint });
    // The RSA-OAEP part is the wrapping key's size; the rest a KWP of the token's PKCS#8 (zero-padded to 72).
    expect(s.blob.length).toBe(256 + 80);
  });
});

function caught(fn: () => unknown): ImportedKmsKeyError {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ImportedKmsKeyError)) throw err;
    expect(err.message).not.toContain(PIN);
    expect(err.message).not.toContain('999999');
    return err;
  }
  throw new Error('no error');
}

describe('synth errors name the construct, the token and the fix, never the PIN', () => {
  const cases: { what: string; extra: Partial<Pkcs11KeySource>; keyType?: string; message: RegExp; before?: () => void }[] = [
    { what: 'a PIN variable that is not set', extra: { pinEnv: 'THALASSA_TEST_UNSET_PIN' }, message: /THALASSA_TEST_UNSET_PIN, which is not set or empty\. Export it/ },
    { what: 'a wrong PIN', extra: { pinEnv: 'THALASSA_TEST_WRONG_PIN' }, message: /refused the PIN from environment variable THALASSA_TEST_WRONG_PIN \(CKR_PIN_INCORRECT\)/, before: () => { process.env.THALASSA_TEST_WRONG_PIN = '999999'; } },
    { what: 'the PIN itself where its variable\'s name belongs', extra: { pinEnv: PIN }, message: /not a variable name/ },
    { what: 'an unknown token', extra: { tokenLabel: 'no-such-token' }, message: /No token labelled "no-such-token".*tokens present: "construct-test"/ },
    { what: 'an unknown key label', extra: { keyLabel: 'no-such-key' }, message: /No secret key object is the key labelled "no-such-key".*Check the label or id/ },
    { what: 'a module that does not load', extra: { module: '/nonexistent/libpkcs11.so' }, message: /Cannot load the PKCS#11 module .*Check the path/ },
    { what: 'a key that is not extractable', extra: { keyLabel: 'fixed-key' }, message: /not extractable \(CKA_EXTRACTABLE is false\).*HSM administrator created it extractable/ },
    { what: 'Ed25519, which SoftHSM2 2.6.1 will not wrap', extra: { keyLabel: 'ed-key' }, keyType: 'ed25519', message: /CKR_KEY_NOT_WRAPPABLE.*must be extractable.*SoftHSM2 2\.6\.1 does not/ },
    { what: 'a key of another type than keyType', extra: { keyLabel: 'signing-key' }, keyType: 'ecdsa-p384', message: /a key on P-256; key type ecdsa-p384 needs an EC private key on P-384/ },
    { what: 'ChaCha20, which a token cannot hold here', extra: {}, keyType: 'chacha20-poly1305', message: /AES keys only/ },
  ];
  it.each(cases)('$what', ({ extra, keyType, message, before }) => {
    before?.();
    const err = caught(() => hsmKey(extra, keyType === undefined ? {} : { keyType }));
    expect({ code: err.code, prop: err.prop, path: err.constructPath }).toEqual({ code: 'MATERIAL_INVALID', prop: 'material', path: PATH });
    expect(err.message).toMatch(/^ImportedKmsKey "stack\/key": property "material" must be .* key material the token can wrap; received the key in PKCS#11 token/);
    expect(err.message).toMatch(message);
  });

  it('a malformed source fails when it is declared, naming what is missing', () => {
    expect(() => KeyMaterial.fromPkcs11({ module: token.module, tokenLabel: token.label, pinEnv: PIN_ENV })).toThrow(/exactly one of keyLabel \(CKA_LABEL\) and keyId/);
    expect(() => KeyMaterial.fromPkcs11({ module: '', tokenLabel: token.label, pinEnv: PIN_ENV, keyLabel: 'x' })).toThrow(KeyMaterialError);
    expect(() => KeyMaterial.fromPkcs11({ module: token.module, tokenLabel: token.label, pinEnv: PIN_ENV, keyId: 'xyz' })).toThrow(/CKA_ID as hex/);
  });

  it('the material object prints where the key is, never the PIN', () => {
    const material = KeyMaterial.fromPkcs11(source());
    expect(material).toBeInstanceOf(HsmKeyMaterial);
    const shown = [String(material), JSON.stringify(material), inspect(material)].join('\n');
    expect(shown).toContain('PKCS#11 token "construct-test"');
    expect(shown).toContain(PIN_ENV);
    expect(shown).not.toContain(PIN);
  });
});

describe('an owner-only commitment file', () => {
  it('is read by import and sweep when it holds a cmac-aes: commitment, and refused otherwise', () => {
    const dir = join(token.dir, 'commitments');
    mkdirSync(dir, { mode: 0o700 });
    const good = join(dir, 'good.commitment');
    writeFileSync(good, `cmac-aes:${'ab'.repeat(16)}\n`, { mode: 0o600 });
    expect(readCommitmentFile(good, 'commitment-file')).toBe(`cmac-aes:${'ab'.repeat(16)}`);
    for (const [name, text] of [['short', `cmac-aes:${'ab'.repeat(15)}`], ['long', `cmac-aes:${'ab'.repeat(32)}`], ['upper', `cmac-aes:${'AB'.repeat(16)}`], ['kcv', `kcv-aes:${'ab'.repeat(16)}`]]) {
      const file = join(dir, `${name}.commitment`);
      writeFileSync(file, text, { mode: 0o600 });
      expect(() => readCommitmentFile(file, 'commitment-file')).toThrow(/does not hold a commitment \(hmac-sha256: and 64 hex digits, or cmac-aes: and 32/);
    }
  });
});

// Keep the synthJson import meaningful: a plain synth (no custom synthesis) reaches the token too.
test('a plain synth of an HSM key has no blob or PIN in the configuration', () => {
  const stack = newStack();
  hsmKey({}, {}, stack);
  const text = JSON.stringify(synthJson(stack));
  expect(text).toContain('"--hash=sha1"');
  expect(text).not.toContain(PIN);
});
