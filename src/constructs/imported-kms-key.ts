/**
 * `ImportedKmsKey`: a bring-your-own-key Thalassa Cloud KMS key, declared in CDK for Terraform.
 *
 * Synth loads and checks the material, fingerprints it and wraps it with the region's wrapping key; the plan
 * shows create / no-op / replace from the fingerprint and the immutable settings; apply runs the package's
 * `thalassa-byok import` from a local-exec provisioner. See `shared/design/architecture.md`.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, TerraformStack, type ISynthesisSession, type TerraformResource } from 'cdktf';
// Not re-exported from cdktf's index (cdktf marks it as meant for its own constructs), but it is the only
// hook that runs during synthesis with the output folder in hand; cdktf's own assets use it.
import { addCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';
import { Construct, type IConstruct } from 'constructs';
import { importableKeyType, KeyTypeError, type ImportableKeyType } from '../key-types';
import { CanonicalKeyMaterial, KeyMaterial, KeyMaterialError, PreWrappedKeyMaterial } from '../material';
import { parseWrapHash, wrap, WrappingError, WrappingKey, type WrapHash } from '../wrapping';
import { writeOwnerOnlyFile } from '../secret-file';
import { describeReceived, ImportedKmsKeyError, invalidProp, propMessage } from './errors';
import { canonicalJson, lifecycleResource, type Argument, type LifecycleResourceType, type LifecycleSpec } from './lifecycle';
import {
  checkDescription, checkName, checkRegion, checkRotationPeriod, checkStringMap, containsToken,
  MAX_NAME_LENGTH, MAX_PHYSICAL_NAME_LENGTH,
} from './validation';

/** What happens to the key in Thalassa Cloud when the construct is destroyed or replaced. */
export type RemovalPolicy = 'schedule-deletion' | 'retain';

/** Automatic rotation settings: the only settings of an imported key that can change after import. */
export interface RotationSettings {
  /** Whether Thalassa Cloud rotates the key automatically. */
  readonly enabled: boolean;
  /**
   * Days between automatic rotations, 1..3650.
   * @default - Thalassa Cloud's default period
   */
  readonly periodInDays?: number;
}

/** Properties of an {@link ImportedKmsKey}. */
export interface ImportedKmsKeyProps {
  /**
   * The region the key is imported into, e.g. `nl-01`. A concrete slug matching `^[a-z]{2}-[0-9]{2}$`: the
   * wrapping key belongs to one region, so the region must be known at synth.
   *
   * IMPORTANT: changing the region imports a new key there and schedules the existing key for deletion.
   */
  readonly region: string;

  /**
   * The key's base name: 1..246 characters from `[A-Za-z0-9._-]`, starting and ending with a letter or digit.
   * The key is created as `<name>-<8 hex digits>` (see {@link ImportedKmsKeyProps.physicalName}).
   *
   * IMPORTANT: changing the name replaces the key: a new key is imported and the existing one is scheduled
   * for deletion.
   */
  readonly name: string;

  /**
   * A description of the key, at most 1024 characters (no control characters but tab and newline).
   * @default - no description
   *
   * IMPORTANT: Thalassa Cloud cannot change an imported key's description; changing it replaces the key.
   */
  readonly description?: string;

  /**
   * Labels of the key. Keys: 1..63 characters from `[A-Za-z0-9._/-]`, starting and ending with a letter or
   * digit; values: 0..63 characters from `[A-Za-z0-9._-]`, starting and ending with a letter or digit; at
   * most 64 entries; keys under `cdktf-thalassa-byok/` are reserved.
   * @default - no labels
   *
   * IMPORTANT: labels are immutable after import; changing them replaces the key.
   */
  readonly labels?: Record<string, string>;

  /**
   * Annotations of the key. Keys: 1..253 characters from `[A-Za-z0-9._/-]`, starting and ending with a
   * letter or digit; values: any text up to 4096 characters without control characters but tab and newline;
   * at most 64 entries. Keys under `cdktf-thalassa-byok/` are reserved: import records the material's
   * fingerprint in `cdktf-thalassa-byok/fingerprint`.
   * @default - no annotations (besides the fingerprint recorded at import)
   *
   * IMPORTANT: annotations are immutable after import; changing them replaces the key.
   */
  readonly annotations?: Record<string, string>;

  /**
   * The key type, as the API names it: `aes128-gcm96`, `aes256-gcm96`, `chacha20-poly1305`, `rsa-2048`,
   * `rsa-3072`, `rsa-4096`, `ecdsa-p256`, `ecdsa-p384`, `ecdsa-p521` or `ed25519`. HMAC types cannot be
   * imported.
   *
   * IMPORTANT: changing the key type replaces the key.
   */
  readonly keyType: string;

  /**
   * The key material: `KeyMaterial.fromFile` / `fromEnv` / `fromBytes`, read, checked against `keyType`,
   * fingerprinted and wrapped at synth; or `KeyMaterial.preWrapped(blob, {fingerprint})` for a blob wrapped
   * inside an HSM (asymmetric types then need an `spki-sha256:` fingerprint of the public key).
   *
   * The material never reaches Terraform's configuration, plan or state: only its fingerprint does. The
   * wrapped blob is written to an owner-only file in the stack's output folder for the import step.
   *
   * IMPORTANT: new material (a new fingerprint) replaces the key.
   */
  readonly material: KeyMaterial | PreWrappedKeyMaterial;

  /**
   * The region's RSA wrapping key (`WrappingKey.fromPemFile(path, {pin})`). Pin it: an unpinned wrapping key
   * is a synth warning, because a substituted key would receive your material.
   */
  readonly wrappingKey: WrappingKey;

  /**
   * The hash of RSA-OAEP and its MGF1 in the wrapping: `sha1`, `sha256`, `sha384` or `sha512`. Use `sha1`
   * only for an HSM that can do nothing else (it is a synth warning).
   * @default 'sha256'
   *
   * IMPORTANT: changing the hash function replaces the key.
   */
  readonly hashFunction?: WrapHash;

  /**
   * Whether the key may ever be rotated (manually or automatically). Thalassa Cloud fixes this at import.
   * @default false
   *
   * IMPORTANT: changing this replaces the key: a new key is imported and the existing one is scheduled for
   * deletion.
   */
  readonly allowRotation?: boolean;

  /**
   * Automatic rotation settings, applied after import with `PATCH …/rotation`. Requires `allowRotation: true`.
   * Changing them re-applies them without replacing the key. Removing them leaves the key's current settings
   * as they are; set `{enabled: false}` to switch rotation off.
   * @default - rotation settings are not managed
   */
  readonly rotation?: RotationSettings;

  /**
   * Whether the key material may be exported from Thalassa Cloud.
   * @default false
   *
   * IMPORTANT: changing this replaces the key.
   */
  readonly exportAllowed?: boolean;

  /**
   * What destroying the construct (or replacing the key) does in Thalassa Cloud: `schedule-deletion` (the
   * API's 30-day, cancellable window; only a key carrying this construct's fingerprint is touched) or
   * `retain` (the key stays active and is no longer managed).
   * @default 'schedule-deletion'
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Terraform's `prevent_destroy`: any plan that would destroy or replace the key fails, so an unintended
   * change of an immutable setting is caught at plan time.
   * @default false
   */
  readonly preventDestroy?: boolean;

  /**
   * The exact name to create the key with, instead of `<name>-<8 hex digits of the immutable settings>`.
   * 1..255 characters from `[A-Za-z0-9._-]`.
   *
   * A key pending deletion keeps its name for 30 days, so with a fixed name a replacement fails at apply (the
   * old key still holds the name; import refuses to adopt it, since its settings or material differ) until
   * the old key is gone; the default derived name changes whenever the key is replaced.
   * @default - `<name>-<first 8 hex digits of the SHA-256 of the replace triggers>`
   *
   * IMPORTANT: changing the physical name replaces the key.
   */
  readonly physicalName?: string;

  /**
   * The Terraform resource that carries the key's lifecycle: Terraform's built-in `terraform_data` (no
   * provider download; Terraform ≥ 1.4, OpenTofu ≥ 1.6), or `null_resource` from the `hashicorp/null`
   * provider (a `NullProvider` is added to the stack if it has none).
   * @default 'terraform_data'
   *
   * IMPORTANT: do not switch a deployed key: the key moves to a new Terraform resource, and the old resource's
   * destroy (which Terraform may run after the new one has adopted the key) schedules the key's deletion.
   * If you must switch, deploy the switch with `removalPolicy: 'retain'`, then restore the policy.
   */
  readonly lifecycleResource?: LifecycleResourceType;
}

const IMPORTED_KMS_KEY = Symbol.for('cdktf-thalassa-byok.ImportedKmsKey');
const DEFAULT_HASH: WrapHash = 'sha256';
const BLOB_FOLDER = 'byok';
// The smallest AES-KWP output; see the wrapping format in thalassa-kms-api.md.
const MIN_KWP_BYTES = 16;
const SPKI_FINGERPRINT = /^spki-sha256:[0-9a-f]{64}$/;

/**
 * An imported (bring-your-own-key) Thalassa Cloud KMS key.
 *
 * At synth the material is read, checked against `keyType`, fingerprinted and wrapped with the region's
 * wrapping key; the wrapped blob goes to an owner-only file under the stack's output folder
 * (`cdktf.out/stacks/<stack>/byok/`), never into the Terraform configuration, plan or state. At apply a
 * local-exec provisioner runs `thalassa-byok import` (no shell involved) with credentials from the
 * `THALASSA_*` environment variables of the Terraform process; at destroy, `thalassa-byok delete` schedules
 * deletion of the key only if it still carries this construct's fingerprint.
 *
 * @see https://developer.hashicorp.com/terraform/language/resources/terraform-data
 * @see https://developer.hashicorp.com/terraform/language/resources/provisioners/local-exec
 */
export class ImportedKmsKey extends Construct {
  /** True when `x` is an `ImportedKmsKey` (also across copies of this package). */
  public static isImportedKmsKey(x: unknown): x is ImportedKmsKey {
    return x !== null && typeof x === 'object' && IMPORTED_KMS_KEY in x;
  }

  /** The name the key is created with in Thalassa Cloud (`<name>-<8 hex>` unless `physicalName` was given). */
  public readonly name: string;
  /** The region the key is imported into. */
  public readonly region: string;
  /** The material's fingerprint (`spki-sha256:…`, `hmac-sha256:…`, or a pre-wrapped blob's identifier). */
  public readonly fingerprint: string;
  /** The key type's API name. */
  public readonly keyType: string;
  /** The wrapping hash function. */
  public readonly hashFunction: WrapHash;
  /** The Terraform resource that imports the key on create and schedules its deletion on destroy. */
  public readonly resource: TerraformResource;
  /** The Terraform resource that applies `rotation`, if given. */
  public readonly rotationResource?: TerraformResource;
  /** Where the wrapped blob is written at synth, relative to the stack's output folder. */
  public readonly wrappedBlobFile: string;

  readonly #blob: Buffer;
  readonly #nameProp: 'name' | 'physicalName';

  constructor(scope: Construct, id: string, props: ImportedKmsKeyProps) {
    super(scope, id);
    Object.defineProperty(this, IMPORTED_KMS_KEY, { value: true });
    const path = this.node.path;
    if (props === null || typeof props !== 'object') throw invalidProp(path, 'props', 'an ImportedKmsKeyProps object', describeReceived(props));
    const settings = checkSettings(path, props);

    const keyType = loadKeyType(path, props.keyType);
    if (!(props.wrappingKey instanceof WrappingKey)) {
      throw invalidProp(path, 'wrappingKey', 'a WrappingKey (WrappingKey.fromPemFile / fromPem)', describeReceived(props.wrappingKey));
    }
    const hashFunction = loadHash(path, props.hashFunction);
    const { blob, fingerprint } = wrapMaterial(path, props.material, keyType, props.wrappingKey, hashFunction);
    this.#blob = blob;

    // Once per stack and wrapping key: a stack of a hundred keys sharing one unpinned key needs one warning.
    if (!props.wrappingKey.pinned && firstUseInStack(TerraformStack.of(this), props.wrappingKey.fingerprint)) {
      Annotations.of(this).addWarning(
        `ImportedKmsKey "${path}": the wrapping key from ${props.wrappingKey.source} (${props.wrappingKey.fingerprint}) is not pinned ` +
          '(this warning stands for every key of the stack that uses it). ' +
          `Pin it with WrappingKey.fromPemFile(path, { pin: '${props.wrappingKey.fingerprint}' }) after checking it out of band, so that a substituted key fails synth.`,
      );
    }
    if (hashFunction === 'sha1') {
      Annotations.of(this).addWarning(`ImportedKmsKey "${path}": hashFunction "sha1" is weak; use "sha256" unless your HSM can wrap with nothing else.`);
    }

    this.region = settings.region;
    this.keyType = keyType.name;
    this.fingerprint = fingerprint;
    this.hashFunction = hashFunction;

    // The replace triggers: the fingerprint and every setting Thalassa Cloud fixes at import. Never the blob,
    // which is different on every synth (a fresh ephemeral key per wrap).
    const immutable = {
      region: settings.region,
      keyType: keyType.name,
      fingerprint,
      description: settings.description,
      labels: settings.labels,
      annotations: settings.annotations,
      exportAllowed: settings.exportAllowed,
      allowRotation: settings.allowRotation,
      hashFunction,
    };
    // A key pending deletion keeps its name for 30 days, so every replacement needs a fresh name: derive it
    // from everything that causes one. The plan shows it, since it is part of the triggers.
    this.name = settings.physicalName ?? `${settings.name}-${createHash('sha256').update(canonicalJson(immutable)).digest('hex').slice(0, 8)}`;
    this.#nameProp = settings.physicalName === undefined ? 'name' : 'physicalName';
    this.wrappedBlobFile = `${BLOB_FOLDER}/${this.node.addr}.wrapped`;

    const cli = cliCommand(this);
    const keySpec: LifecycleSpec = {
      triggers: { ...immutable, name: this.name },
      recorded: ['region', 'name', 'fingerprint'],
      onCreate: [
        ...cli, 'import',
        `--region=${settings.region}`,
        `--name=${this.name}`,
        `--key-type=${keyType.name}`,
        `--hash=${hashFunction}`,
        ...(settings.description === '' ? [] : [`--description=${settings.description}`]),
        ...Object.entries(settings.labels).map(([k, v]) => `--label=${k}=${v}`),
        ...Object.entries(settings.annotations).map(([k, v]) => `--annotation=${k}=${v}`),
        ...(settings.allowRotation ? ['--allow-rotation'] : []),
        ...(settings.exportAllowed ? ['--export-allowed'] : []),
        // Relative: Terraform runs provisioners in the stack's working directory (cdktf.out/stacks/<stack>).
        `--wrapped-file=${this.wrappedBlobFile}`,
        `--fingerprint=${fingerprint}`,
      ],
      onDestroy: settings.removalPolicy === 'retain'
        ? undefined
        : [...cli, 'delete', ...recordedOption('region'), ...recordedOption('name'), ...recordedOption('fingerprint')],
    };
    this.resource = lifecycleResource(settings.lifecycleResource, this, 'Key', keySpec, {
      // No create_before_destroy: Terraform does not run destroy-time provisioners of a deposed object, so
      // with it a replaced key would never be scheduled for deletion. The fresh physical name is what lets the
      // new key be imported right after the old one is scheduled for deletion.
      lifecycle: settings.preventDestroy ? { preventDestroy: true } : undefined,
    });

    if (settings.rotation !== undefined) {
      const { enabled, periodInDays } = settings.rotation;
      const rotationSpec: LifecycleSpec = {
        triggers: {
          region: settings.region, name: this.name, fingerprint, enabled,
          ...(periodInDays === undefined ? {} : { periodInDays }),
        },
        recorded: [],
        onCreate: [
          ...cli, 'set-rotation',
          `--region=${settings.region}`,
          `--name=${this.name}`,
          `--enabled=${enabled}`,
          ...(periodInDays === undefined ? [] : [`--period-days=${periodInDays}`]),
          `--fingerprint=${fingerprint}`,
        ],
      };
      this.rotationResource = lifecycleResource(settings.lifecycleResource, this, 'Rotation', rotationSpec, { dependsOn: [this.resource] });
    }

    keysNamed(this.node.root, this.region, this.name).push(this);
    this.node.addValidation({ validate: () => this.duplicateKeyErrors() });
    addCustomSynthesis(this, { onSynthesize: (session) => this.writeWrappedBlob(session) });
  }

  /** Two keys with the same region and physical name would fight over one key in Thalassa Cloud. */
  private duplicateKeyErrors(): string[] {
    return keysNamed(this.node.root, this.region, this.name)
      .filter((other) => other !== this)
      .map((other) => propMessage(
        this.node.path,
        this.#nameProp,
        'unique per region within the app',
        `physical name ${JSON.stringify(this.name)} in region ${JSON.stringify(this.region)}, which ImportedKmsKey "${other.node.path}" also declares`,
      ));
  }

  private writeWrappedBlob(session: ISynthesisSession): void {
    const stackDir = join(session.outdir, session.manifest.forStack(TerraformStack.of(this)).workingDirectory);
    const folder = join(stackDir, BLOB_FOLDER);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    chmodSync(folder, 0o700);
    writeOwnerOnlyFile(join(stackDir, this.wrappedBlobFile), this.#blob);
  }
}

/**
 * The keys of each app by region and physical name, filled as keys are constructed. Validation looks its
 * key's entry up instead of walking the whole construct tree, which made synth quadratic in the number of
 * keys (each of N validations visited every construct).
 */
const KEYS_BY_APP = new WeakMap<IConstruct, Map<string, ImportedKmsKey[]>>();

/** The unpinned wrapping keys each stack has warned about, by fingerprint. */
const UNPINNED_WARNED = new WeakMap<TerraformStack, Set<string>>();

function firstUseInStack(stack: TerraformStack, fingerprint: string): boolean {
  let warned = UNPINNED_WARNED.get(stack);
  if (warned === undefined) UNPINNED_WARNED.set(stack, (warned = new Set()));
  if (warned.has(fingerprint)) return false;
  warned.add(fingerprint);
  return true;
}

function keysNamed(root: IConstruct, region: string, name: string): ImportedKmsKey[] {
  let byName = KEYS_BY_APP.get(root);
  if (byName === undefined) KEYS_BY_APP.set(root, (byName = new Map()));
  const id = `${region}\u0000${name}`;
  let keys = byName.get(id);
  if (keys === undefined) byName.set(id, (keys = []));
  return keys;
}

interface Settings {
  readonly region: string;
  readonly name: string;
  readonly description: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly allowRotation: boolean;
  readonly exportAllowed: boolean;
  readonly rotation?: RotationSettings;
  readonly removalPolicy: RemovalPolicy;
  readonly preventDestroy: boolean;
  readonly physicalName?: string;
  readonly lifecycleResource: LifecycleResourceType;
}

/** Checks every plain setting eagerly; returns them with defaults applied. */
function checkSettings(path: string, props: ImportedKmsKeyProps): Settings {
  // These settings become the replace triggers and the physical name; a token (a Terraform variable, an
  // attribute) would make both unknown until apply, and the region must match the wrapping key at synth.
  for (const prop of ['region', 'name', 'description', 'labels', 'annotations', 'keyType', 'hashFunction', 'physicalName'] as const) {
    if (containsToken(props[prop])) {
      throw invalidProp(path, prop, 'a concrete value known at synth (it decides the replace triggers and the key name)', 'an unresolved token', 'PROP_TOKEN');
    }
  }
  const expect = (prop: string, expected: string | undefined, value: unknown): void => {
    if (expected !== undefined) throw invalidProp(path, prop, expected, describeReceived(value));
  };
  expect('region', checkRegion(props.region), props.region);
  expect('name', checkName(props.name, MAX_NAME_LENGTH), props.name);
  if (props.physicalName !== undefined) expect('physicalName', checkName(props.physicalName, MAX_PHYSICAL_NAME_LENGTH), props.physicalName);
  expect('description', checkDescription(props.description), props.description);
  for (const prop of ['labels', 'annotations'] as const) {
    const problem = checkStringMap(props[prop], prop);
    if (problem !== undefined) throw invalidProp(path, prop, problem.expected, problem.received ?? describeReceived(props[prop]));
  }
  const flag = (prop: 'allowRotation' | 'exportAllowed' | 'preventDestroy'): boolean => {
    const value = props[prop];
    expect(prop, value === undefined || typeof value === 'boolean' ? undefined : 'true or false', value);
    return value === true;
  };
  const allowRotation = flag('allowRotation');
  const exportAllowed = flag('exportAllowed');
  const preventDestroy = flag('preventDestroy');
  const removalPolicy = props.removalPolicy ?? 'schedule-deletion';
  expect('removalPolicy', removalPolicy === 'schedule-deletion' || removalPolicy === 'retain' ? undefined : '"schedule-deletion" or "retain"', props.removalPolicy);
  const lifecycle = props.lifecycleResource ?? 'terraform_data';
  expect('lifecycleResource', lifecycle === 'terraform_data' || lifecycle === 'null_resource' ? undefined : '"terraform_data" or "null_resource"', props.lifecycleResource);

  const rotation = props.rotation;
  if (rotation !== undefined) {
    if (rotation === null || typeof rotation !== 'object') throw invalidProp(path, 'rotation', 'an object {enabled, periodInDays?}', describeReceived(rotation));
    if (containsToken(rotation)) throw invalidProp(path, 'rotation', 'concrete values known at synth', 'an unresolved token', 'PROP_TOKEN');
    expect('rotation.enabled', typeof rotation.enabled === 'boolean' ? undefined : 'true or false', rotation.enabled);
    expect('rotation.periodInDays', checkRotationPeriod(rotation.periodInDays), rotation.periodInDays);
    if (!allowRotation) {
      throw invalidProp(path, 'rotation', 'left out unless allowRotation is true (Thalassa Cloud refuses to rotate an imported key created without allowRotation)',
        `rotation settings with allowRotation ${String(props.allowRotation ?? false)}`, 'PROP_CONFLICT');
    }
  }
  return {
    region: props.region,
    name: props.name,
    description: props.description ?? '',
    labels: { ...(props.labels ?? {}) },
    annotations: { ...(props.annotations ?? {}) },
    allowRotation,
    exportAllowed,
    rotation: rotation === undefined ? undefined : { enabled: rotation.enabled, periodInDays: rotation.periodInDays },
    removalPolicy,
    preventDestroy,
    physicalName: props.physicalName,
    lifecycleResource: lifecycle,
  };
}

function loadKeyType(path: string, name: unknown): ImportableKeyType {
  if (typeof name !== 'string') throw invalidProp(path, 'keyType', 'the name of an importable key type', describeReceived(name));
  try {
    return importableKeyType(name);
  } catch (err) {
    if (!(err instanceof KeyTypeError)) throw err;
    throw new ImportedKmsKeyError('PROP_INVALID', path, 'keyType', propMessage(path, 'keyType', 'an importable key type', `${describeReceived(name)}: ${err.message}`), { cause: err });
  }
}

function loadHash(path: string, value: unknown): WrapHash {
  if (value === undefined) return DEFAULT_HASH;
  try {
    if (typeof value !== 'string') throw new TypeError('not a string');
    return parseWrapHash(value);
  } catch {
    throw invalidProp(path, 'hashFunction', '"sha1", "sha256", "sha384" or "sha512"', describeReceived(value));
  }
}

/** Loads, fingerprints and wraps the material (or checks a pre-wrapped blob); the plaintext is zeroed at once. */
function wrapMaterial(
  path: string, material: unknown, keyType: ImportableKeyType, wrappingKey: WrappingKey, hash: WrapHash,
): { blob: Buffer; fingerprint: string } {
  if (material instanceof PreWrappedKeyMaterial) {
    const blob = material.blob();
    const modulusBytes = wrappingKey.modulusBytes;
    if (blob.length < modulusBytes + MIN_KWP_BYTES || (blob.length - modulusBytes) % 8 !== 0) {
      throw invalidProp(path, 'material',
        `a pre-wrapped blob for the RSA-${wrappingKey.modulusBits} wrapping key: ${modulusBytes} bytes of RSA-OAEP followed by a multiple of 8 (at least 16) bytes of AES key wrap`,
        `a blob of ${blob.length} bytes from ${material.source}`);
    }
    if (keyType.category !== 'symmetric' && !SPKI_FINGERPRINT.test(material.fingerprint)) {
      throw invalidProp(path, 'material',
        `a pre-wrapped ${keyType.name} blob identified by the public key's fingerprint, "spki-sha256:" followed by 64 hex digits`,
        `fingerprint ${describeReceived(material.fingerprint)}`);
    }
    return { blob: Buffer.from(blob), fingerprint: material.fingerprint };
  }
  if (!(material instanceof KeyMaterial)) {
    throw invalidProp(path, 'material', 'KeyMaterial.fromFile / fromEnv / fromBytes, or KeyMaterial.preWrapped', describeReceived(material));
  }
  let canonical: CanonicalKeyMaterial | undefined;
  try {
    canonical = material.load(keyType);
    return { blob: wrap(canonical, wrappingKey, { hash }), fingerprint: canonical.fingerprint };
  } catch (err) {
    if (!(err instanceof KeyMaterialError || err instanceof KeyTypeError || err instanceof WrappingError || err instanceof RangeError)) throw err;
    // These messages describe the material's shape and source only, never its bytes.
    throw new ImportedKmsKeyError('MATERIAL_INVALID', path, 'material',
      propMessage(path, 'material', `${keyType.name} key material`, `material from ${material.source} that does not fit: ${err.message}`), { cause: err });
  } finally {
    canonical?.destroy();
  }
}

/** `--<key>=<the value the resource recorded>`. */
function recordedOption(key: 'region' | 'name' | 'fingerprint'): Argument[] {
  return [{ recorded: key, prefix: `--${key}=` }];
}

/**
 * The executable and script every provisioner runs: this package's own CLI, found next to this module
 * (`dist/constructs/` → `dist/cli/main.js`), so it is the user's installed copy in `node_modules`, whatever
 * the working directory or PATH. The executable is `process.execPath`, the Node.js running the synth, rather
 * than `node` from Terraform's PATH: it is known to meet the package's engine requirement, and version
 * managers (nvm, asdf) often leave a different `node`, or none, on the PATH that Terraform sees.
 */
function cliCommand(scope: Construct): string[] {
  const compiled = join(__dirname, '..', 'cli', 'main.js');
  // Running from the TypeScript sources (ts-jest, ts-node): use this checkout's build.
  const checkoutBuild = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
  const script = existsSync(compiled) ? compiled : existsSync(checkoutBuild) ? checkoutBuild : compiled;
  if (!existsSync(script)) {
    Annotations.of(scope).addWarning(`ImportedKmsKey "${scope.node.path}": the thalassa-byok CLI was not found at ${script}; build the package (npm run build) before deploying.`);
  }
  return [process.execPath, script];
}
