/**
 * The stacks the benchmarks synthesize and deploy: N `ImportedKmsKey`s of mixed types, or N bare
 * `terraform_data` resources with provisioners of the same shape (the floor: what cdktf costs without us).
 * The library is loaded from a build of the package (`PKG`), as a user's app loads it from node_modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TerraformStack } from 'cdktf';
import type * as Library from '../src';
import type { ImportableKeyTypeName } from '../src/key-types';

/** The package's folder: the nearest one up from here whose package.json is this package's (compiled or not). */
export const ROOT = ((): string => {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'cdktf-thalassa-byok') return dir;
  }
  throw new Error(`cdktf-thalassa-byok's package.json not found above ${__dirname}`);
})();
/**
 * The package as the benchmarks load it: a private build of this checkout under bench/.work/pkg (main.ts
 * compiles it first), so a concurrent `npm run build` in the shared working tree cannot change it mid-run.
 * Its provisioners run its own CLI, as an installed package's do.
 */
export const PKG = join(ROOT, 'bench', '.work', 'pkg');
export const CLI = join(PKG, 'dist', 'cli', 'main.js');
/** What the provisioners run: the apply-step commands, bundled. */
export const APPLY_STEP = join(PKG, 'dist', 'cli', 'apply-step.js');

/** The importable key types, cycled through by key index, and the material file of each. */
export const MATERIAL: readonly { readonly keyType: ImportableKeyTypeName; readonly file: string }[] = [
  { keyType: 'aes256-gcm96', file: 'aes256-gcm96.key' },
  { keyType: 'rsa-4096', file: 'rsa-4096.pem' },
  { keyType: 'ecdsa-p256', file: 'ecdsa-p256.pem' },
  { keyType: 'aes128-gcm96', file: 'aes128-gcm96.key' },
  { keyType: 'rsa-2048', file: 'rsa-2048.pem' },
  { keyType: 'ed25519', file: 'ed25519.pem' },
  { keyType: 'chacha20-poly1305', file: 'chacha20-poly1305.key' },
  { keyType: 'rsa-3072', file: 'rsa-3072.pem' },
  { keyType: 'ecdsa-p384', file: 'ecdsa-p384.pem' },
  { keyType: 'ecdsa-p521', file: 'ecdsa-p521.pem' },
];

export interface StackSpec {
  readonly variant: 'keys' | 'bare';
  readonly n: number;
  readonly materialDir: string;
  readonly wrappingKeyFile: string;
  readonly wrappingKeyPin: string;
  readonly namePrefix: string;
  /**
   * Deploy only: the bare resources' provisioner runs `true` (the floor), or `node -e 0` shell-free like ours
   * (the floor of one Node.js process per key), instead of the CLI's command line.
   */
  readonly bareCommand?: 'true' | 'node';
  /** Keys only: the lifecycle resource type (default terraform_data). */
  readonly lifecycleResource?: 'terraform_data' | 'null_resource';
}

const FAKE_FINGERPRINT = `hmac-sha256:${'ab'.repeat(32)}`;

/** Adds the spec's N resources to `stack`. */
export function populate(stack: TerraformStack, spec: StackSpec): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- the package's build, loaded as a user would */
  const cdktf = require('cdktf') as typeof import('cdktf');
  if (spec.variant === 'keys') {
    const lib = require(join(PKG, 'dist')) as typeof Library;
    /* eslint-enable @typescript-eslint/no-require-imports */
    const wrappingKey = lib.WrappingKey.fromPemFile(spec.wrappingKeyFile, { pin: spec.wrappingKeyPin });
    for (let i = 0; i < spec.n; i++) {
      const m = MATERIAL[i % MATERIAL.length];
      new lib.ImportedKmsKey(stack, `key-${i}`, {
        region: 'nl-01',
        name: `${spec.namePrefix}-${i}`,
        description: `benchmark key ${i}`,
        labels: { bench: 'true' },
        keyType: m.keyType,
        material: lib.KeyMaterial.fromFile(join(spec.materialDir, m.file)),
        wrappingKey,
        ...(spec.lifecycleResource === undefined ? {} : { lifecycleResource: spec.lifecycleResource }),
      });
    }
    return;
  }
  for (let i = 0; i < spec.n; i++) {
    const m = MATERIAL[i % MATERIAL.length];
    const name = `${spec.namePrefix}-${i}-0123abcd`;
    const triggers = {
      region: 'nl-01', keyType: m.keyType, fingerprint: FAKE_FINGERPRINT, description: `benchmark key ${i}`,
      labels: { bench: 'true' }, annotations: {}, exportAllowed: false, allowRotation: false, hashFunction: 'sha256', name,
    };
    const create = spec.bareCommand === 'true'
      ? { type: 'local-exec' as const, command: 'true' }
      : spec.bareCommand === 'node'
        ? { type: 'local-exec' as const, interpreter: [process.execPath, '-e'], command: '0' }
        : {
        type: 'local-exec' as const,
        interpreter: [process.execPath, CLI, 'import', '--region=nl-01', `--name=${name}`, `--key-type=${m.keyType}`, '--hash=sha256',
          `--description=benchmark key ${i}`, '--label=bench=true', '--wrapped-file=byok/keys.wrapped', `--construct=${String(i).padStart(32, '0')}`],
        command: `--fingerprint=${FAKE_FINGERPRINT}`,
      };
    const destroy = spec.bareCommand !== undefined
      ? { type: 'local-exec' as const, command: 'true', when: 'destroy' as const }
      : {
        type: 'local-exec' as const,
        interpreter: [process.execPath, CLI, 'delete', '--region=${self.input.region}', '--name=${self.input.name}'],
        command: '--fingerprint=${self.input.fingerprint}',
        when: 'destroy' as const,
      };
    new cdktf.DataResource(stack, `key-${i}`, {
      triggersReplace: triggers,
      input: { region: 'nl-01', name, fingerprint: FAKE_FINGERPRINT },
      provisioners: [create, destroy],
    });
  }
}

/** The spec from the environment (`BENCH_SPEC`, JSON), for the child processes. */
export function specFromEnv(): StackSpec {
  const raw = process.env.BENCH_SPEC;
  if (!raw) throw new Error('BENCH_SPEC is not set');
  return JSON.parse(raw) as StackSpec;
}
