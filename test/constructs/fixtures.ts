/**
 * Key fixtures, generated per test run (no private key is ever committed), and small synth helpers.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App, TerraformStack, Testing } from 'cdktf';
import type { Construct } from 'constructs';
import { ImportedKmsKey, type ImportedKmsKeyProps } from '../../src/constructs';
import { KeyMaterial, WrappingKey } from '../../src';

let wrappingPair: { publicPem: string; privateKey: KeyObject } | undefined;

/** One RSA-2048 wrapping key pair for the whole file (the smallest the package accepts, to keep tests fast). */
export function wrappingKeyPair(): { publicPem: string; privateKey: KeyObject } {
  if (wrappingPair === undefined) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    wrappingPair = { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
  }
  return wrappingPair;
}

/** The wrapping key, pinned unless asked otherwise. */
export function wrappingKey(pinned = true): WrappingKey {
  const { publicPem } = wrappingKeyPair();
  const unpinned = WrappingKey.fromPem(publicPem);
  return pinned ? WrappingKey.fromPem(publicPem, { pin: unpinned.fingerprint }) : unpinned;
}

/** A fixed AES-256 key, so fingerprints repeat across synths within a run. */
export const AES_KEY = randomBytes(32);

/** Minimal valid props for an aes256-gcm96 key. */
export function baseProps(overrides: Partial<ImportedKmsKeyProps> = {}): ImportedKmsKeyProps {
  return {
    region: 'nl-01',
    name: 'master',
    keyType: 'aes256-gcm96',
    material: KeyMaterial.fromBytes(AES_KEY),
    wrappingKey: wrappingKey(),
    ...overrides,
  };
}

/** A stack in a fresh test app. */
export function newStack(id = 'stack'): TerraformStack {
  return new TerraformStack(Testing.app(), id);
}

/**
 * Builds a key and throws its first problem: the construct does not throw (synth reports every key's
 * problems together), but a test of one mistake wants that mistake as an error.
 */
export function buildKey(scope: Construct, id: string, props: ImportedKmsKeyProps): ImportedKmsKey {
  const key = new ImportedKmsKey(scope, id, props);
  if (key.problems.length > 0) throw key.problems[0];
  return key;
}

/** Builds one key in a fresh stack; returns the stack and the key. */
export function oneKey(overrides: Partial<ImportedKmsKeyProps> = {}, id = 'key'): { stack: TerraformStack; key: ImportedKmsKey } {
  const stack = newStack();
  const key = new ImportedKmsKey(stack, id, baseProps(overrides));
  return { stack, key };
}

/** The synthesized JSON of `stack`, parsed. */
export function synthJson(stack: TerraformStack): SynthOutput {
  return JSON.parse(Testing.synth(stack)) as SynthOutput;
}

export interface SynthOutput {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  provider?: Record<string, unknown>;
  terraform?: Record<string, unknown>;
}

/** The single resource of `type` in the synth output (fails if there is not exactly one). */
export function onlyResource(out: SynthOutput, type: string): Record<string, unknown> {
  const all = Object.values(out.resource?.[type] ?? {});
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/** All resources of `type`, keyed by logical id. */
export function resources(out: SynthOutput, type: string): Record<string, Record<string, unknown>> {
  return out.resource?.[type] ?? {};
}

export interface Provisioner {
  'local-exec': { command: string; interpreter: string[]; when?: string };
}

/** The full argv a local-exec provisioner runs (interpreter, then command). */
export function argv(p: Provisioner): string[] {
  return [...p['local-exec'].interpreter, p['local-exec'].command];
}

/** Every file under `dir`, with its bytes and mode. */
export function filesUnder(dir: string): { path: string; bytes: Buffer; mode: number }[] {
  const out: { path: string; bytes: Buffer; mode: number }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else out.push({ path: full, bytes: readFileSync(full), mode: statSync(full).mode & 0o777 });
  }
  return out;
}

/** Builds and synthesizes the app produced by `build` through the real synthesizer (custom synthesis runs). */
export function fullSynth(build: (stack: TerraformStack) => void): string {
  const stack = new TerraformStack(Testing.app(), 'stack');
  build(stack);
  return Testing.fullSynth(stack);
}

export { App };
