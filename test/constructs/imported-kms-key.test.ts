/**
 * ImportedKmsKey at synth level: the Terraform JSON each prop produces.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import 'cdktf/lib/testing/adapters/jest';
import { DataResource, TerraformOutput, Testing } from 'cdktf';
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { Resource as NullResource } from '@cdktf/provider-null/lib/resource';
import { ImportedKmsKey } from '../../src/constructs';
import { KeyMaterial } from '../../src';
import { spkiFingerprint } from '../../src/material';
import type { ImportableKeyTypeName } from '../../src/key-types';
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
const sweepResource = (out: SynthOutput): Json => {
  const all = resources(out, 'terraform_data');
  return all[Object.keys(all).find((k) => k.startsWith('ThalassaByokKeyOwner_Sweep_')) as string];
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

  test('one terraform_data resource for the key and two for the stack\'s key owner, no provider, no rotation resource', () => {
    expect(Object.keys(resources(out, 'terraform_data')).sort()).toEqual([
      expect.stringMatching(/^ThalassaByokKeyOwner_[0-9A-F]{8}$/), expect.stringMatching(/^ThalassaByokKeyOwner_Sweep_/), expect.stringMatching(/^key_Key_/),
    ]);
    expect(out.provider).toBeUndefined();
    expect(key.rotationResource).toBeUndefined();
    expect(key.resource.terraformResourceType).toBe('terraform_data');
  });

  test('the replace triggers are the fingerprint and every immutable setting', () => {
    expect(triggers(r)).toEqual({
      region: 'nl-01',
      name: key.physicalName,
      keyType: 'aes256-gcm96',
      fingerprint: key.fingerprint,
      description: '',
      labels: {},
      annotations: {},
      exportAllowed: false,
      allowRotation: false,
      hashFunction: 'sha256',
    });
    // Recorded so that `key.name` can be a reference to the import.
    expect(r.input).toEqual({ name: key.physicalName });
  });

  test('the exposed attributes', () => {
    expect(key.region).toBe('nl-01');
    expect(key.keyType).toBe('aes256-gcm96');
    expect(key.hashFunction).toBe('sha256');
    expect(key.fingerprint).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(key.physicalName).toMatch(/^master-[0-9a-f]{8}$/);
    expect(key.wrappedBlobFile).toBe('byok/keys.wrapped');
    expect(key.constructId).toMatch(/^[0-9a-f]{32}$/);
  });

  test('name is a reference to the key resource\'s output, so a consumer waits for the import', () => {
    const { stack, key } = oneKey();
    new TerraformOutput(stack, 'name', { value: key.name });
    const synthesized = synthJson(stack) as SynthOutput & { output: Record<string, { value: string }> };
    expect(synthesized.output.name.value).toBe(`\${terraform_data.${key.resource.friendlyUniqueId}.output.name}`);
  });

  test('create runs `thalassa-byok import` per the CLI contract, with no shell', () => {
    expect(createArgv(r)).toEqual([
      'node',
      expect.stringMatching(/^\.\.\/(\.\.\/)+.*dist\/cli\/apply-step\.js$/),
      'import',
      '--region=nl-01',
      `--name=${key.physicalName}`,
      '--key-type=aes256-gcm96',
      '--hash=sha256',
      // The stack's wrapped-keys file: its entry for --construct holds the blob and the commitment.
      '--wrapped-file=byok/keys.wrapped',
      `--fingerprint=${key.fingerprint}`,
      // The key the blob was made for: import refuses it, naming both, when the region's live key differs.
      `--wrapping-key-fingerprint=${wrappingKey().fingerprint}`,
      expect.stringMatching(/^--owner=\$\{terraform_data\.ThalassaByokKeyOwner_[0-9A-F]{8}\.id\}$/),
      `--construct=${key.constructId}`,
      '--sweep-predecessors',
      // Last, so that Terraform's "Error running command '…'" names the operation and the key.
      `--step=import of key ${key.physicalName} into nl-01`,
    ]);
  });

  test('no destroy step on the key: removal, replacement and destroy are the key owner\'s part', () => {
    expect(destroyArgv(r)).toBeUndefined();
  });

  test('create_before_destroy, no prevent_destroy, and the key waits for the owner resource', () => {
    expect(r.lifecycle).toEqual({ create_before_destroy: true });
    expect(r.depends_on).toEqual([expect.stringMatching(/^terraform_data\.ThalassaByokKeyOwner_[0-9A-F]{8}$/)]);
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
    expect(createArgv(r)).toContain(`--fingerprint=${key.fingerprint}`);
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
    expect(on.key.physicalName).not.toBe(off.key.physicalName);
    expect(triggers(rOn).name).toBe(on.key.physicalName);
    expect({ ...triggers(rOn), allowRotation: false, name: '' }).toEqual({ ...triggers(rOff), name: '' });
  });

  test.each([
    ['description', { description: 'x' }],
    ['labels', { labels: { a: 'b' } }],
    ['annotations', { annotations: { a: 'b' } }],
    ['exportAllowed', { exportAllowed: true }],
    ['hashFunction', { hashFunction: 'sha512' as const }],
    ['keyType', { keyType: 'aes128-gcm96' as const, material: KeyMaterial.fromBytes(randomBytes(16)) }],
    ['material', { material: KeyMaterial.fromBytes(randomBytes(32)) }],
    ['region', { region: 'de-02' }],
  ])('changing %s gives a fresh physical name', (_prop, change) => {
    expect(oneKey(change).key.physicalName).not.toBe(oneKey().key.physicalName);
  });

  test('the physical name does not depend on the random wrap, the construct id or the rotation settings', () => {
    const a = oneKey({}, 'one').key.physicalName;
    expect(oneKey({}, 'two').key.physicalName).toBe(a);
    expect(oneKey({ allowRotation: true, rotation: { enabled: true, periodInDays: 30 } }).key.physicalName)
      .toBe(oneKey({ allowRotation: true, rotation: { enabled: false } }).key.physicalName);
  });

  test('physicalName is used verbatim', () => {
    const { stack, key } = oneKey({ physicalName: 'payments-master' });
    expect(key.physicalName).toBe('payments-master');
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

  test("removalPolicy 'retain': the import sweeps no predecessors, and the sweep resource records the policy", () => {
    const out = synthJson(oneKey({ removalPolicy: 'retain' }).stack);
    const r = keyResource(out);
    expect(provisioners(r)).toHaveLength(1);
    expect(createArgv(r)).not.toContain('--sweep-predecessors');
    expect(triggers(sweepResource(out)).keys).toMatch(/^[0-9a-f]{32}@nl-01=retain$/);
  });

  test("removalPolicy 'schedule-deletion' is the default", () => {
    const out = synthJson(oneKey({ removalPolicy: 'schedule-deletion' }).stack);
    expect(createArgv(keyResource(out))).toContain('--sweep-predecessors');
    expect(triggers(sweepResource(out)).keys).toBe(triggers(sweepResource(synthJson(oneKey().stack))).keys);
    expect(triggers(sweepResource(out)).keys).toMatch(/=schedule-deletion$/);
  });

  test('preventDestroy sets the lifecycle', () => {
    const { stack } = oneKey({ preventDestroy: true });
    expect(keyResource(synthJson(stack)).lifecycle).toEqual({ create_before_destroy: true, prevent_destroy: true });
    expect(Testing.synth(stack)).toHaveResourceWithProperties(DataResource, { lifecycle: { create_before_destroy: true, prevent_destroy: true } });
  });

  test('rotation: a second resource that depends on the key and runs set-rotation', () => {
    const { stack, key } = oneKey({ allowRotation: true, rotation: { enabled: true, periodInDays: 90 } });
    const out = synthJson(stack);
    const rot = rotationResource(out)!;
    expect(key.rotationResource?.terraformResourceType).toBe('terraform_data');
    expect(triggers(rot)).toEqual({ region: 'nl-01', name: key.physicalName, fingerprint: key.fingerprint, enabled: true, periodInDays: 90 });
    expect(rot.depends_on).toEqual([expect.stringMatching(/^terraform_data\.key_Key_/)]);
    expect(createArgv(rot).slice(2)).toEqual([
      'set-rotation', '--region=nl-01', `--name=${key.physicalName}`, '--enabled=true', '--period-days=90', `--fingerprint=${key.fingerprint}`,
      expect.stringMatching(/^--owner=\$\{terraform_data\.ThalassaByokKeyOwner_[0-9A-F]{8}\.id\}$/), `--construct=${key.constructId}`,
      `--step=rotation settings of key ${key.physicalName} in nl-01`,
    ]);
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
    const { stack, key } = oneKey({ keyType: keyType as ImportableKeyTypeName, material: KeyMaterial.fromBytes(pem) });
    expect(key.fingerprint).toBe(spkiFingerprint(publicKey));
    expect(triggers(keyResource(synthJson(stack)))).toMatchObject({ keyType, fingerprint: key.fingerprint });
  });

  test.each(['aes128-gcm96', 'chacha20-poly1305'] as const)('%s from bytes', (keyType) => {
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

  test('uses null_resource and adds a null provider; the key owner stays terraform_data unless told otherwise', () => {
    expect(key.resource).toBeInstanceOf(NullResource);
    expect(Object.keys(resources(nul, 'terraform_data')).every((id) => id.startsWith('ThalassaByokKeyOwner_'))).toBe(true);
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
    const pairs = Object.entries(resources(data, 'terraform_data')).filter(([id]) => id.startsWith('key_'))
      .map(([id, r]) => [id, r, resources(nul, 'null_resource')[id]] as const);
    expect(pairs).toHaveLength(2);
    for (const [, d, n] of pairs) {
      expect(n).toBeDefined();
      expect(decode(n.triggers as Json)).toEqual(d.triggers_replace);
      expect(JSON.stringify(n.provisioner).replace(/self\.triggers\./g, 'self.input.')).toBe(JSON.stringify(d.provisioner));
      expect(n.depends_on ?? []).toEqual(((d.depends_on ?? []) as string[]).map((x) => (x.includes('.key_') ? x.replace('terraform_data.', 'null_resource.') : x)));
    }
    const withOutput = oneKey({ lifecycleResource: 'null_resource' });
    new TerraformOutput(withOutput.stack, 'name', { value: withOutput.key.name });
    const synthesized = synthJson(withOutput.stack) as SynthOutput & { output: Record<string, { value: string }> };
    expect(synthesized.output.name.value).toBe(`\${null_resource.${withOutput.key.resource.friendlyUniqueId}.triggers.name}`);
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
  test('in one stack get distinct resources and construct ids (their entries in the wrapped-keys file)', () => {
    const s = newStack();
    const a = new ImportedKmsKey(s, 'a', baseProps({ name: 'a' }));
    const b = new ImportedKmsKey(s, 'b', baseProps({ name: 'b', wrappingKey: wrappingKey() }));
    const out = synthJson(s);
    expect(Object.keys(resources(out, 'terraform_data'))).toHaveLength(4);
    expect(a.constructId).not.toBe(b.constructId);
    // One owner and one sweep per stack; the sweep waits for every key.
    expect(sweepResource(out).depends_on).toEqual([`terraform_data.${a.resource.friendlyUniqueId}`, `terraform_data.${b.resource.friendlyUniqueId}`]);
    expect(sweepResource(out).input).toEqual({ owner: expect.stringMatching(/^\$\{terraform_data\.ThalassaByokKeyOwner_[0-9A-F]{8}\.id\}$/), keys: `${[a.constructId, b.constructId].sort().map((c) => `${c}@nl-01=schedule-deletion`).join(',')}` });
  });
});
