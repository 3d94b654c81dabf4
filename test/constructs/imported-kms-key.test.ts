/**
 * ImportedKmsKey at synth level: the Terraform JSON each prop produces.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import 'cdktf/lib/testing/adapters/jest';
import { DataResource, Testing } from 'cdktf';
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { Resource as NullResource } from '@cdktf/provider-null/lib/resource';
import { ImportedKmsKey } from '../../src/constructs';
import { KeyMaterial } from '../../src';
import { spkiFingerprint } from '../../src/material';
import { argv, baseProps, newStack, oneKey, resources, synthJson, wrappingKey, type Provisioner, type SynthOutput } from './fixtures';

Testing.setupJest();

type Json = Record<string, unknown>;
const keyResource = (out: SynthOutput): Json => {
  const all = resources(out, 'terraform_data');
  const id = Object.keys(all).find((k) => k.includes('_Key_'));
  if (id === undefined) throw new Error('no key resource');
  return all[id];
};
const rotationResource = (out: SynthOutput): Json | undefined => {
  const all = resources(out, 'terraform_data');
  const id = Object.keys(all).find((k) => k.includes('_Rotation_'));
  return id === undefined ? undefined : all[id];
};
const provisioners = (r: Json): Provisioner[] => r.provisioner as Provisioner[];
const createArgv = (r: Json): string[] => argv(provisioners(r).find((p) => p['local-exec'].when === undefined)!);
const destroyArgv = (r: Json): string[] | undefined => {
  const p = provisioners(r).find((x) => x['local-exec'].when === 'destroy');
  return p === undefined ? undefined : argv(p);
};
const triggers = (r: Json): Json => r.triggers_replace as Json;

describe('default synthesis (terraform_data)', () => {
  const { stack, key } = oneKey();
  const out = synthJson(stack);
  const r = keyResource(out);

  test('one terraform_data resource, no provider, no rotation resource', () => {
    expect(Object.keys(resources(out, 'terraform_data'))).toHaveLength(1);
    expect(out.provider).toBeUndefined();
    expect(key.rotationResource).toBeUndefined();
    expect(key.resource).toBeInstanceOf(DataResource);
  });

  test('the replace triggers are the fingerprint and every immutable setting', () => {
    expect(triggers(r)).toEqual({
      region: 'nl-01',
      name: key.name,
      keyType: 'aes256-gcm96',
      fingerprint: key.fingerprint,
      description: '',
      labels: {},
      annotations: {},
      exportAllowed: false,
      allowRotation: false,
      hashFunction: 'sha256',
    });
    expect(Testing.synth(stack)).toHaveResourceWithProperties(DataResource, { input: { region: 'nl-01', name: key.name, fingerprint: key.fingerprint } });
  });

  test('the exposed attributes', () => {
    expect(key.region).toBe('nl-01');
    expect(key.keyType).toBe('aes256-gcm96');
    expect(key.hashFunction).toBe('sha256');
    expect(key.fingerprint).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(key.name).toMatch(/^master-[0-9a-f]{8}$/);
    expect(key.wrappedBlobFile).toBe(`byok/${key.node.addr}.wrapped`);
  });

  test('create runs `thalassa-byok import` per the CLI contract, with no shell', () => {
    expect(createArgv(r)).toEqual([
      process.execPath,
      expect.stringMatching(/[/\\]cli[/\\]main\.js$/),
      'import',
      '--region=nl-01',
      `--name=${key.name}`,
      '--key-type=aes256-gcm96',
      '--hash=sha256',
      `--wrapped-file=${key.wrappedBlobFile}`,
      `--fingerprint=${key.fingerprint}`,
    ]);
  });

  test('destroy runs `thalassa-byok delete` and references only self.input', () => {
    const destroy = destroyArgv(r)!;
    expect(destroy.slice(2)).toEqual(['delete', '--region=${self.input.region}', '--name=${self.input.name}', '--fingerprint=${self.input.fingerprint}']);
    const references = destroy.join(' ').match(/\$\{[^}]*\}/g) ?? [];
    expect(references.length).toBe(3);
    for (const ref of references) expect(ref).toMatch(/^\$\{self\.input\.[a-z]+\}$/);
  });

  test('no create_before_destroy (Terraform skips destroy provisioners of deposed objects) and no prevent_destroy', () => {
    expect(r.lifecycle).toBeUndefined();
  });
});

describe('props', () => {
  test('description, labels and annotations go to the triggers and the import command', () => {
    const { stack, key } = oneKey({ description: 'Payments master key\nowned by team-a', labels: { env: 'prod', 'team.io/owner': 'a' }, annotations: { 'example.com/ticket': 'SEC-1 with spaces & = signs' } });
    const r = keyResource(synthJson(stack));
    expect(triggers(r)).toMatchObject({ description: 'Payments master key\nowned by team-a', labels: { env: 'prod', 'team.io/owner': 'a' }, annotations: { 'example.com/ticket': 'SEC-1 with spaces & = signs' } });
    expect(createArgv(r)).toEqual(expect.arrayContaining([
      '--description=Payments master key\nowned by team-a', '--label=env=prod', '--label=team.io/owner=a', '--annotation=example.com/ticket=SEC-1 with spaces & = signs',
    ]));
    expect(createArgv(r).at(-1)).toBe(`--fingerprint=${key.fingerprint}`);
  });

  test('Terraform template sequences in user text are escaped', () => {
    const { stack } = oneKey({ description: 'not ${var.x} nor %{if y}', annotations: { note: '${z}' } });
    const r = keyResource(synthJson(stack));
    expect(triggers(r).description).toBe('not $${var.x} nor %%{if y}');
    expect(createArgv(r)).toEqual(expect.arrayContaining(['--description=not $${var.x} nor %%{if y}', '--annotation=note=$${z}']));
  });

  test('exportAllowed', () => {
    const r = keyResource(synthJson(oneKey({ exportAllowed: true }).stack));
    expect(triggers(r).exportAllowed).toBe(true);
    expect(createArgv(r)).toContain('--export-allowed');
  });

  test('allowRotation changes triggers_replace and the physical name', () => {
    const off = oneKey({ allowRotation: false });
    const on = oneKey({ allowRotation: true });
    const rOff = keyResource(synthJson(off.stack));
    const rOn = keyResource(synthJson(on.stack));
    expect(triggers(rOn).allowRotation).toBe(true);
    expect(createArgv(rOn)).toContain('--allow-rotation');
    expect(createArgv(rOff)).not.toContain('--allow-rotation');
    expect(on.key.name).not.toBe(off.key.name);
    expect(triggers(rOn).name).toBe(on.key.name);
    expect({ ...triggers(rOn), allowRotation: false, name: '' }).toEqual({ ...triggers(rOff), name: '' });
  });

  test.each([
    ['description', { description: 'x' }],
    ['labels', { labels: { a: 'b' } }],
    ['annotations', { annotations: { a: 'b' } }],
    ['exportAllowed', { exportAllowed: true }],
    ['hashFunction', { hashFunction: 'sha512' as const }],
    ['keyType', { keyType: 'aes128-gcm96', material: KeyMaterial.fromBytes(randomBytes(16)) }],
    ['material', { material: KeyMaterial.fromBytes(randomBytes(32)) }],
    ['region', { region: 'de-02' }],
  ])('changing %s gives a fresh physical name', (_prop, change) => {
    expect(oneKey(change).key.name).not.toBe(oneKey().key.name);
  });

  test('the physical name does not depend on the random wrap, the construct id or the rotation settings', () => {
    const a = oneKey({}, 'one').key.name;
    expect(oneKey({}, 'two').key.name).toBe(a);
    expect(oneKey({ allowRotation: true, rotation: { enabled: true, periodInDays: 30 } }).key.name)
      .toBe(oneKey({ allowRotation: true, rotation: { enabled: false } }).key.name);
  });

  test('physicalName is used verbatim', () => {
    const { stack, key } = oneKey({ physicalName: 'payments-master' });
    expect(key.name).toBe('payments-master');
    const r = keyResource(synthJson(stack));
    expect(triggers(r).name).toBe('payments-master');
    expect(createArgv(r)).toContain('--name=payments-master');
  });

  test('hashFunction', () => {
    const { stack, key } = oneKey({ hashFunction: 'sha384' });
    expect(key.hashFunction).toBe('sha384');
    const r = keyResource(synthJson(stack));
    expect(triggers(r).hashFunction).toBe('sha384');
    expect(createArgv(r)).toContain('--hash=sha384');
  });

  test("removalPolicy 'retain' has no destroy provisioner", () => {
    const r = keyResource(synthJson(oneKey({ removalPolicy: 'retain' }).stack));
    expect(provisioners(r)).toHaveLength(1);
    expect(destroyArgv(r)).toBeUndefined();
  });

  test("removalPolicy 'schedule-deletion' is the default", () => {
    expect(destroyArgv(keyResource(synthJson(oneKey({ removalPolicy: 'schedule-deletion' }).stack)))?.[2]).toBe('delete');
  });

  test('preventDestroy sets the lifecycle', () => {
    const { stack } = oneKey({ preventDestroy: true });
    expect(keyResource(synthJson(stack)).lifecycle).toEqual({ prevent_destroy: true });
    expect(Testing.synth(stack)).toHaveResourceWithProperties(DataResource, { lifecycle: { prevent_destroy: true } });
  });

  test('rotation: a second resource that depends on the key and runs set-rotation', () => {
    const { stack, key } = oneKey({ allowRotation: true, rotation: { enabled: true, periodInDays: 90 } });
    const out = synthJson(stack);
    const rot = rotationResource(out)!;
    expect(key.rotationResource).toBeInstanceOf(DataResource);
    expect(triggers(rot)).toEqual({ region: 'nl-01', name: key.name, fingerprint: key.fingerprint, enabled: true, periodInDays: 90 });
    expect(rot.depends_on).toEqual([expect.stringMatching(/^terraform_data\.key_Key_/)]);
    expect(createArgv(rot).slice(2)).toEqual(['set-rotation', '--region=nl-01', `--name=${key.name}`, '--enabled=true', '--period-days=90', `--fingerprint=${key.fingerprint}`]);
    expect(destroyArgv(rot)).toBeUndefined();
  });

  test('rotation without a period, and disabled', () => {
    const { stack } = oneKey({ allowRotation: true, rotation: { enabled: false } });
    const rot = rotationResource(synthJson(stack))!;
    expect(triggers(rot)).not.toHaveProperty('periodInDays');
    expect(createArgv(rot)).toContain('--enabled=false');
    expect(createArgv(rot).some((a) => a.startsWith('--period-days'))).toBe(false);
  });

  test('changing only the rotation period changes only the rotation resource', () => {
    const a = synthJson(oneKey({ allowRotation: true, rotation: { enabled: true, periodInDays: 90 } }).stack);
    const b = synthJson(oneKey({ allowRotation: true, rotation: { enabled: true, periodInDays: 180 } }).stack);
    expect(keyResource(b)).toEqual(keyResource(a));
    expect(triggers(rotationResource(b)!)).not.toEqual(triggers(rotationResource(a)!));
    expect(triggers(rotationResource(b)!).periodInDays).toBe(180);
  });
});

describe('key types and material sources', () => {
  test.each([
    ['ed25519', () => generateKeyPairSync('ed25519')],
    ['ecdsa-p256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' })],
    ['ecdsa-p384', () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' })],
    ['rsa-2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ])('%s from PEM: the fingerprint is the public key SPKI SHA-256', (keyType, generate) => {
    const { publicKey, privateKey } = generate();
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const { stack, key } = oneKey({ keyType, material: KeyMaterial.fromBytes(pem) });
    expect(key.fingerprint).toBe(spkiFingerprint(publicKey));
    expect(triggers(keyResource(synthJson(stack)))).toMatchObject({ keyType, fingerprint: key.fingerprint });
  });

  test.each(['aes128-gcm96', 'chacha20-poly1305'])('%s from bytes', (keyType) => {
    const { key } = oneKey({ keyType, material: KeyMaterial.fromBytes(randomBytes(keyType === 'aes128-gcm96' ? 16 : 32)) });
    expect(key.fingerprint).toMatch(/^hmac-sha256:/);
  });

  test('from an environment variable', () => {
    process.env.BYOK_TEST_MATERIAL = randomBytes(32).toString('hex');
    try {
      expect(oneKey({ material: KeyMaterial.fromEnv('BYOK_TEST_MATERIAL') }).key.fingerprint).toMatch(/^hmac-sha256:/);
    } finally {
      delete process.env.BYOK_TEST_MATERIAL;
    }
  });

  test('the same material gives the same fingerprint in every synth', () => {
    expect(oneKey().key.fingerprint).toBe(oneKey().key.fingerprint);
  });

  test('pre-wrapped symmetric blob with a user identifier', () => {
    const blob = randomBytes(256 + 40);
    const { key } = oneKey({ material: KeyMaterial.preWrapped(blob, { fingerprint: 'kcv:1a2b3c' }) });
    expect(key.fingerprint).toBe('kcv:1a2b3c');
  });

  test('pre-wrapped asymmetric blob with an spki-sha256 fingerprint', () => {
    const fp = `spki-sha256:${'ab'.repeat(32)}`;
    const { key } = oneKey({ keyType: 'ed25519', material: KeyMaterial.preWrapped(randomBytes(256 + 56), { fingerprint: fp }) });
    expect(key.fingerprint).toBe(fp);
  });
});

describe('null_resource mode', () => {
  const props = { allowRotation: true, rotation: { enabled: true, periodInDays: 30 }, labels: { env: 'prod' }, annotations: { note: '${x}' }, description: 'd' };
  const data = synthJson(oneKey(props).stack);
  const { stack, key } = oneKey({ ...props, lifecycleResource: 'null_resource' });
  const nul = synthJson(stack);

  test('uses null_resource and adds a null provider', () => {
    expect(key.resource).toBeInstanceOf(NullResource);
    expect(resources(nul, 'terraform_data')).toEqual({});
    expect(Object.keys(resources(nul, 'null_resource'))).toHaveLength(2);
    expect(Testing.synth(stack)).toHaveProvider(NullProvider);
  });

  test('synthesizes the same triggers and provisioners as terraform_data mode', () => {
    const decode = (t: Json): Json => Object.fromEntries(Object.entries(t).map(([k, v]) => {
      if (typeof v !== 'string') throw new Error(`null_resource trigger ${k} is not a string`);
      try {
        const parsed: unknown = JSON.parse(v);
        return [k, typeof parsed === 'object' || typeof parsed === 'boolean' || typeof parsed === 'number' ? parsed : v];
      } catch {
        return [k, v];
      }
    }));
    const pairs = Object.entries(resources(data, 'terraform_data')).map(([id, r]) => [id, r, resources(nul, 'null_resource')[id]] as const);
    expect(pairs).toHaveLength(2);
    for (const [, d, n] of pairs) {
      expect(n).toBeDefined();
      expect(decode(n.triggers as Json)).toEqual(d.triggers_replace);
      expect(JSON.stringify(n.provisioner).replace(/self\.triggers\./g, 'self.input.')).toBe(JSON.stringify(d.provisioner));
      expect(n.depends_on ?? []).toEqual(((d.depends_on ?? []) as string[]).map((x) => x.replace('terraform_data.', 'null_resource.')));
    }
  });

  test('an existing null provider is reused', () => {
    const s = newStack();
    new NullProvider(s, 'mine');
    new ImportedKmsKey(s, 'a', baseProps({ lifecycleResource: 'null_resource' }));
    new ImportedKmsKey(s, 'b', baseProps({ name: 'other', lifecycleResource: 'null_resource' }));
    expect(Object.values(synthJson(s).provider ?? {}).flat()).toHaveLength(1);
  });

  test('two keys in one stack share the added provider', () => {
    const s = newStack();
    new ImportedKmsKey(s, 'a', baseProps({ lifecycleResource: 'null_resource' }));
    new ImportedKmsKey(s, 'b', baseProps({ name: 'other', lifecycleResource: 'null_resource' }));
    expect(Object.values(synthJson(s).provider ?? {}).flat()).toHaveLength(1);
  });
});

describe('several keys', () => {
  test('in one stack get distinct resources and blob files', () => {
    const s = newStack();
    const a = new ImportedKmsKey(s, 'a', baseProps({ name: 'a' }));
    const b = new ImportedKmsKey(s, 'b', baseProps({ name: 'b', wrappingKey: wrappingKey() }));
    expect(Object.keys(resources(synthJson(s), 'terraform_data'))).toHaveLength(2);
    expect(a.wrappedBlobFile).not.toBe(b.wrappedBlobFile);
  });
});
