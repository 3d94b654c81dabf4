/**
 * The package's doors: the root, `/api` and `/emulator` resolve; internal files do not, so nothing but what
 * is documented can become a dependency of a user's code. Resolved by Node itself (a package may import
 * itself by name through its `exports` map), in a child process so that jest's own resolver plays no part.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');

function load(specifier: string): { ok: boolean; output: string; exports: string[] } {
  const script = `try { const m = require(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m))); } catch (e) { console.log('ERR ' + e.code); process.exit(3); }`;
  const run = spawnSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8' });
  const output = `${run.stdout}${run.stderr}`.trim();
  return { ok: run.status === 0, output, exports: run.status === 0 ? (JSON.parse(run.stdout) as string[]) : [] };
}

describe('the exports map', () => {
  it('the root holds the construct, KeyMaterial, WrappingKey and their errors, and no importer-side primitive', () => {
    const root = load('cdktf-thalassa-byok');
    expect(root.ok).toBe(true);
    for (const name of ['ImportedKmsKey', 'ImportedKmsKeyError', 'KeyMaterial', 'KeyMaterialError', 'PreWrappedKeyMaterial', 'HsmKeyMaterial', 'WrappingKey', 'WrappingError', 'ByokError']) {
      expect(root.exports).toContain(name);
    }
    for (const name of ['unwrap', 'kwpWrap', 'kwpUnwrap', 'normalizeMaterial', 'parseCanonicalMaterial']) {
      expect(root.exports).not.toContain(name);
    }
  });

  it('documents /api and /emulator as doors of their own', () => {
    expect(load('cdktf-thalassa-byok/api').exports).toContain('KmsClient');
    expect(load('cdktf-thalassa-byok/emulator').exports).toContain('startEmulator');
  });

  it.each(['cdktf-thalassa-byok/dist/emulator', 'cdktf-thalassa-byok/dist/material/parse', 'cdktf-thalassa-byok/dist/wrapping/kwp.js', 'cdktf-thalassa-byok/src/index'])(
    'refuses the internal path %s',
    (specifier) => {
      const result = load(specifier);
      expect(result.ok).toBe(false);
      expect(result.output).toBe('ERR ERR_PACKAGE_PATH_NOT_EXPORTED');
    },
  );
});
