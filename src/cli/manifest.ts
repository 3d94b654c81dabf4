/** Reading a stack's `byok/keys.json` (docs/manifest.md): owner-only file rules, then field by field. */
import { join } from 'node:path';
import { shownPath } from '../disclosure';
import { STACK_MANIFEST_FILE, STACK_MANIFEST_VERSION, type ManifestKey, type StackManifest } from '../protocol';
import { WRAPPED_KEYS_FILE, type WrappedKeyEntry } from '../wrapped-keys';
import { UsageError } from './command';
import { readOwnerOnlyFile, readWrappedKeys } from './owner-only-file';

/** The stack's manifest, or a {@link UsageError} that names `option` and says to synth again. */
export function readManifest(file: string, option = 'manifest'): StackManifest {
  const bad = (why: string): never => {
    throw new UsageError(`--${option} ${shownPath(file)}: ${why}. Synth again with this version of cdktf-thalassa-byok.`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readOwnerOnlyFile(file, option).toString('utf8'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    return bad('not JSON');
  }
  const m = parsed as Partial<StackManifest> | null;
  if (m === null || typeof m !== 'object') return bad('not a JSON object');
  if (m.version !== STACK_MANIFEST_VERSION) return bad(`format version ${JSON.stringify(m.version)}, this CLI reads ${STACK_MANIFEST_VERSION}`);
  if (typeof m.stack !== 'string' || !Array.isArray(m.keys)) return bad('no stack name or keys list');
  const owner = m.owner as unknown as Record<string, unknown> | undefined;
  if (owner === null || typeof owner !== 'object'
    || !((owner.source === 'explicit' && typeof owner.id === 'string') || (owner.source === 'state' && typeof owner.address === 'string' && owner.attribute === 'id'))) {
    bad('no owner (explicit id, or the owner resource\'s address)');
  }
  for (const [i, k] of m.keys.entries()) {
    if (!validKey(k)) bad(`key ${i + 1} lacks a field of format ${STACK_MANIFEST_VERSION} (construct, region, name, fingerprint, removalPolicy, resource, settings, wrappingKey)`);
  }
  return m as StackManifest;
}

/**
 * The entries of the stack's wrapped-keys file (beside the manifest in `workDir`, the stack's folder), one for
 * every key the manifest lists; a {@link UsageError} naming `option` when the two are not from one synth.
 */
export function readManifestEntries(manifest: StackManifest, workDir: string, option: string): Map<string, WrappedKeyEntry> {
  const file = join(workDir, WRAPPED_KEYS_FILE);
  const entries = readWrappedKeys(file, option);
  const missing = manifest.keys.find((k) => !entries.has(k.construct));
  if (missing !== undefined) {
    throw new UsageError(`--${option}: ${shownPath(file)} has no entry for key ${missing.path}, so it is not from the synth that wrote ${STACK_MANIFEST_FILE}. Synth again.`);
  }
  return entries;
}

function validKey(k: ManifestKey): boolean {
  if (k === null || typeof k !== 'object') return false;
  const fields = k as unknown as Record<string, unknown>;
  if (!['construct', 'path', 'region', 'name', 'fingerprint', 'keyType', 'resource'].every((f) => typeof fields[f] === 'string')) return false;
  if (k.removalPolicy !== 'schedule-deletion' && k.removalPolicy !== 'retain') return false;
  const s = k.settings as unknown as Record<string, unknown> | undefined;
  if (s === null || typeof s !== 'object' || typeof s.description !== 'string' || typeof s.exportAllowed !== 'boolean' || typeof s.allowRotation !== 'boolean'
    || typeof s.hashFunction !== 'string' || !stringMap(s.labels) || !stringMap(s.annotations)) return false;
  if (k.rotation !== undefined && (k.rotation === null || typeof k.rotation.enabled !== 'boolean'
    || (k.rotation.periodInDays !== undefined && !Number.isInteger(k.rotation.periodInDays)))) return false;
  const w = k.wrappingKey as unknown as Record<string, unknown> | undefined;
  return w !== null && typeof w === 'object' && typeof w.fingerprint === 'string' && typeof w.region === 'string';
}

function stringMap(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every((v) => typeof v === 'string');
}
