/**
 * Fuzzing the wrapping side: the wrapped-blob parser (`unwrap`, what the KMS runs on import), `kwpUnwrap`,
 * `WrappingKey.fromPem` / `fromApiResponse` (with and without a pin) and `PreWrappedKeyMaterial`.
 *
 * The property: arbitrary or damaged input yields a WrappingError / KeyMaterialError with a known code (or,
 * for a harmless change, the same result as the original) — never another exception — and no message
 * contains the material or the blob.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { KeyMaterial, PreWrappedKeyMaterial } from '../../src/material';
import { kwpUnwrap, unwrap, WRAP_HASHES, wrap, WrappingKey } from '../../src/wrapping';
import { expectNoLeak } from '../support/no-leak';
import { fuzzParams, fuzzTimeout, mutate, mutationArb, typedOutcome } from './fuzz-config';

const BLOB_CODES = new Set(['HASH_UNSUPPORTED', 'BLOB_LENGTH', 'BLOB_UNWRAP', 'BLOB_EPHEMERAL_LENGTH', 'WRAPPING_KEY_INVALID']);
const WRAPPING_KEY_CODES = new Set(['WRAPPING_KEY_INVALID', 'WRAPPING_KEY_NOT_RSA', 'WRAPPING_KEY_TOO_SMALL', 'WRAPPING_KEY_PIN_MISMATCH']);
const PRE_WRAPPED_CODES = new Set(['MATERIAL_FORMAT', 'MATERIAL_SOURCE']);

const hashArb = fc.oneof(fc.constantFrom<string | undefined>(...WRAP_HASHES, undefined, 'SHA-256', 'Sha384'), fc.string({ maxLength: 12 }));

let wrappingPrivate: KeyObject;
let wrappingKey: WrappingKey;
let otherPem: string;
let material: Buffer;
const blobs: { hash: (typeof WRAP_HASHES)[number]; blob: Buffer }[] = [];

beforeAll(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  wrappingPrivate = pair.privateKey;
  wrappingKey = WrappingKey.fromPem(pair.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  otherPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
  material = randomBytes(32);
  const canonical = KeyMaterial.fromBytes(material, { format: 'raw' }).load('aes256-gcm96');
  for (const hash of WRAP_HASHES) blobs.push({ hash, blob: wrap(canonical, wrappingKey, { hash }) });
});

describe('unwrap (the wrapped-blob parser)', () => {
  it('arbitrary blobs and hash names: a typed error', () => {
    const blobArb = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      // the right shape: exactly the modulus length of RSA-OAEP followed by whole semiblocks
      fc.tuple(fc.uint8Array({ minLength: 256, maxLength: 256 }), fc.integer({ min: 0, max: 8 }).chain((n) => fc.uint8Array({ minLength: n * 8, maxLength: n * 8 })))
        .map(([a, b]) => Buffer.concat([a, b])),
    );
    fc.assert(fc.property(blobArb, hashArb, (blob, hash) => {
      const outcome = typedOutcome(() => unwrap(blob, wrappingPrivate, { hash }), BLOB_CODES);
      // 2^-64 (KWP) at best: an arbitrary blob never unwraps.
      expect(outcome.value).toBeUndefined();
    }), fuzzParams(600));
  }, fuzzTimeout(30_000));

  it('damaged valid blobs: a typed error without the material or the blob, or the original material', () => {
    fc.assert(fc.property(fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), fc.boolean(), (pick, mutations, wrongHash) => {
      const { hash, blob } = blobs[pick % blobs.length];
      const damaged = mutations.reduce<Buffer>((b, m) => mutate(b, m), blob);
      const useHash = wrongHash ? WRAP_HASHES[(WRAP_HASHES.indexOf(hash) + 1) % WRAP_HASHES.length] : hash;
      const outcome = typedOutcome(() => unwrap(damaged, wrappingPrivate, { hash: useHash }), BLOB_CODES);
      if (outcome.error) {
        expectNoLeak(`${outcome.error.message}\n${inspect(outcome.error)}`, material, blob);
      } else {
        // Only an unchanged blob under its own hash unwraps, and then to exactly the material.
        expect(damaged.equals(blob) && useHash === hash).toBe(true);
        expect(outcome.value!.equals(material)).toBe(true);
      }
    }), fuzzParams(600));
  }, fuzzTimeout(30_000));

  it('kwpUnwrap: arbitrary ciphertext under arbitrary keys is undefined, never a throw', () => {
    fc.assert(fc.property(fc.constantFrom(16, 24, 32), fc.uint8Array({ maxLength: 200 }), (keyBytes, ciphertext) => {
      expect(kwpUnwrap(randomBytes(keyBytes), ciphertext)).toBeUndefined();
    }), fuzzParams(1000));
  }, fuzzTimeout(30_000));
});

describe('WrappingKey', () => {
  const pinArb = fc.option(fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^spki-sha256:[0-9a-f]{64}$/)), { nil: undefined });

  it('fromPem: arbitrary text and PEM-framed garbage, with arbitrary pins: a typed error', () => {
    const label = fc.constantFrom('PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE', 'PRIVATE KEY', 'X');
    const framed = fc.tuple(label, fc.uint8Array({ maxLength: 600 })).map(([l, b]) => `-----BEGIN ${l}-----\n${Buffer.from(b).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END ${l}-----\n`);
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), framed), pinArb, (pem, pin) => {
      typedOutcome(() => WrappingKey.fromPem(pem, { pin }), WRAPPING_KEY_CODES);
    }), fuzzParams(800));
  }, fuzzTimeout(30_000));

  it('fromPem: a damaged wrapping key is refused, or (pinned) accepted only when it is still the pinned key', () => {
    fc.assert(fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 2 }), fc.boolean(), (mutations, pinned) => {
      const damaged = mutations.reduce<Buffer>((b, m) => mutate(b, m), Buffer.from(wrappingKey.pem)).toString('latin1');
      const outcome = typedOutcome(() => WrappingKey.fromPem(damaged, pinned ? { pin: wrappingKey.fingerprint } : {}), WRAPPING_KEY_CODES);
      if (outcome.value && pinned) expect(outcome.value.fingerprint).toBe(wrappingKey.fingerprint);
    }), fuzzParams(600));
  }, fuzzTimeout(30_000));

  it('a substituted key never passes the pin', () => {
    fc.assert(fc.property(fc.boolean(), (viaApi) => {
      const outcome = typedOutcome(
        () => (viaApi ? WrappingKey.fromApiResponse({ publicKey: otherPem }, { pin: wrappingKey.fingerprint }) : WrappingKey.fromPem(otherPem, { pin: wrappingKey.fingerprint })),
        WRAPPING_KEY_CODES,
      );
      expect(outcome.error?.code).toBe('WRAPPING_KEY_PIN_MISMATCH');
    }), fuzzParams(4));
  });

  it('fromApiResponse: arbitrary strings, JSON values and {publicKey, algorithm} objects: a typed error', () => {
    const bodyArb = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.record({ publicKey: fc.oneof(fc.string({ maxLength: 200 }), fc.constant(otherPem.slice(0, 200))), algorithm: fc.oneof(fc.string(), fc.integer()) }).map((o) => JSON.stringify(o)),
    );
    fc.assert(fc.property(bodyArb, fc.boolean(), pinArb, (body, parsed, pin) => {
      typedOutcome(() => {
        let value: unknown = body;
        if (parsed) {
          try { value = JSON.parse(body); } catch { value = body; }
        }
        return WrappingKey.fromApiResponse(value as string, { pin });
      }, WRAPPING_KEY_CODES);
    }), fuzzParams(800));
  }, fuzzTimeout(30_000));
});

describe('PreWrappedKeyMaterial', () => {
  it('arbitrary blobs (bytes or text) and fingerprints: a typed error, and the object never prints its blob', () => {
    const blobArb = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 300 }), fc.uint8Array({ minLength: 24, maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')));
    const fingerprintArb = fc.oneof(fc.string({ maxLength: 140 }), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9:._-]{5,127}$/), fc.constant(undefined as unknown as string));
    fc.assert(fc.property(blobArb, fingerprintArb, (blob, fingerprint) => {
      const outcome = typedOutcome(() => KeyMaterial.preWrapped(blob, { fingerprint }), PRE_WRAPPED_CODES);
      const bytes = typeof blob === 'string' ? Buffer.from(blob, 'latin1') : Buffer.from(blob);
      // Secrets under 16 bytes are compared whole, and one or two bytes of hex occur in any text by chance.
      if (outcome.value && outcome.value.blob().length >= 16) {
        const shown = `${String(outcome.value)}\n${JSON.stringify(outcome.value)}\n${inspect(outcome.value, { showHidden: true, depth: 5 })}`;
        expectNoLeak(shown, outcome.value.blob());
      } else if (bytes.length >= 16) {
        expectNoLeak(outcome.error!.message, bytes);
      }
    }), fuzzParams(800));
  }, fuzzTimeout(30_000));

  it('a damaged pre-wrapped blob is rejected by unwrap with a typed error', () => {
    fc.assert(fc.property(fc.nat(), mutationArb, (pick, mutation) => {
      const { hash, blob } = blobs[pick % blobs.length];
      const damaged = mutate(blob, mutation);
      const pre = new PreWrappedKeyMaterial(damaged.length === 0 ? Buffer.from([0]) : damaged, { fingerprint: 'kcv:abcdef' });
      const outcome = typedOutcome(() => unwrap(pre.blob(), wrappingPrivate, { hash }), BLOB_CODES);
      if (outcome.value) expect(outcome.value.equals(material)).toBe(true);
    }), fuzzParams(300));
  }, fuzzTimeout(30_000));
});
