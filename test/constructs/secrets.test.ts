/**
 * Invariants 1–3 at synth: no material and no wrapped blob anywhere in the synthesized configuration; the
 * blob only in the stack's owner-only wrapped-keys file; the configuration identical across synths although
 * the blob is not.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manifest, type TerraformStack } from 'cdktf';
import { ImportedKmsKey } from '../../src/constructs';
import { KeyMaterial, wrap } from '../../src';
import { unwrap } from '../../src/wrapping';
import { symmetricCommitment } from '../../src/material/fingerprint';
import { baseProps, filesUnder, fullSynth, wrappingKey, wrappingKeyPair } from './fixtures';
import { wrappedKeyOf, wrappedKeysOf } from '../support/wrapped-keys';

const AES = randomBytes(32);
const ED = generateKeyPairSync('ed25519').privateKey;
const ED_DER = ED.export({ type: 'pkcs8', format: 'der' });
const ED_PEM = ED.export({ type: 'pkcs8', format: 'pem' }).toString();
const HSM_KEY = randomBytes(32);
const PREWRAPPED = wrap(HSM_KEY, wrappingKey(), { hash: 'sha256' });

const keys: ImportedKmsKey[] = [];
function build(stack: TerraformStack): void {
  keys.length = 0;
  keys.push(
    new ImportedKmsKey(stack, 'aes', baseProps({ name: 'aes', material: KeyMaterial.fromBytes(AES), allowRotation: true, rotation: { enabled: true, periodInDays: 30 } })),
    new ImportedKmsKey(stack, 'ed', baseProps({ name: 'ed', keyType: 'ed25519', material: KeyMaterial.fromBytes(ED_PEM), hashFunction: 'sha512' })),
    new ImportedKmsKey(stack, 'hsm', baseProps({ name: 'hsm', keyType: 'chacha20-poly1305', material: KeyMaterial.preWrapped(PREWRAPPED, { fingerprint: 'kcv:abc123' }) })),
    new ImportedKmsKey(stack, 'nul', baseProps({ name: 'nul', material: KeyMaterial.fromBytes(AES), lifecycleResource: 'null_resource' })),
  );
}

const encodings = (b: Buffer): string[] => [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.toString('hex').toUpperCase()];
const contains = (haystack: Buffer, needle: Buffer | string): boolean => haystack.includes(typeof needle === 'string' ? Buffer.from(needle) : needle);

describe('a full synth', () => {
  const outdir = fullSynth(build);
  const stackDir = join(outdir, 'stacks', 'stack');
  const files = filesUnder(outdir);
  const blobFile = join(stackDir, 'byok', 'keys.wrapped');
  const entries = keys.map((k) => wrappedKeyOf(stackDir, k));
  const blobs = entries.map((e) => e.blob);
  const others = files.filter((f) => f.path !== blobFile);

  test('writes one owner-only wrapped-keys file for the stack, with an entry per key, in an owner-only folder', () => {
    for (const k of keys) expect(k.wrappedBlobFile).toBe('byok/keys.wrapped');
    expect([...wrappedKeysOf(stackDir).keys()].sort()).toEqual(keys.map((k) => k.constructId).sort());
    expect(statSync(join(stackDir, 'byok')).mode & 0o777).toBe(0o700);
    // Besides it, only the manifest.
    const byok = files.filter((f) => f.path.includes(`${join(stackDir, 'byok')}`));
    expect(byok.map((f) => f.path.slice(stackDir.length + 1)).sort()).toEqual(['byok/keys.json', 'byok/keys.wrapped']);
    for (const f of byok) expect(f.mode).toBe(0o600);
  });

  test('a symmetric key wrapped here has the material\'s commitment (the pre-wrapped one and the asymmetric one none), nowhere else', () => {
    expect(entries.map((e) => e.commitment)).toEqual([symmetricCommitment(AES), undefined, undefined, symmetricCommitment(AES)]);
    expect(entries[0].commitment).not.toBe(keys[0].fingerprint);
    const hex = (entries[0].commitment as string).split(':')[1];
    for (const f of others) expect(contains(f.bytes, hex)).toBe(false);
  });

  test('each blob unwraps to the material, with the key hash function', () => {
    const { privateKey } = wrappingKeyPair();
    expect(unwrap(blobs[0], privateKey, { hash: 'sha256' }).equals(AES)).toBe(true);
    expect(unwrap(blobs[1], privateKey, { hash: 'sha512' }).equals(ED_DER)).toBe(true);
    expect(blobs[2].equals(PREWRAPPED)).toBe(true);
    expect(unwrap(blobs[3], privateKey).equals(AES)).toBe(true);
  });

  test('the provisioner names the wrapped-keys file relative to the stack folder, and the key\'s entry', () => {
    const json = readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8');
    expect(json.split('"--wrapped-file=byok/keys.wrapped"')).toHaveLength(keys.length + 1);
    for (const k of keys) expect(json).toContain(`"--construct=${k.constructId}"`);
  });

  test('no wrapped blob in any other file, in any encoding', () => {
    expect(others.length).toBeGreaterThanOrEqual(2);
    for (const f of others) {
      for (const blob of blobs) {
        expect(contains(f.bytes, blob)).toBe(false);
        for (const text of encodings(blob)) expect(contains(f.bytes, text)).toBe(false);
      }
    }
  });

  test('no material in any file (blob files included), raw or encoded', () => {
    for (const f of files) {
      for (const secret of [AES, ED_DER, HSM_KEY]) {
        expect(contains(f.bytes, secret)).toBe(false);
        for (const text of encodings(secret)) expect(contains(f.bytes, text)).toBe(false);
      }
      expect(contains(f.bytes, ED_PEM.split('\n')[1])).toBe(false);
    }
  });

  test('the blob is nowhere in the configuration, in particular not in triggers, input or commands', () => {
    const config = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as { resource: Record<string, Record<string, Record<string, unknown>>> };
    const all = [...Object.values(config.resource.terraform_data), ...Object.values(config.resource.null_resource)];
    expect(all).toHaveLength(7);
    for (const r of all) {
      for (const field of ['triggers_replace', 'triggers', 'input', 'provisioner']) {
        const text = JSON.stringify(r[field] ?? null);
        for (const blob of blobs) for (const enc of encodings(blob)) expect(text).not.toContain(enc);
      }
    }
  });
});

describe('two synths', () => {
  const first = fullSynth(build);
  const firstBlob = wrappedKeyOf(join(first, 'stacks', 'stack'), keys[0]).blob;
  const second = fullSynth(build);
  const secondBlob = wrappedKeyOf(join(second, 'stacks', 'stack'), keys[0]).blob;

  test('give an identical cdk.tf.json', () => {
    expect(readFileSync(join(second, 'stacks', 'stack', 'cdk.tf.json'), 'utf8')).toBe(readFileSync(join(first, 'stacks', 'stack', 'cdk.tf.json'), 'utf8'));
  });

  test('but freshly wrapped blobs, at the same path', () => {
    expect(secondBlob.equals(firstBlob)).toBe(false);
    expect(secondBlob.length).toBe(firstBlob.length);
  });

  test('a re-synth into the same folder keeps the file owner-only', () => {
    const stack = keys[0].node.scope as TerraformStack;
    const again = join(first, 'stacks', 'stack', keys[0].wrappedBlobFile);
    // Synthesize the last built stack into the first outdir again, through the same custom synthesis.
    stack.synthesizer.synthesize({ outdir: first, manifest: new Manifest('stubbed', first, false) });
    expect(statSync(again).mode & 0o777).toBe(0o600);
    expect(wrappedKeyOf(join(first, 'stacks', 'stack'), keys[0]).blob.equals(firstBlob)).toBe(false);
  });
});

test('a synth removes the per-key blob and commitment files of earlier versions from byok/', () => {
  const outdir = fullSynth(build);
  const byok = join(outdir, 'stacks', 'stack', 'byok');
  for (const name of [`${keys[0].node.addr}.wrapped`, `${keys[0].node.addr}.commitment`]) writeFileSync(join(byok, name), 'old secret', { mode: 0o600 });
  writeFileSync(join(byok, 'notes.txt'), 'not ours to remove', { mode: 0o600 });
  const stack = keys[0].node.scope as TerraformStack;
  stack.synthesizer.synthesize({ outdir, manifest: new Manifest('stubbed', outdir, false) });
  expect(readdirSync(byok).sort()).toEqual(['keys.json', 'keys.wrapped', 'notes.txt']);
});

test('the synth output folder lists no blob file outside byok/', () => {
  const outdir = fullSynth(build);
  const names = filesUnder(outdir).map((f) => f.path.slice(outdir.length));
  expect(names.filter((n) => n.endsWith('.wrapped')).every((n) => n.startsWith(`${join('/stacks', 'stack', 'byok')}/`))).toBe(true);
});
