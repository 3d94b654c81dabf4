/** 200 concurrent imports on loopback: 200 distinct keys, no error, one consistent state file. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { WrappingKey, wrap } from '../../src/wrapping';
import { bindToken, call, keysPath, ORG, REGION, tempDir, TOKEN } from './harness';

let emulator: RunningEmulator;
let dir: { path: string; cleanup: () => void };

beforeAll(async () => {
  dir = tempDir();
  emulator = await startEmulator({ tokens: bindToken(TOKEN, ORG), dataDir: join(dir.path, 'data') });
});

afterAll(async () => {
  await emulator?.close();
  dir?.cleanup();
});

it('imports 200 keys concurrently with 200 distinct results and no error', async () => {
  const wrappingKey = WrappingKey.fromApiResponse((await call(emulator.url, 'GET', `/v1/kms/${REGION}/wrapping-key`)).json);
  const bodies = Array.from({ length: 200 }, (_, i) => JSON.stringify({
    name: `concurrent-${i}`, keyType: 'aes256-gcm96', importKeyMaterial: wrap(randomBytes(32), wrappingKey).toString('base64'),
  }));
  // One connection per request, so all 200 really are in flight together.
  const agent = new Agent({ connections: 200, pipelining: 0 });
  try {
    const results = await Promise.all(bodies.map(async (body) => {
      const res = await fetch(`${emulator.url}${keysPath()}`, {
        method: 'POST', body,
        headers: { authorization: `Token ${TOKEN}`, 'x-organisation-identity': ORG, 'content-type': 'application/json' },
        // @ts-expect-error -- Node's fetch takes undici's dispatcher option, which its DOM-typed RequestInit lacks
        dispatcher: agent,
      });
      return { status: res.status, json: (await res.json()) as { identity: string; name: string } };
    }));
    expect(results.filter((r) => r.status !== 201)).toEqual([]);
    expect(new Set(results.map((r) => r.json.identity)).size).toBe(200);
    expect(new Set(results.map((r) => r.json.name)).size).toBe(200);
  } finally {
    await agent.close();
  }
  const listed = (await call(emulator.url, 'GET', keysPath())).json;
  expect(listed).toHaveLength(200);
  const state = JSON.parse(readFileSync(emulator.stateFile!, 'utf8'));
  expect(state.keys).toHaveLength(200);
});
