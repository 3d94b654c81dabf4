/**
 * Builds `dist/` once before any test runs: CLI tests spawn `node dist/cli/main.js`, exactly what a
 * provisioner runs, so they must test freshly compiled code, never a stale build.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function globalSetup(): void {
  const root = join(__dirname, '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
}
