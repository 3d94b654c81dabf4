/**
 * Keys in an HSM, end to end: a real `cdktf deploy` (cdktf-cli, Terraform, the emulator) of an AES-256 and a
 * P-256 key generated inside a SoftHSM2 token this file creates, declared with `KeyMaterial.fromPkcs11`. The
 * imported keys are proven to hold the token's keys (the emulator encrypts and the token decrypts; the emulator
 * signs and the token's public key verifies); a diff right after shows no changes; a lost state's keys are
 * adopted on their proofs (the token's AES-CMAC commitment, the public key); and neither the PIN nor the
 * material (exported from the emulator afterwards) appears in anything produced. Fails, never skips, without
 * SoftHSM2.
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { KmsClient, type KmsKey } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { COMMITMENT_ANNOTATION, FINGERPRINT_ANNOTATION, OWNER_LABEL } from '../../src/protocol';
import { cmacAesCommitment, cmacAesFingerprint, spkiFingerprint } from '../../src/material';
import { WrappingKey } from '../../src/wrapping';
import { expectNoLeak } from '../support/no-leak';
import { createToken, findObject, PIN_ENV, type TestToken } from '../hsm/softhsm';
import { E2eProject, ORGANISATION, producedTexts, REGION, REPO, type AppConfig } from './harness';

jest.setTimeout(300_000);

const STACK = 'hsm';
let emulator: RunningEmulator;
let client: KmsClient;
let token: TestToken;
let apiToken: string;
const apiEnv: Record<string, string> = {};
const projects: E2eProject[] = [];
let config: AppConfig;

beforeAll(async () => {
  // A long random PIN, so that finding it in an output could not be chance.
  token = await createToken('byok-e2e', randomBytes(18).toString('base64url'));
  token.tool(['--keygen', '--key-type', 'AES:32', '--label', 'data-key', '--id', 'd1', '--extractable']);
  token.tool(['--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'signing-key', '--id', 'd2', '--extractable']);
  apiToken = randomBytes(18).toString('base64url');
  emulator = await startEmulator({ tokens: [{ token: apiToken, organisation: ORGANISATION }] });
  Object.assign(apiEnv, { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: apiToken, THALASSA_ORGANISATION: ORGANISATION });
  client = KmsClient.fromEnvironment({ env: apiEnv });
  const wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey(REGION));
  const project = new E2eProject('byok-e2e-hsm-', apiEnv);
  projects.push(project);
  const wrappingKeyFile = join(project.dir, 'wrapping-key.pem');
  writeFileSync(wrappingKeyFile, wrappingKey.pem);
  const pkcs11 = (keyLabel: string): Record<string, string> => ({ module: token.module, tokenLabel: token.label, pinEnv: PIN_ENV, keyLabel });
  // SoftHSM2 2.6.1 wraps with OAEP SHA-1 only, so the keys say so (the default, sha256, fails synth there).
  // exportAllowed lets the test fetch the imported material afterwards, for the leak search.
  const props = { hashFunction: 'sha1', exportAllowed: true };
  config = {
    cdktf: join(REPO, 'node_modules', 'cdktf'), library: join(REPO, 'dist'), stack: STACK, wrappingKeyFile, pin: wrappingKey.fingerprint,
    keys: [
      { id: 'aes', name: 'e2e-hsm-aes', keyType: 'aes256-gcm96', pkcs11: pkcs11('data-key'), props },
      { id: 'p256', name: 'e2e-hsm-p256', keyType: 'ecdsa-p256', pkcs11: pkcs11('signing-key'), props },
    ],
  };
  project.writeConfig(config);
});

afterAll(async () => {
  await client?.close();
  await emulator?.close();
  if (process.env.BYOK_E2E_KEEP !== '1') for (const p of projects) p.remove();
  token?.cleanup();
});

async function keyNamed(base: string): Promise<KmsKey> {
  const found = (await client.listKeys(REGION)).filter((k) => new RegExp(`^${base}-[0-9a-f]{8}$`).test(k.name));
  expect(found.map((k) => k.status)).toEqual(['active']);
  return found[0];
}

async function deployOk(project: E2eProject): Promise<string> {
  const result = await project.cdktf(STACK, 'deploy', '--auto-approve', '--outputs-file', 'outputs.json');
  if (result.code !== 0) throw new Error(`cdktf deploy exited ${result.code}:\n${result.output.slice(-5000)}`);
  return result.output;
}

/** The emulator's AES-GCM ciphertext (`thalassa:v1:` base64 of nonce 12 ‖ body ‖ tag 16), decrypted in the token. */
function decryptInToken(label: string, ciphertext: string): Buffer {
  const data = Buffer.from(/^thalassa:v1:(.*)$/.exec(ciphertext)?.[1] ?? '', 'base64');
  return token.withSession((p, session) => {
    const key = findObject(p, session, pkcs11js.CKO_SECRET_KEY, label);
    const mechanism = { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv: data.subarray(0, 12), ivBits: 96, tagBits: 128 } as pkcs11js.AesGCM };
    p.C_DecryptInit(session, mechanism, key);
    const body = data.subarray(12);
    return Buffer.from(p.C_Decrypt(session, body, Buffer.alloc(body.length)));
  });
}

/** The key material the emulator holds (exportAllowed), for the leak search only. */
async function exportedMaterial(key: KmsKey): Promise<Buffer> {
  const res = await fetch(`${emulator.url}/v1/kms/${REGION}/keys/${key.identity}/export`, {
    method: 'POST', body: '{}',
    headers: { authorization: `Token ${apiToken}`, 'x-organisation-identity': ORGANISATION, 'content-type': 'application/json', accept: 'application/json' },
  });
  expect(res.status).toBe(200);
  return Buffer.from(((await res.json()) as { keyMaterial: string }).keyMaterial, 'base64');
}

describe('keys whose material lives in SoftHSM2', () => {
  let aes: KmsKey;
  let p256: KmsKey;

  test('cdktf deploy imports both; each carries the fingerprint computed in the token, the AES key its commitment', async () => {
    const project = projects[0];
    await deployOk(project);
    aes = await keyNamed('e2e-hsm-aes');
    p256 = await keyNamed('e2e-hsm-p256');
    const outputs = project.readOutputs('outputs.json', STACK);
    expect(aes.keyType).toBe('aes256-gcm96');
    expect(aes.annotations?.[FINGERPRINT_ANNOTATION]).toMatch(/^cmac-aes:[0-9a-f]{32}$/);
    expect(Object.entries(outputs).find(([k]) => k.startsWith('aes-fingerprint'))?.[1]).toBe(aes.annotations?.[FINGERPRINT_ANNOTATION]);
    // The commitment the synth wrote (computed by the token) is the one recorded on the key; the P-256 key has none.
    expect([...project.commitments]).toEqual([aes.annotations?.[COMMITMENT_ANNOTATION]]);
    expect(aes.annotations?.[COMMITMENT_ANNOTATION]).toMatch(/^cmac-aes:[0-9a-f]{32}$/);
    expect(p256.annotations?.[COMMITMENT_ANNOTATION]).toBeUndefined();
  });

  test('the AES key is the token\'s: the emulator encrypts, the token decrypts', async () => {
    const plaintext = randomBytes(77);
    const { ciphertext } = await client.encrypt(REGION, aes.identity, plaintext.toString('base64'));
    expect(decryptInToken('data-key', ciphertext)).toEqual(plaintext);
  });

  test('the P-256 key is the token\'s: the emulator signs, the token\'s public key verifies, and the fingerprints agree', async () => {
    token.tool(['--read-object', '--type', 'pubkey', '--label', 'signing-key', '--output-file', join(token.dir, 'signing-key.der')]);
    const tokenPublicKey = createPublicKey({ key: readFileSync(join(token.dir, 'signing-key.der')), format: 'der', type: 'spki' });
    const input = randomBytes(64);
    const { signature } = await client.sign(REGION, p256.identity, { input: input.toString('base64') });
    expect(verify('sha256', input, tokenPublicKey, Buffer.from(signature, 'base64'))).toBe(true);
    expect(p256.annotations?.[FINGERPRINT_ANNOTATION]).toBe(spkiFingerprint(tokenPublicKey));
    const published = await client.publicKeys(REGION, p256.identity);
    expect(spkiFingerprint(createPublicKey(published['1']))).toBe(spkiFingerprint(tokenPublicKey));
  });

  test('the emulator\'s AES material has the fingerprint and commitment the token computed', async () => {
    const material = await exportedMaterial(aes);
    expect(material.length).toBe(32);
    expect(cmacAesFingerprint(material)).toBe(aes.annotations?.[FINGERPRINT_ANNOTATION]);
    expect(cmacAesCommitment(material)).toBe(aes.annotations?.[COMMITMENT_ANNOTATION]);
  });

  test('cdktf diff right after shows no changes (fingerprints and hash repeat across synths)', async () => {
    const result = await projects[0].cdktf(STACK, 'diff');
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/No changes\. Your infrastructure matches the configuration/);
  });

  test('a lost state\'s keys are adopted on their proofs: the AES key by its commitment, the P-256 key by its public key', async () => {
    const ownerId = aes.labels?.[OWNER_LABEL] as string;
    const second = new E2eProject('byok-e2e-hsm-again-', apiEnv);
    projects.push(second);
    writeFileSync(join(second.dir, 'wrapping-key.pem'), readFileSync(config.wrappingKeyFile));
    second.writeConfig({ ...config, wrappingKeyFile: join(second.dir, 'wrapping-key.pem'), keyOwner: { ownerId } });
    const output = await deployOk(second);
    expect(output.match(/Adopted existing key/g)?.length).toBe(2);
    expect((await keyNamed('e2e-hsm-aes')).identity).toBe(aes.identity);
    expect((await keyNamed('e2e-hsm-p256')).identity).toBe(p256.identity);
  });

  test('neither the PIN nor the material is in anything produced; blobs and commitments stay in their files', async () => {
    const secrets: (Buffer | string)[] = [token.pin, await exportedMaterial(aes), await exportedMaterial(p256)];
    expect(secrets[1].length).toBe(32);
    expect(secrets[2].length).toBe(67);
    for (const project of projects) {
      const texts = producedTexts(project, STACK);
      expect(texts.some((t) => t.label === `terraform.${STACK}.tfstate`)).toBe(true);
      const blobs = [...project.blobs.values()].map((b) => b.subarray(0, 64));
      expect(blobs.length).toBeGreaterThanOrEqual(2);
      for (const { label, text } of texts) {
        try {
          expectNoLeak(text, ...secrets);
          if (/tfstate|cdk\.tf\.json$|cdktf output/.test(label)) expectNoLeak(text, ...blobs);
        } catch (err) {
          throw new Error(`${label}: ${(err as Error).message}`);
        }
        if (!label.endsWith('.commitment')) for (const c of project.commitments) expect(text.includes(c.split(':')[1])).toBe(false);
      }
    }
  });
});
