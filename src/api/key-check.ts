/**
 * `thalassa-byok check`'s logic, without the CLI: compares a stack's declared keys (its manifest,
 * docs/manifest.md) with the live API, and repairs what can be repaired safely. Terraform never reads an
 * imported key back, so whatever happened outside it (a deletion scheduled by hand, a disabled key, changed
 * rotation settings, a name taken by someone else, a changed wrapping key) is visible only here.
 *
 * Never touches a key that does not carry this state's owner id, the construct and the fingerprint, with the
 * proof that it holds the material ({@link missingProof}); never schedules a deletion.
 */
import { spkiPemFingerprint } from '../material/fingerprint';
import { CONSTRUCT_LABEL, FINGERPRINT_ANNOTATION, OWNER_LABEL, type ManifestKey, type StackManifest } from '../protocol';
import type { KmsClient } from './client';
import { findOnlyKey, importKey, missingProof, userEntries } from './key-lifecycle';
import type { KmsKey } from './types';

/** What check found about one declared key (or an undeclared one); `in-sync` when nothing. */
export type DriftKind =
  | 'in-sync'
  | 'not-imported'
  | 'gone'
  | 'pending-deletion'
  | 'disabled'
  | 'settings-drifted'
  | 'rotation-drifted'
  | 'foreign-name'
  | 'other-state'
  | 'wrapping-key-changed'
  | 'owned-not-declared';

/** One setting that differs: what the live key has, what the code declares. */
export interface Difference {
  readonly setting: string;
  readonly have: unknown;
  readonly want: unknown;
}

export interface Finding {
  readonly kind: Exclude<DriftKind, 'in-sync'>;
  /** For a human; names the key, never material, blobs or tokens. */
  readonly message: string;
  readonly differences?: readonly Difference[];
  /** Whether `repairStack` repairs it. */
  readonly repairable: boolean;
  /** The exact next step when it is not repaired (or when repair is not asked for). */
  readonly nextStep: string;
}

export interface KeyReport {
  readonly construct: string;
  readonly path: string;
  readonly region: string;
  readonly name: string;
  /** The live key's identity, when a key has the name. */
  readonly identity?: string;
  /** The first finding's kind, or `in-sync`. A problem with ownership comes first. */
  readonly status: DriftKind;
  readonly findings: readonly Finding[];
}

/** A key that carries this state's owner id but that no declared key of the stack is. */
export interface UndeclaredKey {
  readonly kind: 'owned-not-declared';
  readonly region: string;
  readonly name: string;
  readonly identity: string;
  readonly status: string;
  readonly construct?: string;
  readonly message: string;
  readonly nextStep: string;
}

export interface StackReport {
  readonly stack: string;
  /** Whether this state's owner id is known (it is not before the stack's first deploy). */
  readonly ownerKnown: boolean;
  readonly keys: readonly KeyReport[];
  readonly undeclared: readonly UndeclaredKey[];
}

export interface CheckStackInput {
  readonly manifest: StackManifest;
  /** This state's owner id; undefined when the stack was never deployed (no owner resource in the state). */
  readonly owner: string | undefined;
  /**
   * The resource addresses the Terraform state tracks, when check read the state: an absent key whose
   * resource is tracked is `gone`, not `not-imported`. Undefined: not read.
   */
  readonly tracked?: ReadonlySet<string>;
  /** Each symmetric key's commitment, by construct label (the proof that a key holds the material). */
  readonly commitments: ReadonlyMap<string, string | undefined>;
  /** Where to look for undeclared keys of this owner: every region with KMS. */
  readonly regions: readonly string[];
}

/** The order findings are reported in: who owns the key first, then what a deploy or repair would do. */
const ORDER: readonly Finding['kind'][] = [
  'foreign-name', 'other-state', 'gone', 'not-imported', 'pending-deletion', 'disabled', 'settings-drifted', 'rotation-drifted', 'wrapping-key-changed',
];

/** Compares every declared key of the stack with the live API, and lists the owned keys it no longer declares. */
export async function checkStack(client: KmsClient, input: CheckStackInput): Promise<StackReport> {
  const wrapping = new Map<string, Promise<string>>();
  const liveWrapping = (region: string): Promise<string> => {
    let fp = wrapping.get(region);
    if (fp === undefined) {
      fp = client.wrappingKey(region).then((w) => spkiPemFingerprint(w.publicKey) ?? 'an unreadable key');
      wrapping.set(region, fp);
    }
    return fp;
  };
  const keys: KeyReport[] = [];
  for (const declared of input.manifest.keys) {
    keys.push(await checkKey(client, input, declared, await liveWrapping(declared.wrappingKey.region)));
  }
  return { stack: input.manifest.stack, ownerKnown: input.owner !== undefined, keys, undeclared: input.owner === undefined ? [] : await undeclaredKeys(client, input, input.owner) };
}

async function checkKey(client: KmsClient, input: CheckStackInput, declared: ManifestKey, liveWrappingFingerprint: string): Promise<KeyReport> {
  const findings: Finding[] = [];
  const where = `key ${declared.name} in ${declared.region}`;
  const replace = `terraform apply -replace=${declared.resource}`;
  if (liveWrappingFingerprint !== declared.wrappingKey.fingerprint) {
    findings.push({
      kind: 'wrapping-key-changed', repairable: false,
      message: `the live wrapping key of ${declared.wrappingKey.region} is ${liveWrappingFingerprint}, but the blob of ${declared.path} was wrapped for ${declared.wrappingKey.fingerprint} (the key was substituted, or the region rotated it)`,
      differences: [{ setting: 'wrappingKey', have: liveWrappingFingerprint, want: declared.wrappingKey.fingerprint }],
      nextStep: `verify the new wrapping key out of band ("thalassa-byok wrapping-key --region ${declared.wrappingKey.region}"), update the pin and the wrapping key file, and synth again; until then no import of this key can succeed`,
    });
  }
  const key = await findOnlyKey(client, declared.region, declared.name);
  if (key === undefined) {
    const tracked = input.tracked?.has(declared.resource) === true;
    findings.push(tracked && input.owner !== undefined
      ? {
        kind: 'gone', repairable: true,
        message: `${where} does not exist, but the Terraform state tracks ${declared.resource}: it was deleted out of band, and a deploy will not import it again`,
        nextStep: `run "thalassa-byok check --repair" (it imports the key again from the blob the synth wrote), or "${replace}" in the stack folder`,
      }
      : {
        kind: 'not-imported', repairable: false,
        message: `${where} does not exist yet: the next deploy imports it${input.tracked === undefined && input.owner !== undefined ? ' (check did not read the state; if the state already tracks it, it is gone)' : ''}`,
        nextStep: input.tracked === undefined && input.owner !== undefined
          ? `run "cdktf deploy"; if it changes nothing, run "${replace}" in the stack folder`
          : 'run "cdktf deploy"',
      });
    return report(declared, undefined, findings);
  }
  // The API serves no public key of a disabled or pending key: an asymmetric key cannot prove its material
  // then, so check reports it by its labels and --repair leaves it to you.
  const unprovable = declared.fingerprint.startsWith('spki-sha256:') && key.status !== 'active';
  const ours = await ownership(client, input, declared, key, unprovable);
  if (ours !== undefined) {
    findings.push(ours);
    return report(declared, key, findings);
  }
  const byHand = ` (check cannot prove an asymmetric key's material while it is ${key.status}: the API serves no public key then)`;
  if (key.status === 'pending_deletion') {
    findings.push({
      kind: 'pending-deletion', repairable: !unprovable,
      message: `${where} (${key.identity}) is scheduled for deletion, out of band${key.deletionScheduledAt ? ` (deleted at ${key.deletionScheduledAt})` : ''}${unprovable ? byHand : ''}`,
      nextStep: unprovable
        ? `if it is yours (its labels say so), run "thalassa-byok cancel-deletion --region ${declared.region} --name ${declared.name}", then "thalassa-byok check" again`
        : `run "thalassa-byok check --repair" or "thalassa-byok cancel-deletion --region ${declared.region} --name ${declared.name}"`,
    });
  } else if (key.status === 'disabled') {
    findings.push({
      kind: 'disabled', repairable: !unprovable,
      message: `${where} (${key.identity}) is disabled: nothing can use it${unprovable ? byHand : ''}`,
      nextStep: unprovable
        ? `if it is yours (its labels say so), enable it in the Thalassa console (POST /v1/kms/${declared.region}/keys/${key.identity}/enable), then run "thalassa-byok check" again`
        : 'run "thalassa-byok check --repair" to enable it',
    });
  }
  const differences = settingDifferences(key, declared);
  if (differences.length > 0) {
    findings.push({
      kind: 'settings-drifted', repairable: false, differences,
      message: `${where} (${key.identity}) has other settings than the code declares (${describeDifferences(differences)}); they are fixed at import`,
      nextStep: `change the code back to the key's settings, or give the key a new name (change "name", or "physicalName") so that the next deploy imports a new key and sweeps this one`,
    });
  }
  const rotation = rotationDifferences(key, declared);
  if (rotation.length > 0) {
    findings.push({
      kind: 'rotation-drifted', repairable: !unprovable, differences: rotation,
      message: `the rotation settings of ${where} (${key.identity}) were changed out of band (${describeDifferences(rotation)})`,
      nextStep: `run "thalassa-byok check --repair" to apply the declared rotation settings again`,
    });
  }
  return report(declared, key, findings);
}

/** Undefined when the key provably is this state's key of this construct; otherwise the finding that says whose it is. */
async function ownership(client: KmsClient, input: CheckStackInput, declared: ManifestKey, key: KmsKey, unprovable: boolean): Promise<Finding | undefined> {
  const where = `key ${declared.name} in ${declared.region} (${key.identity})`;
  const foreign = (why: string): Finding => ({
    kind: 'foreign-name', repairable: false,
    message: `${where} is not this stack's key: ${why}; the next deploy would refuse to adopt it and fail`,
    nextStep: 'find out whose key it is; delete it yourself if it is stale, or give the declared key another name (change "name", or "physicalName")',
  });
  if (key.imported === false) return foreign('it was generated by Thalassa Cloud, not imported');
  const fingerprint = key.annotations?.[FINGERPRINT_ANNOTATION];
  if (fingerprint !== declared.fingerprint) return foreign(fingerprint === undefined ? 'it was not imported by cdktf-thalassa-byok' : `it holds other material (fingerprint ${fingerprint})`);
  const why = unprovable ? undefined : await missingProof(client, declared.region, key, declared.fingerprint, input.commitments.get(declared.construct));
  if (why !== undefined) return foreign(`it carries this key's fingerprint, but ${why}`);
  const owner = key.labels?.[OWNER_LABEL];
  if (owner === undefined) return foreign('it carries no owner id, so no Terraform state can prove it owns it');
  if (owner !== input.owner) {
    return {
      kind: 'other-state', repairable: false,
      message: `${where} holds this material but belongs to another Terraform state (owner id ${owner}${input.owner === undefined ? '; this stack was not deployed yet' : ''}); the next deploy would refuse to adopt it`,
      nextStep: 'if that state is this stack\'s lost state, take the key over with new KeyOwner(stack, { ownerId: \'' + owner + '\' }) (docs/lifecycle.md); otherwise give the declared key another name',
    };
  }
  if (key.labels?.[CONSTRUCT_LABEL] !== declared.construct) {
    return foreign(`it was imported for another construct of this state (${CONSTRUCT_LABEL} ${key.labels?.[CONSTRUCT_LABEL] ?? '(none)'})`);
  }
  return undefined;
}

function report(declared: ManifestKey, key: KmsKey | undefined, findings: Finding[]): KeyReport {
  const sorted = [...findings].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  return {
    construct: declared.construct, path: declared.path, region: declared.region, name: declared.name,
    ...(key === undefined ? {} : { identity: key.identity }),
    status: sorted[0]?.kind ?? 'in-sync', findings: sorted,
  };
}

/** The immutable settings the live key reports otherwise than declared (a setting the API omits is not compared). */
function settingDifferences(key: KmsKey, declared: ManifestKey): Difference[] {
  const found: Difference[] = [];
  const compare = (setting: string, have: unknown, want: unknown): void => {
    if (JSON.stringify(have) !== JSON.stringify(want)) found.push({ setting, have, want });
  };
  compare('keyType', key.keyType, declared.keyType);
  if (key.allowRotation !== undefined) compare('allowRotation', key.allowRotation, declared.settings.allowRotation);
  if (key.exportAllowed !== undefined) compare('exportAllowed', key.exportAllowed, declared.settings.exportAllowed);
  compare('description', key.description ?? '', declared.settings.description);
  compare('labels', userEntries(key.labels), userEntries(declared.settings.labels));
  compare('annotations', userEntries(key.annotations), userEntries(declared.settings.annotations));
  return found;
}

/** Where the live rotation differs from the declared one; nothing when the code does not manage rotation. */
function rotationDifferences(key: KmsKey, declared: ManifestKey): Difference[] {
  const want = declared.rotation;
  if (want === undefined) return [];
  const found: Difference[] = [];
  const enabled = key.keyRotationEnabled ?? false;
  if (enabled !== want.enabled) found.push({ setting: 'rotation.enabled', have: enabled, want: want.enabled });
  if (want.periodInDays !== undefined && key.rotationPeriodInDays !== want.periodInDays) {
    found.push({ setting: 'rotation.periodInDays', have: key.rotationPeriodInDays ?? null, want: want.periodInDays });
  }
  return found;
}

function describeDifferences(differences: readonly Difference[]): string {
  return differences.map((d) => `${d.setting}: have ${JSON.stringify(d.have)}, want ${JSON.stringify(d.want)}`).join('; ');
}

async function undeclaredKeys(client: KmsClient, input: CheckStackInput, owner: string): Promise<UndeclaredKey[]> {
  const declared = new Set(input.manifest.keys.map((k) => `${k.region}\u0000${k.name}`));
  const found: UndeclaredKey[] = [];
  for (const region of new Set([...input.manifest.keys.map((k) => k.region), ...input.regions])) {
    for (const key of await client.listKeys(region, { labels: { [OWNER_LABEL]: owner } })) {
      // A server may ignore the filter: check the label here too. Keys pending deletion are on their way out.
      if (key.labels?.[OWNER_LABEL] !== owner || declared.has(`${region}\u0000${key.name}`) || key.status === 'pending_deletion') continue;
      const fingerprint = key.annotations?.[FINGERPRINT_ANNOTATION];
      found.push({
        kind: 'owned-not-declared', region, name: key.name, identity: key.identity, status: key.status,
        ...(key.labels?.[CONSTRUCT_LABEL] === undefined ? {} : { construct: key.labels[CONSTRUCT_LABEL] }),
        message: `key ${key.name} in ${region} (${key.identity}) carries this state's owner id, but the stack declares no such key (removed with removalPolicy retain, or left by a failed sweep)`,
        nextStep: fingerprint === undefined
          ? 'it carries no fingerprint, so no command of this tool touches it: delete it in the Thalassa console if it is stale'
          : `if it is stale: thalassa-byok delete --region ${region} --name ${key.name} --fingerprint ${fingerprint} --owner ${owner}; if you keep it on purpose, ignore this`,
      });
    }
  }
  return found;
}

/** What `repairStack` did, or why it did not. */
export interface RepairAction {
  readonly region: string;
  readonly name: string;
  readonly kind: Finding['kind'];
  readonly action: 'cancelled-deletion' | 'enabled' | 'rotation-applied' | 'reimported' | 'not-repaired';
  readonly message: string;
}

export interface RepairInput extends CheckStackInput {
  /** The wrapped blob the synth wrote for the key, base64, checked against the region's live wrapping key. */
  readonly blobFor: (key: ManifestKey) => Promise<string>;
}

/**
 * Repairs the repairable findings of `report`: cancels an out-of-band deletion, enables a disabled key,
 * applies the declared rotation settings again, imports a gone key again. Before each change the key is
 * looked up afresh and must carry this state's owner id, the construct and the fingerprint, with proof.
 */
export async function repairStack(client: KmsClient, input: RepairInput, report: StackReport, progress: (line: string) => void = () => undefined): Promise<RepairAction[]> {
  const actions: RepairAction[] = [];
  const owner = input.owner;
  for (const keyReport of report.keys) {
    const declared = input.manifest.keys.find((k) => k.construct === keyReport.construct && k.name === keyReport.name);
    if (declared === undefined) continue;
    const blocked = keyReport.findings.some((f) => f.kind === 'foreign-name' || f.kind === 'other-state');
    for (const finding of keyReport.findings) {
      const done = (action: RepairAction['action'], message: string): void => {
        actions.push({ region: declared.region, name: declared.name, kind: finding.kind, action, message });
        progress(message);
      };
      if (!finding.repairable || blocked || owner === undefined) {
        if (finding.kind !== 'not-imported') done('not-repaired', `Not repaired: ${finding.message}. Next step: ${finding.nextStep}.`);
        continue;
      }
      if (finding.kind === 'gone') {
        if (keyReport.findings.some((f) => f.kind === 'wrapping-key-changed')) {
          done('not-repaired', `Not re-imported: key ${declared.name} in ${declared.region} is gone, but its blob was wrapped for another wrapping key than the region's live one. Next step: verify the new wrapping key, synth again, then "terraform apply -replace=${declared.resource}" in the stack folder.`);
          continue;
        }
        const outcome = await importKey(client, {
          region: declared.region, name: declared.name, keyType: declared.keyType, importKeyMaterial: await input.blobFor(declared),
          fingerprint: declared.fingerprint, commitment: input.commitments.get(declared.construct), owner, construct: declared.construct,
          hashFunction: declared.settings.hashFunction, allowRotation: declared.settings.allowRotation, description: declared.settings.description,
          labels: declared.settings.labels, annotations: declared.settings.annotations, exportAllowed: declared.settings.exportAllowed,
        }, { progress });
        done('reimported', `Imported key ${declared.name} in ${declared.region} again (${outcome.key.identity}), from the blob the synth wrote.`);
        if (declared.rotation !== undefined) {
          await client.updateRotation(declared.region, outcome.key.identity, rotationRequest(declared));
          done('rotation-applied', `Applied the declared rotation settings to key ${declared.name} in ${declared.region}.`);
        }
        continue;
      }
      const key = await provenKey(client, input, declared, owner);
      if (typeof key === 'string') {
        done('not-repaired', `Not repaired: ${key}. Next step: run "thalassa-byok check" again and follow its advice.`);
        continue;
      }
      if (finding.kind === 'pending-deletion' && key.status === 'pending_deletion') {
        await client.cancelDeletion(declared.region, key.identity);
        done('cancelled-deletion', `Cancelled the scheduled deletion of key ${declared.name} in ${declared.region} (${key.identity}).`);
      } else if (finding.kind === 'disabled' && key.status === 'disabled') {
        await client.enableKey(declared.region, key.identity);
        done('enabled', `Enabled key ${declared.name} in ${declared.region} (${key.identity}).`);
      } else if (finding.kind === 'rotation-drifted' && declared.rotation !== undefined) {
        await client.updateRotation(declared.region, key.identity, rotationRequest(declared));
        done('rotation-applied', `Applied the declared rotation settings to key ${declared.name} in ${declared.region} (${key.identity}).`);
      }
    }
  }
  for (const undeclared of report.undeclared) {
    actions.push({ region: undeclared.region, name: undeclared.name, kind: undeclared.kind, action: 'not-repaired', message: `Not repaired (check never deletes): ${undeclared.message}. Next step: ${undeclared.nextStep}.` });
    progress(actions[actions.length - 1].message);
  }
  return actions;
}

function rotationRequest(declared: ManifestKey): { keyRotationEnabled: boolean; rotationPeriodInDays?: number } {
  const rotation = declared.rotation as NonNullable<ManifestKey['rotation']>;
  return { keyRotationEnabled: rotation.enabled, ...(rotation.periodInDays === undefined ? {} : { rotationPeriodInDays: rotation.periodInDays }) };
}

/** The declared key, looked up afresh, if it carries this owner id, construct and fingerprint and proves the material; else why not. */
async function provenKey(client: KmsClient, input: CheckStackInput, declared: ManifestKey, owner: string): Promise<KmsKey | string> {
  const key = await findOnlyKey(client, declared.region, declared.name);
  if (key === undefined) return `key ${declared.name} in ${declared.region} no longer exists`;
  if (key.labels?.[OWNER_LABEL] !== owner || key.labels?.[CONSTRUCT_LABEL] !== declared.construct || key.annotations?.[FINGERPRINT_ANNOTATION] !== declared.fingerprint) {
    return `key ${declared.name} in ${declared.region} (${key.identity}) no longer carries this state's owner id, construct and fingerprint`;
  }
  const why = await missingProof(client, declared.region, key, declared.fingerprint, input.commitments.get(declared.construct));
  return why === undefined ? key : `key ${declared.name} in ${declared.region} (${key.identity}) cannot prove it holds the material: ${why}`;
}
