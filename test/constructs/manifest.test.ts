/**
 * The stack manifest (docs/manifest.md) as the synth writes it, and the contract with its reader: every
 * field check needs, the resource addresses exist in the configuration, no material or blob inside.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportedKmsKey, KeyOwner } from '../../src/constructs';
import { readManifest, readManifestEntries } from '../../src/cli/manifest';
import { STACK_MANIFEST_VERSION } from '../../src/protocol';
import { AES_KEY, baseProps, fullSynth, wrappingKey } from './fixtures';

function synthManifest(explicitOwner: boolean): { dir: string; text: string; config: { resource: Record<string, Record<string, unknown>> } } {
  const outdir = fullSynth((stack) => {
    if (explicitOwner) new KeyOwner(stack, { ownerId: 'owner-1' });
    new ImportedKmsKey(stack, 'k', baseProps({
      name: 'k', description: 'd', labels: { team: 'a' }, annotations: { note: 'n' }, exportAllowed: true, allowRotation: true,
      rotation: { enabled: true, periodInDays: 30 }, removalPolicy: 'retain', hashFunction: 'sha512',
    }));
  });
  const dir = join(outdir, 'stacks', 'stack');
  return { dir, text: readFileSync(join(dir, 'byok', 'keys.json'), 'utf8'), config: JSON.parse(readFileSync(join(dir, 'cdk.tf.json'), 'utf8')) };
}

function addressExists(config: { resource: Record<string, Record<string, unknown>> }, address: string): boolean {
  const [type, name] = address.split('.');
  return config.resource[type]?.[name] !== undefined;
}

test('version 3, every immutable setting, rotation, wrapping key; its keys\' entries in the wrapped-keys file; readable by the CLI', () => {
  const { dir, text, config } = synthManifest(true);
  const manifest = readManifest(join(dir, 'byok', 'keys.json'));
  expect(manifest.version).toBe(STACK_MANIFEST_VERSION);
  expect(STACK_MANIFEST_VERSION).toBe(3);
  expect(manifest.owner).toEqual({ source: 'explicit', id: 'owner-1' });
  const [key] = manifest.keys;
  expect(key).toMatchObject({
    path: 'stack/k', region: 'nl-01', keyType: 'aes256-gcm96', removalPolicy: 'retain',
    settings: { description: 'd', labels: { team: 'a' }, annotations: { note: 'n' }, exportAllowed: true, allowRotation: true, hashFunction: 'sha512' },
    rotation: { enabled: true, periodInDays: 30 }, wrappingKey: { fingerprint: wrappingKey().fingerprint, region: 'nl-01' },
  });
  expect(key).not.toHaveProperty('blobFile');
  expect(key).not.toHaveProperty('commitmentFile');
  const entry = readManifestEntries(manifest, dir, 'manifest').get(key.construct)!;
  expect(entry.blob.length).toBeGreaterThan(256);
  expect(entry.commitment).toMatch(/^hmac-sha256:/);
  expect(addressExists(config, key.resource)).toBe(true);
  // No material, blob or commitment in the manifest itself.
  for (const secret of [AES_KEY.toString('hex'), AES_KEY.toString('base64'), Buffer.from(entry.blob).toString('base64').slice(0, 40),
    entry.commitment!.slice(12)]) expect(text).not.toContain(secret);
});

test('without an explicit owner id, the manifest names the owner resource whose id the state holds', () => {
  const { dir, config } = synthManifest(false);
  const manifest = readManifest(join(dir, 'byok', 'keys.json'));
  expect(manifest.owner.source).toBe('state');
  const owner = manifest.owner as { address: string };
  expect(addressExists(config, owner.address)).toBe(true);
  expect(owner.address).toMatch(/^terraform_data\.ThalassaByokKeyOwner_/);
});
