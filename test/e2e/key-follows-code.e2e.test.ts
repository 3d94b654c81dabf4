/**
 * Issue #10's acceptance, end to end with the real cdktf-cli, Terraform and the emulator: removal, create-
 * before-destroy replacement, failed imports, lost answers, look-alike keys, two states, and a consumer that
 * depends on a key. Each describe is one project whose steps run in order (read the first failure).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsClient, type KmsKey } from '../../src/api';
import { startEmulator, type FaultSpec, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { wrap, WrappingKey } from '../../src/wrapping';
import { CONSTRUCT_LABEL, FINGERPRINT_ANNOTATION, OWNER_LABEL, type StackManifest } from '../../src/protocol';
import { proveKeyHoldsMaterial, type KnownMaterial } from '../../examples/key-proof';
import { expectNoLeak } from '../support/no-leak';
import { E2eProject, generateMaterial, ORGANISATION, producedTexts, REGION, REPO, type AppConfig, type AppKey, type GeneratedMaterial } from './harness';

jest.setTimeout(240_000);

const STACK = 'app';
let emulator: RunningEmulator;
let client: KmsClient;
// Filled in beforeAll; the projects, made when the describes are collected, hold this same object.
const apiEnv: Record<string, string> = {};
let wrappingKey: WrappingKey;
const projects: E2eProject[] = [];
const materials: GeneratedMaterial[] = [];

beforeAll(async () => {
  const token = randomBytes(18).toString('base64url');
  emulator = await startEmulator({ tokens: [{ token, organisation: ORGANISATION }] });
  Object.assign(apiEnv, { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: token, THALASSA_ORGANISATION: ORGANISATION });
  client = KmsClient.fromEnvironment({ env: apiEnv });
  wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey(REGION));
});

afterAll(async () => {
  await client?.close();
  await emulator?.close();
  if (process.env.BYOK_E2E_KEEP !== '1') for (const p of projects) p.remove();
});

interface DeclaredKey {
  readonly id: string;
  readonly keyType?: string;
  readonly props?: Record<string, unknown>;
}

/** One cdktf project: keys by id (each with its own material), rewritten config, and cdktf runs. */
class Scenario {
  public readonly project: E2eProject;
  readonly #material = new Map<string, GeneratedMaterial>();

  constructor(prefix: string, dir?: string) {
    this.project = new E2eProject(prefix, apiEnv, dir);
    projects.push(this.project);
  }

  public async material(id: string, keyType: string): Promise<GeneratedMaterial> {
    let m = this.#material.get(id);
    if (m === undefined) {
      const dir = join(this.project.dir, 'material', id);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      m = await generateMaterial(keyType as never, dir);
      this.#material.set(id, m);
      materials.push(m);
    }
    return m;
  }

  public async declare(keys: readonly DeclaredKey[], extra: Partial<AppConfig> = {}): Promise<void> {
    const wrappingKeyFile = join(this.project.dir, 'wrapping-key.pem');
    writeFileSync(wrappingKeyFile, wrappingKey.pem);
    const appKeys: AppKey[] = [];
    for (const k of keys) {
      const keyType = k.keyType ?? 'aes256-gcm96';
      appKeys.push({ id: k.id, name: `e2e-${k.id}`, keyType, file: (await this.material(k.id, keyType)).file, props: k.props });
    }
    this.project.writeConfig({
      cdktf: join(REPO, 'node_modules', 'cdktf'), library: join(REPO, 'dist'), stack: STACK, wrappingKeyFile, pin: wrappingKey.fingerprint, keys: appKeys, ...extra,
    });
  }

  public async deploy(): Promise<{ code: number; output: string }> {
    return this.project.cdktf(STACK, 'deploy', '--auto-approve');
  }

  /** A deploy while the emulator injects `faults`; they are switched off again whatever happens. */
  public async deployUnder(faults: FaultSpec): Promise<{ code: number; output: string }> {
    emulator.setFaults(faults);
    try {
      return await this.deploy();
    } finally {
      emulator.setFaults(undefined);
    }
  }

  public async deployOk(): Promise<string> {
    const result = await this.deploy();
    if (result.code !== 0) throw new Error(`cdktf deploy exited ${result.code}:\n${result.output.slice(-5000)}`);
    return result.output;
  }

  public manifest(): StackManifest {
    return JSON.parse(readFileSync(join(this.project.stackDir(STACK), 'byok', 'keys.json'), 'utf8')) as StackManifest;
  }
}

/** The keys of the region carrying the construct label of `id` in the scenario's manifest (or by name prefix). */
async function keysOf(id: string): Promise<KmsKey[]> {
  return (await client.listKeys(REGION)).filter((k) => new RegExp(`^e2e-${id}-[0-9a-f]{8}$`).test(k.name) || k.name === `e2e-${id}-pinned`);
}

async function statusesOf(id: string): Promise<string[]> {
  return (await keysOf(id)).map((k) => k.status).sort();
}

describe('removal, retain, create-before-destroy order, a consumer, destroy', () => {
  const s = new Scenario('byok-e2e-removal-');
  const all: DeclaredKey[] = [{ id: 'ra' }, { id: 'rb', props: { removalPolicy: 'retain' } }, { id: 'rc' }, { id: 'rd' }];

  test('deploy four keys and a consumer of one: the consumer runs after the import', async () => {
    await s.declare(all, { consumers: [{ id: 'consumer', keyId: 'rd' }] });
    const output = await s.deployOk();
    // The consumer's `thalassa-byok describe --name <key.name>` found the key, so it ran after the import.
    expect(output).toMatch(/consumer \(consumer\) \(local-exec\): identity\s+kms-/);
    for (const id of ['ra', 'rb', 'rc', 'rd']) expect(await statusesOf(id)).toEqual(['active']);
  });

  test('removing a key (schedule-deletion) schedules its deletion; the others are untouched', async () => {
    await s.declare(all.filter((k) => k.id !== 'rc'), { consumers: [{ id: 'consumer', keyId: 'rd' }] });
    await s.deployOk();
    expect(await statusesOf('rc')).toEqual(['pending_deletion']);
    for (const id of ['ra', 'rb', 'rd']) expect(await statusesOf(id)).toEqual(['active']);
  });

  test('removing a retained key leaves it active', async () => {
    await s.declare([all[0], all[3]], { consumers: [{ id: 'consumer', keyId: 'rd' }] });
    await s.deployOk();
    expect(await statusesOf('rb')).toEqual(['active']);
  });

  test('retain switched on in one deploy, the construct removed in the next: the key stays active', async () => {
    await s.declare([{ id: 'ra', props: { removalPolicy: 'retain' } }, all[3]], { consumers: [{ id: 'consumer', keyId: 'rd' }] });
    await s.deployOk();
    await s.declare([all[3]], { consumers: [{ id: 'consumer', keyId: 'rd' }] });
    await s.deployOk();
    expect(await statusesOf('ra')).toEqual(['active']);
  });

  test('a replacement imports the new key before it schedules deletion of the old one (the emulator\'s request log)', async () => {
    const [old] = await keysOf('rd');
    const from = emulator.requestLog.length;
    await s.declare([{ id: 'rd', props: { description: 'replaced' } }], { consumers: [{ id: 'consumer', keyId: 'rd' }] });
    await s.deployOk();
    const keys = await keysOf('rd');
    const fresh = keys.find((k) => k.identity !== old.identity)!;
    expect(keys.map((k) => [k.identity, k.status]).sort()).toEqual([[old.identity, 'pending_deletion'], [fresh.identity, 'active']].sort());
    const writes = emulator.requestLog.slice(from).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path} ${r.status}`);
    const created = writes.indexOf(`POST /v1/kms/${REGION}/keys 201`);
    const deleted = writes.indexOf(`DELETE /v1/kms/${REGION}/keys/${old.identity} 200`) >= 0
      ? writes.indexOf(`DELETE /v1/kms/${REGION}/keys/${old.identity} 200`) : writes.indexOf(`DELETE /v1/kms/${REGION}/keys/${old.identity} 204`);
    expect(created).toBeGreaterThanOrEqual(0);
    expect(deleted).toBeGreaterThan(created);
  });

  test('cdktf destroy schedules deletion of the declared key and leaves the retained, removed ones active', async () => {
    const result = await s.project.cdktf(STACK, 'destroy', '--auto-approve');
    if (result.code !== 0) throw new Error(result.output.slice(-4000));
    expect((await keysOf('rd')).map((k) => k.status)).toEqual(['pending_deletion', 'pending_deletion']);
    expect(await statusesOf('ra')).toEqual(['active']);
    expect(await statusesOf('rb')).toEqual(['active']);
  });
});

describe('a failed replacement leaves the old key active and usable', () => {
  const s = new Scenario('byok-e2e-failed-');

  test('a fixed physicalName: changing the description fails the apply, and the old key still decrypts; reverting converges', async () => {
    const pinned = { physicalName: 'e2e-fp-pinned' };
    await s.declare([{ id: 'fp', props: pinned }]);
    await s.deployOk();
    const [old] = await keysOf('fp');
    await s.declare([{ id: 'fp', props: { ...pinned, description: 'changed' } }]);
    const failed = await s.deploy();
    expect(failed.code).not.toBe(0);
    expect(failed.output).toMatch(/Refusing to adopt key e2e-fp-pinned \(kms-[^)]+\).*other settings.*the key this construct used before \(if any\) is untouched and stays active/s);
    const now = await client.getKey(REGION, old.identity);
    expect(now.status).toBe('active');
    await proveKeyHoldsMaterial(client, REGION, now, (await s.material('fp', 'aes256-gcm96')).known);
    await s.declare([{ id: 'fp', props: pinned }]);
    await s.deployOk();
    expect((await keysOf('fp')).map((k) => [k.identity, k.status])).toEqual([[old.identity, 'active']]);
  });

  test('a new import the API refuses: the old key stays active; the next deploy converges on one active key', async () => {
    await s.declare([{ id: 'fr' }]);
    await s.deployOk();
    const [old] = await keysOf('fr');
    await s.declare([{ id: 'fr', props: { description: 'changed' } }]);
    const failed = await s.deployUnder({ rules: [{ kind: '500', method: 'POST', path: `/v1/kms/${REGION}/keys` }] });
    expect(failed.code).not.toBe(0);
    expect((await client.getKey(REGION, old.identity)).status).toBe('active');
    await proveKeyHoldsMaterial(client, REGION, old, (await s.material('fr', 'aes256-gcm96')).known);
    await s.deployOk();
    const keys = await keysOf('fr');
    expect(keys.filter((k) => k.status === 'active')).toHaveLength(1);
    expect(keys.find((k) => k.identity === old.identity)?.status).toBe('pending_deletion');
  });
});

describe('a lost answer leaves no orphan', () => {
  /**
   * A first deploy of key `id` whose create commits but loses its answer, with the lookups after it failing
   * too: the import fails, the resource is tainted, and the committed key is active and untracked.
   */
  const failWithCommittedKey = async (s: Scenario, id: string): Promise<void> => {
    await s.declare([{ id }]);
    const failed = await s.deployUnder({
      rules: [
        { kind: 'drop-after-commit', method: 'POST', path: `/v1/kms/${REGION}/keys`, count: 1 },
        // The import's first lookup (is the name taken?) goes through; the ones after the lost create fail.
        { kind: '503', method: 'GET', path: `/v1/kms/${REGION}/keys`, skip: 1 },
      ],
    });
    expect(failed.code).not.toBe(0);
    expect(await statusesOf(id)).toEqual(['active']);
  };

  test('a committed, untracked key is swept when the next deploy replaces the key', async () => {
    const s = new Scenario('byok-e2e-orphan-');
    await failWithCommittedKey(s, 'lo');
    await s.declare([{ id: 'lo', props: { description: 'changed' } }]);
    await s.deployOk();
    expect(await statusesOf('lo')).toEqual(['active', 'pending_deletion']);
  });

  test('cdktf destroy after a failed import leaves no active key of the stack', async () => {
    const s = new Scenario('byok-e2e-orphan-destroy-');
    await failWithCommittedKey(s, 'ld');
    const result = await s.project.cdktf(STACK, 'destroy', '--auto-approve');
    if (result.code !== 0) throw new Error(result.output.slice(-4000));
    expect(await statusesOf('ld')).toEqual(['pending_deletion']);
  });
});

describe('a look-alike key planted before the first deploy is neither adopted nor deleted', () => {
  // An explicit owner id is in the code, so an attacker who reads the code can copy it, the construct label
  // and the fingerprint from the plan: only the proof of the material stands in the way.
  test.each([
    ['aes256-gcm96', /does not carry this material's commitment/],
    ['ecdsa-p256', /its public key has fingerprint spki-sha256:[0-9a-f]{64}, not the recorded spki-sha256:/],
  ])('%s', async (keyType, why) => {
    const s = new Scenario(`byok-e2e-lookalike-${keyType}-`);
    const id = `la${keyType.slice(0, 4)}`;
    const keyOwner = { ownerId: 'payments-prod' };
    await s.declare([{ id, keyType }], { keyOwner });
    const synth = await s.project.cdktf(STACK, 'synth');
    if (synth.code !== 0) throw new Error(synth.output.slice(-4000));
    const declared = s.manifest().keys[0];
    // The attacker's own material (the fixtures would give ours).
    const attacker: KnownMaterial = keyType === 'ecdsa-p256'
      ? { kind: 'asymmetric', privateKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey }
      : { kind: 'symmetric', secret: randomBytes(32) };
    const loaded = (attacker.kind === 'symmetric'
      ? KeyMaterial.fromBytes(attacker.secret, { format: 'raw' })
      : KeyMaterial.fromBytes(attacker.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).load(keyType);
    const planted = await client.createKey(REGION, {
      name: declared.name, keyType, hashFunction: 'sha256',
      labels: { [OWNER_LABEL]: keyOwner.ownerId, [CONSTRUCT_LABEL]: declared.construct },
      annotations: { [FINGERPRINT_ANNOTATION]: declared.fingerprint },
      importKeyMaterial: wrap(loaded, wrappingKey).toString('base64'),
    });
    loaded.destroy();
    const failed = await s.deploy();
    expect(failed.code).not.toBe(0);
    expect(failed.output).toContain(`Refusing to adopt key ${declared.name} (${planted.identity})`);
    expect(failed.output).toMatch(why);
    expect((await keysOf(id)).map((k) => [k.identity, k.status])).toEqual([[planted.identity, 'active']]);
    // The look-alike still holds the attacker's material: nothing was imported into it or over it.
    await proveKeyHoldsMaterial(client, REGION, await client.getKey(REGION, planted.identity), attacker);
    const destroyed = await s.project.cdktf(STACK, 'destroy', '--auto-approve');
    if (destroyed.code !== 0) throw new Error(destroyed.output.slice(-4000));
    expect(destroyed.output).toContain(`Not touching key ${declared.name} (${planted.identity})`);
    expect((await client.getKey(REGION, planted.identity)).status).toBe('active');
  });
});

describe('two states deploying the same stack', () => {
  test('the second refuses to adopt the first one\'s key; destroying the second never touches it', async () => {
    const first = new Scenario('byok-e2e-state-a-');
    await first.declare([{ id: 'ts' }]);
    await first.deployOk();
    const [key] = await keysOf('ts');
    // Same code, same material, another folder (so another state file).
    const second = new Scenario('byok-e2e-state-b-');
    const config = JSON.parse(readFileSync(join(first.project.dir, 'config.json'), 'utf8')) as AppConfig;
    second.project.writeConfig(config);
    const refused = await second.deploy();
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/it belongs to another Terraform state \(owner id [0-9a-f-]{36}, this state's is [0-9a-f-]{36}\)/);
    const destroyed = await second.project.cdktf(STACK, 'destroy', '--auto-approve');
    if (destroyed.code !== 0) throw new Error(destroyed.output.slice(-4000));
    expect((await keysOf('ts')).map((k) => [k.identity, k.status])).toEqual([[key.identity, 'active']]);
    await first.project.cdktf(STACK, 'destroy', '--auto-approve');
    expect((await client.getKey(REGION, key.identity)).status).toBe('pending_deletion');
  });
});

describe('an explicit KeyOwner', () => {
  test('keeps the sweep when the stack loses its last key', async () => {
    const s = new Scenario('byok-e2e-last-key-');
    await s.declare([{ id: 'lk' }], { keyOwner: {} });
    await s.deployOk();
    await s.declare([], { keyOwner: {} });
    await s.deployOk();
    expect(await statusesOf('lk')).toEqual(['pending_deletion']);
  });

  test('takes over the keys of a lost state with the owner id they carry', async () => {
    const first = new Scenario('byok-e2e-lost-state-');
    await first.declare([{ id: 'tk' }]);
    await first.deployOk();
    const [key] = await keysOf('tk');
    const ownerId = key.labels?.[OWNER_LABEL] as string;
    expect(ownerId).toMatch(/^[0-9a-f-]{36}$/);
    // The state is lost: a fresh folder with the same code, now declaring the owner id.
    const second = new Scenario('byok-e2e-lost-state-again-');
    const config = JSON.parse(readFileSync(join(first.project.dir, 'config.json'), 'utf8')) as AppConfig;
    second.project.writeConfig({ ...config, keyOwner: { ownerId } });
    const output = await second.deployOk();
    expect(output).toMatch(/Adopted existing key/);
    expect((await keysOf('tk')).map((k) => [k.identity, k.status])).toEqual([[key.identity, 'active']]);
    const result = await second.project.cdktf(STACK, 'destroy', '--auto-approve');
    if (result.code !== 0) throw new Error(result.output.slice(-4000));
    expect((await client.getKey(REGION, key.identity)).status).toBe('pending_deletion');
  });
});

test('nothing any of these projects produced holds material, a blob or a commitment', () => {
  const secrets = materials.flatMap((m) => m.secrets);
  for (const project of projects) {
    const texts = producedTexts(project, STACK);
    const blobs = [...project.blobs.values()].map((b) => b.subarray(0, 64));
    for (const { label, text } of texts) {
      try {
        expectNoLeak(text, ...secrets);
        if (/tfstate|cdk\.tf\.json$|cdktf output/.test(label)) expectNoLeak(text, ...blobs);
      } catch (err) {
        throw new Error(`${label}: ${(err as Error).message}`);
      }
      if (!label.endsWith('byok/keys.wrapped')) for (const c of project.commitments) expect(text.includes(c.split(':')[1])).toBe(false);
    }
  }
});
