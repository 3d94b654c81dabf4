/**
 * Users without an HSM never load native code: an app that synthesizes keys from files, bytes or a pre-wrapped
 * blob loads neither `pkcs11js` nor any `.node` addon, although the package root exports the HSM material. Run
 * in a child process on the built package (`dist/`), so that this test process's own imports do not count.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');

const SCRIPT = `
const { generateKeyPairSync, randomBytes } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { App, TerraformStack } = require(${JSON.stringify(join(REPO, 'node_modules', 'cdktf'))});
const { ImportedKmsKey, KeyMaterial, WrappingKey, HsmKeyMaterial } = require(${JSON.stringify(join(REPO, 'dist'))});
const outdir = mkdtempSync(join(tmpdir(), 'byok-no-native-'));
try {
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'stack');
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' });
  const wrappingKey = WrappingKey.fromPem(pem);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  new ImportedKmsKey(stack, 'aes', { region: 'nl-01', name: 'aes', keyType: 'aes256-gcm96', material: KeyMaterial.fromBytes(randomBytes(32)), wrappingKey });
  new ImportedKmsKey(stack, 'ec', { region: 'nl-01', name: 'ec', keyType: 'ecdsa-p256', material: KeyMaterial.fromBytes(ec), wrappingKey });
  // Declaring a token's key loads nothing either: only a synth of it does.
  KeyMaterial.fromPkcs11({ module: '/nonexistent.so', tokenLabel: 't', pinEnv: 'NO_PIN', keyLabel: 'k' });
  app.synth();
  const loaded = Object.keys(require.cache).filter((f) => /pkcs11|\\.node$/.test(f));
  process.stdout.write(JSON.stringify({ exported: typeof HsmKeyMaterial, loaded }));
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
`;

test('an app without HSM keys loads no PKCS#11 binding and no native addon', () => {
  const out = execFileSync(process.execPath, ['-e', SCRIPT], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  expect(JSON.parse(out)).toEqual({ exported: 'function', loaded: [] });
});
