/**
 * What `npm pack` ships: the compiled library and CLI, and every document the README and `--help` point to.
 * Nothing else: no sources, tests, examples or benchmark output.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');

function packedFiles(): string[] {
  // dist/ was built by jest's globalSetup; --ignore-scripts skips prepack's second build.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [pack] = JSON.parse(out.slice(out.indexOf('['))) as { files: { path: string }[] }[];
  return pack.files.map((f) => f.path).sort();
}

describe('the npm pack tarball', () => {
  const files = packedFiles();

  it('holds LICENSE, README, SECURITY.md, docs/ and the built library and CLI', () => {
    for (const required of ['LICENSE', 'README.md', 'SECURITY.md', 'docs/cli.md', 'docs/emulator.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/cli/apply-step.js', 'dist/cli/apply-step.bundle.js', 'package.json']) {
      expect(files).toContain(required);
    }
  });

  it('holds nothing else', () => {
    const allowed = /^(LICENSE|README\.md|SECURITY\.md|package\.json|docs\/[\w./-]+\.md|dist\/[\w./-]+\.(js|d\.ts))$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
  });
});
