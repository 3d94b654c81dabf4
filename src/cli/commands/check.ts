import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { shownPath, shownValue } from '../../disclosure';
import { checkStack, repairStack, sweepRegions, type KmsClient, type RepairAction, type StackReport } from '../../api';
import { STACK_MANIFEST_FILE, type ManifestKey, type StackManifest } from '../../protocol';
import { checkWrappedBlob } from '../../wrapping/blob-check';
import { spkiFingerprint } from '../../material/fingerprint';
import { ByokError } from '../../errors';
import type { WrappedKeyEntry } from '../../wrapped-keys';
import { ExitCode, optionalString, UsageError, type CliIo, type Command, type ParsedOptions } from '../command';
import { readManifest, readManifestEntries } from '../manifest';
import { API_ENV_HELP, ownershipOptions, printJson, withClient } from './api-options';

/** The version of `check --json`'s output; bumped only by a change that breaks readers. */
const CHECK_JSON_VERSION = 1;

export const checkCommand: Command = {
  name: 'check',
  options: {
    dir: { type: 'string' }, stack: { type: 'string', multiple: true }, json: { type: 'boolean' }, repair: { type: 'boolean' },
    owner: { type: 'string' }, verbose: { type: 'boolean', short: 'v' },
  },
  help: `Usage: thalassa-byok check [--dir cdktf.out] [--stack NAME ...] [--json] [--repair] [--owner ID] [--verbose]

Compares every key the synthesized stacks declare (cdktf.out/stacks/<stack>/byok/keys.json) with the live
API, and reports per key: in sync; not imported yet; gone, pending deletion or disabled out of band;
settings or rotation drifted (have vs want); the name held by a key that is not ours; owned by another
Terraform state; the region's wrapping key differs from the one the blob was wrapped for. Also the keys
this state owns that no declared key is. Run it after "cdktf synth", e.g. as a pipeline gate.

  --dir D         The synth output folder (default cdktf.out)
  --stack NAME    Check only this stack (repeatable; default every stack with imported keys)
  --json          Print the report as JSON (stable, for CI)
  --repair        Also repair what is safe: cancel an out-of-band deletion of our key, enable our disabled
                  key, apply the declared rotation settings again, import a gone key again from the blob the
                  synth wrote. Never deletes; touches only keys carrying this state's owner id, construct
                  and fingerprint, with proof that they hold the material. Prints the next step for the rest
  --owner ID      The state's owner id, instead of reading it from the Terraform state (one stack only)
  --verbose, -v   Log each HTTP request (method, path, status) to stderr

The owner id: with an explicit KeyOwner ownerId it is in the manifest, and check reads no Terraform state.
Otherwise it is the id of the stack's owner resource, which only the state holds: check runs
"terraform show -json" in the stack's folder (after "terraform init -input=false" if the folder has no
.terraform yet), so it needs read access to the state, as "cdktf diff" does, and Terraform on the PATH
(or TERRAFORM_BINARY_NAME).

${API_ENV_HELP}
Exit codes: 0 every key in sync, 4 drift or problems found (after --repair: left), 1 could not check
(API, credentials, state), 2 usage error (no or foreign --dir, unknown stack, manifest of another version).
`,
  async run(options, io) {
    const dir = optionalString(options, 'dir') ?? 'cdktf.out';
    const wanted = stackOption(options);
    const { owner: ownerOption } = ownershipOptions(options);
    const stacks = synthesizedStacks(dir);
    for (const name of wanted ?? []) {
      if (!stacks.has(name)) throw new UsageError(`--stack ${shownValue(name)}: ${shownPath(dir)} has no such stack (it has: ${[...stacks.keys()].join(', ') || 'none'}). Synth it first.`);
    }
    // Every manifest is read and checked before the first request: bad input changes nothing.
    const selected: { workDir: string; manifest: StackManifest }[] = [];
    for (const [name, workDir] of stacks) {
      if (wanted !== undefined && !wanted.includes(name)) continue;
      const file = join(workDir, STACK_MANIFEST_FILE);
      if (!existsSync(file)) {
        if (wanted !== undefined) throw new UsageError(`--stack ${name} declares no ImportedKmsKey (${shownPath(file)} does not exist); nothing to check.`);
        continue;
      }
      selected.push({ workDir, manifest: readManifest(file, 'dir') });
    }
    if (selected.length === 0) throw new UsageError(`${shownPath(dir)} has no stack that declares an ImportedKmsKey (no ${STACK_MANIFEST_FILE}); nothing to check.`);
    if (ownerOption !== undefined && selected.length !== 1) throw new UsageError('--owner names one state\'s owner id: give exactly one --stack with it.');
    const entries = selected.map(({ workDir, manifest }) => readManifestEntries(manifest, workDir, 'dir'));
    const commitments = entries.map((byConstruct) => new Map([...byConstruct].map(([construct, entry]) => [construct, entry.commitment] as const)));

    const progress = (line: string): void => io.stderr(`${line}\n`);
    const { reports, repairs } = await withClient(options, io, async (client) => {
      const regions = await sweepRegions(client, []);
      const reports: StackReport[] = [];
      const repairs: RepairAction[] = [];
      for (const [i, { workDir, manifest }] of selected.entries()) {
        const state = await ownerOf(manifest, workDir, ownerOption, io);
        const input = { manifest, owner: state.owner, tracked: state.tracked, commitments: commitments[i], regions };
        let report = await checkStack(client, input);
        if (options.repair === true && !inSync(report)) {
          repairs.push(...await repairStack(client, { ...input, blobFor: (key) => blobFor(client, entries[i], key) }, report, progress));
          report = await checkStack(client, input);
        }
        reports.push(report);
      }
      return { reports, repairs };
    });
    const ok = reports.every(inSync);
    if (options.json) {
      printJson(io, { version: CHECK_JSON_VERSION, inSync: ok, stacks: reports, ...(options.repair === true ? { repairs } : {}) });
    } else {
      io.stdout(reports.map(humanReport).join('\n'));
    }
    return ok ? ExitCode.OK : ExitCode.DRIFT;
  },
};

function stackOption(options: ParsedOptions): string[] | undefined {
  const raw = options.stack;
  if (raw === undefined) return undefined;
  const names = (Array.isArray(raw) ? raw : [raw]).map(String);
  for (const name of names) if (name === '' || name.includes('/') || name.includes('\\') || name === '.' || name === '..') throw new UsageError(`--stack ${shownValue(name)} is not a stack name.`);
  return names;
}

/** The stacks of a cdktf synth output (its `manifest.json`), with their working folders. */
function synthesizedStacks(dir: string): Map<string, string> {
  const file = join(dir, 'manifest.json');
  let parsed: unknown;
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!existsSync(dir)) throw new UsageError(`--dir ${shownPath(dir)} does not exist. Run "cdktf synth" first, or point --dir at its output folder.`);
    throw new UsageError(`--dir ${shownPath(dir)} is not a cdktf synth output folder (${code === 'ENOENT' ? 'no manifest.json' : code ?? 'manifest.json is not JSON'}). Run "cdktf synth" first, or point --dir at its output folder.`);
  }
  const stacks = (parsed as { stacks?: unknown } | null)?.stacks;
  if (stacks === null || typeof stacks !== 'object') throw new UsageError(`--dir ${shownPath(dir)}: manifest.json lists no stacks; it is not a cdktf synth output folder.`);
  const result = new Map<string, string>();
  for (const [name, stack] of Object.entries(stacks as Record<string, { workingDirectory?: unknown }>)) {
    const wd = stack?.workingDirectory;
    if (typeof wd !== 'string' || wd.startsWith('/') || wd.split(/[/\\]/).includes('..')) {
      throw new UsageError(`--dir ${shownPath(dir)}: manifest.json gives stack ${shownValue(name)} no usable workingDirectory; synth again.`);
    }
    result.set(name, resolve(dir, wd));
  }
  return result;
}

/** Could not read what check needs (the Terraform state). Exit 1. */
class StateReadError extends ByokError {
  constructor(message: string) {
    super('STATE_READ', message);
  }
}

/** The owner id (and the tracked resources, when the state was read). */
async function ownerOf(manifest: StackManifest, workDir: string, ownerOption: string | undefined, io: CliIo): Promise<{ owner?: string; tracked?: Set<string> }> {
  if (ownerOption !== undefined) return { owner: ownerOption };
  if (manifest.owner.source === 'explicit') return { owner: manifest.owner.id };
  const terraform = io.env.TERRAFORM_BINARY_NAME || 'terraform';
  const run = (args: string[]): Promise<string> => new Promise((done, fail) => {
    execFile(terraform, args, { cwd: workDir, env: { ...io.env, TF_IN_AUTOMATION: '1' }, maxBuffer: 1 << 28, timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) {
        const first = String(stderr).split('\n').map((l) => l.trim()).find((l) => l.startsWith('Error:')) ?? (error as Error).message.split('\n')[0];
        fail(new StateReadError(`Cannot read the owner id of stack ${manifest.stack} from its Terraform state: "${terraform} ${args[0]}" in ${shownPath(workDir)} failed (${first.slice(0, 300)}). ` +
          'check needs read access to the state here (as "cdktf diff" does), or the owner id: pass --owner ID, or declare KeyOwner with ownerId.'));
      } else {
        done(String(stdout));
      }
    });
  });
  if (!existsSync(join(workDir, '.terraform'))) await run(['init', '-input=false', '-no-color']);
  const shown = JSON.parse(await run(['show', '-json', '-no-color'])) as { values?: { root_module?: StateModule } };
  const tracked = new Map<string, Record<string, unknown>>();
  collect(shown.values?.root_module, tracked);
  const id = tracked.get(manifest.owner.address)?.[manifest.owner.attribute];
  return { owner: typeof id === 'string' && id !== '' ? id : undefined, tracked: new Set(tracked.keys()) };
}

interface StateModule {
  readonly resources?: readonly { readonly address?: string; readonly mode?: string; readonly values?: Record<string, unknown> }[];
  readonly child_modules?: readonly StateModule[];
}

function collect(module: StateModule | undefined, into: Map<string, Record<string, unknown>>): void {
  for (const r of module?.resources ?? []) if (r.mode === 'managed' && typeof r.address === 'string') into.set(r.address, r.values ?? {});
  for (const child of module?.child_modules ?? []) collect(child, into);
}

/** The blob the synth wrote for `key`, checked against the region's live wrapping key before it is sent. */
async function blobFor(client: KmsClient, entries: ReadonlyMap<string, WrappedKeyEntry>, key: ManifestKey): Promise<string> {
  // readManifestEntries made sure that every key of the manifest has its entry.
  const bytes = Buffer.from((entries.get(key.construct) as WrappedKeyEntry).blob);
  const live = createPublicKey({ key: (await client.wrappingKey(key.region)).publicKey, format: 'pem' });
  checkWrappedBlob(bytes, { modulusBytes: Math.ceil((live.asymmetricKeyDetails?.modulusLength ?? 0) / 8), fingerprint: spkiFingerprint(live) }, {
    expectedFingerprint: key.wrappingKey.fingerprint,
  });
  return bytes.toString('base64');
}

function inSync(report: StackReport): boolean {
  return report.undeclared.length === 0 && report.keys.every((k) => k.status === 'in-sync');
}

function humanReport(report: StackReport): string {
  const lines = [`Stack ${report.stack}${report.ownerKnown ? '' : ' (not deployed yet: no owner id in its state)'}:`];
  for (const key of report.keys) {
    lines.push(`  ${key.status === 'in-sync' ? 'ok   ' : 'DRIFT'} ${key.path}: ${key.name} in ${key.region}${key.identity ? ` (${key.identity})` : ''} — ${key.status}`);
    for (const f of key.findings) lines.push(`          ${f.kind}: ${f.message}.`, `          next: ${f.nextStep}.`);
  }
  for (const u of report.undeclared) lines.push(`  DRIFT ${u.name} in ${u.region} (${u.identity}) — ${u.kind}`, `          ${u.message}.`, `          next: ${u.nextStep}.`);
  lines.push(inSync(report) ? '  Every key is in sync.' : '  Drift found.');
  return `${lines.join('\n')}\n`;
}
