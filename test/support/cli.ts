/** Runs the built CLI (`dist/cli/main.js`, or the provisioners' `dist/cli/apply-step.js`) as a child process. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
/** What the provisioners run: the apply-step commands, bundled. */
export const APPLY_STEP = join(__dirname, '..', '..', 'dist', 'cli', 'apply-step.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `thalassa-byok args…` with exactly `env` (plus PATH), resolved with its exit code, never rejected. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000, script = CLI): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env: { PATH: process.env.PATH, ...env }, timeout: timeoutMs, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
