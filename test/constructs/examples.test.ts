/**
 * The examples app's stack builds from environment variables and generated material.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { exampleConfig, MATERIAL_FILES } from '../../examples/config';
import { ExampleStack } from '../../examples/stack';
import { wrappingKeyPair } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'byok-example-'));
writeFileSync(join(dir, MATERIAL_FILES.aes256), randomBytes(32), { mode: 0o600 });
writeFileSync(join(dir, MATERIAL_FILES.hsmChacha20), randomBytes(32), { mode: 0o600 });
writeFileSync(join(dir, MATERIAL_FILES.ecdsaP256), generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
writeFileSync(join(dir, 'wrapping-key.pem'), wrappingKeyPair().publicPem);

test('three keys and a rotation resource, from the environment', () => {
  const stack = new ExampleStack(Testing.app(), exampleConfig({ BYOK_EXAMPLE_DIR: dir, BYOK_EXAMPLE_REGION: 'de-01', BYOK_EXAMPLE_ROTATION_DAYS: '45' }));
  const { symmetric, ecdsa, preWrapped } = stack.keys;
  expect([symmetric.keyType, ecdsa.keyType, preWrapped.keyType]).toEqual(['aes256-gcm96', 'ecdsa-p256', 'chacha20-poly1305']);
  expect(ecdsa.fingerprint).toMatch(/^spki-sha256:/);
  expect(preWrapped.fingerprint).toMatch(/^hmac-sha256:/);
  const out = JSON.parse(Testing.synth(stack, true)) as { resource: { terraform_data: Record<string, { triggers_replace: Record<string, unknown> }> } };
  // The key and rotation resources; not the stack's key owner.
  const triggers = Object.entries(out.resource.terraform_data).filter(([id]) => !id.startsWith('ThalassaByokKeyOwner')).map(([, r]) => r.triggers_replace);
  expect(triggers).toHaveLength(4);
  expect(triggers.every((t) => t.region === 'de-01')).toBe(true);
  expect(triggers.find((t) => t.periodInDays !== undefined)?.periodInDays).toBe(45);
});

test('BYOK_EXAMPLE_ALLOW_ROTATION=false drops the rotation resource and renames the symmetric key', () => {
  const on = new ExampleStack(Testing.app(), exampleConfig({ BYOK_EXAMPLE_DIR: dir }));
  const off = new ExampleStack(Testing.app(), exampleConfig({ BYOK_EXAMPLE_DIR: dir, BYOK_EXAMPLE_ALLOW_ROTATION: 'false' }));
  expect(off.keys.symmetric.rotationResource).toBeUndefined();
  expect(off.keys.symmetric.physicalName).not.toBe(on.keys.symmetric.physicalName);
  expect(off.keys.ecdsa.physicalName).toBe(on.keys.ecdsa.physicalName);
});

test('bad settings are refused', () => {
  expect(() => exampleConfig({ BYOK_EXAMPLE_ALLOW_ROTATION: 'maybe' })).toThrow(/BYOK_EXAMPLE_ALLOW_ROTATION/);
  expect(() => exampleConfig({ BYOK_EXAMPLE_REMOVAL_POLICY: 'destroy' })).toThrow(/BYOK_EXAMPLE_REMOVAL_POLICY/);
});
