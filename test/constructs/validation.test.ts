/**
 * Every misuse fails synth with the construct path, the property, what was expected and what was received —
 * and never the material.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { ImportedKmsKey, ImportedKmsKeyError, type ImportedKmsKeyProps } from '../../src/constructs';
import { KeyMaterial, WrappingError, WrappingKey } from '../../src';
import { baseProps, buildKey, filesUnder, newStack, wrappingKey, wrappingKeyPair } from './fixtures';

const PATH = 'stack/key';

function failure(props: Partial<ImportedKmsKeyProps> | Record<string, unknown>): ImportedKmsKeyError {
  try {
    buildKey(newStack(), 'key', baseProps(props as Partial<ImportedKmsKeyProps>));
  } catch (err) {
    if (err instanceof ImportedKmsKeyError) return err;
    throw err;
  }
  throw new Error('expected an ImportedKmsKeyError');
}

function expectMessage(err: ImportedKmsKeyError, prop: string, received: RegExp | string): void {
  expect(err.message).toContain(`ImportedKmsKey "${PATH}"`);
  expect(err.message).toContain(`property "${prop}" must be`);
  expect(err.message).toContain('received');
  expect(err.message).toEqual(expect.stringMatching(typeof received === 'string' ? new RegExp(received.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : received));
  expect(err.constructPath).toBe(PATH);
  expect(err.prop).toBe(prop);
}

describe('eager validation', () => {
  test.each<[string, Record<string, unknown>, string, RegExp | string]>([
    ['region format', { region: 'NL-1' }, 'region', '"NL-1"'],
    ['region type', { region: 7 }, 'region', 'number 7'],
    ['empty name', { name: '' }, 'name', 'received ""'],
    ['name with a space', { name: 'my key' }, 'name', '"my key"'],
    ['name ending in -', { name: 'key-' }, 'name', '"key-"'],
    ['name too long for the suffix', { name: 'a'.repeat(247) }, 'name', '247 characters'],
    ['physicalName too long', { physicalName: 'a'.repeat(256) }, 'physicalName', '256 characters'],
    ['physicalName charset', { physicalName: 'a/b' }, 'physicalName', '"a/b"'],
    ['description too long', { description: 'x'.repeat(1025) }, 'description', '1025 characters'],
    ['description with NUL', { description: 'a\u0000b' }, 'description', 'received'],
    ['labels not a map', { labels: ['a'] }, 'labels', 'an array of 1 items'],
    ['label key', { labels: { 'bad key': 'v' } }, 'labels', 'key "bad key"'],
    ['label value', { labels: { k: 'v w' } }, 'labels', 'value "v w" for key "k"'],
    ['label value type', { labels: { k: 3 } }, 'labels', 'value a number for key "k"'],
    ['reserved label prefix', { labels: { 'cdktf-thalassa-byok/x': 'v' } }, 'labels', 'key "cdktf-thalassa-byok/x"'],
    ['reserved fingerprint annotation', { annotations: { 'cdktf-thalassa-byok/fingerprint': 'x' } }, 'annotations', 'key "cdktf-thalassa-byok/fingerprint"'],
    ['annotation key with =', { annotations: { 'a=b': 'x' } }, 'annotations', 'key "a=b"'],
    ['annotation value too long', { annotations: { a: 'x'.repeat(4097) } }, 'annotations', 'for key "a"'],
    ['too many labels', { labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }, 'labels', '65 entries'],
    ['unknown key type', { keyType: 'aes512' }, 'keyType', '"aes512"'],
    ['HMAC key type', { keyType: 'hmac-sha256' }, 'keyType', /"hmac-sha256".*cannot be imported/],
    ['hash function', { hashFunction: 'md5' }, 'hashFunction', '"md5"'],
    ['allowRotation type', { allowRotation: 'yes' }, 'allowRotation', '"yes"'],
    ['exportAllowed type', { exportAllowed: 1 }, 'exportAllowed', 'number 1'],
    ['preventDestroy type', { preventDestroy: 'true' }, 'preventDestroy', '"true"'],
    ['removalPolicy', { removalPolicy: 'destroy' }, 'removalPolicy', '"destroy"'],
    ['lifecycleResource', { lifecycleResource: 'local_file' }, 'lifecycleResource', '"local_file"'],
    ['wrappingKey', { wrappingKey: 'pem text' }, 'wrappingKey', '"pem text"'],
    ['material', { material: 'raw key text' }, 'material', '"raw key text"'],
    ['rotation type', { allowRotation: true, rotation: true }, 'rotation', 'boolean true'],
    ['rotation.enabled', { allowRotation: true, rotation: { enabled: 'yes' } }, 'rotation.enabled', '"yes"'],
    ['rotation.periodInDays 0', { allowRotation: true, rotation: { enabled: true, periodInDays: 0 } }, 'rotation.periodInDays', 'number 0'],
    ['rotation.periodInDays 3651', { allowRotation: true, rotation: { enabled: true, periodInDays: 3651 } }, 'rotation.periodInDays', 'number 3651'],
    ['rotation.periodInDays 1.5', { allowRotation: true, rotation: { enabled: true, periodInDays: 1.5 } }, 'rotation.periodInDays', 'number 1.5'],
    ['rotation without allowRotation', { rotation: { enabled: true, periodInDays: 30 } }, 'rotation', 'allowRotation false'],
  ])('%s', (_case, props, prop, received) => {
    expectMessage(failure(props), prop, received);
  });

  test('codes', () => {
    expect(failure({ region: 'x' }).code).toBe('PROP_INVALID');
    expect(failure({ rotation: { enabled: true } }).code).toBe('PROP_CONFLICT');
  });

  test('rotation periods 1 and 3650 are accepted', () => {
    for (const periodInDays of [1, 3650]) {
      expect(() => buildKey(newStack(), 'key', baseProps({ allowRotation: true, rotation: { enabled: true, periodInDays } }))).not.toThrow();
    }
  });

  test('the longest names are accepted', () => {
    expect(new ImportedKmsKey(newStack(), 'key', baseProps({ name: 'a'.repeat(246) })).physicalName).toHaveLength(255);
    expect(new ImportedKmsKey(newStack(), 'key', baseProps({ physicalName: 'b'.repeat(255) })).physicalName).toHaveLength(255);
  });

  test('tokens are refused where the value decides the triggers', () => {
    const stack = newStack();
    const region = new TerraformVariable(stack, 'region', { type: 'string' });
    let err: unknown;
    try {
      buildKey(stack, 'key', baseProps({ region: region.stringValue }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImportedKmsKeyError);
    expect((err as ImportedKmsKeyError).code).toBe('PROP_TOKEN');
    expectMessage(err as ImportedKmsKeyError, 'region', 'an unresolved token');
  });

  test('a label value token is refused too', () => {
    const stack = newStack();
    const v = new TerraformVariable(stack, 'v', { type: 'string' });
    expect(() => buildKey(stack, 'key', baseProps({ labels: { a: v.stringValue } }))).toThrow(/property "labels" must be a concrete value/);
  });
});

describe('material errors never show the material', () => {
  const secret = randomBytes(31);
  const encodings = [secret.toString('hex'), secret.toString('base64'), secret.toString('base64url'), secret.toString('latin1')];

  test.each<[string, () => KeyMaterial, string, string]>([
    ['wrong length', () => KeyMaterial.fromBytes(secret), 'aes256-gcm96', 'that does not fit'],
    ['wrong length, as hex text', () => KeyMaterial.fromBytes(secret.toString('hex')), 'aes256-gcm96', 'that does not fit'],
    ['symmetric bytes for an asymmetric type', () => KeyMaterial.fromBytes(secret.toString('base64')), 'ed25519', 'that does not fit'],
    ['missing file', () => KeyMaterial.fromFile('/nonexistent/key.bin'), 'aes256-gcm96', 'that cannot be read: Cannot read key material from file /nonexistent/key.bin'],
    ['unset variable', () => KeyMaterial.fromEnv('BYOK_TEST_UNSET_VARIABLE'), 'aes256-gcm96', 'that cannot be read: Environment variable BYOK_TEST_UNSET_VARIABLE'],
  ])('%s', (_case, material, keyType, received) => {
    const err = failure({ material: material(), keyType });
    expect(err.code).toBe('MATERIAL_INVALID');
    expectMessage(err, 'material', received);
    // The source is named once, by the material's own message.
    expect(err.message.toLowerCase().split(material().source.toLowerCase()).length - 1).toBe(1);
    expect(err.message).toContain(keyType);
    for (const encoding of encodings) expect(err.message).not.toContain(encoding);
    expect(err.cause).toBeDefined();
  });

  test('a pre-wrapped blob that does not fit the wrapping key', () => {
    const err = failure({ material: KeyMaterial.preWrapped(randomBytes(100), { fingerprint: 'kcv:123456' }) });
    expectMessage(err, 'material', 'a blob of 100 bytes');
    expect(err.message).toContain('256 bytes of RSA-OAEP');
  });

  test('a pre-wrapped blob whose KWP part is not a multiple of 8', () => {
    expectMessage(failure({ material: KeyMaterial.preWrapped(randomBytes(256 + 20), { fingerprint: 'kcv:123456' }) }), 'material', 'a blob of 276 bytes');
  });

  test('a pre-wrapped asymmetric blob needs an spki-sha256 fingerprint', () => {
    const err = failure({ keyType: 'ecdsa-p256', material: KeyMaterial.preWrapped(randomBytes(256 + 48), { fingerprint: 'kcv:123456' }) });
    expectMessage(err, 'material', 'fingerprint "kcv:123456"');
  });
});

describe('wrapping key pin', () => {
  test('a pin mismatch fails before the construct exists', () => {
    expect(() => WrappingKey.fromPem(wrappingKeyPair().publicPem, { pin: `spki-sha256:${'0'.repeat(64)}` })).toThrow(WrappingError);
  });
});

describe('warnings', () => {
  const warnings = (key: ImportedKmsKey): string[] =>
    key.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data)).filter((m) => !m.includes('CLI was not found'));

  test('none for a pinned wrapping key and sha256', () => {
    expect(warnings(new ImportedKmsKey(newStack(), 'key', baseProps()))).toEqual([]);
  });

  test('an unpinned wrapping key', () => {
    const key = new ImportedKmsKey(newStack(), 'key', baseProps({ wrappingKey: wrappingKey(false) }));
    const [warning, ...rest] = warnings(key);
    expect(rest).toEqual([]);
    expect(warning).toContain(`ImportedKmsKey "${PATH}"`);
    expect(warning).toContain('is not pinned');
    expect(warning).toContain(wrappingKey(false).fingerprint);
  });

  test('an unpinned wrapping key warns once per stack, not once per key', () => {
    const stack = newStack();
    const keys = [0, 1, 2].map((i) => new ImportedKmsKey(stack, `key${i}`, baseProps({ name: `k${i}`, wrappingKey: wrappingKey(false) })));
    expect(keys.map((k) => warnings(k).length)).toEqual([1, 0, 0]);
    expect(warnings(keys[0])[0]).toContain('stands for every key of the stack');
    const other = new ImportedKmsKey(newStack(), 'key', baseProps({ wrappingKey: wrappingKey(false) }));
    expect(warnings(other)).toHaveLength(1);
  });

  test('sha1', () => {
    const key = new ImportedKmsKey(newStack(), 'key', baseProps({ hashFunction: 'sha1' }));
    expect(warnings(key)).toEqual([expect.stringContaining('hashFunction "sha1" is weak')]);
  });

  test('warnings reach the synth manifest', () => {
    const stack = newStack();
    new ImportedKmsKey(stack, 'key', baseProps({ hashFunction: 'sha1' }));
    const outdir = Testing.fullSynth(stack);
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8'));
    expect(JSON.stringify(manifest.stacks.stack.annotations)).toContain('sha1');
  });
});

describe('app-wide validation', () => {
  test('two keys with the same region and physical name in one app fail synth, naming both', () => {
    const app = Testing.app();
    const a = new TerraformStack(app, 'a');
    const b = new TerraformStack(app, 'b');
    new ImportedKmsKey(a, 'key', baseProps({ physicalName: 'shared' }));
    new ImportedKmsKey(b, 'key', baseProps({ physicalName: 'shared' }));
    expect(() => Testing.synth(a, true)).toThrow(/\[a\/key\] ImportedKmsKey: property "physicalName" must be unique per region within the app; received physical name "shared" in region "nl-01", which ImportedKmsKey "b\/key" also declares/);
    expect(() => Testing.fullSynth(b)).toThrow(/\[b\/key\].*"a\/key" also declares/);
  });

  test('the same derived name twice in one stack', () => {
    const stack = newStack();
    new ImportedKmsKey(stack, 'one', baseProps());
    new ImportedKmsKey(stack, 'two', baseProps());
    expect(() => Testing.synth(stack, true)).toThrow(/property "name" must be unique per region/);
  });

  test('the same name in two regions is fine', () => {
    const stack = newStack();
    new ImportedKmsKey(stack, 'one', baseProps({ physicalName: 'k' }));
    new ImportedKmsKey(stack, 'two', baseProps({ physicalName: 'k', region: 'de-01' }));
    expect(() => Testing.synth(stack, true)).not.toThrow();
  });

  test('app.synth fails too', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'byok-app-')) });
    const stack = new TerraformStack(app, 'stack');
    new ImportedKmsKey(stack, 'one', baseProps({ physicalName: 'k' }));
    new ImportedKmsKey(stack, 'two', baseProps({ physicalName: 'k' }));
    expect(() => app.synth()).toThrow(/unique per region/);
  });
});

test('keyType is the union of importable names: a typo or an HMAC type fails tsc (npm run typecheck)', () => {
  // @ts-expect-error a near miss of ecdsa-p256 is not a key type
  const typo: ImportedKmsKeyProps['keyType'] = 'ecdsa-P256';
  // @ts-expect-error HMAC keys cannot be imported
  const hmac: ImportedKmsKeyProps['keyType'] = 'hmac-sha256';
  const fine: ImportedKmsKeyProps['keyType'] = 'ecdsa-p256';
  // At run time (plain JavaScript) the same mistakes fail at synth with a suggestion.
  expect(failure({ keyType: typo }).message).toMatch(/did you mean "ecdsa-p256"/i);
  expect(failure({ keyType: hmac }).message).toMatch(/HMAC/);
  expect(fine).toBe('ecdsa-p256');
});

describe('an app\'s mistakes are reported together', () => {
  function synthError(build: (stack: TerraformStack) => void): string {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'byok-app-')) });
    build(new TerraformStack(app, 'stack'));
    try {
      app.synth();
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('synth succeeded');
  }

  test('three keys with one mistake each: one synth names all three, each once, with no path said twice', () => {
    const message = synthError((stack) => {
      new ImportedKmsKey(stack, 'one', baseProps({ region: 'NL-1' }));
      new ImportedKmsKey(stack, 'two', baseProps({ keyType: 'ecdsa-P256' as ImportedKmsKeyProps['keyType'] }));
      new ImportedKmsKey(stack, 'three', baseProps({ material: 'not a KeyMaterial' as unknown as KeyMaterial }));
    });
    const lines = message.split('\n').filter((line) => line.includes('ImportedKmsKey'));
    expect(lines).toEqual([
      expect.stringMatching(/^ {2}\[stack\/one\] ImportedKmsKey: property "region" must be a region slug.*; received "NL-1"\.$/),
      expect.stringMatching(/^ {2}\[stack\/two\] ImportedKmsKey: property "keyType" must be an importable key type; received "ecdsa-P256".*did you mean "ecdsa-p256"/i),
      expect.stringMatching(/^ {2}\[stack\/three\] ImportedKmsKey: property "material" must be KeyMaterial\.fromFile/),
    ]);
    expect(message).not.toMatch(/\.\./);
    expect(message).not.toContain('ImportedKmsKey "stack/');
  });

  test('one key with three mistakes: all three, in the order of the props', () => {
    const message = synthError((stack) => {
      new ImportedKmsKey(stack, 'key', baseProps({ name: 'bad name', labels: { 'bad key': 'v' }, hashFunction: 'md5' as ImportedKmsKeyProps['hashFunction'] }));
    });
    const props = [...message.matchAll(/\[stack\/key\] ImportedKmsKey: property "([a-zA-Z.]+)"/g)].map((m) => m[1]);
    expect(props).toEqual(['name', 'labels', 'hashFunction']);
  });

  test('a token and a wrong type of the same prop are one mistake, not two', () => {
    const stack = newStack();
    const v = new TerraformVariable(stack, 'v', { type: 'string' });
    const key = new ImportedKmsKey(stack, 'key', baseProps({ region: v.stringValue, keyType: v.stringValue as ImportedKmsKeyProps['keyType'] }));
    expect(key.problems.map((p) => [p.prop, p.code])).toEqual([['region', 'PROP_TOKEN'], ['keyType', 'PROP_TOKEN']]);
  });

  test('with validations skipped a key with mistakes still writes nothing: synth fails naming them', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'byok-app-'));
    const app = new App({ outdir, skipValidation: true });
    new ImportedKmsKey(new TerraformStack(app, 'stack'), 'key', baseProps({ region: 'NL-1', description: 'x'.repeat(2000) }));
    expect(() => app.synth()).toThrow(/property "region" must be[^\n]*\n.*property "description" must be/);
    // Neither the wrapped-keys file nor the manifest: the stack's files are written only when every key is sound.
    expect(filesUnder(outdir).filter((f) => f.path.includes('/byok/'))).toEqual([]);
  });
});

test('two keys refused for the same secret-looking physicalName: each reported once, the value not echoed as a duplicate', () => {
  const pem = wrappingKeyPair().publicPem;
  const stack = newStack();
  const one = new ImportedKmsKey(stack, 'one', baseProps({ physicalName: pem }));
  new ImportedKmsKey(stack, 'two', baseProps({ physicalName: pem }));
  expect(one.problems.map((p) => p.prop)).toEqual(['physicalName']);
  let message = '';
  try {
    Testing.synth(stack, true);
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message.match(/property "physicalName"/g)).toHaveLength(2);
  expect(message).not.toContain('unique per region');
  expect(message).not.toContain(pem.split('\n')[1].slice(0, 12));
});
