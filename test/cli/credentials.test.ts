/**
 * Credential precedence over real HTTP, as Thalassa's Terraform provider has it: with a personal token, an
 * access token and client credentials all set, the emulator sees the client-credentials token. The emulator
 * accepts only tokens issued by its /oidc/token here, so a request with either static token fails with 401.
 */
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { runCli } from '../support/cli';

const PAT = 'pat-never-accepted-1111';
const ACCESS = 'access-never-accepted-2222';
const CLIENT = { id: 'prec-client', secret: 'prec-secret-3333' };

let emulator: RunningEmulator;

beforeAll(async () => {
  // `tokens` names one static token nobody sends: PAT and ACCESS are refused, issued tokens are accepted.
  emulator = await startEmulator({ tokens: [{ token: 'only-this-static-token', organisation: 'org-prec' }], clients: [CLIENT] });
});

afterAll(async () => {
  await emulator.close();
});

function env(extra: Record<string, string>): Record<string, string> {
  return { THALASSA_API_ENDPOINT: emulator.url, THALASSA_ORGANISATION: 'org-prec', ...extra };
}

const ALL = { THALASSA_API_TOKEN: PAT, THALASSA_ACCESS_TOKEN: ACCESS, THALASSA_CLIENT_ID: CLIENT.id, THALASSA_CLIENT_SECRET: CLIENT.secret };

it('with all three set, the emulator sees the client-credentials token, and the CLI says once which it uses', async () => {
  const before = emulator.requestLog.length;
  const result = await runCli(['list', '--region', 'nl-01', '--json'], env(ALL));
  expect(result.code).toBe(0);
  expect(result.stderr).toBe('thalassa-byok: several credentials are set; using THALASSA_CLIENT_ID/THALASSA_CLIENT_SECRET (OIDC client credentials), ignoring THALASSA_ACCESS_TOKEN, THALASSA_API_TOKEN.\n');
  const log = emulator.requestLog.slice(before);
  expect(log.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual(['POST /oidc/token 200', 'GET /v1/kms/nl-01/keys 200']);
}, 30_000);

it('names the credential used and those ignored on stderr, once, never a value', async () => {
  // describe of a missing key: the command fails after the API call, so the notice must precede the error.
  const result = await runCli(['describe', '--region', 'nl-01', '--name', 'nope'], env(ALL));
  expect(result.code).toBe(1);
  const notices = result.stderr.split('\n').filter((l) => l.includes('several credentials are set'));
  expect(notices).toEqual(['thalassa-byok: several credentials are set; using THALASSA_CLIENT_ID/THALASSA_CLIENT_SECRET (OIDC client credentials), ignoring THALASSA_ACCESS_TOKEN, THALASSA_API_TOKEN.']);
  for (const secret of [PAT, ACCESS, CLIENT.secret]) expect(result.stderr + result.stdout).not.toContain(secret);
}, 30_000);

it('says nothing when only one credential is set', async () => {
  const result = await runCli(['list', '--region', 'nl-01'], env({ THALASSA_CLIENT_ID: CLIENT.id, THALASSA_CLIENT_SECRET: CLIENT.secret }));
  expect(result.code).toBe(0);
  expect(result.stderr).not.toContain('several credentials');
}, 30_000);

it('an access token wins over a personal token (and is refused here: the emulator saw the access token)', async () => {
  const client = KmsClient.fromEnvironment({ env: env({ THALASSA_API_TOKEN: PAT, THALASSA_ACCESS_TOKEN: ACCESS }), maxAttempts: 1 });
  try {
    await expect(client.listKeys('nl-01')).rejects.toMatchObject({ code: 'API_UNAUTHORIZED', message: expect.stringContaining('THALASSA_ACCESS_TOKEN') });
  } finally {
    await client.close();
  }
});

it('THALASSA_ALLOW_INSECURE_OIDC: an http:// token endpoint off loopback is refused before any connection without it', async () => {
  const before = emulator.requestLog.length;
  const insecure = env({ THALASSA_CLIENT_ID: CLIENT.id, THALASSA_CLIENT_SECRET: CLIENT.secret, THALASSA_OIDC_TOKEN_URL: 'http://sso.example.invalid/oidc/token' });
  const refused = await runCli(['list', '--region', 'nl-01'], insecure);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/THALASSA_OIDC_TOKEN_URL http:\/\/sso\.example\.invalid uses plain http:\/\/.*THALASSA_ALLOW_INSECURE_OIDC.*\[API_CONFIG\]/);
  expect(emulator.requestLog.length).toBe(before);
  // With the switch the configuration is accepted and the grant is attempted there (the name does not resolve).
  const allowed = await runCli(['list', '--region', 'nl-01'], { ...insecure, THALASSA_ALLOW_INSECURE_OIDC: 'true' });
  expect(allowed.code).toBe(1);
  expect(allowed.stderr).toMatch(/Cannot reach http:\/\/sso\.example\.invalid to get an access token/);
  expect(allowed.stderr).not.toContain(CLIENT.secret);
}, 30_000);

it('THALASSA_OIDC_TOKEN_URL is where the grant goes', async () => {
  const before = emulator.requestLog.length;
  const result = await runCli(['list', '--region', 'nl-01'], env({ THALASSA_CLIENT_ID: CLIENT.id, THALASSA_CLIENT_SECRET: CLIENT.secret, THALASSA_OIDC_TOKEN_URL: `${emulator.url}/oidc/token?realm=x` }));
  expect(result.code).toBe(0);
  expect(emulator.requestLog.slice(before).map((e) => e.path)).toEqual([expect.stringMatching(/^\/oidc\/token/), '/v1/kms/nl-01/keys']);
}, 30_000);
