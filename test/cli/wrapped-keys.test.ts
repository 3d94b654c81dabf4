/**
 * The stack's wrapped-keys file (`byok/keys.wrapped`): its format, and `import --wrapped-file` reading one
 * key's entry from it against the emulator over real HTTP, as the provisioners run it. A wrong or missing
 * entry is refused before any request, naming the file and never its content.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { COMMITMENT_ANNOTATION, CONSTRUCT_LABEL } from '../../src/protocol';
import { WrappingKey, wrap } from '../../src/wrapping';
import { encodeWrappedKeys, isWrappedKeysFile, parseWrappedKeys, wrappedKeyEntry, type WrappedKeyEntry } from '../../src/wrapped-keys';
import { APPLY_STEP, runCli } from '../support/cli';
import { expectNoLeak } from '../support/no-leak';
import { useTempDir } from '../support/openssl';

const construct = (n: number): string => n.toString(16).padStart(32, '0');
const COMMITMENT = `hmac-sha256:${'cd'.repeat(32)}`;

describe('the format', () => {
  const entries: WrappedKeyEntry[] = [
    { construct: construct(1), blob: randomBytes(528), commitment: COMMITMENT },
    { construct: construct(2), blob: randomBytes(520) },
    { construct: construct(3), blob: randomBytes(1000), commitment: `cmac-aes:${'ab'.repeat(16)}` },
  ];
  const file = Buffer.from(encodeWrappedKeys(entries), 'latin1');

  test('round-trips, found by construct id without parsing the rest (first, middle, last)', () => {
    expect(isWrappedKeysFile(file)).toBe(true);
    expect([...parseWrappedKeys(file).values()]).toEqual(entries);
    for (const entry of entries) expect(wrappedKeyEntry(file, entry.construct)).toEqual(entry);
    expect(wrappedKeyEntry(file, construct(4))).toBeUndefined();
    // A construct id is looked up as a whole field, never as a prefix or a substring of a blob.
    expect(wrappedKeyEntry(file, construct(1).slice(1))).toBeUndefined();
    expect(parseWrappedKeys(Buffer.from(encodeWrappedKeys([]), 'latin1')).size).toBe(0);
  });

  test('a single blob (binary or base64) is not taken for a wrapped-keys file', () => {
    const blob = randomBytes(528);
    expect(isWrappedKeysFile(blob)).toBe(false);
    expect(isWrappedKeysFile(Buffer.from(blob.toString('base64')))).toBe(false);
  });

  test.each([
    ['a truncated last line', (t: string) => t.slice(0, -10)],
    ['a repeated construct id', (t: string) => t + t.split('\n')[1] + '\n'],
    ['a blob that is not base64', (t: string) => t.replace(/^([0-9a-f]{32}) [A-Za-z0-9+/]{4}/m, '$1 !!!!')],
    ['a bad commitment', (t: string) => t.replace(COMMITMENT, 'hmac-sha256:zz')],
  ])('refuses %s, without showing content', (_, damage) => {
    const damaged = Buffer.from(damage(file.toString('latin1')), 'latin1');
    let message = '';
    try {
      parseWrappedKeys(damaged);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/line \d+|last line/);
    for (const entry of entries) expectNoLeak(message, Buffer.from(entry.blob));
    expect(message).not.toContain('cd'.repeat(8));
  });
});

describe('import --wrapped-file byok/keys.wrapped', () => {
  const ORG = 'org-packed';
  const TOKEN = 'tok-packed-secret-0815';
  let emulator: RunningEmulator;
  let env: NodeJS.ProcessEnv;
  let client: KmsClient;
  const dir = useTempDir();
  const material = randomBytes(32);
  let fingerprint: string;
  let commitment: string;
  let blob: Buffer;
  let file: string;

  beforeAll(async () => {
    emulator = await startEmulator({ tokens: [{ token: TOKEN, organisation: ORG }], regions: ['nl-01'] });
    env = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: ORG };
    client = KmsClient.fromEnvironment({ env });
    const loaded = KeyMaterial.fromBytes(material, { format: 'raw' }).load('aes256-gcm96');
    fingerprint = loaded.fingerprint;
    commitment = loaded.commitment() as string;
    blob = wrap(loaded, WrappingKey.fromApiResponse(await client.wrappingKey('nl-01')));
  });

  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  beforeEach(() => {
    const byok = join(dir(), 'byok');
    mkdirSync(byok, { recursive: true, mode: 0o700 });
    chmodSync(dir(), 0o700);
    file = join(byok, 'keys.wrapped');
    // The key's entry between two others, as in a stack of several keys.
    writeFileSync(file, encodeWrappedKeys([
      { construct: construct(10), blob: randomBytes(528), commitment: COMMITMENT },
      { construct: construct(11), blob, commitment },
      { construct: construct(12), blob: randomBytes(528) },
    ]), { mode: 0o600 });
  });

  const args = (name: string, extra: string[]): string[] => [
    'import', '--region=nl-01', `--name=${name}`, '--key-type=aes256-gcm96', `--wrapped-file=${file}`, `--fingerprint=${fingerprint}`, '--owner=owner-packed', ...extra,
  ];

  test('imports the entry of --construct, recording its commitment; a retry adopts the key by it', async () => {
    const first = await runCli(args('packed-a', [`--construct=${construct(11)}`]), env, 60_000, APPLY_STEP);
    expect([first.code, first.stderr]).toEqual([0, expect.stringContaining('Importing aes256-gcm96 key "packed-a"')]);
    const [key] = (await client.listKeys('nl-01')).filter((k) => k.name === 'packed-a');
    expect(key.annotations?.[COMMITMENT_ANNOTATION]).toBe(commitment);
    expect(key.labels?.[CONSTRUCT_LABEL]).toBe(construct(11));
    const again = await runCli([...args('packed-a', [`--construct=${construct(11)}`]), '--json'], env, 60_000, APPLY_STEP);
    expect([again.code, (JSON.parse(again.stdout) as { action: string }).action]).toEqual([0, 'adopted']);
    for (const out of [first.stdout + first.stderr, again.stdout + again.stderr]) expectNoLeak(out, blob);
    // What the provisioner prints (not --json, which shows the key's annotations) holds no commitment.
    expect(first.stdout + first.stderr).not.toContain(commitment.split(':')[1]);
  });

  test.each([
    ['no --construct', [], /is a stack's wrapped-keys file: give --construct ID/],
    // 32 hex digits could be a key pasted in the wrong place: described, not shown.
    ['a construct without an entry', [`--construct=${construct(13)}`], /has no entry for construct a value of 32 characters \(hex digits, not shown\)\. Synth again/],
    ['--commitment-file as well', [`--construct=${construct(11)}`, '--commitment-file=/dev/null'], /--commitment-file is for a single blob's file.*Drop --commitment-file/],
  ])('refuses %s: exit 2, no request, nothing echoed', async (_, extra, message) => {
    const before = emulator.requestLog.length;
    const result = await runCli(args('packed-refused', extra), env, 60_000, APPLY_STEP);
    expect([result.code, result.stderr]).toEqual([2, expect.stringMatching(message)]);
    expect(emulator.requestLog.length).toBe(before);
    expectNoLeak(result.stdout + result.stderr, blob);
  });

  test('a damaged entry: exit 2, names the file and the fix, not its content', async () => {
    const text = encodeWrappedKeys([{ construct: construct(11), blob, commitment }]);
    writeFileSync(file, text.replace(commitment, 'hmac-sha256:00'), { mode: 0o600 });
    const before = emulator.requestLog.length;
    const result = await runCli(args('packed-damaged', [`--construct=${construct(11)}`]), env, 60_000, APPLY_STEP);
    expect([result.code, result.stderr]).toEqual([2, expect.stringMatching(/keys\.wrapped: the entry \(\d+ characters\) is not .*Synth again/)]);
    expect(emulator.requestLog.length).toBe(before);
    expectNoLeak(result.stdout + result.stderr, blob);
  });
});
