/**
 * The two pieces of undici the client uses — a keep-alive agent and `request` — loaded from their own
 * modules, on first use. undici's index also loads fetch, WebSocket, EventSource, caches, cookies, mocks and
 * interceptors, which is most of its load time and none of what a short-lived `thalassa-byok import` needs.
 * test/api/undici-parts.test.ts checks that these module paths are still the ones undici's index exports.
 */
import type { Agent, Dispatcher, EnvHttpProxyAgent } from 'undici';

/* eslint-disable @typescript-eslint/no-require-imports -- deep, lazy requires keep the CLI's start-up lean */

/** The variables undici's EnvHttpProxyAgent reads a proxy from (NO_PROXY only matters when one is set). */
const PROXY_VARIABLES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'] as const;

/**
 * A dispatcher that honours HTTP(S)_PROXY / NO_PROXY exactly as undici's `EnvHttpProxyAgent` does. Without a
 * proxy variable, `EnvHttpProxyAgent` sends every request through one plain `Agent` built from the same
 * options; we build that `Agent` directly and do not load the proxy and SOCKS5 agents at all.
 */
export function createDispatcher(options: Agent.Options): Dispatcher {
  if (PROXY_VARIABLES.some((name) => process.env[name])) {
    // The whole index here, not the agent's own module: the proxy agent tunnels with `client.connect`, a
    // method undici's index adds to every dispatcher's prototype. Loaded alone it fails on every request.
    const { EnvHttpProxyAgent: EnvProxyAgent } = require('undici') as { EnvHttpProxyAgent: typeof EnvHttpProxyAgent };
    return new EnvProxyAgent(options);
  }
  const PlainAgent = require('undici/lib/dispatcher/agent.js') as typeof Agent;
  return new PlainAgent(options);
}

type RequestFunction = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
let requestFunction: RequestFunction | undefined;

/**
 * `dispatcher.request(options)`. undici's index adds `request` to every dispatcher's prototype; loading only
 * the agent does not, so we call undici's implementation (which uses only `dispatcher.dispatch`) ourselves.
 */
export function request(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  requestFunction ??= require('undici/lib/api/api-request.js') as RequestFunction;
  return requestFunction.call(dispatcher, options);
}
/* eslint-enable @typescript-eslint/no-require-imports */
