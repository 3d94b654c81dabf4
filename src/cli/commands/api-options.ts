/** What the commands that talk to the API share: the client, region and key-value options, and output. */
import { shownValue } from '../../disclosure';
import { KmsClient, type KmsKey } from '../../api';
// From its own module, not the material index: the API commands need two constants, not the parsers (start-up).
import { FINGERPRINT_ANNOTATION, KEY_IDENTIFIER_PATTERN } from '../../material/fingerprint';
import { COMMITMENT_ANNOTATION } from '../../protocol';
import { requireString, UsageError, type CliIo, type OptionsConfig, type ParsedOptions } from '../command';

export const API_ENV_HELP = `Environment:
  THALASSA_API_ENDPOINT   API base URL (default https://api.thalassa.cloud; http:// only to loopback)
  THALASSA_CLIENT_ID and THALASSA_CLIENT_SECRET   OIDC client-credentials grant at {endpoint}/oidc/token
                          (wins over both tokens), else
  THALASSA_ACCESS_TOKEN   OIDC access token (sent as "Bearer …"; wins over a personal token), else
  THALASSA_API_TOKEN      Personal access token (sent as "Authorization: Token …")
  THALASSA_OIDC_TOKEN_URL Token endpoint of the grant (default {endpoint}/oidc/token)
  THALASSA_ALLOW_INSECURE_OIDC  true: allow a plain http:// token endpoint off loopback
  THALASSA_ORGANISATION   Organisation identity (required)
  THALASSA_PROJECT_ID     Project identity (optional)
  HTTPS_PROXY, NO_PROXY   Proxy settings, honoured
`;

export const REGION_OPTION: OptionsConfig = { region: { type: 'string' }, json: { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' } };

// The streams already told which credential is used: a command that makes several clients says it once.
const toldCredentials = new WeakSet<CliIo>();

/**
 * A client configured from the environment; `--verbose` logs one line per request to stderr. When more than
 * one credential is set, says once on stderr which one is used and which are ignored (names, never values).
 */
export function clientFor(options: ParsedOptions, io: CliIo): KmsClient {
  const client = KmsClient.fromEnvironment({ env: io.env, log: options.verbose ? (line) => io.stderr(`http: ${line}\n`) : undefined });
  const { credentials } = client.config;
  if (credentials.ignored !== undefined && !toldCredentials.has(io)) {
    toldCredentials.add(io);
    io.stderr(`thalassa-byok: several credentials are set; using ${credentials.source} (${CREDENTIAL_KINDS[credentials.kind]}), ignoring ${credentials.ignored.join(', ')}.\n`);
  }
  return client;
}

const CREDENTIAL_KINDS = { 'client-credentials': 'OIDC client credentials', 'access-token': 'an OIDC access token', token: 'a personal access token' } as const;

/** Runs `body` with a client and closes its connections afterwards. */
export async function withClient<T>(options: ParsedOptions, io: CliIo, body: (client: KmsClient) => Promise<T>): Promise<T> {
  const client = clientFor(options, io);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

/** `--region`, checked to be a slug so it cannot smuggle a path. */
export function regionOption(options: ParsedOptions): string {
  const region = requireString(options, 'region');
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(region)) {
    throw new UsageError(`--region must be a region slug such as nl-01; received ${shownValue(region)}.`);
  }
  return region;
}

export function fingerprintOption(options: ParsedOptions): string {
  const fingerprint = requireString(options, 'fingerprint');
  if (!KEY_IDENTIFIER_PATTERN.test(fingerprint)) {
    throw new UsageError(`--fingerprint must be spki-sha256:<64 hex>, hmac-sha256:<64 hex>, or a stable identifier of 6..128 characters from [A-Za-z0-9:._-]; received ${fingerprint.length} characters that do not fit.`);
  }
  return fingerprint;
}

export const OWNERSHIP_OPTIONS: OptionsConfig = { owner: { type: 'string' }, construct: { type: 'string' }, step: { type: 'string' } };

export const OWNERSHIP_HELP = `  --owner ID            The Terraform state's owner id (label cdktf-thalassa-byok/owner): only a key
                        carrying it is touched; the ImportedKmsKey provisioners pass it
  --construct ID        The construct's id within the state (label cdktf-thalassa-byok/construct)
  --step TEXT           What this run is for; not acted on. The provisioners put it last, so that
                        Terraform's "Error running command '…'" line names the operation and the key
`;

// A label value: what the API accepts, and nothing a shell or a path could misread.
const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/** `--owner` and `--construct`, each a label value when given. */
export function ownershipOptions(options: ParsedOptions): { owner?: string; construct?: string } {
  const read = (name: 'owner' | 'construct'): string | undefined => {
    const value = options[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !LABEL_VALUE.test(value)) {
      throw new UsageError(`--${name} must be 1..63 characters from [A-Za-z0-9._-], starting and ending with a letter or digit; received ${typeof value === 'string' ? `${value.length} characters that do not fit` : 'no value'}.`);
    }
    return value;
  };
  return { owner: read('owner'), construct: read('construct') };
}

/** Repeated `--NAME k=v` options as a map; a repeated key is a usage error. */
export function keyValueOptions(options: ParsedOptions, name: string): Record<string, string> | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  const result: Record<string, string> = {};
  for (const item of (Array.isArray(raw) ? raw : [raw]).map(String)) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`--${name} takes key=value; received ${shownValue(item)}.`);
    const key = item.slice(0, at);
    if (Object.prototype.hasOwnProperty.call(result, key)) throw new UsageError(`--${name} ${key} is given twice.`);
    result[key] = item.slice(at + 1);
  }
  return result;
}

/** A key for humans: one aligned line per field. */
export function describeKey(key: KmsKey): string {
  const rows: [string, string | undefined][] = [
    ['identity', key.identity],
    ['name', key.name],
    ['type', key.keyType],
    ['status', key.status],
    ['imported', key.imported === undefined ? undefined : String(key.imported)],
    ['fingerprint', key.annotations?.[FINGERPRINT_ANNOTATION]],
    ['allowRotation', key.allowRotation === undefined ? undefined : String(key.allowRotation)],
    ['rotation', key.keyRotationEnabled ? `every ${key.rotationPeriodInDays ?? '?'} days` : 'off'],
    ['latestVersion', latestVersionOf(key)],
    ['description', key.description || undefined],
    ['labels', key.labels && Object.keys(key.labels).length ? Object.entries(key.labels).map(([k, v]) => `${k}=${v}`).join(', ') : undefined],
    ['createdAt', key.createdAt],
    ['deletion', key.deletionScheduledAt ?? undefined],
  ];
  return rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${k.padEnd(14)}${v}`).join('\n') + '\n';
}

/**
 * The latest version: `latestVersion`, or, since the official client has it `omitempty` (a lean answer may
 * leave it out), the highest of `versions`. Undefined when the answer has neither.
 */
export function latestVersionOf(key: KmsKey): string | undefined {
  if (typeof key.latestVersion === 'number' && key.latestVersion > 0) return String(key.latestVersion);
  const versions = (key.versions ?? []).map((v) => v.version).filter((v) => typeof v === 'number' && Number.isFinite(v));
  return versions.length === 0 ? undefined : String(Math.max(...versions));
}

/** What `--json` shows in place of a key's commitment annotation. */
export const COMMITMENT_NOT_SHOWN = '(recorded; not shown)';

/**
 * `value` as JSON on stdout, with every commitment annotation's value replaced by {@link COMMITMENT_NOT_SHOWN}:
 * the commitment is the proof adoption asks of a symmetric key, kept out of plans and logs (protocol.ts),
 * and a script's output ends up in logs; the text output never shows it either.
 */
export function printJson(io: CliIo, value: unknown): void {
  const hideCommitment = (key: string, v: unknown): unknown => (key === COMMITMENT_ANNOTATION && typeof v === 'string' ? COMMITMENT_NOT_SHOWN : v);
  io.stdout(`${JSON.stringify(value, hideCommitment, 2)}\n`);
}
