/**
 * Builds `dist/` once before any test runs: CLI tests spawn `node dist/cli/main.js`, exactly what a
 * provisioner runs, so they must test freshly compiled code, never a stale build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export default function globalSetup(): void {
  // The end-to-end tests need the real Terraform; they fail rather than skip without it, so say so up front.
  const terraform = process.env.TERRAFORM_BINARY ?? '/usr/local/bin/terraform';
  if (!existsSync(terraform)) {
    throw new Error(`Terraform was not found at ${terraform}. Install Terraform >= 1.4 there, or set TERRAFORM_BINARY to its path.`);
  }
  const root = join(__dirname, '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
}
