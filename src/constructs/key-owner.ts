/**
 * The per-stack pieces that make "a key follows the code" hold where a key's own destroy provisioner cannot
 * (Terraform runs none for a removed resource, a deposed object or a tainted one; see architecture.md):
 *
 * - the **owner** resource, never replaced: its random `id` is the state's owner id, recorded as a label on
 *   every key at import. Its destroy step (the stack is destroyed) sweeps every declared key that is not
 *   retained, including keys of failed imports that Terraform no longer tracks.
 * - the **sweep** resource, replaced whenever the set of declared keys or their removal policies change, and
 *   ordered after every key. It records the declared keys in state; when it is replaced, its destroy step
 *   reads that record back and sweeps the keys of constructs that are gone from the code, unless they were
 *   retained at that deploy.
 * - the stack's manifest (`byok/keys.json`) and wrapped-keys file (`byok/keys.wrapped`), written at synth:
 *   what the code declares now, and what each key's import sends.
 */
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { addCustomSynthesis, dependencyOn, Lazy, TerraformStack, Token, type ISynthesisSession, type TerraformResource } from './framework';
import { Construct } from 'constructs';
import { encodeRecord, STACK_MANIFEST_FILE, STACK_MANIFEST_VERSION, type ManifestKey, type ManifestOwner, type StackManifest } from '../protocol';
import { writeOwnerOnlyFile } from '../secret-file';
import { encodeWrappedKeys, WRAPPED_KEYS_FILE, type WrappedKeyEntry } from '../wrapped-keys';
import { cliCommand, keysRemovedCommandLine, stackDestroyedCommandLine } from './commands';
import { describeReceived, ImportedKmsKeyError, invalidProp } from './errors';
import { lifecycleResource, type LifecycleResourceType } from './lifecycle';

/** Properties of a stack's {@link KeyOwner}. */
export interface KeyOwnerProps {
  /**
   * Take over the keys of a state that was lost: the owner id they carry (label `cdktf-thalassa-byok/owner`,
   * shown by `thalassa-byok describe`). Without it, the owner id is the random id of the owner resource,
   * fixed when the stack is first deployed. Never set it to another live state's id: both would then own the
   * same keys.
   * @default - the owner resource's random id
   */
  readonly ownerId?: string;

  /**
   * The Terraform resource type of the owner and sweep resources.
   * @default 'terraform_data'
   *
   * IMPORTANT: changing it (or removing `ownerId`) gives the state a new owner id, and existing keys are then
   * no longer adopted. Do not change it in a deployed stack.
   */
  readonly lifecycleResource?: LifecycleResourceType;
}

/** What a key gives its stack's wrapped-keys file: its entry, unless its props have mistakes (then it throws). */
export interface KeyApplyData {
  readonly entry?: WrappedKeyEntry;
  /** Throws the key's mistakes, if any (a synth that skips validation must still fail on them). */
  refuseMistakes(): void;
}

/** The folder of the stack's output where the synth writes the wrapped-keys file and the manifest. */
const OUTPUT_FOLDER = 'byok';

/** The construct id of a stack's key owner; one per stack. */
const KEY_OWNER_ID = 'ThalassaByokKeyOwner';

const OWNER_ID_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/**
 * The state's owner of a stack's imported keys. Added to the stack by the first `ImportedKmsKey`; declare it
 * yourself (before the keys) to set {@link KeyOwnerProps}, or to keep it when the stack may lose its last
 * key: the sweep of a removed key runs only while the stack still has a key owner.
 */
export class KeyOwner extends Construct {
  /** The stack's key owner, added with default properties if it has none yet. */
  public static of(scope: Construct): KeyOwner {
    const stack = TerraformStack.of(scope);
    const existing = stack.node.tryFindChild(KEY_OWNER_ID);
    return existing instanceof KeyOwner ? existing : new KeyOwner(stack);
  }

  /** What the import records as the owner id: a reference to the owner resource's id, or the given id. */
  public readonly ownerId: string;
  /** The never-replaced resource whose id is the owner id. */
  public readonly ownerResource: TerraformResource;
  /** The resource that sweeps removed keys when it is replaced. */
  public readonly sweepResource: TerraformResource;

  readonly #keys: { readonly key: Omit<ManifestKey, 'resource'>; readonly resource: TerraformResource; readonly apply: KeyApplyData }[] = [];

  constructor(stack: TerraformStack, props: KeyOwnerProps = {}) {
    if (stack.node.tryFindChild(KEY_OWNER_ID) !== undefined) {
      throw invalidProp(`${stack.node.path}/${KEY_OWNER_ID}`, 'scope',
        'a stack without a KeyOwner yet (declare the KeyOwner before the first ImportedKmsKey of the stack)', 'a stack that already has one');
    }
    super(stack, KEY_OWNER_ID);
    const path = this.node.path;
    if (props.ownerId !== undefined && (typeof props.ownerId !== 'string' || !OWNER_ID_PATTERN.test(props.ownerId))) {
      throw invalidProp(path, 'ownerId', 'an owner id as keys carry it: 1..63 characters from [A-Za-z0-9._-], starting and ending with a letter or digit', describeReceived(props.ownerId));
    }
    const type = props.lifecycleResource ?? 'terraform_data';
    if (type !== 'terraform_data' && type !== 'null_resource') throw invalidProp(path, 'lifecycleResource', '"terraform_data" or "null_resource"', describeReceived(type));
    const cli = cliCommand(this);

    this.ownerResource = lifecycleResource(type, this, 'Owner', {
      triggers: {},
      recorded: [],
      onDestroy: stackDestroyedCommandLine(cli, props.ownerId ?? { selfId: true }),
    });
    this.ownerId = props.ownerId ?? this.ownerResource.getStringAttribute('id');

    const record = Lazy.stringValue({ produce: () => encodeRecord(this.#keys.map((k) => k.key)) });
    this.sweepResource = lifecycleResource(type, this, 'Sweep', {
      triggers: { owner: this.ownerId, keys: record },
      recorded: ['owner', 'keys'],
      onDestroy: keysRemovedCommandLine(cli),
    });
    addCustomSynthesis(this, { onSynthesize: (session) => this.writeStackFiles(session) });
  }

  /** Registers a key: the sweep runs after its resource, the manifest lists it, the wrapped-keys file holds its entry. */
  public addKey(key: Omit<ManifestKey, 'resource'>, resource: TerraformResource, apply: KeyApplyData): void {
    this.#keys.push({ key, resource, apply });
    (this.sweepResource.dependsOn ??= []).push(dependencyOn(resource));
  }

  /** The manifest and the wrapped-keys file; the manifest last, so that a reader never finds it without its entries. */
  private writeStackFiles(session: ISynthesisSession): void {
    const stack = TerraformStack.of(this);
    // The owner id: a plain string when the code gives it; else the owner resource's id, in the state only.
    const address = (resource: TerraformResource): string => `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
    const owner: ManifestOwner = Token.isUnresolved(this.ownerId)
      ? { source: 'state', address: address(this.ownerResource), attribute: 'id' }
      : { source: 'explicit', id: this.ownerId };
    const keys: ManifestKey[] = this.#keys.map(({ key, resource }) => ({ ...key, resource: address(resource) }));
    const manifest: StackManifest = { version: STACK_MANIFEST_VERSION, stack: stack.node.id, owner, keys };
    // Reached with mistakes only when the app skips validation: then nothing is written for the stack.
    for (const { apply } of this.#keys) apply.refuseMistakes();
    const stackDir = join(stackOutputFolder(session, stack), '..');
    writeOwnerOnlyFile(join(stackDir, WRAPPED_KEYS_FILE), encodeWrappedKeys(this.#keys.map(({ apply }) => apply.entry as WrappedKeyEntry)), { durable: false });
    writeOwnerOnlyFile(join(stackDir, STACK_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { durable: false });
    removeEarlierKeyFiles(join(stackDir, OUTPUT_FOLDER));
  }
}

/**
 * The stack's `byok/` output folder, created owner-only (0700) if needed. Refused, naming the folder and the
 * fix, when another local user could swap what the apply step reads: `byok/` a symlink or not ours, or the
 * stack folder (or a folder above it in the output) writable by others.
 */
function stackOutputFolder(session: ISynthesisSession, stack: TerraformStack): string {
  const stackDir = join(session.outdir, session.manifest.forStack(stack).workingDirectory);
  for (let dir = stackDir; ; dir = dirname(dir)) {
    assertNotWritableByOthers(dir);
    if (resolve(dir) === resolve(session.outdir)) break;
  }
  const folder = join(stackDir, OUTPUT_FOLDER);
  try {
    mkdirSync(folder, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const stat = lstatSync(folder);
  const uid = process.getuid?.();
  if (stat.isSymbolicLink() || !stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) {
    throw new ImportedKmsKeyError('OUTPUT_UNSAFE', stack.node.path, 'outdir',
      `The output folder ${folder} is ${stat.isSymbolicLink() ? 'a symlink' : !stat.isDirectory() ? 'not a folder' : `owned by another user (uid ${stat.uid})`}: the wrapped blobs cannot be written there safely. Remove it (rm -r ${folder}) and synth again.`);
  }
  if ((stat.mode & 0o777) !== 0o700) chmodSync(folder, 0o700);
  return folder;
}

/**
 * The one-file-per-key blobs and commitments of earlier versions (`byok/<addr>.wrapped`, `.commitment`):
 * secrets that nothing reads any more, so they do not stay behind in the output after an upgrade.
 */
function removeEarlierKeyFiles(folder: string): void {
  for (const name of readdirSync(folder)) {
    if (!/^[A-Za-z0-9_-]+\.(wrapped|commitment)$/.test(name) || `${OUTPUT_FOLDER}/${name}` === WRAPPED_KEYS_FILE) continue;
    const file = join(folder, name);
    if (lstatSync(file).isFile()) unlinkSync(file);
  }
}

function assertNotWritableByOthers(dir: string): void {
  const stat = lstatSync(dir);
  const uid = process.getuid?.();
  const ours = uid === undefined || stat.uid === uid;
  const worldWritable = (stat.mode & 0o002) !== 0 && (stat.mode & 0o1000) === 0;
  if (stat.isSymbolicLink() || worldWritable || (!ours && uid !== 0 && stat.uid !== 0)) {
    throw new ImportedKmsKeyError('OUTPUT_UNSAFE', dir, 'outdir',
      `The synth output folder ${dir} ${stat.isSymbolicLink() ? 'is a symlink' : worldWritable ? `can be written by other users (mode ${(stat.mode & 0o777).toString(8)})` : `belongs to another user (uid ${stat.uid})`}, who could replace the wrapped blobs before the apply. Run "chmod go-w ${dir}" (or synth with umask 022) and synth again.`);
  }
  // Group-writable is what umask 002 gives (a private group, usually); closing it costs nothing.
  if ((stat.mode & 0o020) !== 0 && ours) chmodSync(dir, stat.mode & 0o7757);
}

/** A construct's id within its state: a hash of its path, a valid label value. */
export function constructId(scope: Construct): string {
  return createHash('sha256').update(scope.node.path).digest('hex').slice(0, 32);
}
