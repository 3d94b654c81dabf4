/**
 * The plain settings of an `ImportedKmsKey`, checked eagerly with defaults applied: everything but the material
 * and the wrapping key. Each mistake names the construct path, the property, what was expected and received.
 */
import { importableKeyType, KeyTypeError, type ImportableKeyType } from '../key-types';
import { parseWrapHash, type WrapHash } from '../wrapping';
import { describeReceived, ImportedKmsKeyError, invalidProp, propMessage } from './errors';
import type { LifecycleResourceType } from './lifecycle';
import type { ImportedKmsKeyProps, RemovalPolicy, RotationSettings } from './props';
import { checkDescription, checkName, checkRegion, checkRotationPeriod, checkStringMap, containsToken, MAX_NAME_LENGTH, MAX_PHYSICAL_NAME_LENGTH } from './validation';

const DEFAULT_HASH: WrapHash = 'sha256';

export interface Settings {
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
export function checkSettings(path: string, props: ImportedKmsKeyProps): Settings {
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
    if (rotation.enabled && rotation.periodInDays === undefined) {
      // Thalassa's docs call the period required when rotation is enabled, and the API answers 400 without one.
      throw invalidProp(path, 'rotation.periodInDays', 'a whole number of days from 1 to 3650 when rotation.enabled is true (Thalassa Cloud refuses to enable rotation without a period)', 'nothing');
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

export function loadKeyType(path: string, name: unknown): ImportableKeyType {
  if (typeof name !== 'string') throw invalidProp(path, 'keyType', 'the name of an importable key type', describeReceived(name));
  try {
    return importableKeyType(name);
  } catch (err) {
    if (!(err instanceof KeyTypeError)) throw err;
    throw new ImportedKmsKeyError('PROP_INVALID', path, 'keyType', propMessage(path, 'keyType', 'an importable key type', `${describeReceived(name)}: ${err.message}`), { cause: err });
  }
}

export function loadHash(path: string, value: unknown): WrapHash {
  if (value === undefined) return DEFAULT_HASH;
  try {
    if (typeof value !== 'string') throw new TypeError('not a string');
    return parseWrapHash(value);
  } catch {
    throw invalidProp(path, 'hashFunction', '"sha1", "sha256", "sha384" or "sha512"', describeReceived(value));
  }
}
