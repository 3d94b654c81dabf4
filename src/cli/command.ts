/**
 * The shape every `thalassa-byok` sub-command has, and the pieces they share: parsed arguments, output
 * streams, exit codes and usage errors.
 */
import { describeHidden, isShowable } from '../disclosure';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ByokError } from '../errors';

/** Exit codes of `thalassa-byok`. Documented in docs/cli.md; stable. */
export const ExitCode = {
  /** The command did what was asked (including "already done"). */
  OK: 0,
  /** The command failed: bad material, unreachable API, refused request… The message says which. */
  FAILURE: 1,
  /** The command line is wrong: unknown option, missing value. Nothing was done. */
  USAGE: 2,
  /** Refused for safety: a key with that name exists with another fingerprint. Nothing was changed. */
  CONFLICT: 3,
  /** `check` found drift or problems (after `--repair`: some are left). The report says which. */
  DRIFT: 4,
} as const;

/** Where a command writes, and the environment it reads. Tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Parsed options: strings, booleans, and arrays for `multiple` options. */
export type ParsedOptions = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** One sub-command. */
export interface Command {
  readonly name: string;
  /** The full `--help` text. */
  readonly help: string;
  readonly options: OptionsConfig;
  run(options: ParsedOptions, io: CliIo, positionals: string[]): Promise<number>;
}

/** A command line that cannot be acted on. Exit code 2. */
export class UsageError extends ByokError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Parses `argv` for `command` strictly; unknown options and missing values are {@link UsageError}s. */
export function parseCommandLine(command: Command, argv: string[]): { options: ParsedOptions; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
    return { options: values as ParsedOptions, positionals };
  } catch (err) {
    // parseArgs quotes option names, never values; but a name can be a pasted key ("--<hex>"), so it too passes
    // through the one rule of what may be shown.
    const first = (err as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '.');
    throw new UsageError(first.replace(/'([^']*)'/g, (_, quoted: string) => (isShowable(quoted) ? `'${quoted}'` : `an option name (${describeHidden(quoted)})`)));
  }
}

/** The value of a required string option, or a usage error naming it. */
export function requireString(options: ParsedOptions, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`Missing required option --${name}.`);
  return value;
}

/** The value of an optional string option. */
export function optionalString(options: ParsedOptions, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}
