/**
 * The plain settings of an `ImportedKmsKey`, checked eagerly with defaults applied: everything but the material
 * and the wrapping key. Each mistake names the construct path, the property, what was expected and received.
 */
import { importableKeyType, KeyTypeError, type ImportableKeyType } from '../key-types';
import { parseWrapHash, type WrapHash } from '../wrapping';
import { describeReceived, ImportedKmsKeyError, invalidProp, propMessage, type ImportedKmsKeyErrorCode } from './errors';
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

/**
 * Checks every plain setting; returns them with defaults applied, and every mistake found (not only the
 * first: an app's mistakes are reported together, in one synth). A setting in error keeps its value or
 * default in `settings`, which only serve to finish building the construct that will not synthesize.
 */
export function checkSettings(path: string, props: ImportedKmsKeyProps): { settings: Settings; problems: ImportedKmsKeyError[] } {
  const problems: ImportedKmsKeyError[] = [];
  const faulty = (prop: string): boolean => problems.some((problem) => problem.prop === prop);
  const refuse = (prop: string, expected: string, received: string, code?: ImportedKmsKeyErrorCode): void => {
    // One message per property: a token or a wrong type would otherwise also fail the property's format rule.
    if (!faulty(prop)) problems.push(invalidProp(path, prop, expected, received, code));
  };
  // These settings become the replace triggers and the physical name; a token (a Terraform variable, an
  // attribute) would make both unknown until apply, and the region must match the wrapping key at synth.
  for (const prop of ['region', 'name', 'description', 'labels', 'annotations', 'keyType', 'hashFunction', 'physicalName'] as const) {
    if (containsToken(props[prop])) {
      refuse(prop, 'a concrete value known at synth (it decides the replace triggers and the key name)', 'an unresolved token', 'PROP_TOKEN');
    }
  }
  const expect = (prop: string, expected: string | undefined, value: unknown): void => {
    if (expected !== undefined) refuse(prop, expected, describeReceived(value));
  };
  expect('region', checkRegion(props.region), props.region);
  expect('name', checkName(props.name, MAX_NAME_LENGTH), props.name);
  if (props.physicalName !== undefined) expect('physicalName', checkName(props.physicalName, MAX_PHYSICAL_NAME_LENGTH), props.physicalName);
  expect('description', checkDescription(props.description), props.description);
  for (const prop of ['labels', 'annotations'] as const) {
    const problem = checkStringMap(props[prop], prop);
    if (problem !== undefined) refuse(prop, problem.expected, problem.received ?? describeReceived(props[prop]));
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
  const lifecycleProp = props.lifecycleResource ?? 'terraform_data';
  const lifecycleOk = lifecycleProp === 'terraform_data' || lifecycleProp === 'null_resource';
  expect('lifecycleResource', lifecycleOk ? undefined : '"terraform_data" or "null_resource"', props.lifecycleResource);
  const lifecycle: LifecycleResourceType = lifecycleOk ? lifecycleProp : 'terraform_data';

  let rotation = props.rotation;
  if (rotation !== undefined) {
    if (rotation === null || typeof rotation !== 'object') {
      refuse('rotation', 'an object {enabled, periodInDays?}', describeReceived(rotation));
      rotation = undefined;
    } else if (containsToken(rotation)) {
      refuse('rotation', 'concrete values known at synth', 'an unresolved token', 'PROP_TOKEN');
    } else {
      expect('rotation.enabled', typeof rotation.enabled === 'boolean' ? undefined : 'true or false', rotation.enabled);
      expect('rotation.periodInDays', checkRotationPeriod(rotation.periodInDays), rotation.periodInDays);
      if (!allowRotation) {
        refuse('rotation', 'left out unless allowRotation is true (Thalassa Cloud refuses to rotate an imported key created without allowRotation)',
          `rotation settings with allowRotation ${String(props.allowRotation ?? false)}`, 'PROP_CONFLICT');
      }
      if (rotation.enabled === true && rotation.periodInDays === undefined) {
        // Thalassa's docs call the period required when rotation is enabled, and the API answers 400 without one.
        refuse('rotation.periodInDays', 'a whole number of days from 1 to 3650 when rotation.enabled is true (Thalassa Cloud refuses to enable rotation without a period)', 'nothing');
      }
    }
  }
  const settings: Settings = {
    region: String(props.region),
    name: String(props.name),
    description: typeof props.description === 'string' ? props.description : '',
    labels: faulty('labels') ? {} : { ...(props.labels ?? {}) },
    annotations: faulty('annotations') ? {} : { ...(props.annotations ?? {}) },
    allowRotation,
    exportAllowed,
    rotation: rotation === undefined ? undefined : { enabled: rotation.enabled, periodInDays: rotation.periodInDays },
    removalPolicy: removalPolicy === 'retain' ? 'retain' : 'schedule-deletion',
    preventDestroy,
    physicalName: props.physicalName === undefined ? undefined : String(props.physicalName),
    lifecycleResource: lifecycle,
  };
  return { settings, problems };
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
