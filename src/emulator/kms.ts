/**
 * The KMS itself: keys, their lifecycle rules and their operations, per organisation and region, as
 * `shared/design/thalassa-kms-api.md` describes them. HTTP is `server.ts`'s business; this module takes parsed
 * bodies and returns plain objects, or throws an {@link EmulatorError}.
 */
import { randomBytes } from 'node:crypto';
import { isKeyTypeName, KEY_TYPES, type KeyType } from '../key-types';
import * as ops from './crypto-ops';
import { badRequest, conflict, forbidden, notFound, unavailable } from './errors';
import { base64Field, booleanField, integerField, stringField, stringMapField, versionField, type JsonObject } from './request-fields';
import type { KeyStatus, StateStore, StoredKey, StoredKeyVersion } from './store';
import { RegionWrappingKeys } from './wrapping-keys';
import { toView, type KmsKeyView } from './key-view';

/** How long a deleted key stays recoverable. */
export const DELETION_WINDOW_DAYS = 30;
const MAX_VERSION = 65535;

/** Who is asking: from `X-Organisation-Identity` and `X-Project-Identity`. */
export interface RequestScope {
  readonly organisation: string;
  readonly projectId: string | null;
}

/** Settings of the KMS that tests vary. */
export interface KmsOptions {
  readonly regions: readonly string[];
  readonly featureDisabledOrganisations?: readonly string[];
  readonly unavailableRegions?: readonly string[];
}

/** The emulated KMS over a {@link StateStore}. */
export class Kms {
  readonly #store: StateStore;
  readonly #options: KmsOptions;
  readonly #wrappingKeys: RegionWrappingKeys;

  constructor(store: StateStore, options: KmsOptions) {
    this.#store = store;
    this.#options = options;
    this.#wrappingKeys = new RegionWrappingKeys(store);
  }

  /** 403 when the organisation does not have the KMS feature. */
  checkFeature(scope: RequestScope): void {
    if (this.#options.featureDisabledOrganisations?.includes(scope.organisation)) {
      throw forbidden(`KMS feature not enabled for organisation ${scope.organisation}.`);
    }
  }

  /** 404 for an unknown region, 503 for one where KMS is unavailable. */
  checkRegion(region: string): void {
    if (!this.#options.regions.includes(region)) throw notFound(`region ${JSON.stringify(region.slice(0, 64))} not found.`);
    if (this.#options.unavailableRegions?.includes(region)) throw unavailable(`KMS not available in region ${region}.`);
  }

  /** `GET /v1/kms/summary`. */
  summary(scope: RequestScope): JsonObject {
    const featureEnabled = !this.#options.featureDisabledOrganisations?.includes(scope.organisation);
    return {
      featureEnabled,
      regions: this.#options.regions.map((region) => {
        const keys = this.#store.state.keys.filter((k) => k.region === region && this.visible(k, scope));
        const count = (status: KeyStatus): number => keys.filter((k) => k.status === status).length;
        return {
          identity: region, name: region, slug: region,
          kmsAvailable: !this.#options.unavailableRegions?.includes(region),
          totalKeys: keys.length, activeKeys: count('active'), disabledKeys: count('disabled'), pendingDeletionKeys: count('pending_deletion'),
        };
      }),
    };
  }

  /** `GET /v1/kms/{r}/wrapping-key`: the region's public wrapping key, made on first use. */
  async wrappingKey(region: string): Promise<{ publicKey: string; algorithm: string }> {
    return { publicKey: await this.#wrappingKeys.publicKeyPem(region), algorithm: 'CKM_RSA_AES_KEY_WRAP' };
  }

  /** `GET /v1/kms/{r}/keys` with the `name`, `slug`, `identity` and `matchLabels[k]=v` filters. */
  listKeys(scope: RequestScope, region: string, query: URLSearchParams): KmsKeyView[] {
    const labels: [string, string][] = [];
    for (const [param, value] of query) {
      const m = /^matchLabels\[(.*)\]$/.exec(param);
      if (m) labels.push([m[1], value]);
    }
    const name = query.get('name');
    const slug = query.get('slug');
    const identity = query.get('identity');
    return this.#store.state.keys
      .filter((k) => k.region === region && this.visible(k, scope))
      .filter((k) => (name === null || k.name === name) && (slug === null || k.slug === slug) && (identity === null || k.identity === identity))
      .filter((k) => labels.every(([l, v]) => k.labels[l] === v))
      .map(toView);
  }

  /** `GET /v1/kms/{r}/keys/{id}`. */
  getKey(scope: RequestScope, region: string, id: string): KmsKeyView {
    return toView(this.find(scope, region, id));
  }

  /** `POST /v1/kms/{r}/keys`: creates a generated key, or imports wrapped material. */
  async createKey(scope: RequestScope, region: string, body: JsonObject): Promise<KmsKeyView> {
    const name = stringField(body, 'name', { required: true, min: 1, max: 255 }) as string;
    const description = stringField(body, 'description', { max: 1024 }) ?? '';
    const labels = stringMapField(body, 'labels');
    const annotations = stringMapField(body, 'annotations');
    const typeName = stringField(body, 'keyType', { required: true }) as string;
    if (!isKeyTypeName(typeName)) {
      throw badRequest(`Unknown keyType ${JSON.stringify(typeName.slice(0, 64))}; expected one of: ${Object.keys(KEY_TYPES).join(', ')}.`);
    }
    const type: KeyType = KEY_TYPES[typeName];
    const exportAllowed = booleanField(body, 'exportAllowed') ?? false;
    const keyRotationEnabled = booleanField(body, 'keyRotationEnabled');
    const rotationPeriodInDays = integerField(body, 'rotationPeriodInDays', 1, 3650);
    const wrapped = base64Field(body, 'importKeyMaterial', { min: 1 });
    const imported = wrapped !== undefined;
    const allowRotation = imported ? booleanField(body, 'allowRotation') === true : true;
    const hashName = stringField(body, 'hashFunction');
    if (imported && !allowRotation && (keyRotationEnabled === true || rotationPeriodInDays !== undefined)) {
      throw badRequest('Rotation settings need "allowRotation": true on an imported key; an imported key without it can never be rotated.');
    }
    if (keyRotationEnabled === true && rotationPeriodInDays === undefined) throw periodRequired();
    const slug = slugOf(name);
    this.checkNameFree(scope, region, name, slug);

    let material: Buffer;
    if (wrapped !== undefined) {
      material = await this.#wrappingKeys.unwrapMaterial(region, typeName, wrapped, hashName);
    } else {
      material = await ops.generateMaterial(type);
    }
    // Checked again: another request may have taken the name while this one awaited.
    this.checkNameFree(scope, region, name, slug);
    const now = new Date().toISOString();
    const identity = `kms-${randomBytes(8).toString('hex')}`;
    const key: StoredKey = {
      identity, name, slug: slug === '' ? identity : slug, description, labels, annotations,
      organisation: scope.organisation, projectId: scope.projectId, region, keyType: typeName,
      status: 'active', exportAllowed, imported, allowRotation,
      keyRotationEnabled: keyRotationEnabled ?? false, rotationPeriodInDays: rotationPeriodInDays ?? null,
      latestVersion: 1, versions: [{ version: 1, status: 'active', createdAt: now, material: material.toString('base64') }],
      createdAt: now, updatedAt: now, objectVersion: 1, deleteAfter: null,
    };
    material.fill(0);
    this.#store.state.keys.push(key);
    await this.#store.commit();
    return toView(key);
  }

  /**
   * `DELETE /v1/kms/{r}/keys/{id}`: schedules deletion and answers the key with its `deletionScheduledAt`
   * (Thalassa's lifecycle page says the answer carries it). Deleting a key already pending deletion changes
   * nothing and answers the same, original date.
   */
  async deleteKey(scope: RequestScope, region: string, id: string): Promise<KmsKeyView> {
    const key = this.find(scope, region, id);
    if (key.status === 'pending_deletion') return toView(key);
    key.status = 'pending_deletion';
    key.deleteAfter = new Date(Date.now() + DELETION_WINDOW_DAYS * 86_400_000).toISOString();
    await this.touch(key);
    return toView(key);
  }

  /** `DELETE …/cancel-deletion`: back to `active`. On a key not pending deletion it is a no-op (204). */
  async cancelDeletion(scope: RequestScope, region: string, id: string): Promise<void> {
    const key = this.find(scope, region, id);
    if (key.status !== 'pending_deletion') return;
    key.status = 'active';
    key.deleteAfter = null;
    await this.touch(key);
  }

  /** `PATCH …/rotation`. */
  async patchRotation(scope: RequestScope, region: string, id: string, body: JsonObject): Promise<KmsKeyView> {
    const key = this.usable(scope, region, id, 'change rotation settings of');
    const enabled = booleanField(body, 'keyRotationEnabled');
    const period = integerField(body, 'rotationPeriodInDays', 1, 3650);
    if (enabled === undefined && period === undefined) throw badRequest('Send "keyRotationEnabled" and/or "rotationPeriodInDays" (1..3650).');
    if ((enabled === true || period !== undefined) && !key.allowRotation) throw rotationRefused(key);
    // Judged on the state the PATCH would leave: enabling needs a period, sent now or stored before.
    if ((enabled ?? key.keyRotationEnabled) && (period ?? key.rotationPeriodInDays) === null) throw periodRequired();
    if (enabled !== undefined) key.keyRotationEnabled = enabled;
    if (period !== undefined) key.rotationPeriodInDays = period;
    await this.touch(key);
    return toView(key);
  }

  /** `POST …/rotate`: a new version with fresh material of the same type. */
  async rotate(scope: RequestScope, region: string, id: string): Promise<KmsKeyView> {
    const key = this.usable(scope, region, id, 'rotate');
    if (!key.allowRotation) throw rotationRefused(key);
    if (key.latestVersion >= MAX_VERSION) throw badRequest(`Key ${key.identity} has reached the maximum of ${MAX_VERSION} versions.`);
    const material = await ops.generateMaterial(KEY_TYPES[key.keyType as keyof typeof KEY_TYPES]);
    const version = key.latestVersion + 1;
    key.versions.push({ version, status: 'active', createdAt: new Date().toISOString(), material: material.toString('base64') });
    material.fill(0);
    key.latestVersion = version;
    await this.touch(key);
    return toView(key);
  }

  /** `POST …/disable` and `…/enable`. A key pending deletion can be neither: cancel the deletion first. */
  async setEnabled(scope: RequestScope, region: string, id: string, enabled: boolean): Promise<KmsKeyView> {
    const key = this.find(scope, region, id);
    if (key.status === 'pending_deletion') throw pendingDeletion(key, enabled ? 'enable' : 'disable');
    const status: KeyStatus = enabled ? 'active' : 'disabled';
    if (key.status !== status) {
      key.status = status;
      await this.touch(key);
    }
    return toView(key);
  }

  /** `GET …/public-key?version=N`: SPKI PEMs by version. */
  publicKey(scope: RequestScope, region: string, id: string, version: string | null): { keys: Record<string, string> } {
    const key = this.usable(scope, region, id, 'read the public key of');
    const type = typeOf(key);
    let versions = key.versions;
    if (version !== null) {
      if (!/^[1-9][0-9]{0,4}$/.test(version)) throw badRequest('"version" must be a positive integer.');
      versions = [this.version(key, Number(version))];
    }
    const keys: Record<string, string> = {};
    for (const v of versions) keys[String(v.version)] = ops.publicKeyPem(type, materialOf(v));
    return { keys };
  }

  /** `POST …/encrypt`. */
  encrypt(scope: RequestScope, region: string, id: string, body: JsonObject): { ciphertext: string; keyVersion: string } {
    const key = this.usable(scope, region, id, 'encrypt with');
    const plaintext = base64Field(body, 'plaintext', { required: true, min: 1, max: 65535 }) as Buffer;
    const version = this.version(key, versionField(body, 'keyVersion', MAX_VERSION));
    const data = ops.encrypt(typeOf(key), materialOf(version), plaintext);
    return { ciphertext: ops.ciphertextPrefix(version.version) + data.toString('base64'), keyVersion: String(version.version) };
  }

  /** `POST …/decrypt`: the version comes from the ciphertext's `thalassa:v<N>:` prefix. */
  decrypt(scope: RequestScope, region: string, id: string, body: JsonObject): { plaintext: string; keyVersion: string } {
    const key = this.usable(scope, region, id, 'decrypt with');
    const { version, data } = ops.parseCiphertext(stringField(body, 'ciphertext', { required: true }) as string);
    const v = this.version(key, version);
    return { plaintext: ops.decrypt(typeOf(key), materialOf(v), data).toString('base64'), keyVersion: String(v.version) };
  }

  /** `POST …/sign`. */
  sign(scope: RequestScope, region: string, id: string, body: JsonObject): { signature: string; keyVersion: string } {
    const key = this.usable(scope, region, id, 'sign with');
    const input = base64Field(body, 'input', { required: true }) as Buffer;
    const version = this.version(key, versionField(body, 'keyVersion', MAX_VERSION));
    if (booleanField(body, 'prehashed') === true) throw badRequest('"prehashed": true is not supported by the emulator; send the message itself.');
    const signature = ops.signMessage(typeOf(key), materialOf(version), input, body.hashAlgorithm ?? undefined, contextOf(body));
    return { signature: signature.toString('base64'), keyVersion: String(version.version) };
  }

  /** `POST …/verify`: with `keyVersion`, against that version; without, against every version. */
  verify(scope: RequestScope, region: string, id: string, body: JsonObject): { valid: boolean; keyVersion?: string } {
    const key = this.usable(scope, region, id, 'verify with');
    const input = base64Field(body, 'input', { required: true }) as Buffer;
    const signature = base64Field(body, 'signature', { required: true }) as Buffer;
    const context = contextOf(body);
    const type = typeOf(key);
    for (const version of this.candidateVersions(key, body)) {
      if (ops.verifySignature(type, materialOf(version), input, signature, body.hashAlgorithm ?? undefined, context)) return { valid: true, keyVersion: String(version.version) };
    }
    return { valid: false };
  }

  /** `POST …/hmac`. */
  hmac(scope: RequestScope, region: string, id: string, body: JsonObject): { hmac: string; keyVersion: string } {
    const key = this.usable(scope, region, id, 'compute an HMAC with');
    const input = base64Field(body, 'input', { required: true }) as Buffer;
    const version = this.version(key, versionField(body, 'keyVersion', MAX_VERSION));
    return { hmac: ops.hmac(typeOf(key), materialOf(version), input).toString('base64'), keyVersion: String(version.version) };
  }

  /** `POST …/verify-hmac`: with `keyVersion`, against that version; without, against every version. */
  verifyHmac(scope: RequestScope, region: string, id: string, body: JsonObject): { valid: boolean; keyVersion?: string } {
    const key = this.usable(scope, region, id, 'verify an HMAC with');
    const input = base64Field(body, 'input', { required: true }) as Buffer;
    const mac = base64Field(body, 'hmac', { required: true }) as Buffer;
    const type = typeOf(key);
    for (const version of this.candidateVersions(key, body)) {
      if (ops.verifyHmac(type, materialOf(version), input, mac)) return { valid: true, keyVersion: String(version.version) };
    }
    return { valid: false };
  }

  /** `POST …/export`: the canonical material, only for keys created with `exportAllowed`. */
  exportKey(scope: RequestScope, region: string, id: string, body: JsonObject): { keyMaterial: string; keyVersion: string } {
    const key = this.usable(scope, region, id, 'export');
    if (!key.exportAllowed) throw badRequest(`Key ${key.identity} was created without "exportAllowed"; its material cannot be exported.`);
    const version = this.version(key, versionField(body, 'keyVersion', MAX_VERSION));
    return { keyMaterial: version.material, keyVersion: String(version.version) };
  }

  /** Tests only (not an HTTP endpoint): the key is gone for good, as once its 30-day deletion window passed. */
  async purgeKey(region: string, identity: string): Promise<void> {
    const keys = this.#store.state.keys;
    const at = keys.findIndex((k) => k.region === region && k.identity === identity);
    if (at < 0) throw notFound(`Key ${JSON.stringify(identity.slice(0, 255))} not found in region ${region}.`);
    keys.splice(at, 1);
    await this.#store.commit();
  }

  /** Tests only (not an HTTP endpoint): a new wrapping key for the region, replacing the stored one. */
  async replaceWrappingKey(region: string): Promise<void> {
    this.checkRegion(region);
    await this.#wrappingKeys.replace(region);
  }

  private visible(key: StoredKey, scope: RequestScope): boolean {
    return key.organisation === scope.organisation && (scope.projectId === null || key.projectId === null || key.projectId === scope.projectId);
  }

  private find(scope: RequestScope, region: string, id: string): StoredKey {
    const keys = this.#store.state.keys.filter((k) => k.region === region && this.visible(k, scope));
    const key = keys.find((k) => k.identity === id) ?? keys.find((k) => k.slug === id);
    if (key === undefined) throw notFound(`Key ${JSON.stringify(id.slice(0, 255))} not found in region ${region}.`);
    return key;
  }

  private usable(scope: RequestScope, region: string, id: string, operation: string): StoredKey {
    const key = this.find(scope, region, id);
    if (key.status === 'pending_deletion') throw pendingDeletion(key, operation);
    if (key.status === 'disabled') throw badRequest(`Key ${key.identity} is disabled; enable it before you ${operation} it.`);
    return key;
  }

  private checkNameFree(scope: RequestScope, region: string, name: string, slug: string): void {
    // 409 is scoped by organisation, region and project (FAQ): the same name may live in two projects.
    const sameRegion = this.#store.state.keys.filter((k) => k.organisation === scope.organisation && k.region === region && k.projectId === scope.projectId);
    const clash = sameRegion.find((k) => k.name === name) ?? (slug === '' ? undefined : sameRegion.find((k) => k.slug === slug));
    if (clash !== undefined) {
      const what = clash.name === name ? `named ${JSON.stringify(name)}` : `with slug ${JSON.stringify(slug)}`;
      const pending = clash.status === 'pending_deletion' ? ` (it is pending deletion until ${clash.deleteAfter}; a pending key keeps its name)` : '';
      const project = scope.projectId === null ? 'outside any project' : `in project ${scope.projectId}`;
      throw conflict(`A key ${what} already exists in region ${region} ${project}: ${clash.identity}${pending}.`);
    }
  }

  private version(key: StoredKey, version: number | undefined): StoredKeyVersion {
    const wanted = version ?? key.latestVersion;
    const found = key.versions.find((v) => v.version === wanted);
    if (found === undefined) throw badRequest(`Key ${key.identity} has no version ${wanted}; its latest version is ${key.latestVersion}.`);
    return found;
  }

  private candidateVersions(key: StoredKey, body: JsonObject): StoredKeyVersion[] {
    const wanted = versionField(body, 'keyVersion', MAX_VERSION);
    return wanted === undefined ? [...key.versions].reverse() : [this.version(key, wanted)];
  }

  private async touch(key: StoredKey): Promise<void> {
    key.updatedAt = new Date().toISOString();
    key.objectVersion += 1;
    await this.#store.commit();
  }
}

/** Slug rule of the API contract: lowercase, runs outside [a-z0-9] become "-", trimmed of "-". */
export function slugOf(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

function typeOf(key: StoredKey): KeyType {
  return KEY_TYPES[key.keyType as keyof typeof KEY_TYPES];
}

function materialOf(version: StoredKeyVersion): Buffer {
  return Buffer.from(version.material, 'base64');
}

/** The Ed25519ctx context string of sign (and, as an emulator extension, verify): base64, 1..255 bytes; empty = none. */
function contextOf(body: JsonObject): Buffer | undefined {
  if (body.context === '') return undefined;
  return base64Field(body, 'context', { min: 1, max: 255 });
}

function periodRequired(): Error {
  return badRequest('"rotationPeriodInDays" (1..3650) is required when "keyRotationEnabled" is true; send it with the rotation setting.');
}

function rotationRefused(key: StoredKey): Error {
  return badRequest(`Key ${key.identity} is an imported key created without "allowRotation": true; it cannot be rotated, and rotation settings cannot be enabled.`);
}

function pendingDeletion(key: StoredKey, operation: string): Error {
  return badRequest(`Key ${key.identity} is pending deletion (scheduled for ${key.deleteAfter}); cancel the deletion before you ${operation} it.`);
}

/**
 * The API view, shaped as the official Go client decodes `KmsKey` (thalassa-kms-api.md, "What the official
 * client and provider show"): empty optionals are omitted rather than sent as null, `organisation` is an
 * object, and fields the client does not know (`allowRotation`, `region`) are not sent. `deletionScheduledAt`
 * is the one addition, present only while pending deletion; docs/emulator.md says why.
 */
