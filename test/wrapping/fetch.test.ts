import { ApiError } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { WrappingError, WrappingKey } from '../../src/wrapping';
import { bindToken, call, ORG, TOKEN } from '../emulator/harness';

let emulator: RunningEmulator;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  emulator = await startEmulator({ tokens: bindToken(TOKEN, ORG) });
  env = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: 'test-token', THALASSA_ORGANISATION: 'org-test' };
});
afterAll(() => emulator.close());

describe('WrappingKey.fetch', () => {
  it('fetches the region\'s key over the API and checks the pin', async () => {
    const fetched = await WrappingKey.fetch({ region: 'nl-01', env });
    const raw = await call(emulator.url, 'GET', '/v1/kms/nl-01/wrapping-key');
    expect(fetched.fingerprint).toBe(WrappingKey.fromPem(raw.json.publicKey).fingerprint);
    expect(fetched.modulusBits).toBe(4096);
    expect((await WrappingKey.fetch({ region: 'nl-01', env, pin: fetched.fingerprint })).pinned).toBe(true);
    await expect(WrappingKey.fetch({ region: 'nl-01', env, pin: `spki-sha256:${'1'.repeat(64)}` }))
      .rejects.toThrow(expect.objectContaining({ code: 'WRAPPING_KEY_PIN_MISMATCH' }));
    await expect(WrappingKey.fetch({ region: 'nl-01', env, pin: `spki-sha256:${'1'.repeat(64)}` })).rejects.toBeInstanceOf(WrappingError);
  });

  it('reports API and configuration problems as ApiErrors', async () => {
    await expect(WrappingKey.fetch({ region: 'zz-99', env })).rejects.toMatchObject({ code: 'API_NOT_FOUND' });
    await expect(WrappingKey.fetch({ region: 'nl-01', env: { THALASSA_API_ENDPOINT: emulator.url } })).rejects.toBeInstanceOf(ApiError);
  });
});
