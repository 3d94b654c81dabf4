/**
 * The commands Terraform's provisioners run at apply, and nothing else: the entry that
 * `dist/cli/apply-step.bundle.js` is bundled from (bundle.mjs), so that a provisioner's process reads one file
 * holding only this code and the part of undici it uses. Every other command is the full CLI's (main.ts).
 */
import type { CliIo } from './command';
import { runCli, type CommandTable } from './run';

/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading keeps start-up lean */
export const APPLY_COMMANDS: CommandTable = {
  import: { summary: 'Import a wrapped key (idempotent; adopts a key that carries the same fingerprint)', load: () => require('./commands/import').importCommand },
  delete: { summary: 'Schedule deletion of a key, only if it carries the given fingerprint', load: () => require('./commands/delete').deleteCommand },
  sweep: { summary: 'Schedule deletion of keys a state owns that the code no longer declares (run by the per-stack resources)', load: () => require('./commands/sweep').sweepCommand },
  'set-rotation': { summary: 'Set the automatic rotation of an imported key', load: () => require('./commands/set-rotation').setRotationCommand },
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Runs one provisioner command line; returns the exit code. */
export function runApplyStep(argv: string[], io: CliIo): Promise<number> {
  return runCli(argv, io, APPLY_COMMANDS);
}
