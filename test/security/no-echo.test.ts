/**
 * Issue 11, Deliver 1 and 2: real key material fed into every input slot where it does not belong — the
 * construct, KeyMaterial, WrappingKey and the CLI's options — must be refused with an error that names the
 * slot and contains no 12-character run of the material in any encoding; and `import --wrapped-file` pointed
 * at the key itself must be refused before anything is POSTed.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_COMMANDS } from '../../src/cli/all-commands';
import { runCli } from '../../src/cli/run';
import type { ImportedKmsKeyProps } from '../../src/constructs';
import { describeHidden, isShowable, shownPath, shownVariable } from '../../src/disclosure';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { wrap, WrappingKey } from '../../src/wrapping';
import { baseProps, buildKey, newStack, wrappingKeyPair } from '../constructs/fixtures';
import { errorRenderings, expectNoLeak, thrownBy } from '../support/no-leak';
import { makeTempDir, removeDir } from '../support/openssl';

const aes = randomBytes(32);
const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
/** The material in the encodings a user could paste: hex, base64, PEM, raw bytes (as a latin1 string). */
const MATERIALS: Record<string, string> = {
  hex: aes.toString('hex'),
  base64: aes.toString('base64'),
  pem: ecPem,
  raw: aes.toString('latin1'),
};

/** Every 12-character run of the material's hex, base64 and PEM body; none may appear in `text`. */
function expectNoRun(text: string, material: string): void {
  const bytes = material.includes('-----BEGIN') ? Buffer.from(material.replace(/-----[^-]+-----|\s/g, ''), 'base64') : Buffer.from(material, 'latin1');
  const encodings = [bytes.toString('hex'), bytes.toString('base64'), material.replace(/-----[^-]+-----|\s/g, '')];
  for (const encoded of encodings) {
    for (let i = 0; i + 12 <= encoded.length; i++) {
      if (text.toLowerCase().includes(encoded.slice(i, i + 12).toLowerCase())) throw new Error(`text contains a 12-character run at ${i} of an encoding of the material`);
    }
  }
  expectNoLeak(text, bytes, material);
}

describe('disclosure: what a message may show', () => {
  it.each(['nl-01', 'ecdsa-P256', 'sha257', 'wrapped-filee', 'MY_KEY_VARIABLE'])('shows the plain setting %s', (value) => {
    expect(isShowable(value)).toBe(true);
  });

  it.each(Object.keys(MATERIALS))('hides %s material, describing only kind and length', (kind) => {
    const value = MATERIALS[kind];
    expect(isShowable(value)).toBe(false);
    expect(describeHidden(value)).toMatch(new RegExp(`^a value of ${value.length} characters \\(`));
    expectNoRun(shownPath(value) + shownVariable(value), value);
  });

  it('shows a path that names an existing file, and a variable name that looks like one', () => {
    expect(shownPath(__filename)).toBe(__filename);
    expect(shownVariable('KEY_HEX')).toBe('KEY_HEX');
    expect(shownVariable(MATERIALS.hex)).toMatch(/not a variable name/);
  });

  // A random base64url PIN passed where its variable's name belongs: letters and "_" only, so it fits the
  // shape of a name; it must still be hidden (a CI run once printed one that had no digit and no "-").
  it.each(['tZqvRbKwhXe_mJdLpAoYsNcU', 'abcdefghijklMNOPQRSTUVWX', 'Sx7kQ2mZ9pLw'])('hides the PIN-like %s passed as a variable name', (value) => {
    expect(shownVariable(value)).toBe(`${describeHidden(value)} that is not a variable name (is it the value itself?)`);
  });

  it.each(['THALASSA_PIN', 'pin', 'MyPin', 'THALASSA_API_TOKEN_2', 'softhsm_user_pin'])('shows the variable name %s', (value) => {
    expect(shownVariable(value)).toBe(value);
  });
});

describe.each(Object.keys(MATERIALS))('%s material in the wrong slot of the library', (kind) => {
  const material = MATERIALS[kind];

  it.each([
    ['KeyMaterial.fromFile', /file a value of \d+ characters/, () => KeyMaterial.fromFile(material).load('aes256-gcm96')],
    ['KeyMaterial.fromEnv', /Environment variable a value of \d+ characters/, () => KeyMaterial.fromEnv(material).load('aes256-gcm96')],
    ['KeyMaterial passphraseEnv', /passphrase .*environment variable a value of \d+ characters/, () => KeyMaterial.fromBytes(Buffer.from(ecPem.replace('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY')), { passphraseEnv: material }).load('ecdsa-p256')],
    ['KeyMaterial format', /material format a value of \d+ characters/, () => KeyMaterial.fromBytes(aes, { format: material as never }).load('aes256-gcm96')],
    ['load(keyType)', /Unknown key type a value of \d+ characters/, () => KeyMaterial.fromBytes(aes).load(material as never)],
    ['WrappingKey.fromPemFile', /wrapping key file a value of \d+ characters/, () => WrappingKey.fromPemFile(material)],
    ['WrappingKey pin', /pin/, () => WrappingKey.fromPem(wrappingKeyPair().publicPem, { pin: material })],
  ] as const)('%s: names the slot, echoes nothing', async (_slot, names, fn) => {
    const error = await thrownBy(fn);
    expect((error as Error).message).toMatch(names);
    expectNoRun(errorRenderings(error), material);
  });

  // description and annotation values are free text, and a hex string is a valid name: accepted as given.
  it.each(['material', 'wrappingKey', 'region', 'keyType', 'labels', 'hashFunction', ...(kind === 'hex' ? [] : ['name'] as const)] as const)(
    'ImportedKmsKey prop %s: names the prop, echoes nothing',
    async (prop) => {
      const value = prop === 'labels' ? { team: material } : material;
      const error = await thrownBy(() => buildKey(newStack(), 'key', baseProps({ [prop]: value } as Partial<ImportedKmsKeyProps>)));
      expect((error as Error).message).toContain(prop);
      expectNoRun(errorRenderings(error), material);
    },
  );
});

describe('the CLI', () => {
  let dir: string;
  let emulator: RunningEmulator;
  let env: NodeJS.ProcessEnv;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    dir = makeTempDir('byok-no-echo-');
    emulator = await startEmulator({ tokens: [{ token: 'no-echo-token-1', organisation: 'org-no-echo' }] });
    env = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: 'no-echo-token-1', THALASSA_ORGANISATION: 'org-no-echo', CHECKPOINT_DISABLE: '1' };
    for (const [kind, material] of Object.entries(MATERIALS)) {
      files[kind] = join(dir, `${kind}.key`);
      writeFileSync(files[kind], Buffer.from(material, 'latin1'), { mode: 0o600 });
    }
    files.der = join(dir, 'der.key');
    writeFileSync(files.der, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }), { mode: 0o600 });
  });
  afterAll(async () => {
    await emulator?.close();
    if (dir) removeDir(dir);
  });

  async function cli(argv: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const io = { stdout: (t: string) => { out += t; }, stderr: (t: string) => { out += t; }, env };
    const code = await runCli(argv, io, ALL_COMMANDS);
    return { code, out };
  }

  const fp = `hmac-sha256:${'0'.repeat(64)}`;
  const importArgs = ['import', '--region', 'nl-01', '--name', 'k', '--key-type', 'aes256-gcm96', '--fingerprint', fp];
  // Each slot, with the material (M) where a value belongs.
  const slots: Record<string, (m: string) => string[]> = {
    '--material': (m) => ['fingerprint', '--key-type', 'aes256-gcm96', '--material', m],
    '--material-env': (m) => ['fingerprint', '--key-type', 'aes256-gcm96', '--material-env', m],
    '--format': (m) => ['fingerprint', '--key-type', 'aes256-gcm96', '--material', __filename, '--format', m],
    '--key-type': (m) => ['fingerprint', '--key-type', m, '--material', __filename],
    '--passphrase-env': (m) => ['fingerprint', '--key-type', 'ecdsa-p256', '--material', files.pem, '--format', 'pkcs8-pem', '--passphrase-env', m],
    '--wrapped-file': (m) => [...importArgs, '--wrapped-file', m],
    '--wrapped-env': (m) => [...importArgs, '--wrapped-env', m],
    '--hash': (m) => [...importArgs, '--wrapped-file', files.hex, '--hash', m],
    '--region': (m) => ['list', '--region', m],
    '--pin': (m) => ['wrap', '--key-type', 'aes256-gcm96', '--material', files.hex, '--wrapping-key', __filename, '--pin', m],
    'an unknown option name': (m) => ['list', '--region', 'nl-01', `--${m}`],
    'a command name': (m) => [m],
  };

  for (const kind of ['hex', 'base64', 'pem']) {
    it.each(Object.keys(slots))(`${kind} material as %s: refused, echoes nothing`, async (slot) => {
      const material = MATERIALS[kind];
      const { code, out } = await cli(slots[slot](material));
      expect(code).not.toBe(0);
      expect(out.length).toBeGreaterThan(0);
      expectNoRun(out, material);
    });
  }

  it.each(['hex', 'raw', 'pem', 'der', 'base64'])('import --wrapped-file pointing at %s key material: refused, nothing POSTed, nothing echoed', async (kind) => {
    const before = emulator.requestLog.length;
    const { code, out } = await cli([...importArgs, '--wrapped-file', files[kind]]);
    expect(code).toBe(1);
    expect(out).toMatch(/BLOB_NOT_WRAPPED|not a wrapped blob|nothing was sent/i);
    expect(emulator.requestLog.slice(before).filter((entry) => entry.method !== 'GET')).toEqual([]);
    expectNoRun(out, kind === 'der' ? ecPem : MATERIALS[kind]);
  });

  // Issue 11, Deliver 3 (import's side): a blob file another local user could have planted is not read.
  it.each([
    ['mode 0644', /must be a regular file owned by you with mode 0600; .*mode 0644/, (blob: string) => { const f = join(dir, 'open.wrapped'); writeFileSync(f, blob, { mode: 0o644 }); chmodSync(f, 0o644); return f; }],
    ['a symlink', /ELOOP/, (blob: string) => { const f = join(dir, 'target.wrapped'); writeFileSync(f, blob, { mode: 0o600 }); symlinkSync(f, join(dir, 'link.wrapped')); return join(dir, 'link.wrapped'); }],
    ['in a world-writable folder', /folder can be written by another user \(mode 777/, (blob: string) => { const d = join(dir, 'shared'); mkdirSync(d); chmodSync(d, 0o777); const f = join(d, 'b.wrapped'); writeFileSync(f, blob, { mode: 0o600 }); return f; }],
  ] as const)('import refuses a blob file %s, reads and sends nothing', async (_case, message, make) => {
    const live = WrappingKey.fromPem(wrappingKeyPair().publicPem);
    const loaded = KeyMaterial.fromBytes(aes, { format: 'raw' }).load('aes256-gcm96');
    const blob = Buffer.from(wrap(loaded, live)).toString('base64');
    const before = emulator.requestLog.length;
    const { code, out } = await cli([...importArgs, '--wrapped-file', make(blob)]);
    expect(code).toBe(2);
    expect(out).toMatch(message);
    expect(emulator.requestLog.length).toBe(before);
    expectNoLeak(out, Buffer.from(blob, 'base64'), aes);
  });

  it('import refuses a real blob made for another wrapping key, naming both fingerprints, and sends nothing', async () => {
    const live = WrappingKey.fromApiResponse(await (await fetch(`${emulator.url}/v1/kms/nl-01/wrapping-key`, { headers: { authorization: 'Bearer no-echo-token-1', 'x-organisation-identity': 'org-no-echo' } })).text());
    const other = WrappingKey.fromPem(wrappingKeyPair().publicPem);
    const loaded = KeyMaterial.fromBytes(aes, { format: 'raw' }).load('aes256-gcm96');
    const blobFile = join(dir, 'blob.b64');
    writeFileSync(blobFile, Buffer.from(wrap(loaded, live)).toString('base64'), { mode: 0o600 });
    const before = emulator.requestLog.length;
    const { code, out } = await cli([...importArgs.slice(0, -1), loaded.fingerprint, '--wrapped-file', blobFile, '--wrapping-key-fingerprint', other.fingerprint]);
    expect(code).toBe(1);
    expect(out).toContain(other.fingerprint);
    expect(out).toContain(live.fingerprint);
    expect(emulator.requestLog.slice(before).filter((entry) => entry.method !== 'GET')).toEqual([]);
  });
});
