/**
 * A typed client for the Thalassa Cloud KMS API (`shared/design/thalassa-kms-api.md`) on undici.
 * Knows nothing of cdktf or Terraform; usable on its own.
 */
import { checkCreatedKey, checkKeyFor, checkKeyList, onlyKeyNamed, type Where } from './answers';
import { resolveApiConfig, type ApiClientOptions, type ApiConfig } from './config';
import { Transport, type CallOptions } from './transport';
import type {
  CreateKmsKeyRequest, DecryptResult, DeleteKeyResult, EncryptResult, KeyListFilter, KeyVersionString, KmsKey, KmsSummary, RotationSettings,
  SignRequest, SignResult,
} from './types';

/** What `GET /v1/kms/{region}/wrapping-key` answers. */
export interface WrappingKeyAnswer {
  readonly publicKey: string;
  readonly algorithm?: string;
}

export class KmsClient {
  /** Settings from `options`, falling back to the THALASSA_* environment variables. */
  public static fromEnvironment(options: ApiClientOptions = {}): KmsClient {
    return new KmsClient(resolveApiConfig(options));
  }

  private readonly transport: Transport;

  constructor(public readonly config: ApiConfig) {
    this.transport = new Transport(config);
  }

  /** Closes the keep-alive connections; a call still in flight or waiting to retry is abandoned (its promise rejects). */
  public close(): Promise<void> {
    return this.transport.close();
  }

  public summary(): Promise<KmsSummary> {
    return this.read('GET', 'v1/kms/summary');
  }

  /** The region's wrapping key. Accepts a bare PEM body as well as the JSON form. */
  public async wrappingKey(region: string): Promise<WrappingKeyAnswer> {
    const answer = await this.read<WrappingKeyAnswer | string>('GET', `${keysBase(region, '')}wrapping-key`, { region });
    return typeof answer === 'string' ? { publicKey: answer } : answer;
  }

  /** The keys matching `filter`. An answer that is not a list of keys is `API_BAD_ANSWER`, never an empty list. */
  public listKeys(region: string, filter: KeyListFilter = {}): Promise<KmsKey[]> {
    return this.list(region, filter, checkKeyList);
  }

  /**
   * The key with exactly this name in the region, or undefined. Filters on the server and checks again here,
   * since a server may match names loosely; two keys of that name (impossible in a region) are `API_BAD_ANSWER`.
   */
  public findKeyByName(region: string, name: string): Promise<KmsKey | undefined> {
    return this.list(region, { name }, (value, where) => onlyKeyNamed(checkKeyList(value, where), name, where));
  }

  private list<T>(region: string, filter: KeyListFilter, check: (value: unknown, where: Where) => T): Promise<T> {
    const query = new URLSearchParams();
    if (filter.name !== undefined) query.set('name', filter.name);
    if (filter.slug !== undefined) query.set('slug', filter.slug);
    if (filter.identity !== undefined) query.set('identity', filter.identity);
    for (const [k, v] of Object.entries(filter.labels ?? {})) query.append(`matchLabels[${k}]`, v);
    return this.transport.call('GET', keysBase(region), { query, retry: 'always', context: { region }, check });
  }

  /** By identity or slug. An answer about another key is `API_BAD_ANSWER`. */
  public getKey(region: string, id: string): Promise<KmsKey> {
    return this.transport.call('GET', keyPath(region, id), { retry: 'always', context: { region, key: id }, check: (value, where) => checkKeyFor(value, id, where) });
  }

  /**
   * Creates (or, with `importKeyMaterial`, imports) a key. Never re-sent after the server may have acted on
   * it: an `ApiError` with `outcomeUnknown` means "look the key up before trying again". A success answer that
   * is not a key, or describes a key of another name, is `API_BAD_ANSWER` with `outcomeUnknown`.
   */
  public createKey(region: string, request: CreateKmsKeyRequest): Promise<KmsKey> {
    return this.transport.call('POST', keysBase(region), {
      body: request, retry: 'unsent-only', context: { region, key: request.name }, check: (value, where) => checkCreatedKey(value, request.name, where),
    });
  }

  /**
   * Schedules deletion (the key is `pending_deletion` for 30 days and can be restored). Accepts an empty
   * answer (204, what the official client expects) as well as a body: the key, or just `deletionScheduledAt`.
   */
  public async deleteKey(region: string, id: string): Promise<DeleteKeyResult> {
    const answer = await this.write<unknown>('DELETE', keyPath(region, id), undefined, { region, key: id });
    if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) return {};
    const body = answer as Partial<KmsKey>;
    const deletionScheduledAt = typeof body.deletionScheduledAt === 'string' ? body.deletionScheduledAt : undefined;
    const key = typeof body.identity === 'string' && typeof body.name === 'string' ? (body as KmsKey) : undefined;
    return { ...(deletionScheduledAt === undefined ? {} : { deletionScheduledAt }), ...(key === undefined ? {} : { key }) };
  }

  public async cancelDeletion(region: string, id: string): Promise<void> {
    await this.write('DELETE', `${keyPath(region, id)}/cancel-deletion`, undefined, { region, key: id });
  }

  /** `POST …/enable`: a disabled key becomes active. Repeating it leaves the same state. */
  public enableKey(region: string, id: string): Promise<KmsKey> {
    return this.transport.call('POST', `${keyPath(region, id)}/enable`, { retry: 'always', context: { region, key: id }, check: (value, where) => checkKeyFor(value, id, where) });
  }

  /** `POST …/disable`: the key can no longer be used until enabled. Repeating it leaves the same state. */
  public disableKey(region: string, id: string): Promise<KmsKey> {
    return this.transport.call('POST', `${keyPath(region, id)}/disable`, { retry: 'always', context: { region, key: id }, check: (value, where) => checkKeyFor(value, id, where) });
  }

  public updateRotation(region: string, id: string, settings: RotationSettings): Promise<KmsKey> {
    return this.transport.call('PATCH', `${keyPath(region, id)}/rotation`, {
      body: settings, retry: 'always', context: { region, key: id }, check: (value, where) => checkKeyFor(value, id, where),
    });
  }

  /** Creates a new key version. Not retried: a retry could rotate twice. */
  public rotateKey(region: string, id: string): Promise<KmsKey> {
    return this.transport.call('POST', `${keyPath(region, id)}/rotate`, { retry: 'unsent-only', context: { region, key: id }, check: (value, where) => checkKeyFor(value, id, where) });
  }

  /** `{version: PEM}` for asymmetric keys. */
  public async publicKeys(region: string, id: string, version?: number): Promise<Record<string, string>> {
    const query = version === undefined ? undefined : new URLSearchParams({ version: String(version) });
    const answer = await this.transport.call<{ keys?: Record<string, string> }>('GET', `${keyPath(region, id)}/public-key`, { query, retry: 'always', context: { region, key: id } });
    return answer?.keys ?? {};
  }

  /** Encrypts base64 `plaintext`, with the latest version unless `keyVersion` (a string, e.g. `"2"`) is given. */
  public async encrypt(region: string, id: string, plaintext: string, keyVersion?: KeyVersionString): Promise<EncryptResult> {
    return withStringVersion(await this.write<EncryptResult>('POST', `${keyPath(region, id)}/encrypt`, { plaintext, keyVersion }, { region, key: id }));
  }

  public async decrypt(region: string, id: string, ciphertext: string): Promise<DecryptResult> {
    return withStringVersion(await this.write<DecryptResult>('POST', `${keyPath(region, id)}/decrypt`, { ciphertext }, { region, key: id }));
  }

  public async sign(region: string, id: string, request: SignRequest): Promise<SignResult> {
    return withStringVersion(await this.write<SignResult>('POST', `${keyPath(region, id)}/sign`, request, { region, key: id }));
  }

  public verify(region: string, id: string, request: { input: string; signature: string; hashAlgorithm?: string }): Promise<{ valid: boolean }> {
    return this.write('POST', `${keyPath(region, id)}/verify`, request, { region, key: id });
  }

  private read<T>(method: 'GET', path: string, context?: CallOptions['context']): Promise<T> {
    return this.transport.call<T>(method, path, { retry: 'always', context });
  }

  // Idempotent writes: repeating them leaves the same state, so they retry like reads.
  private write<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, context: CallOptions['context']): Promise<T> {
    return this.transport.call<T>(method, path, { body, retry: 'always', context });
  }
}

/** `keyVersion` as the official client has it, a string, even from a server that answers a number. */
function withStringVersion<T extends { keyVersion?: unknown }>(answer: T): T {
  if (answer === null || typeof answer !== 'object') return answer;
  const { keyVersion } = answer;
  if (keyVersion === undefined || keyVersion === null || keyVersion === '') {
    const { keyVersion: _dropped, ...rest } = answer;
    return rest as T;
  }
  return typeof keyVersion === 'number' ? { ...answer, keyVersion: String(keyVersion) } : answer;
}

function keysBase(region: string, suffix = 'keys'): string {
  return `v1/kms/${encodeURIComponent(region)}/${suffix}`;
}

function keyPath(region: string, id: string): string {
  return `${keysBase(region)}/${encodeURIComponent(id)}`;
}
