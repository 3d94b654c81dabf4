/**
 * Builds `dist/` once before any test runs: CLI tests spawn `node dist/cli/main.js`, end-to-end tests the
 * provisioners' `node dist/cli/apply-step.js`, so they must test freshly compiled code, never a stale build.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { findTerraform } from './support/terraform';

export default function globalSetup(): void {
  // The end-to-end tests need the real Terraform; they fail rather than skip without it, so say so up front.
  findTerraform();
  const root = join(__dirname, '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  // The provisioners run the bundle (dist/cli/apply-step.bundle.js): made from this build, as `npm run build` does.
  execFileSync(process.execPath, [join(root, 'bundle.mjs')], { stdio: 'inherit', cwd: root });
}
