/**
 * A local Thalassa Cloud KMS with real cryptography, for development and tests: `startEmulator()` in code,
 * `thalassa-byok emulator` on the command line. It implements `shared/design/thalassa-kms-api.md`; see
 * docs/emulator.md for its decisions, the ciphertext format and the fault grammar.
 */
import { Authenticator, type BoundToken, type OidcClient } from './auth';
import { FaultInjector, toFaultSpec, type FaultSpec } from './faults';
import { Kms } from './kms';
import type { RequestLogEntry } from './request-log';
import { EmulatorHttpServer } from './server';
import { StateStore } from './store';

export { EmulatorError } from './errors';
export { FaultInjector, FaultSpecError, parseFaultSpec, type FaultDecision, type FaultKind, type FaultRule, type FaultSpec } from './faults';
export { formatLogLine, type RequestLogEntry } from './request-log';
export { DELETION_WINDOW_DAYS, slugOf } from './kms';
export type { KmsKeyView } from './key-view';
export { MAX_BODY_BYTES } from './server';
export { leanKey } from './strict';
export type { BoundToken, OidcClient } from './auth';

/** How to start an emulator. Every option has a default that suits a test. */
export interface EmulatorOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 — a free port; read the URL from the result */
  readonly port?: number;
  /**
   * Where state (regional wrapping keys with their private halves, keys, versions, material) is kept, in
   * owner-only files written atomically. Created 0700 if missing; refused if group or others can access it.
   * @default - memory only: everything is gone on close
   */
  readonly dataDir?: string;
  /**
   * The only static tokens accepted (`Authorization: Token …` or `Bearer …`), besides tokens issued by
   * `/oidc/token`. A `{token, organisation}` is accepted only with that `X-Organisation-Identity` (401 with
   * another). @default - any non-empty token is accepted
   */
  readonly tokens?: readonly (string | BoundToken)[];
  /** The regions that exist; others answer 404 `region … not found`. @default ['nl-01'] */
  readonly regions?: readonly string[];
  /** Clients allowed the OIDC client-credentials grant. @default - any non-empty id and secret */
  readonly clients?: readonly OidcClient[];
  /** How long tokens issued by `/oidc/token` stay valid, in seconds. @default 3600 */
  readonly tokenLifetimeSeconds?: number;
  /** Organisations without the KMS feature: their requests answer 403. @default none */
  readonly featureDisabledOrganisations?: readonly string[];
  /** Regions where KMS is down: their requests answer 503. @default none */
  readonly unavailableRegions?: readonly string[];
  /** Injected faults, as a spec string (docs/emulator.md) or object. @default none */
  readonly faults?: string | FaultSpec;
  /** Receives one line per request (method, path, status, duration; never a secret). @default - not logged */
  readonly log?: (line: string) => void;
  /**
   * Strict mode: every answer leaves out each field the official client may not receive (`omitempty` or not
   * a field of its types; docs/emulator.md, "Strict mode"), and DELETE answers 204 without a body, so callers
   * are proven against the leanest answers the real API may give.
   * @default false, or true when the environment has THALASSA_EMULATOR_STRICT=1 (how jest.config.js turns it
   * on across the test suite)
   */
  readonly strict?: boolean;
}

/** True when THALASSA_EMULATOR_STRICT asks every emulator without an explicit `strict` option to be strict. */
export function strictFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test((env.THALASSA_EMULATOR_STRICT ?? '').trim());
}

/** A running emulator. */
export interface RunningEmulator {
  /** The base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). Use it as `THALASSA_API_ENDPOINT`. */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /** Whether this emulator answers in strict mode. */
  readonly strict: boolean;
  /** True when any non-empty token is accepted (no `tokens` were given): anyone who can connect can call it. */
  readonly acceptsAnyToken: boolean;
  /** True when any non-empty client id and secret are granted a token (no `clients` were given). */
  readonly acceptsAnyClient: boolean;
  /** The state file (`<dataDir>/state.json`), or undefined in memory-only mode. */
  readonly stateFile: string | undefined;
  /** Every request so far (the most recent 10 000), oldest first. */
  readonly requestLog: readonly RequestLogEntry[];
  /** Replaces the fault spec; `undefined` turns faults off. Counts and random streams start afresh. */
  setFaults(spec: string | FaultSpec | undefined): void;
  /**
   * For tests: gives `region` a new wrapping key (a fresh RSA key pair), as if the region rotated it or an
   * attacker substituted it. Blobs wrapped for the old key no longer unwrap; existing keys are unaffected.
   */
  replaceWrappingKey(region: string): Promise<void>;
  /** For tests: removes a key for good, as once its 30-day deletion window passed (its name is free again). */
  purgeKey(region: string, identity: string): Promise<void>;
  /** Stops the server (in-flight requests get 2 s) and waits for pending state writes. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an emulator and resolves once it is listening.
 * @throws EmulatorError (`STATE_FILE`) when the data directory cannot be used; FaultSpecError for a bad spec
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  let faults = faultInjector(options.faults);
  const store = options.dataDir === undefined ? StateStore.inMemory() : await StateStore.open(options.dataDir);
  const regions = options.regions && options.regions.length > 0 ? options.regions : ['nl-01'];
  const kms = new Kms(store, { regions, featureDisabledOrganisations: options.featureDisabledOrganisations, unavailableRegions: options.unavailableRegions });
  const auth = new Authenticator({ tokens: options.tokens, clients: options.clients, tokenLifetimeSeconds: options.tokenLifetimeSeconds });
  const strict = options.strict ?? strictFromEnvironment();
  const host = options.host ?? '127.0.0.1';
  const hostNames = [...new Set([host.toLowerCase().replace(/^\[|\]$/g, ''), ...(isLoopbackHost(host) ? ['localhost'] : [])])];
  const server = new EmulatorHttpServer({ kms, auth, faults: () => faults, log: options.log, strict, hostNames });
  const address = await server.listen(host, options.port ?? 0);
  const urlHost = address.family === 'IPv6' || host.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    strict,
    acceptsAnyToken: auth.acceptsAnyToken,
    acceptsAnyClient: auth.acceptsAnyClient,
    stateFile: store.path,
    requestLog: server.requestLog,
    setFaults(spec) {
      faults = faultInjector(spec);
    },
    replaceWrappingKey(region) {
      return kms.replaceWrappingKey(region);
    },
    purgeKey(region, identity) {
      return kms.purgeKey(region, identity);
    },
    close() {
      closing ??= server.close().then(() => store.flush());
      return closing;
    },
  };
}

/** Loopback by its listening address: `localhost` names it too, so a `Host: localhost:PORT` is accepted. */
function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

function faultInjector(spec: string | FaultSpec | undefined): FaultInjector | undefined {
  const parsed = toFaultSpec(spec);
  return parsed === undefined || parsed.rules.length === 0 ? undefined : new FaultInjector(parsed);
}
