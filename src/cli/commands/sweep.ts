import { dirname, join } from 'node:path';
import { sweepKeys, sweepRegions, type SweptKey } from '../../api';
import { parseRecord, type ManifestKey, type StackManifest } from '../../protocol';
import { ExitCode, optionalString, requireString, UsageError, type Command } from '../command';
import { readManifest, readManifestEntries } from '../manifest';
import { API_ENV_HELP, ownershipOptions, printJson, REGION_OPTION, withClient } from './api-options';

export const sweepCommand: Command = {
  name: 'sweep',
  options: {
    json: REGION_OPTION.json, verbose: REGION_OPTION.verbose,
    owner: { type: 'string' }, manifest: { type: 'string' }, removed: { type: 'string' }, 'stack-destroyed': { type: 'boolean' }, step: { type: 'string' },
  },
  help: `Usage: thalassa-byok sweep --owner ID --manifest F (--removed RECORD | --stack-destroyed) [--json] [--verbose]

Schedules deletion of the keys a Terraform state owns and the code no longer declares. This is the command
the per-stack resources of ImportedKmsKey run at apply; you rarely run it by hand. Only keys that carry the
owner id ID (label cdktf-thalassa-byok/owner), a construct label and a fingerprint annotation are touched;
a key whose region and name the manifest declares is never touched; keys already pending deletion stay so.

  --owner ID            The state's owner id
  --manifest F          The stack's byok/keys.json, as the synth writes it (same file rules as import's
                        --wrapped-file)
  --removed RECORD      The keys declared at the previous deploy (construct@region=policy,…, as the sweep
                        resource recorded them): the keys of constructs that are gone from the manifest
                        and had removalPolicy schedule-deletion are scheduled for deletion
  --stack-destroyed     The stack is being destroyed: the keys of every construct in the manifest with
                        removalPolicy schedule-deletion are scheduled for deletion (also those of failed
                        imports that Terraform no longer tracks)
  --step TEXT           What this run is for; not acted on (named in Terraform's error line)
  --json                Print the swept keys as JSON
  --verbose, -v         Log each HTTP request (method, path, status) to stderr

Every region with KMS (GET /v1/kms/summary) is searched, so a key whose region changed is found too.

${API_ENV_HELP}
Exit codes: 0 swept (or nothing to sweep), 1 failure, 2 usage error.
`,
  async run(options, io) {
    const { owner } = ownershipOptions(options);
    if (owner === undefined) throw new UsageError('--owner is required: only keys carrying this owner id are swept.');
    const manifestFile = requireString(options, 'manifest');
    const manifest = readManifest(manifestFile);
    const removedText = optionalString(options, 'removed');
    const destroyed = options['stack-destroyed'] === true;
    if ((removedText === undefined) === !destroyed) throw new UsageError('Give exactly one of --removed RECORD or --stack-destroyed.');

    let constructs: string[];
    let known: string[];
    let keep: readonly ManifestKey[];
    if (destroyed) {
      const scheduled = manifest.keys.filter((k) => k.removalPolicy === 'schedule-deletion');
      constructs = scheduled.map((k) => k.construct);
      known = scheduled.map((k) => k.region);
      keep = manifest.keys.filter((k) => k.removalPolicy === 'retain');
    } else {
      let recorded;
      try {
        recorded = parseRecord(removedText as string);
      } catch (err) {
        throw new UsageError(`--removed: ${(err as Error).message}.`);
      }
      const declared = new Set(manifest.keys.map((k) => k.construct));
      const gone = recorded.filter((k) => k.removalPolicy === 'schedule-deletion' && !declared.has(k.construct));
      constructs = gone.map((k) => k.construct);
      known = gone.map((k) => k.region);
      keep = manifest.keys;
    }
    const swept: SweptKey[] = constructs.length === 0 ? [] : await withClient(options, io, async (client) => sweepKeys(client, {
      owner, constructs, regions: await sweepRegions(client, known),
      keep: { names: new Set(keep.map((k) => `${k.region}\u0000${k.name}`)) },
      proofs: proofsOf(manifest, join(dirname(manifestFile), '..')),
    }, (line) => io.stderr(`${line}\n`)));
    if (options.json) {
      printJson(io, { swept: swept.map((s) => ({ region: s.region, identity: s.key.identity, name: s.key.name, action: s.action })) });
    } else {
      const what = destroyed ? `stack ${manifest.stack} destroyed` : `keys removed from stack ${manifest.stack}`;
      io.stdout(swept.length === 0 ? `Nothing to sweep (${what}).\n` : `Scheduled deletion of ${swept.length} key(s) (${what}).\n`);
    }
    return ExitCode.OK;
  },
};

/** Each declared key's proof of material by fingerprint: a symmetric key's commitment, from the wrapped-keys file. */
function proofsOf(manifest: StackManifest, workDir: string): Map<string, string | undefined> {
  const entries = readManifestEntries(manifest, workDir, 'manifest');
  return new Map(manifest.keys.map((k) => [k.fingerprint, entries.get(k.construct)?.commitment]));
}
