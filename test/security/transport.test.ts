/**
 * Transport (issue 6, item 5): a substituted wrapping key is refused when pinned (library, construct, CLI);
 * plain http:// to a host that is not loopback is refused before any socket is opened; how HTTP_PROXY /
 * HTTPS_PROXY / NO_PROXY really route the CLI's requests (undici's EnvHttpProxyAgent); and no token — PAT,
 * OIDC access token, client secret, or a token issued by /oidc/token — ever appears in any CLI output, error
 * message or the emulator's request log, across a run of every command including failures.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { ApiError, KmsClient } from '../../src/api';
import { ImportedKmsKey } from '../../src/constructs';
import { formatLogLine, startEmulator, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { wrap, WrappingError, WrappingKey } from '../../src/wrapping';
import { APPLY_STEP, runCli, type CliResult } from '../support/cli';
import { makeTempDir, removeDir } from '../support/openssl';

const PAT = 'pat-3f9c1e7a5b2d4c6e8f0a';
const ACCESS_TOKEN = 'oidc-at-7d1b9e3c5a2f4e6d8c0b';
const CLIENT_ID = 'client-byok-ci';
const CLIENT_SECRET = 'client-secret-5e8a2c4f6b1d3e7a9c0f';
const ORG = 'org-transport';

let emulator: RunningEmulator;
let emulatorLog: string[];
let dir: string;
let regionKey: WrappingKey;
let localPem: string;
let localFingerprint: string;

beforeAll(async () => {
  dir = makeTempDir('byok-transport-');
  emulatorLog = [];
  emulator = await startEmulator({ tokens: [{ token: PAT, organisation: ORG }, { token: ACCESS_TOKEN, organisation: ORG }], clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }], log: (line) => emulatorLog.push(line) });
  const client = KmsClient.fromEnvironment({ env: { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: PAT, THALASSA_ORGANISATION: ORG } });
  regionKey = WrappingKey.fromApiResponse(await client.wrappingKey('nl-01'));
  await client.close();
  localPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
  localFingerprint = WrappingKey.fromPem(localPem).fingerprint;
  writeFileSync(join(dir, 'region.pem'), regionKey.pem);
  writeFileSync(join(dir, 'substituted.pem'), localPem);
  writeFileSync(join(dir, 'aes.hex'), randomBytes(32).toString('hex'), { mode: 0o600 });
}, 120_000);

afterAll(async () => {
  await emulator.close();
  removeDir(dir);
});

const apiEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: PAT, THALASSA_ORGANISATION: ORG, ...extra });

describe('a substituted wrapping key is refused when pinned', () => {
  it('WrappingKey.fromPem / fromApiResponse: a locally generated key against the region pin, and the region key against a local pin', () => {
    for (const load of [() => WrappingKey.fromPem(localPem, { pin: regionKey.fingerprint }), () => WrappingKey.fromApiResponse({ publicKey: localPem }, { pin: regionKey.fingerprint }),
      () => WrappingKey.fromPem(regionKey.pem, { pin: localFingerprint })]) {
      let error: unknown;
      try { load(); } catch (err) { error = err; }
      expect(error).toBeInstanceOf(WrappingError);
      expect((error as WrappingError).code).toBe('WRAPPING_KEY_PIN_MISMATCH');
      expect((error as Error).message).toMatch(/The key may have been substituted, or it belongs to another region/);
    }
    expect(WrappingKey.fromPem(regionKey.pem, { pin: regionKey.fingerprint }).pinned).toBe(true);
  });

  it('the construct: an app that pins the region key but is handed the substituted PEM fails synth, and writes nothing', () => {
    const outdir = join(dir, 'cdktf.out');
    const app = Testing.app({ outdir });
    expect(() => {
      const stack = new TerraformStack(app, 'stack');
      new ImportedKmsKey(stack, 'key', {
        region: 'nl-01', name: 'pinned', keyType: 'aes256-gcm96',
        material: KeyMaterial.fromFile(join(dir, 'aes.hex')),
        wrappingKey: WrappingKey.fromPemFile(join(dir, 'substituted.pem'), { pin: regionKey.fingerprint }),
      });
      app.synth();
    }).toThrow(/has fingerprint spki-sha256:[0-9a-f]{64}, which is not the pinned fingerprint/);
    expect(existsSync(join(outdir, 'stacks', 'stack'))).toBe(false);
  });

  it('thalassa-byok wrapping-key --pin refuses the region key against another pin, and saves nothing', async () => {
    const result = await runCli(['wrapping-key', '--region', 'nl-01', '--pin', localFingerprint, '--out', join(dir, 'fetched.pem')], apiEnv());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is not the pinned fingerprint( spki-sha256:[0-9a-f]{64})?\. The key may have been substituted.*\[WRAPPING_KEY_PIN_MISMATCH\]/);
    expect(existsSync(join(dir, 'fetched.pem'))).toBe(false);
    const ok = await runCli(['wrapping-key', '--region', 'nl-01', '--pin', regionKey.fingerprint], apiEnv());
    expect(ok).toMatchObject({ code: 0, stdout: `${regionKey.fingerprint}\n` });
  });

  it('thalassa-byok wrap --pin refuses a substituted PEM file and prints no blob', async () => {
    const result = await runCli(['wrap', '--wrapping-key', join(dir, 'substituted.pem'), '--pin', regionKey.fingerprint, '--key-type', 'aes256-gcm96', '--material', join(dir, 'aes.hex')]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/WRAPPING_KEY_PIN_MISMATCH/);
  });
});

/** A TCP listener on loopback that counts connections and answers none of them. */
async function tcpSpy(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    close: () => new Promise((resolve) => { sockets.forEach((s) => s.destroy()); server.close(() => resolve()); }),
  };
}

describe('plain http:// to a host that is not loopback is refused before any socket is opened', () => {
  it('KmsClient.fromEnvironment throws API_CONFIG: no client, no dispatcher, no request', () => {
    for (const endpoint of ['http://api.thalassa.cloud', 'http://10.0.0.8:8080', 'http://localhost.evil.example', 'http://[::2]:80', 'http://128.0.0.1']) {
      let error: unknown;
      try { KmsClient.fromEnvironment({ env: apiEnv({ THALASSA_API_ENDPOINT: endpoint }) }); } catch (err) { error = err; }
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ code: 'API_CONFIG' });
      expect((error as Error).message).toMatch(/uses plain http:\/\/ to a host that is not loopback.*Use https:\/\//);
    }
  });

  it('every API command refuses it, and a proxy that would carry any attempt sees no connection', async () => {
    // With HTTP_PROXY/HTTPS_PROXY pointing at the spy, any connection attempt to any host would reach it.
    const spy = await tcpSpy();
    try {
      const proxy = `http://127.0.0.1:${spy.port}`;
      const env = apiEnv({ THALASSA_API_ENDPOINT: 'http://kms.example.invalid:8080', HTTP_PROXY: proxy, HTTPS_PROXY: proxy });
      const fp = `spki-sha256:${'0'.repeat(64)}`;
      for (const args of [
        ['wrapping-key', '--region', 'nl-01'], ['list', '--region', 'nl-01'], ['describe', '--region', 'nl-01', '--name', 'k'],
        ['import', '--region', 'nl-01', '--name', 'k', '--key-type', 'aes256-gcm96', '--wrapped-env', 'BLOB', '--fingerprint', fp],
        ['delete', '--region', 'nl-01', '--name', 'k', '--fingerprint', fp], ['set-rotation', '--region', 'nl-01', '--name', 'k', '--fingerprint', fp, '--enabled', 'false'],
        ['cancel-deletion', '--region', 'nl-01', '--name', 'k'],
      ]) {
        const result = await runCli(args, { ...env, BLOB: randomBytes(300).toString('base64') });
        expect({ args, code: result.code }).toEqual({ args, code: 1 });
        expect(result.stderr).toMatch(/plain http:\/\/ to a host that is not loopback.*\[API_CONFIG\]/);
      }
      expect(spy.connections()).toBe(0);
    } finally {
      await spy.close();
    }
  });
});

interface ProxyRecord { readonly kind: 'CONNECT' | 'forward'; readonly target: string }

/**
 * A tiny forward proxy on loopback: CONNECT tunnels and absolute-form requests. It records what went through
 * it and sniffs `Authorization: Bearer …` out of tunnels, which is how this test learns the token /oidc/token
 * issued to the CLI (a proxy on the path of plain http sees everything; only https protects a token from it).
 */
async function forwardProxy(): Promise<{ url: string; records: ProxyRecord[]; bearerTokens: Set<string>; close: () => Promise<void> }> {
  const records: ProxyRecord[] = [];
  const bearerTokens = new Set<string>();
  const sockets = new Set<Socket>();
  const sniff = (chunk: Buffer) => {
    for (const m of chunk.toString('latin1').matchAll(/authorization: Bearer (\S+)/gi)) bearerTokens.add(m[1]);
  };
  const server: Server = createServer((req, res) => {
    records.push({ kind: 'forward', target: req.url ?? '' });
    sniff(Buffer.from(`authorization: ${req.headers.authorization ?? ''}\r\n`));
    const target = new URL(req.url ?? '/');
    const upstream = httpRequest({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    records.push({ kind: 'CONNECT', target: req.url ?? '' });
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) { sniff(head); upstream.write(head); }
      client.on('data', sniff);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    sockets.add(client).add(upstream);
    for (const s of [client, upstream]) s.on('error', () => { client.destroy(); upstream.destroy(); });
    client.on('close', () => upstream.destroy());
  });
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records,
    bearerTokens,
    close: () => new Promise((resolve) => { sockets.forEach((s) => s.destroy()); server.close(() => resolve()); }),
  };
}

describe('HTTP_PROXY / HTTPS_PROXY / NO_PROXY (undici EnvHttpProxyAgent), measured', () => {
  let proxy: Awaited<ReturnType<typeof forwardProxy>>;
  beforeEach(async () => { proxy = await forwardProxy(); });
  afterEach(async () => { await proxy.close(); });

  const list = (extra: NodeJS.ProcessEnv) => runCli(['list', '--region', 'nl-01', '--json'], apiEnv(extra));

  // Regression: with HTTP_PROXY set, every call used to fail at once with API_NETWORK: the proxy agent, loaded
  // from its own module for start-up speed, tunnels with a method only undici's index installs. undici's
  // documented behaviour — no loopback exemption when NO_PROXY is empty, CONNECT tunnels even to http://
  // origins — is what these tests pin down.
  it('HTTP_PROXY set and NO_PROXY unset: even a loopback endpoint is sent to the proxy (no loopback exemption), as a CONNECT tunnel', async () => {
    const result = await list({ HTTP_PROXY: proxy.url });
    expect(proxy.records.length).toBeGreaterThan(0);
    expect(proxy.records.every((r) => r.kind === 'CONNECT' && r.target === `127.0.0.1:${emulator.port}`)).toBe(true);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain(PAT);
  });

  it('NO_PROXY=127.0.0.1 (with or without the port, or *) sends the loopback endpoint directly', async () => {
    for (const noProxy of ['127.0.0.1', `127.0.0.1:${emulator.port}`, '*']) {
      const result = await list({ HTTP_PROXY: proxy.url, NO_PROXY: noProxy });
      expect({ noProxy, code: result.code }).toEqual({ noProxy, code: 0 });
    }
    expect(proxy.records).toEqual([]);
  });

  it('only HTTPS_PROXY set: an http:// endpoint is reached directly (HTTPS_PROXY applies to https:// origins only)', async () => {
    expect((await list({ HTTPS_PROXY: proxy.url })).code).toBe(0);
    expect(proxy.records).toEqual([]);
  });

  it('the provisioners\' apply step (one bundle; undici\'s index from node_modules) tunnels through the proxy too', async () => {
    const result = await runCli(['delete', '--region', 'nl-01', '--name', 'never-imported', '--fingerprint', `hmac-sha256:${'0'.repeat(64)}`],
      apiEnv({ HTTP_PROXY: proxy.url }), 60_000, APPLY_STEP);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(proxy.records.length).toBeGreaterThan(0);
    expect(proxy.records.every((r) => r.kind === 'CONNECT' && r.target === `127.0.0.1:${emulator.port}`)).toBe(true);
  });

  it('lower-case http_proxy is honoured too', async () => {
    expect((await list({ http_proxy: proxy.url })).code).toBe(0);
    expect(proxy.records.length).toBeGreaterThan(0);
  });
});

/** A TCP relay on loopback to the emulator that sniffs `Authorization: Bearer …` off the wire. */
async function sniffingRelay(): Promise<{ url: string; bearerTokens: Set<string>; close: () => Promise<void> }> {
  const bearerTokens = new Set<string>();
  const sockets = new Set<Socket>();
  const server = createTcpServer((client) => {
    const upstream = connect(emulator.port, '127.0.0.1');
    client.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString('latin1').matchAll(/authorization: Bearer (\S+)/gi)) bearerTokens.add(m[1]);
    });
    client.pipe(upstream);
    upstream.pipe(client);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => { client.destroy(); upstream.destroy(); });
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bearerTokens,
    close: () => new Promise((resolve) => { sockets.forEach((s) => s.destroy()); server.close(() => resolve()); }),
  };
}

describe('tokens never appear in output, errors or the emulator log', () => {
  const outputs: CliResult[] = [];
  const issuedTokens = new Set<string>();

  /** Every command, successes and failures, with --verbose where it exists (the most logging there is). */
  async function runEveryCommand(credentials: NodeJS.ProcessEnv, prefix: string, extra: NodeJS.ProcessEnv = {}): Promise<void> {
    const env = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_ORGANISATION: ORG, ...credentials, ...extra };
    const material = KeyMaterial.fromFile(join(dir, 'aes.hex')).load('aes256-gcm96');
    const blobFile = join(dir, `${prefix}.wrapped`);
    writeFileSync(blobFile, wrap(material, regionKey).toString('base64'), { mode: 0o600 });
    const fp = material.fingerprint;
    material.destroy();
    const name = `${prefix}-key`;
    const base = ['--region', 'nl-01'];
    const commands: string[][] = [
      ['wrapping-key', ...base, '--verbose'],
      ['wrapping-key', ...base, '--pin', localFingerprint, '--verbose'],
      ['wrap', '--wrapping-key', join(dir, 'region.pem'), '--key-type', 'aes256-gcm96', '--material', join(dir, 'aes.hex')],
      ['fingerprint', '--key-type', 'aes256-gcm96', '--material', join(dir, 'aes.hex'), '--json'],
      ['import', ...base, '--name', name, '--key-type', 'aes256-gcm96', '--wrapped-file', blobFile, '--fingerprint', fp, '--verbose', '--json'],
      ['import', ...base, '--name', name, '--key-type', 'aes256-gcm96', '--wrapped-file', blobFile, '--fingerprint', fp, '--verbose'],
      ['import', ...base, '--name', name, '--key-type', 'aes256-gcm96', '--wrapped-file', blobFile, '--fingerprint', `spki-sha256:${'1'.repeat(64)}`, '--verbose'],
      ['import', '--region', 'xx-99', '--name', name, '--key-type', 'aes256-gcm96', '--wrapped-file', blobFile, '--fingerprint', fp, '--verbose'],
      ['describe', ...base, '--name', name, '--verbose', '--json'],
      ['describe', ...base, '--name', 'does-not-exist', '--verbose'],
      ['list', ...base, '--verbose', '--json'],
      ['set-rotation', ...base, '--name', name, '--fingerprint', fp, '--enabled', 'true', '--period-days', '30', '--verbose'],
      ['delete', ...base, '--name', name, '--fingerprint', `spki-sha256:${'2'.repeat(64)}`, '--verbose'],
      ['delete', ...base, '--name', name, '--fingerprint', fp, '--verbose', '--json'],
      ['cancel-deletion', ...base, '--name', name, '--verbose'],
      ['delete', ...base, '--name', name, '--fingerprint', fp, '--verbose'],
      ['delete', ...base, '--name', 'never-existed', '--fingerprint', fp, '--verbose'],
      ['import', ...base, '--name', `${name}-x`, '--key-type', 'aes256-gcm96', '--wrapped-file', join(dir, 'missing'), '--fingerprint', fp],
      ['no-such-command', '--token', 'x'],
    ];
    for (const args of commands) outputs.push(await runCli(args, env));
  }

  beforeAll(async () => {
    const relay = await sniffingRelay();
    try {
      await runEveryCommand({ THALASSA_API_TOKEN: PAT }, 'pat');
      await runEveryCommand({ THALASSA_ACCESS_TOKEN: ACCESS_TOKEN }, 'oidc');
      // Through the sniffing relay, to learn the tokens /oidc/token issues to the CLI.
      await runEveryCommand({ THALASSA_CLIENT_ID: CLIENT_ID, THALASSA_CLIENT_SECRET: CLIENT_SECRET }, 'cc', { THALASSA_API_ENDPOINT: relay.url });
      // Rejected credentials: the 401 messages must not quote them either.
      await runEveryCommand({ THALASSA_API_TOKEN: `${PAT}-revoked` }, 'bad');
      await runEveryCommand({ THALASSA_CLIENT_ID: CLIENT_ID, THALASSA_CLIENT_SECRET: `${CLIENT_SECRET}-wrong` }, 'badcc');
      relay.bearerTokens.forEach((t) => issuedTokens.add(t));
    } finally {
      await relay.close();
    }
  }, 240_000);

  it('the run covered successes and failures with every kind of credential', () => {
    expect(outputs.length).toBe(5 * 19);
    expect(outputs.filter((o) => o.code === 0).length).toBeGreaterThan(20);
    expect(outputs.filter((o) => o.code !== 0).length).toBeGreaterThan(20);
    expect(outputs.some((o) => /API_UNAUTHORIZED/.test(o.stderr))).toBe(true);
    // The client-credentials runs really used issued tokens (seen by the proxy on the wire).
    expect(issuedTokens.size).toBeGreaterThan(0);
    expect([...issuedTokens].every((t) => t !== PAT && t !== ACCESS_TOKEN && t.length >= 20)).toBe(true);
  });

  it('no PAT, access token, client secret or issued token in any stdout or stderr', () => {
    const secrets = [PAT, ACCESS_TOKEN, CLIENT_SECRET, ...issuedTokens];
    for (const { stdout, stderr } of outputs) {
      for (const secret of secrets) {
        expect(stdout.includes(secret)).toBe(false);
        expect(stderr.includes(secret)).toBe(false);
        expect(stdout.includes(Buffer.from(secret).toString('base64'))).toBe(false);
        expect(stderr.includes(Buffer.from(secret).toString('base64'))).toBe(false);
      }
    }
  });

  it('no token in the emulator request log (entries and formatted lines)', () => {
    const log = `${JSON.stringify(emulator.requestLog)}\n${emulator.requestLog.map(formatLogLine).join('\n')}\n${emulatorLog.join('\n')}`;
    expect(emulator.requestLog.length).toBeGreaterThan(50);
    for (const secret of [PAT, ACCESS_TOKEN, CLIENT_SECRET, CLIENT_ID, ...issuedTokens]) {
      expect(log.includes(secret)).toBe(false);
      expect(log.includes(Buffer.from(secret).toString('base64'))).toBe(false);
    }
  });
});
