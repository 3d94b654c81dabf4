import { createWriteStream } from 'node:fs';
import { isVariableNameSyntax, looksLikeVariableName, shownVariable } from '../../disclosure';
import { startEmulator } from '../../emulator';
import { ExitCode, optionalString, UsageError, type Command, type ParsedOptions } from '../command';

function strings(options: ParsedOptions, name: string): string[] | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && v !== '');
}

type TokenOption = string | { token: string; organisation: string };

/** `T` or `T@ORG` (bound to organisation ORG; the last `@` separates them), from `source` (an option's name). */
function parseToken(value: string, source: string): TokenOption {
  const at = value.lastIndexOf('@');
  if (at < 0) return value;
  const token = value.slice(0, at);
  const organisation = value.slice(at + 1);
  // Never quote the value: it is a token.
  if (token === '' || organisation === '') throw new UsageError(`${source} T@ORG needs both a token and an organisation around the "@".`);
  return { token, organisation };
}

/**
 * `--token T[@ORG]` and `--token-env VAR` (the same, read from VAR, so the token is not on the command line
 * that every local user can read in the process list).
 */
function tokenOptions(options: ParsedOptions, env: NodeJS.ProcessEnv): TokenOption[] | undefined {
  const direct = strings(options, 'token')?.map((value) => parseToken(value, '--token')) ?? [];
  const fromEnv = (strings(options, 'token-env') ?? []).map((name) => {
    // The shared rule of what may be shown: a token passed here by mistake is described, never quoted. A
    // name-shaped one is refused only once it names no set variable, so that `MyEmulatorToken` still works.
    if (!isVariableNameSyntax(name)) throw new UsageError(`--token-env takes the name of an environment variable (letters, digits, "_"), not a token: got ${shownVariable(name)}.`);
    const value = env[name];
    const unset = value === undefined || value.trim() === '';
    if (unset && !looksLikeVariableName(name)) throw new UsageError(`--token-env takes the name of a set environment variable, not a token: got ${shownVariable(name)}, and no variable of that name is set.`);
    if (unset) throw new UsageError(`--token-env ${name}: the environment variable ${name} is not set or empty; export it as T or T@ORG.`);
    return parseToken(value.trim(), `--token-env ${shownVariable(name)}:`);
  });
  const all = [...direct, ...fromEnv];
  return all.length > 0 ? all : undefined;
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`--port must be an integer from 0 to 65535; received ${JSON.stringify(text.slice(0, 16))}.`);
  return Number(text);
}

/** `thalassa-byok emulator`: runs the local KMS emulator until SIGINT or SIGTERM. */
export const emulatorCommand: Command = {
  name: 'emulator',
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    token: { type: 'string', multiple: true },
    'token-env': { type: 'string', multiple: true },
    region: { type: 'string', multiple: true },
    faults: { type: 'string' },
    log: { type: 'string' },
    strict: { type: 'boolean' },
  },
  help: `Usage: thalassa-byok emulator [--host 127.0.0.1] [--port N|0] [--data-dir DIR] [--token T[@ORG] ...]
                              [--token-env VAR ...] [--region R ...] [--faults SPEC] [--log FILE] [--strict]

Runs a local Thalassa Cloud KMS with real cryptography. Prints its base URL (use it as THALASSA_API_ENDPOINT)
on one line once it is listening, and runs until SIGINT or SIGTERM.

  --host H          Address to listen on (default 127.0.0.1)
  --port N          Port; 0 picks a free one (default 0)
  --data-dir DIR    Keep state (wrapping keys, keys, material) in DIR, owner-only; default: memory only
  --token T[@ORG]   Accept only this token (repeatable); with @ORG only for organisation ORG (401 with
                    another); default: any non-empty token, which start-up says on stderr. Give the
                    same token once per organisation to bind it to several
  --token-env VAR   Like --token, read from the environment variable VAR (repeatable): keeps the token
                    off the command line, which other local users can read
  --region R        A region that exists (repeatable; default nl-01)
  --faults SPEC     Inject faults, e.g. "seed=7;429=0.1,retry-after=1;reset=0.05" (see docs/emulator.md)
  --log FILE        Append the request log to FILE (mode 0600) instead of stderr
  --strict          Leave out of every answer each field the official client may not receive, and answer
                    DELETE with 204 (docs/emulator.md, "Strict mode"); also THALASSA_EMULATOR_STRICT=1

The data directory holds private keys: it is for development and tests only.
Exit codes: 0 stopped by a signal, 1 failure, 2 usage error.
`,
  async run(options, io) {
    const port = parsePort(optionalString(options, 'port'));
    const logFile = optionalString(options, 'log');
    const logStream = logFile === undefined ? undefined : createWriteStream(logFile, { flags: 'a', mode: 0o600 });
    const log = logStream ? (line: string): void => void logStream.write(`${line}\n`) : (line: string): void => io.stderr(`${line}\n`);
    try {
      const emulator = await startEmulator({
        host: optionalString(options, 'host'),
        port,
        dataDir: optionalString(options, 'data-dir'),
        tokens: tokenOptions(options, io.env),
        regions: strings(options, 'region'),
        faults: optionalString(options, 'faults'),
        log,
        strict: options.strict === true ? true : undefined,
      });
      if (emulator.acceptsAnyToken) {
        io.stderr('thalassa-byok emulator: WARNING: no --token given, so it accepts ANY non-empty token: whoever can connect to it can use it. Give --token T@ORG to restrict it.\n');
      }
      if (emulator.acceptsAnyClient) io.stderr('thalassa-byok emulator: its /oidc/token grants a token to ANY non-empty client id and secret.\n');
      if (emulator.strict) io.stderr('thalassa-byok emulator: strict mode: answers leave out every field the official client may not receive.\n');
      io.stdout(`${emulator.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await emulator.close();
      return ExitCode.OK;
    } finally {
      if (logStream) await new Promise<void>((resolve) => logStream.end(resolve));
    }
  },
};
