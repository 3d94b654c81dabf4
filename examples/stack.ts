/**
 * The example stack: three imported keys, one per way of bringing material.
 */
import { join } from 'node:path';
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
// A user writes `from 'cdktf-thalassa-byok'`; inside this repository the examples use the sources.
import { ImportedKmsKey, KeyMaterial, WrappingKey, wrap } from '../src';
import { MATERIAL_FILES, type ExampleConfig } from './config';

/** The keys of the example stack, for tests and the demo. */
export interface ExampleKeys {
  readonly symmetric: ImportedKmsKey;
  readonly ecdsa: ImportedKmsKey;
  readonly preWrapped: ImportedKmsKey;
}

/** A stack with (a) an AES-256 key from a file, (b) an ECDSA P-256 key from PEM, (c) a pre-wrapped blob. */
export class ExampleStack extends TerraformStack {
  public readonly keys: ExampleKeys;

  constructor(scope: Construct, config: ExampleConfig) {
    super(scope, config.stackName);
    const { region, dir, namePrefix, removalPolicy } = config;
    // The region's public wrapping key, saved with `thalassa-byok wrapping-key --region <r> --out <file>`.
    // Pin it in real code: `{ pin: 'spki-sha256:…' }` makes a substituted key fail synth.
    const wrappingKey = WrappingKey.fromPemFile(config.wrappingKeyFile, config.wrappingKeyPin === undefined ? {} : { pin: config.wrappingKeyPin });

    // (a) A symmetric key from a file, with rotation allowed and scheduled.
    const symmetric = new ImportedKmsKey(this, 'symmetric', {
      region,
      name: `${namePrefix}-aes`,
      description: 'AES-256 key imported from a file',
      labels: { example: 'symmetric' },
      keyType: 'aes256-gcm96',
      material: KeyMaterial.fromFile(join(dir, MATERIAL_FILES.aes256)),
      wrappingKey,
      allowRotation: config.allowRotation,
      rotation: config.allowRotation ? { enabled: true, periodInDays: config.rotationDays } : undefined,
      preventDestroy: config.preventDestroy,
      removalPolicy,
    });

    // (b) An asymmetric signing key from a PKCS#8 PEM file.
    const ecdsa = new ImportedKmsKey(this, 'ecdsa', {
      region,
      name: `${namePrefix}-ecdsa`,
      description: 'ECDSA P-256 signing key imported from PEM',
      labels: { example: 'asymmetric' },
      annotations: { 'example.com/owner': 'platform team' },
      keyType: 'ecdsa-p256',
      material: KeyMaterial.fromFile(join(dir, MATERIAL_FILES.ecdsaP256)),
      wrappingKey,
      removalPolicy,
    });

    // (c) A blob wrapped elsewhere. An HSM would export it wrapped under the region's key and report a key
    // check value; here `wrap` stands in for the HSM, and the fingerprint is the one this package computes.
    const hsmKey = KeyMaterial.fromFile(join(dir, MATERIAL_FILES.hsmChacha20)).load('chacha20-poly1305');
    let blob: Buffer;
    try {
      blob = wrap(hsmKey, wrappingKey, { hash: 'sha256' });
    } finally {
      hsmKey.destroy();
    }
    const preWrapped = new ImportedKmsKey(this, 'pre-wrapped', {
      region,
      name: `${namePrefix}-hsm`,
      description: 'ChaCha20-Poly1305 key wrapped by an HSM',
      labels: { example: 'pre-wrapped' },
      keyType: 'chacha20-poly1305',
      material: KeyMaterial.preWrapped(blob, { fingerprint: hsmKey.fingerprint }),
      wrappingKey,
      hashFunction: 'sha256',
      removalPolicy,
    });

    this.keys = { symmetric, ecdsa, preWrapped };
    for (const [id, key] of Object.entries(this.keys)) {
      new TerraformOutput(this, `${id}-name`, { value: key.name });
      new TerraformOutput(this, `${id}-fingerprint`, { value: key.fingerprint });
    }
  }
}
