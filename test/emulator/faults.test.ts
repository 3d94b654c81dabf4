/** Injected faults: the grammar, determinism under a seed, and each kind observable over HTTP. */
import { FaultInjector, FaultSpecError, parseFaultSpec, startEmulator, type RunningEmulator } from '../../src/emulator';
import { bindToken, call, keysPath, ORG, TOKEN } from './harness';

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ tokens: bindToken(TOKEN, ORG) });
});

afterEach(() => emulator.setFaults(undefined));

afterAll(async () => {
  await emulator?.close();
});

async function statuses(n: number, path = '/v1/kms/summary'): Promise<(number | 'reset')[]> {
  const out: (number | 'reset')[] = [];
  for (let i = 0; i < n; i++) {
    try {
      out.push((await call(emulator.url, 'GET', path)).status);
    } catch {
      out.push('reset');
    }
  }
  return out;
}

describe('the grammar', () => {
  it('parses every clause and parameter', () => {
    expect(parseFaultSpec('seed=7; 429=0.1,retry-after=3 ;503=0.2;500;reset=0.05,count=2,skip=1;latency=0.3,ms=20-80;drop-after-commit=1,count=1,match=POST /v1/kms/*/keys')).toEqual({
      seed: 7,
      rules: [
        { kind: '429', rate: 0.1, retryAfter: 3 },
        { kind: '503', rate: 0.2 },
        { kind: '500' },
        { kind: 'reset', rate: 0.05, count: 2, skip: 1 },
        { kind: 'latency', rate: 0.3, ms: [20, 80] },
        { kind: 'drop-after-commit', rate: 1, count: 1, method: 'POST', path: '/v1/kms/*/keys' },
      ],
    });
    expect(parseFaultSpec('latency,ms=5,match=/oidc/token')).toEqual({ seed: undefined, rules: [{ kind: 'latency', ms: 5, path: '/oidc/token' }] });
  });

  it.each([
    ['explode=1', /Unknown fault "explode"/],
    ['429=2', /rate must be a number >= 0 <= 1/],
    ['503=0.1,ms=5', /"ms" applies to latency only/],
    ['latency,retry-after=1', /"retry-after" applies to 429 only/],
    ['reset,count=-1', /count must be an integer >= 0/],
    ['seed=x', /seed must be an integer/],
    ['500,match=keys', /must start with "\/"/],
    ['500,color=red', /Unknown fault parameter "color"/],
  ])('refuses %s', (spec, message) => {
    expect(() => parseFaultSpec(spec)).toThrow(FaultSpecError);
    expect(() => parseFaultSpec(spec)).toThrow(message);
  });
});

describe('determinism', () => {
  const run = (seed: number): string => {
    const injector = new FaultInjector(parseFaultSpec(`seed=${seed};429=0.3;reset=0.2;latency=0.5,ms=1-9`));
    return Array.from({ length: 200 }, () => {
      const d = injector.decide('GET', '/v1/kms/summary');
      return `${d.terminal?.kind ?? 'ok'}:${d.delayMs}`;
    }).join(',');
  };

  it('makes the same decisions for the same seed, and different ones for another seed', () => {
    expect(run(7)).toBe(run(7));
    expect(run(8)).not.toBe(run(7));
    const kinds = run(7).split(',').map((d) => d.split(':')[0]);
    const rate429 = kinds.filter((k) => k === '429').length / kinds.length;
    expect(rate429).toBeGreaterThan(0.18);
    expect(rate429).toBeLessThan(0.42);
  });

  it('repeats the same sequence of answers over HTTP after setFaults with the same spec', async () => {
    const spec = 'seed=3;429=0.4,retry-after=2;503=0.2';
    emulator.setFaults(spec);
    const first = await statuses(25);
    emulator.setFaults(spec);
    expect(await statuses(25)).toEqual(first);
    expect(first).toEqual(expect.arrayContaining([200, 429, 503]));
  });
});

describe('each fault kind', () => {
  it('429 carries Retry-After and a {message} body', async () => {
    emulator.setFaults('429=1,retry-after=7,count=1');
    const res = await call(emulator.url, 'GET', '/v1/kms/summary');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(Object.keys(res.json)).toEqual(['message']);
    expect((await call(emulator.url, 'GET', '/v1/kms/summary')).status).toBe(200);
  });

  it('500 and 503 in rule order, each limited by count, and skip lets requests through first', async () => {
    emulator.setFaults('500=1,count=1;503=1,count=1');
    expect(await statuses(3)).toEqual([500, 503, 200]);
    emulator.setFaults('500=1,skip=2,count=1');
    expect(await statuses(4)).toEqual([200, 200, 500, 200]);
  });

  it('reset destroys the connection without an answer', async () => {
    emulator.setFaults('reset=1,count=1');
    expect(await statuses(2)).toEqual(['reset', 200]);
    expect(emulator.requestLog.some((e) => e.fault === 'reset' && e.status === 0)).toBe(true);
  });

  it('latency delays the answer', async () => {
    emulator.setFaults('latency=1,ms=150');
    const started = Date.now();
    expect((await call(emulator.url, 'GET', '/v1/kms/summary')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
    expect(emulator.requestLog[emulator.requestLog.length - 1].durationMs).toBeGreaterThanOrEqual(145);
  });

  it('drop-after-commit with a match creates the key, drops only that answer, and spares other requests', async () => {
    emulator.setFaults('drop-after-commit=1,count=1,match=POST /v1/kms/*/keys');
    expect((await call(emulator.url, 'GET', keysPath())).status).toBe(200);
    await expect(call(emulator.url, 'POST', keysPath(), { body: { name: 'dropped', keyType: 'aes256-gcm96' } })).rejects.toThrow();
    const listed = (await call(emulator.url, 'GET', keysPath('?name=dropped'))).json;
    expect(listed).toHaveLength(1);
    expect(emulator.requestLog.find((e) => e.fault === 'drop-after-commit')).toMatchObject({ method: 'POST', status: 201 });
    expect((await call(emulator.url, 'POST', keysPath(), { body: { name: 'dropped', keyType: 'aes256-gcm96' } })).status).toBe(409);
  });

  it('never touches /oidc/token unless a rule matches it', async () => {
    const token = (): Promise<Response> => fetch(`${emulator.url}/oidc/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=a&client_secret=b',
    });
    emulator.setFaults('503=1');
    expect((await token()).status).toBe(200);
    expect((await call(emulator.url, 'GET', '/v1/kms/summary')).status).toBe(503);
    emulator.setFaults('503=1,match=POST /oidc/token');
    expect((await token()).status).toBe(503);
    expect((await call(emulator.url, 'GET', '/v1/kms/summary')).status).toBe(200);
  });

  it('accepts a spec at start and as an object', async () => {
    const faulty = await startEmulator({ tokens: bindToken(TOKEN, ORG), faults: { seed: 1, rules: [{ kind: '503', count: 1 }] } });
    try {
      expect((await call(faulty.url, 'GET', '/v1/kms/summary')).status).toBe(503);
      expect((await call(faulty.url, 'GET', '/v1/kms/summary')).status).toBe(200);
    } finally {
      await faulty.close();
    }
  });
});
