/**
 * Where the examples find their inputs. Everything comes from environment variables with defaults, so a demo
 * or an end-to-end test can point the same app at generated material and an emulator.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `BYOK_EXAMPLE_DIR` | `.demo/material` | folder with the material files and the wrapping key |
 * | `BYOK_EXAMPLE_REGION` | `nl-01` | region of every key |
 * | `BYOK_WRAPPING_KEY_FILE` | `$BYOK_EXAMPLE_DIR/wrapping-key.pem` | the region's wrapping key (`thalassa-byok wrapping-key --out`) |
 * | `BYOK_WRAPPING_KEY_PIN` | — | its `spki-sha256:` fingerprint; unpinned (a synth warning) when unset |
 * | `BYOK_EXAMPLE_STACK` | `byok-example` | the stack name (`cdktf.out/stacks/<name>`) |
 * | `BYOK_EXAMPLE_NAME_PREFIX` | `example` | prefix of every key's base name |
 * | `BYOK_EXAMPLE_ALLOW_ROTATION` | `true` | `allowRotation` of the symmetric key (flip it to see a replacement) |
 * | `BYOK_EXAMPLE_ROTATION_DAYS` | `90` | its rotation period (change it to see an in-place PATCH) |
 * | `BYOK_EXAMPLE_PREVENT_DESTROY` | `false` | `preventDestroy` of the symmetric key |
 * | `BYOK_EXAMPLE_REMOVAL_POLICY` | `schedule-deletion` | `removalPolicy` of every key (`retain` keeps them on destroy) |
 */
import { join } from 'node:path';

export interface ExampleConfig {
  readonly dir: string;
  readonly region: string;
  readonly wrappingKeyFile: string;
  readonly wrappingKeyPin?: string;
  readonly stackName: string;
  readonly namePrefix: string;
  readonly allowRotation: boolean;
  readonly rotationDays: number;
  readonly preventDestroy: boolean;
  readonly removalPolicy: 'schedule-deletion' | 'retain';
}

/** The material files the examples read (and `generate-material` writes) inside `BYOK_EXAMPLE_DIR`. */
export const MATERIAL_FILES = {
  /** 32 random bytes, raw: an AES-256 key. */
  aes256: 'aes256-gcm96.key',
  /** A PKCS#8 PEM ECDSA P-256 private key. */
  ecdsaP256: 'ecdsa-p256.pem',
  /** 32 random bytes, raw: the key an HSM would hold; the example wraps it itself to stand in for the HSM. */
  hsmChacha20: 'hsm-chacha20-poly1305.key',
} as const;

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new Error(`${name} must be true or false; received ${JSON.stringify(value)}.`);
}

/** Reads the examples' configuration from `env`. */
export function exampleConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const dir = env.BYOK_EXAMPLE_DIR || join('.demo', 'material');
  const days = Number(env.BYOK_EXAMPLE_ROTATION_DAYS || '90');
  const removalPolicy = env.BYOK_EXAMPLE_REMOVAL_POLICY || 'schedule-deletion';
  if (removalPolicy !== 'schedule-deletion' && removalPolicy !== 'retain') {
    throw new Error(`BYOK_EXAMPLE_REMOVAL_POLICY must be schedule-deletion or retain; received ${JSON.stringify(removalPolicy)}.`);
  }
  return {
    dir,
    region: env.BYOK_EXAMPLE_REGION || 'nl-01',
    wrappingKeyFile: env.BYOK_WRAPPING_KEY_FILE || join(dir, 'wrapping-key.pem'),
    wrappingKeyPin: env.BYOK_WRAPPING_KEY_PIN || undefined,
    stackName: env.BYOK_EXAMPLE_STACK || 'byok-example',
    namePrefix: env.BYOK_EXAMPLE_NAME_PREFIX || 'example',
    allowRotation: flag(env, 'BYOK_EXAMPLE_ALLOW_ROTATION', true),
    rotationDays: days,
    preventDestroy: flag(env, 'BYOK_EXAMPLE_PREVENT_DESTROY', false),
    removalPolicy,
  };
}
