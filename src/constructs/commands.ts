/**
 * The command lines the provisioners run: this package's CLI with the options it parses
 * (`test/constructs/command-lines.test.ts` checks them against the CLI's own parser).
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { Annotations, App, TerraformStack } from './framework';
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
  /** The stack's wrapped-keys file, relative to its working directory (where Terraform runs provisioners). */
  readonly wrappedFile: string;
  readonly fingerprint: string;
  /** The wrapping key the blob was made for: import refuses the blob when the region's live key is another. */
  readonly wrappingKeyFingerprint: string;
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
    `--fingerprint=${a.fingerprint}`,
    `--wrapping-key-fingerprint=${a.wrappingKeyFingerprint}`,
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

/** The synth-time environment variable that names the Node.js executable the provisioners run. */
export const NODE_OVERRIDE_ENV = 'THALASSA_BYOK_NODE';

/**
 * The executable and script every provisioner runs: `node`, found on the PATH Terraform runs with, and this
 * package's apply-step CLI (`dist/constructs/` → `dist/cli/apply-step.js`, the user's installed copy in
 * `node_modules`: the commands provisioners run, bundled into one file for start-up)
 * by a path relative to the stack's working directory, where Terraform runs provisioners. So `cdk.tf.json`
 * names no absolute path of the synth machine, and a stack synthesized in one folder (or CI job) applies
 * from a copy with the same project layout elsewhere. The CLI itself refuses to run on a Node.js older than
 * the package's `engines` (an nvm/asdf PATH may hold an old one); `THALASSA_BYOK_NODE` at synth names
 * another executable (a name looked up on the PATH, or a path) for the provisioners.
 */
export function cliCommand(scope: Construct): string[] {
  const script = (cliScript ??= findCliScript());
  // Once per stack: the path and its check are the same for every key of it (a stat and a path per key
  // were a noticeable part of a 1,000-key synth).
  const stack = TerraformStack.of(scope);
  let known = CLI_BY_STACK.get(stack);
  if (known === undefined) CLI_BY_STACK.set(stack, (known = { found: existsSync(script), relative: relativeToStack(scope, script) }));
  if (!known.found) {
    Annotations.of(scope).addWarning(`ImportedKmsKey "${scope.node.path}": the thalassa-byok CLI was not found at ${script}; build the package (npm run build) before deploying.`);
  }
  const override = process.env[NODE_OVERRIDE_ENV];
  const node = override === undefined || override.trim() === '' ? 'node' : override;
  return [node, known.relative];
}

const CLI_BY_STACK = new WeakMap<TerraformStack, { readonly found: boolean; readonly relative: string }>();

/**
 * `file` relative to the working directory Terraform runs the stack in: `<app outdir>/stacks/<stack id>`
 * (cdktf's and cdktn's manifest name it so; the e2e tests deploy with cdktf-cli and apply from a copy).
 * A relative outdir is relative to the synth's working directory, as the App itself resolves it.
 */
function relativeToStack(scope: Construct, file: string): string {
  const stack = TerraformStack.of(scope);
  const workingDirectory = resolve(App.of(scope).outdir, STACKS_FOLDER, stack.node.id);
  const path = relative(workingDirectory, file).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

const STACKS_FOLDER = 'stacks';

let cliScript: string | undefined;

function findCliScript(): string {
  const compiled = join(__dirname, '..', 'cli', 'apply-step.js');
  // Running from the TypeScript sources (ts-jest, ts-node): use this checkout's build.
  const checkoutBuild = join(__dirname, '..', '..', 'dist', 'cli', 'apply-step.js');
  return existsSync(compiled) ? compiled : existsSync(checkoutBuild) ? checkoutBuild : compiled;
}
