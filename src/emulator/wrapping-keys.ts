/**
 * The emulated KMS's wrapping keys: one RSA-4096 key per region, made on first use and kept in the state, and
 * what the KMS does with an import's blob (unwrap it, check the material against the key type).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { importableKeyType, KeyTypeError } from '../key-types';
import { KeyMaterialError, parseCanonicalMaterial } from '../material';
import { parseWrapHash, unwrap, WrappingError } from '../wrapping';
import * as ops from './crypto-ops';
import { badRequest } from './errors';
import { stripKwpZeroPadding } from './kwp-zero-padding';
import type { StateStore } from './store';

const WRAPPING_KEY_BITS = 4096;

export class RegionWrappingKeys {
  readonly #store: StateStore;
  readonly #keys = new Map<string, Promise<KeyObject>>();

  constructor(store: StateStore) {
    this.#store = store;
  }

  /** The region's public wrapping key as SPKI PEM. */
  async publicKeyPem(region: string): Promise<string> {
    return createPublicKey(await this.privateKey(region)).export({ format: 'pem', type: 'spki' }).toString();
  }

  /** The canonical material in `wrapped`, checked against `typeName`; a 400 naming what is wrong otherwise. */
  async unwrapMaterial(region: string, typeName: string, wrapped: Buffer, hashName: string | undefined): Promise<Buffer> {
    try {
      const type = importableKeyType(typeName);
      const hash = parseWrapHash(hashName);
      // SoftHSM2 pads PKCS#8 with zeros to a multiple of 8 inside the key wrap: see kwp-zero-padding.ts.
      const material = stripKwpZeroPadding(unwrap(wrapped, await this.privateKey(region), { hash }), type);
      try {
        parseCanonicalMaterial(material, type);
      } catch (err) {
        material.fill(0);
        throw err;
      }
      return material;
    } catch (err) {
      if (err instanceof KeyTypeError) throw badRequest(`HMAC keys cannot be imported: ${err.message}`);
      if (err instanceof WrappingError) throw badRequest(`importKeyMaterial cannot be unwrapped: ${err.message}`);
      if (err instanceof KeyMaterialError) throw badRequest(`The unwrapped key material does not match keyType ${typeName}: ${err.message}`);
      throw err;
    }
  }

  /** A new wrapping key for the region, replacing the stored one (tests only). */
  async replace(region: string): Promise<void> {
    await this.privateKey(region).catch(() => undefined);
    delete this.#store.state.wrappingKeys[region];
    const key = this.loadOrCreate(region);
    this.#keys.set(region, key);
    await key;
  }

  private privateKey(region: string): Promise<KeyObject> {
    let key = this.#keys.get(region);
    if (key === undefined) {
      key = this.loadOrCreate(region);
      this.#keys.set(region, key);
      // A failed generation must not poison the region for good.
      key.catch(() => this.#keys.delete(region));
    }
    return key;
  }

  private async loadOrCreate(region: string): Promise<KeyObject> {
    const stored = this.#store.state.wrappingKeys[region];
    if (stored !== undefined) return createPrivateKey(stored.privateKeyPem);
    const privateKey = await ops.generatePrivateKey({ type: 'rsa', modulusLength: WRAPPING_KEY_BITS });
    this.#store.state.wrappingKeys[region] = {
      privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      createdAt: new Date().toISOString(),
    };
    await this.#store.commit();
    return privateKey;
  }
}
