/**
 * src/api/undici.ts loads undici's agent and `request` from their own modules (for CLI start-up). If an undici
 * upgrade moves them, these paths must fail here rather than in a provisioner.
 */
import * as undici from 'undici';
import { createDispatcher, request } from '../../src/api/undici';

describe('the undici parts the client loads directly', () => {
  it('are the modules undici exports', () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    expect(require('undici/lib/dispatcher/agent.js')).toBe(undici.Agent);
    expect(require('undici/lib/dispatcher/env-http-proxy-agent.js')).toBe(undici.EnvHttpProxyAgent);
    expect(require('undici/lib/api/api-request.js')).toBe(undici.Dispatcher.prototype.request);
    /* eslint-enable @typescript-eslint/no-require-imports */
  });

  it('uses a plain Agent without a proxy variable, and EnvHttpProxyAgent with one', async () => {
    const saved = { ...process.env };
    try {
      for (const name of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) delete process.env[name];
      const plain = createDispatcher({});
      expect(plain).toBeInstanceOf(undici.Agent);
      await plain.close();
      process.env.HTTPS_PROXY = 'http://127.0.0.1:9';
      const proxied = createDispatcher({});
      expect(proxied).toBeInstanceOf(undici.EnvHttpProxyAgent);
      await proxied.close();
    } finally {
      process.env = saved;
    }
  });

  it('request() answers like dispatcher.request()', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => res.end('{"ok":true}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const dispatcher = createDispatcher({});
    try {
      const response = await request(dispatcher, { origin: `http://127.0.0.1:${port}`, path: '/', method: 'GET' });
      expect(response.statusCode).toBe(200);
      expect(await response.body.json()).toEqual({ ok: true });
    } finally {
      await dispatcher.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
