/**
 * `lifecycleResource: 'null_resource'`: on cdktf with `@cdktf/provider-null` installed it is that provider's
 * resource; without it (and on cdktn, which has no prebuilt null provider) the same resource is declared
 * generically. Both must synthesize the same Terraform, so that a stack can move between them (e.g. from
 * cdktf to cdktn) with no change in the plan.
 */
import { randomBytes } from 'node:crypto';
import type { TerraformStack } from 'cdktf';
import { wrappingKeyPair } from './fixtures';

// The same material and wrapping key for both synths (each loads the package afresh).
const AES = randomBytes(32);
const WRAPPING_PEM = wrappingKeyPair().publicPem;

type Synth = { resource: Record<string, Record<string, Record<string, unknown>>>; provider: unknown; terraform: { required_providers: unknown } };

/** Synthesizes a two-key null_resource stack with a fresh module registry; `withoutProviderNull` hides the package. */
function synth(withoutProviderNull: boolean): Synth & { keyClass: string } {
  let out: (Synth & { keyClass: string }) | undefined;
  jest.isolateModules(() => {
    if (withoutProviderNull) {
      for (const path of ['@cdktf/provider-null/lib/resource', '@cdktf/provider-null/lib/provider']) {
        jest.doMock(path, () => {
          throw Object.assign(new Error(`Cannot find module '${path}'`), { code: 'MODULE_NOT_FOUND' });
        });
      }
    }
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { Testing, TerraformStack: Stack } = require('cdktf') as typeof import('cdktf');
    const { ImportedKmsKey, KeyOwner } = require('../../src/constructs') as typeof import('../../src/constructs');
    const { KeyMaterial, WrappingKey } = require('../../src') as typeof import('../../src');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const base = { region: 'nl-01', keyType: 'aes256-gcm96', material: KeyMaterial.fromBytes(AES), wrappingKey: WrappingKey.fromPem(WRAPPING_PEM), lifecycleResource: 'null_resource' } as const;
    const stack: TerraformStack = new Stack(Testing.app(), 'stack');
    new KeyOwner(stack, { lifecycleResource: 'null_resource' });
    const a = new ImportedKmsKey(stack, 'a', { ...base, name: 'a', allowRotation: true, rotation: { enabled: true, periodInDays: 30 } });
    new ImportedKmsKey(stack, 'b', { ...base, name: 'b', description: 'x ${y}' });
    out = { ...(JSON.parse(Testing.synth(stack)) as Synth), keyClass: a.resource.constructor.name };
  });
  jest.dontMock('@cdktf/provider-null/lib/resource');
  jest.dontMock('@cdktf/provider-null/lib/provider');
  return out!;
}

/** The synth output with the random parts (the wrapping key's fresh per-run material is the same in both). */
function normalized(s: Synth & { keyClass?: string }): unknown {
  return JSON.parse(JSON.stringify(s, (_k, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
    : v)));
}

test('the generic null_resource synthesizes exactly what @cdktf/provider-null does', () => {
  const prebuilt = synth(false);
  const generic = synth(true);
  expect(Object.keys(prebuilt.resource)).toEqual(['null_resource']);
  expect(Object.keys(prebuilt.resource.null_resource)).toHaveLength(5);
  expect(prebuilt.terraform.required_providers).toEqual({ null: { source: 'null', version: '3.2.4' } });
  expect(prebuilt.provider).toEqual({ null: [{}] });
  expect([prebuilt.keyClass, generic.keyClass]).toEqual(['Resource', 'TerraformResource']);
  expect(normalized({ ...generic, keyClass: '' })).toEqual(normalized({ ...prebuilt, keyClass: '' }));
});
