/**
 * `ImportedKmsKey`: a bring-your-own-key Thalassa Cloud KMS key, declared in CDK for Terraform.
 *
 * Synth loads and checks the material, fingerprints it and wraps it with the region's wrapping key; the plan
 * shows create / no-op / replace from the fingerprint and the immutable settings; apply runs the package's
 * `thalassa-byok import` from a local-exec provisioner. What happens on removal, replacement and failure is
 * the stack's {@link KeyOwner}'s part. See `shared/design/architecture.md` and `docs/lifecycle.md`.
 */
import { createHash } from 'node:crypto';
import { Annotations, TerraformStack, Token, type TerraformResource } from './framework';
import { Construct, type IConstruct } from 'constructs';
import { KeyTypeError, type ImportableKeyType } from '../key-types';
import { HsmError, wrapInToken } from '../hsm';
import { CanonicalKeyMaterial, HsmKeyMaterial, KeyMaterial, KeyMaterialError, PreWrappedKeyMaterial } from '../material';
import { wrap, WrappingError, WrappingKey, type WrapHash } from '../wrapping';
import { WRAPPED_KEYS_FILE } from '../wrapped-keys';
import { cliCommand, importCommandLine, setRotationCommandLine } from './commands';
import { describeReceived, ImportedKmsKeyError, invalidProp, propMessage, validationMessage, type ImportedKmsKeyErrorCode } from './errors';
import { constructId, KeyOwner } from './key-owner';
import { canonicalJson, lifecycleResource, type LifecycleResourceType } from './lifecycle';
import type { ImportedKmsKeyProps } from './props';
import { checkSettings, loadHash, loadKeyType } from './settings';

const IMPORTED_KMS_KEY = Symbol.for('cdktf-thalassa-byok.ImportedKmsKey');
// The smallest AES-KWP output; see the wrapping format in thalassa-kms-api.md.
const MIN_KWP_BYTES = 16;
const SPKI_FINGERPRINT = /^spki-sha256:[0-9a-f]{64}$/;

interface WrappedMaterial {
  readonly blob: Buffer;
  readonly fingerprint: string;
  /** Symmetric material only; never for a pre-wrapped blob, whose material we never see. */
  readonly commitment?: string;
  /** The OAEP hash the blob was wrapped with: what the import must send, and a replace trigger. */
  readonly hashFunction: WrapHash;
  /** Warnings for the construct to add (nothing secret in them). */
  readonly warnings: readonly string[];
}

/**
 * An imported (bring-your-own-key) Thalassa Cloud KMS key.
 *
 * At synth the material is read, checked against `keyType`, fingerprinted and wrapped with the region's
 * wrapping key; the wrapped blob goes to the stack's owner-only wrapped-keys file
 * (`cdktf.out/stacks/<stack>/byok/keys.wrapped`), never into the Terraform configuration, plan or state. At apply a
 * local-exec provisioner runs `thalassa-byok import` (no shell involved) with credentials from the
 * `THALASSA_*` environment variables of the Terraform process.
 *
 * A replacement imports the new key first (`create_before_destroy`); once it exists, the keys it replaces
 * are scheduled for deletion (unless `removalPolicy` is `retain`). A failed import leaves the previous key
 * active. Removing the construct, or destroying the stack, schedules deletion through the stack's
 * {@link KeyOwner}. Every key records the state's owner id; nothing touches a key without it.
 *
 * @see https://developer.hashicorp.com/terraform/language/resources/terraform-data
 * @see https://developer.hashicorp.com/terraform/language/resources/provisioners/local-exec
 */
export class ImportedKmsKey extends Construct {
  /** True when `x` is an `ImportedKmsKey` (also across copies of this package). */
  public static isImportedKmsKey(x: unknown): x is ImportedKmsKey {
    return x !== null && typeof x === 'object' && IMPORTED_KMS_KEY in x;
  }

  /**
   * The key's name in Thalassa Cloud as a Terraform reference: a resource or output that uses it waits until
   * the import succeeded. Use {@link physicalName} where a plain string is needed at synth.
   */
  public get name(): string {
    // Made on first use: a framework reference captures a stack trace, a cost every key would pay unused.
    return (this.#name ??= recordedName(this.#lifecycleResource, this.resource));
  }
  /** The name the key is created with (`<name>-<8 hex>` unless `physicalName` was given), known at synth. */
  public readonly physicalName: string;
  /** The region the key is imported into. */
  public readonly region: string;
  /** The material's fingerprint (`spki-sha256:…`, `hmac-sha256:…`, or a pre-wrapped blob's identifier). */
  public readonly fingerprint: string;
  /** The key type's API name. */
  public readonly keyType: string;
  /** The wrapping hash function. */
  public readonly hashFunction: WrapHash;
  /** The Terraform resource that imports the key on create. */
  public readonly resource: TerraformResource;
  /** The Terraform resource that applies `rotation`, if given. */
  public readonly rotationResource?: TerraformResource;
  /**
   * The file the wrapped blob is written to at synth, relative to the stack's output folder: the stack's
   * wrapped-keys file, where the blob (and a symmetric key's commitment) is the entry of {@link constructId}.
   */
  public readonly wrappedBlobFile: string;
  /** The construct's id within the state, recorded on the key as the label `cdktf-thalassa-byok/construct`. */
  public readonly constructId: string;

  /**
   * The mistakes found in the props, each naming its property (empty when there are none). They do not throw
   * at construction: synth reports all of them, of every key, together.
   */
  public readonly problems: readonly ImportedKmsKeyError[];

  readonly #nameProp: 'name' | 'physicalName';
  readonly #lifecycleResource: LifecycleResourceType;
  #name?: string;

  constructor(scope: Construct, id: string, props: ImportedKmsKeyProps) {
    super(scope, id);
    Object.defineProperty(this, IMPORTED_KMS_KEY, { value: true });
    const path = this.node.path;
    if (props === null || typeof props !== 'object') throw invalidProp(path, 'props', 'an ImportedKmsKeyProps object', describeReceived(props));
    // Every mistake is collected and reported by one validation, so that an app's mistakes come together in
    // one synth; the construct is still built (from defaults where a prop is wrong) but cannot synthesize.
    const { settings, problems } = checkSettings(path, props);
    this.problems = problems;
    const failed = (prop: string): boolean => problems.some((problem) => problem.prop === prop);
    const collect = <T>(load: () => T): T | undefined => {
      try {
        return load();
      } catch (err) {
        if (!(err instanceof ImportedKmsKeyError)) throw err;
        problems.push(err);
        return undefined;
      }
    };
    const keyType = failed('keyType') ? undefined : collect(() => loadKeyType(path, props.keyType));
    const hash = (failed('hashFunction') ? undefined : collect(() => loadHash(path, props.hashFunction))) ?? 'sha256';
    const wrappingKey = props.wrappingKey instanceof WrappingKey ? props.wrappingKey : undefined;
    if (wrappingKey === undefined) {
      problems.push(invalidProp(path, 'wrappingKey', 'a WrappingKey (WrappingKey.fromPemFile / fromPem)', describeReceived(props.wrappingKey)));
    }
    // The material can only be checked against a known key type and wrapped with a wrapping key.
    const wrapped = keyType !== undefined && wrappingKey !== undefined
      ? collect(() => wrapMaterial(path, props.material, keyType, wrappingKey, hash))
      : void collect(() => checkMaterialKind(path, props.material));
    const { blob, fingerprint, commitment, hashFunction, warnings } = wrapped ?? { blob: Buffer.alloc(0), fingerprint: 'invalid', hashFunction: hash, warnings: [] };
    for (const warning of warnings) Annotations.of(this).addWarning(warning);

    // Once per stack and wrapping key: a stack of a hundred keys sharing one unpinned key needs one warning.
    if (wrappingKey !== undefined && !wrappingKey.pinned && firstUseInStack(TerraformStack.of(this), wrappingKey.fingerprint)) {
      Annotations.of(this).addWarning(
        `ImportedKmsKey "${path}": the wrapping key from ${wrappingKey.source} (${wrappingKey.fingerprint}) is not pinned ` +
          '(this warning stands for every key of the stack that uses it). ' +
          `Pin it with WrappingKey.fromPemFile(path, { pin: '${wrappingKey.fingerprint}' }) after checking it out of band, so that a substituted key fails synth.`,
      );
    }
    if (hashFunction === 'sha1') {
      Annotations.of(this).addWarning(`ImportedKmsKey "${path}": hashFunction "sha1" is weak; use "sha256" unless your HSM can wrap with nothing else.`);
    }
    const keyTypeName = keyType?.name ?? String(props.keyType);

    this.region = settings.region;
    this.keyType = keyTypeName;
    this.fingerprint = fingerprint;
    this.hashFunction = hashFunction;
    this.constructId = constructId(this);

    // The replace triggers: the fingerprint and every setting Thalassa Cloud fixes at import. Never the blob,
    // which is different on every synth (a fresh ephemeral key per wrap).
    const immutable = {
      region: settings.region,
      keyType: keyTypeName,
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
    this.physicalName = settings.physicalName ?? `${settings.name}-${createHash('sha256').update(canonicalJson(immutable)).digest('hex').slice(0, 8)}`;
    this.#nameProp = settings.physicalName === undefined ? 'name' : 'physicalName';
    this.wrappedBlobFile = WRAPPED_KEYS_FILE;

    const owner = KeyOwner.of(this);
    const cli = cliCommand(this);
    this.resource = lifecycleResource(settings.lifecycleResource, this, 'Key', {
      triggers: { ...immutable, name: this.physicalName },
      // Recorded so that `name` can be a reference (terraform_data's `output`, null_resource's `triggers`).
      recorded: ['name'],
      onCreate: importCommandLine(cli, {
        ...settings, keyType: keyTypeName, hashFunction, fingerprint, name: this.physicalName,
        // Relative: Terraform runs provisioners in the stack's working directory (cdktf.out/stacks/<stack>).
        wrappedFile: this.wrappedBlobFile,
        wrappingKeyFingerprint: wrappingKey?.fingerprint ?? 'invalid',
        owner: owner.ownerId,
        construct: this.constructId,
        sweepPredecessors: settings.removalPolicy === 'schedule-deletion',
      }),
    }, {
      // Replacement imports the new key before Terraform drops the old object; the import sweeps the keys it
      // replaces only after it succeeded. Terraform runs no destroy step for the deposed object.
      lifecycle: { createBeforeDestroy: true, ...(settings.preventDestroy ? { preventDestroy: true } : {}) },
      dependsOn: [owner.ownerResource],
    });
    this.#lifecycleResource = settings.lifecycleResource;
    owner.addKey({
      construct: this.constructId, path, region: settings.region, name: this.physicalName, fingerprint,
      keyType: keyTypeName, removalPolicy: settings.removalPolicy,
      settings: {
        description: settings.description, labels: settings.labels, annotations: settings.annotations,
        exportAllowed: settings.exportAllowed, allowRotation: settings.allowRotation, hashFunction,
      },
      ...(settings.rotation === undefined ? {} : {
        rotation: { enabled: settings.rotation.enabled, ...(settings.rotation.periodInDays === undefined ? {} : { periodInDays: settings.rotation.periodInDays }) },
      }),
      // The blob is wrapped for the key's region (synth checks the pin against that region's key).
      wrappingKey: { fingerprint: wrappingKey?.fingerprint ?? 'invalid', region: settings.region },
    }, this.resource, {
      ...(problems.length > 0 ? {} : { entry: { construct: this.constructId, blob, ...(commitment === undefined ? {} : { commitment }) } }),
      refuseMistakes: () => this.refuseMistakes(),
    });

    if (settings.rotation !== undefined) {
      const { enabled, periodInDays } = settings.rotation;
      this.rotationResource = lifecycleResource(settings.lifecycleResource, this, 'Rotation', {
        triggers: {
          region: settings.region, name: this.physicalName, fingerprint, enabled,
          ...(periodInDays === undefined ? {} : { periodInDays }),
        },
        recorded: [],
        onCreate: setRotationCommandLine(cli, {
          region: settings.region, name: this.physicalName, fingerprint, owner: owner.ownerId, construct: this.constructId, enabled, periodInDays,
        }),
      }, { dependsOn: [this.resource] });
    }

    keysNamed(this.node.root, this.region, this.physicalName).push(this);
    this.node.addValidation({ validate: () => [...this.problems, ...this.duplicateKeyErrors()].map(validationMessage) });
  }

  /** Two keys with the same region and physical name would fight over one key in Thalassa Cloud. */
  private duplicateKeyErrors(): ImportedKmsKeyError[] {
    // A key with problems has a stand-in name, which may be a refused (even secret) value: not compared, not shown.
    if (this.problems.length > 0) return [];
    return keysNamed(this.node.root, this.region, this.physicalName)
      .filter((other) => other !== this && other.problems.length === 0)
      .map((other) => invalidProp(
        this.node.path,
        this.#nameProp,
        'unique per region within the app',
        `physical name ${JSON.stringify(this.physicalName)} in region ${JSON.stringify(this.region)}, which ImportedKmsKey "${other.node.path}" also declares`,
        'DUPLICATE_KEY',
      ));
  }

  /** A synth that skips validation still fails on a key with mistakes, before its stack's files are written. */
  private refuseMistakes(): void {
    if (this.problems.length > 0) {
      throw new ImportedKmsKeyError(this.problems[0].code as ImportedKmsKeyErrorCode, this.node.path, this.problems[0].prop, this.problems.map((problem) => problem.message).join('\n'));
    }
  }
}

/** The physical name as a reference to the key resource, so that whoever reads it waits for the import. */
function recordedName(type: LifecycleResourceType, resource: TerraformResource): string {
  return Token.asString(resource.interpolationForAttribute(type === 'null_resource' ? 'triggers.name' : 'output.name'));
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

/** Material of a kind the construct takes, checked even when nothing else about it can be. */
function checkMaterialKind(path: string, material: unknown): asserts material is KeyMaterial | HsmKeyMaterial | PreWrappedKeyMaterial {
  if (!(material instanceof KeyMaterial || material instanceof HsmKeyMaterial || material instanceof PreWrappedKeyMaterial)) {
    throw invalidProp(path, 'material', 'KeyMaterial.fromFile / fromEnv / fromBytes / fromPkcs11, or KeyMaterial.preWrapped', describeReceived(material));
  }
}

/**
 * Loads, fingerprints and wraps the material (or checks a pre-wrapped blob, or has a token wrap its key); the
 * plaintext is zeroed at once, and a token's key is never read at all.
 */
function wrapMaterial(
  path: string, material: unknown, keyType: ImportableKeyType, wrappingKey: WrappingKey, hash: WrapHash,
): WrappedMaterial {
  checkMaterialKind(path, material);
  if (material instanceof HsmKeyMaterial) return wrapInHsm(path, material, keyType, wrappingKey, hash);
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
    return { blob: Buffer.from(blob), fingerprint: material.fingerprint, hashFunction: hash, warnings: [] };
  }
  let canonical: CanonicalKeyMaterial | undefined;
  try {
    canonical = material.load(keyType);
    return { blob: wrap(canonical, wrappingKey, { hash }), fingerprint: canonical.fingerprint, commitment: canonical.commitment(), hashFunction: hash, warnings: [] };
  } catch (err) {
    if (!(err instanceof KeyMaterialError || err instanceof KeyTypeError || err instanceof WrappingError || err instanceof RangeError)) throw err;
    // These messages describe the material's shape and source only, never its bytes. A KeyMaterialError names
    // the source itself.
    const received = !(err instanceof KeyMaterialError) ? `material from ${material.source} that does not fit: ${err.message}`
      : err.code === 'MATERIAL_SOURCE' ? `material that cannot be read: ${err.message}` : `material that does not fit: ${err.message}`;
    throw new ImportedKmsKeyError('MATERIAL_INVALID', path, 'material', propMessage(path, 'material', `${keyType.name} key material`, received), { cause: err });
  } finally {
    canonical?.destroy();
  }
}

/**
 * The token wraps its key with exactly the construct's `hashFunction` (never a silent fallback: the hash is a
 * replace trigger and what the import sends, so it must not depend on what a token happens to offer today).
 */
function wrapInHsm(path: string, material: HsmKeyMaterial, keyType: ImportableKeyType, wrappingKey: WrappingKey, hash: WrapHash): WrappedMaterial {
  let result;
  try {
    result = wrapInToken(material.ref, keyType, wrappingKey, { hash });
  } catch (err) {
    if (!(err instanceof HsmError || err instanceof KeyTypeError)) throw err;
    if (err instanceof HsmError && err.code === 'HSM_HASH_REFUSED') {
      throw new ImportedKmsKeyError('MATERIAL_INVALID', path, 'hashFunction', propMessage(path, 'hashFunction',
        `an RSA-OAEP hash the token offers for wrapping; set hashFunction: 'sha1' if your HSM offers nothing else (SoftHSM2 2.6.1 offers only SHA-1, which is weak: prefer an HSM with SHA-256)`,
        `"${hash}", which ${material.source} refused: ${err.message}`), { cause: err });
    }
    // HsmError messages name the token, the key and the fix; never the PIN or key bytes.
    throw new ImportedKmsKeyError('MATERIAL_INVALID', path, 'material',
      propMessage(path, 'material', `${keyType.name} key material the token can wrap`, `the key in ${material.source}: ${err.message}`), { cause: err });
  }
  if (result.hashFunction !== hash) throw new Error(`internal: the token wrapped with ${result.hashFunction}, not the requested ${hash}`);
  const warnings: string[] = [];
  if (keyType.category === 'symmetric' && result.commitment === undefined) {
    warnings.push(
      `ImportedKmsKey "${path}": the key in ${material.source} may not sign (CKA_SIGN is not true), so the token cannot compute its AES-CMAC commitment. ` +
        'It is imported, but never adopted: if its import\'s answer is lost, or the state is lost, an existing key of that name is refused (record it by hand, or delete it). ' +
        'Create the key with CKA_SIGN true to get a commitment.',
    );
  }
  return { blob: result.blob, fingerprint: result.fingerprint, commitment: result.commitment, hashFunction: result.hashFunction, warnings };
}
