/**
 * One Terraform version check per stack, not per key (issue 15): cdktf's `DataResource` ran `terraform version`
 * for every resource. A synth in a child process (cdktf reads TERRAFORM_BINARY_NAME when it loads) with a
 * stand-in `terraform` that counts its runs: seven keys in two stacks run it twice (cdktf's DataResource: seven
 * times), and a Terraform older than 1.4 still fails the synth with cdktf's own message.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTempDir } from '../support/openssl';

const REPO = join(__dirname, '..', '..');
const dir = useTempDir();

function synth(version: string): { status: number | null; output: string; runs: number } {
  const counter = join(dir(), `runs-${version}`);
  writeFileSync(counter, '');
  const fake = join(dir(), `terraform-${version}`);
  writeFileSync(fake, `#!/bin/sh\necho run >> '${counter}'\necho "Terraform v${version}"\n`, { mode: 0o700 });
  const material = join(dir(), 'aes.bin');
  writeFileSync(material, randomBytes(32), { mode: 0o600 });
  const wrappingKey = join(dir(), 'wk.pem');
  writeFileSync(wrappingKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }));
  const script = `
    const { App, TerraformStack } = require('cdktf');
    const { ImportedKmsKey, KeyMaterial, WrappingKey } = require(${JSON.stringify(join(REPO, 'dist'))});
    const app = new App({ outdir: ${JSON.stringify(join(dir(), `out-${version}`))} });
    const wrappingKey = WrappingKey.fromPemFile(${JSON.stringify(wrappingKey)});
    for (const [stackName, count] of [['one', 5], ['two', 2]]) {
      const stack = new TerraformStack(app, stackName);
      for (let i = 0; i < count; i++) {
        new ImportedKmsKey(stack, 'k' + i, { region: 'nl-01', name: stackName + '-' + i, keyType: 'aes256-gcm96', material: KeyMaterial.fromFile(${JSON.stringify(material)}), wrappingKey });
      }
    }
    app.synth();`;
  const run = spawnSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8', env: { ...process.env, TERRAFORM_BINARY_NAME: fake } });
  return { status: run.status, output: `${run.stdout}${run.stderr}`, runs: readFileSync(counter, 'utf8').split('\n').filter(Boolean).length };
}

it('seven terraform_data keys in two stacks run `terraform version` once per stack', () => {
  const result = synth('1.11.4');
  expect({ status: result.status, runs: result.runs }).toEqual({ status: 0, runs: 2 });
});

it('a Terraform older than 1.4 fails the synth with cdktf\'s message, checked once', () => {
  const result = synth('1.3.9');
  expect(result.status).not.toBe(0);
  expect(result.output).toMatch(/version 1\.3\.9 is lower than the required version >=1\.4 for this construct\. The built-in Terraform data resource is only supported for Terraform >=1\.4/);
  // The first stack's failed validation stops the synth.
  expect(result.runs).toBe(1);
});
