/**
 * The command lines the provisioners run: this package's CLI with the options it parses
 * (`test/constructs/command-lines.test.ts` checks them against the CLI's own parser).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations } from 'cdktf';
import type { Construct } from 'constructs';
import { STACK_MANIFEST_FILE } from '../protocol';
import type { WrapHash } from '../wrapping';
import type { Argument } from './lifecycle';

/** What `thalassa-byok import` needs to know about one key. */
export interface ImportArguments {
  readonly region: string;
  readonly name: string;
  readonly keyType: string;
  readonly hashFunction: WrapHash;
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly allowRotation: boolean;
  readonly exportAllowed: boolean;
  /** Relative to the stack's working directory, where Terraform runs provisioners. */
  readonly wrappedFile: string;
  readonly commitmentFile?: string;
  readonly fingerprint: string;
  /** A reference to the state's owner id (known at apply), or an explicit one. */
  readonly owner: string;
  readonly construct: string;
  readonly sweepPredecessors: boolean;
}

export function importCommandLine(cli: readonly string[], a: ImportArguments): string[] {
  return [
    ...cli, 'import',
    `--region=${a.region}`,
    `--name=${a.name}`,
    `--key-type=${a.keyType}`,
    `--hash=${a.hashFunction}`,
    ...(a.description === '' ? [] : [`--description=${a.description}`]),
    ...Object.entries(a.labels).map(([k, v]) => `--label=${k}=${v}`),
    ...Object.entries(a.annotations).map(([k, v]) => `--annotation=${k}=${v}`),
    ...(a.allowRotation ? ['--allow-rotation'] : []),
    ...(a.exportAllowed ? ['--export-allowed'] : []),
    `--wrapped-file=${a.wrappedFile}`,
    ...(a.commitmentFile === undefined ? [] : [`--commitment-file=${a.commitmentFile}`]),
    `--fingerprint=${a.fingerprint}`,
    `--owner=${a.owner}`,
    `--construct=${a.construct}`,
    ...(a.sweepPredecessors ? ['--sweep-predecessors'] : []),
    step(`import of key ${a.name} into ${a.region}`),
  ];
}

/**
 * The last argument of every provisioner: Terraform reports a failed local-exec as "Error running command
 * '<last argument>'", which should name the operation and the key rather than an option.
 */
function step(what: string): string {
  return `--step=${what}`;
}

export function setRotationCommandLine(
  cli: readonly string[],
  a: { region: string; name: string; fingerprint: string; owner: string; construct: string; enabled: boolean; periodInDays?: number },
): string[] {
  return [
    ...cli, 'set-rotation',
    `--region=${a.region}`,
    `--name=${a.name}`,
    `--enabled=${a.enabled}`,
    ...(a.periodInDays === undefined ? [] : [`--period-days=${a.periodInDays}`]),
    `--fingerprint=${a.fingerprint}`,
    `--owner=${a.owner}`,
    `--construct=${a.construct}`,
    step(`rotation settings of key ${a.name} in ${a.region}`),
  ];
}

/** The owner resource's destroy step: the stack is destroyed, so every declared key not retained goes. */
export function stackDestroyedCommandLine(cli: readonly string[], owner: Argument): Argument[] {
  return [...cli, 'sweep', withPrefix('--owner=', owner), `--manifest=${STACK_MANIFEST_FILE}`, '--stack-destroyed', step('deletion of the destroyed stack\'s keys')];
}

/** The sweep resource's destroy step: the keys recorded at the last deploy whose constructs are gone. */
export function keysRemovedCommandLine(cli: readonly string[]): Argument[] {
  return [
    ...cli, 'sweep', { recorded: 'owner', prefix: '--owner=' }, `--manifest=${STACK_MANIFEST_FILE}`, { recorded: 'keys', prefix: '--removed=' },
    step('deletion of the keys removed from the code'),
  ];
}

function withPrefix(prefix: string, arg: Argument): Argument {
  return typeof arg === 'string' ? `${prefix}${arg}` : { ...arg, prefix };
}

/**
 * The executable and script every provisioner runs: this package's own CLI, found next to this module
 * (`dist/constructs/` → `dist/cli/main.js`), so it is the user's installed copy in `node_modules`, whatever
 * the working directory or PATH. The executable is `process.execPath`, the Node.js running the synth, rather
 * than `node` from Terraform's PATH: it is known to meet the package's engine requirement, and version
 * managers (nvm, asdf) often leave a different `node`, or none, on the PATH that Terraform sees.
 */
export function cliCommand(scope: Construct): string[] {
  const script = (cliScript ??= findCliScript());
  if (!existsSync(script)) {
    Annotations.of(scope).addWarning(`ImportedKmsKey "${scope.node.path}": the thalassa-byok CLI was not found at ${script}; build the package (npm run build) before deploying.`);
  }
  return [process.execPath, script];
}

let cliScript: string | undefined;

function findCliScript(): string {
  const compiled = join(__dirname, '..', 'cli', 'main.js');
  // Running from the TypeScript sources (ts-jest, ts-node): use this checkout's build.
  const checkoutBuild = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
  return existsSync(compiled) ? compiled : existsSync(checkoutBuild) ? checkoutBuild : compiled;
}
