/**
 * Dispatches `thalassa-byok <command> [options]`. Command modules load on demand, so a provisioner's
 * `thalassa-byok import` pays only for what `import` uses.
 */
import { shownValue } from '../disclosure';
import { ByokError } from '../errors';
import { ExitCode, parseCommandLine, UsageError, type CliIo, type Command } from './command';

interface CommandEntry {
  readonly summary: string;
  readonly load: () => Command;
}

/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading keeps start-up lean */
const COMMANDS: Record<string, CommandEntry> = {
  wrap: { summary: 'Wrap key material for import with a region\'s wrapping key (off-platform)', load: () => require('./commands/wrap').wrapCommand },
  fingerprint: { summary: 'Print the fingerprint of key material', load: () => require('./commands/fingerprint').fingerprintCommand },
  'wrapping-key': { summary: 'Fetch a region\'s wrapping key, print its fingerprint, optionally save it', load: () => require('./commands/wrapping-key').wrappingKeyCommand },
  import: { summary: 'Import a wrapped key (idempotent; adopts a key that carries the same fingerprint)', load: () => require('./commands/import').importCommand },
  delete: { summary: 'Schedule deletion of a key, only if it carries the given fingerprint', load: () => require('./commands/delete').deleteCommand },
  sweep: { summary: 'Schedule deletion of keys a state owns that the code no longer declares (run by the per-stack resources)', load: () => require('./commands/sweep').sweepCommand },
  check: { summary: 'Compare the declared keys with the live API (drift, out-of-band changes); --repair fixes what is safe', load: () => require('./commands/check').checkCommand },
  'set-rotation': { summary: 'Set the automatic rotation of an imported key', load: () => require('./commands/set-rotation').setRotationCommand },
  'cancel-deletion': { summary: 'Restore a key that is pending deletion', load: () => require('./commands/cancel-deletion').cancelDeletionCommand },
  describe: { summary: 'Show one key', load: () => require('./commands/describe').describeCommand },
  list: { summary: 'List the keys of a region', load: () => require('./commands/list').listCommand },
  emulator: { summary: 'Run a local Thalassa KMS emulator (real cryptography) for development and tests', load: () => require('./commands/emulator').emulatorCommand },
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The command named `name`, loaded; undefined for an unknown name. */
export function loadCommand(name: string): Command | undefined {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name].load() : undefined;
}

export function commandNames(): string[] {
  return Object.keys(COMMANDS);
}

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return [
    'Usage: thalassa-byok <command> [options]',
    '',
    'Bring-your-own-key tooling for Thalassa Cloud KMS.',
    '',
    'Commands:',
    ...lines,
    '',
    'Run "thalassa-byok <command> --help" for a command\'s options. Exit codes: 0 success, 1 failure,',
    '2 usage error, 3 refused for safety (a fingerprint does not match), 4 check found drift. See docs/cli.md.',
    '',
  ].join('\n');
}

/** Runs one command line; returns the exit code. Errors are reported on stderr, never thrown. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(mainHelp());
    return name === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (name === '--version') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    io.stdout(`${require('../../package.json').version}\n`);
    return ExitCode.OK;
  }
  const entry = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) {
    io.stderr(`thalassa-byok: unknown command ${shownValue(name)}. Commands: ${commandNames().join(', ')}.\nRun "thalassa-byok --help" for usage.\n`);
    return ExitCode.USAGE;
  }
  const command = entry.load();
  try {
    const { options, positionals } = parseCommandLine(command, rest);
    if (options.help) {
      io.stdout(command.help);
      return ExitCode.OK;
    }
    return await command.run(options, io, positionals);
  } catch (err) {
    return reportError(name, err, io);
  }
}

function reportError(name: string, err: unknown, io: CliIo): number {
  if (err instanceof UsageError) {
    io.stderr(`thalassa-byok ${name}: ${err.message}\nRun "thalassa-byok ${name} --help" for usage.\n`);
    return ExitCode.USAGE;
  }
  if (err instanceof ByokError) {
    io.stderr(`thalassa-byok ${name}: ${err.message} [${err.code}]\n`);
    return (err as { exitCode?: number }).exitCode ?? ExitCode.FAILURE;
  }
  // Unexpected: report the message only. A stack or inspected object could carry inputs.
  io.stderr(`thalassa-byok ${name}: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
  return ExitCode.FAILURE;
}
