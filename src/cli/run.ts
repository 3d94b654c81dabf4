/**
 * Dispatches `thalassa-byok <command> [options]` over a table of commands (all-commands.ts for the full CLI,
 * apply-commands.ts for what the provisioners run). Command modules load on demand, so a command pays only
 * for what it uses.
 */
import { shownValue } from '../disclosure';
import { ByokError } from '../errors';
import { ExitCode, parseCommandLine, UsageError, type CliIo, type Command } from './command';

/** One command of a table: its one-line summary for the help, and its module, loaded on demand. */
export interface CommandEntry {
  readonly summary: string;
  readonly load: () => Command;
}

/** The commands an entry point knows, by name, in the order its help lists them. */
export type CommandTable = Readonly<Record<string, CommandEntry>>;

/** The command named `name` in `commands`, loaded; undefined for an unknown name. */
export function loadCommand(commands: CommandTable, name: string): Command | undefined {
  return Object.prototype.hasOwnProperty.call(commands, name) ? commands[name].load() : undefined;
}

function mainHelp(commands: CommandTable): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
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
export async function runCli(argv: string[], io: CliIo, commands: CommandTable): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(mainHelp(commands));
    return name === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (name === '--version') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    io.stdout(`${require('../../package.json').version}\n`);
    return ExitCode.OK;
  }
  const command = loadCommand(commands, name);
  if (command === undefined) {
    io.stderr(`thalassa-byok: unknown command ${shownValue(name)}. Commands: ${Object.keys(commands).join(', ')}.\nRun "thalassa-byok --help" for usage.\n`);
    return ExitCode.USAGE;
  }
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
