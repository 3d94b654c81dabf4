/**
 * Wrapping and fingerprinting a key inside a PKCS#11 token, synchronously (pkcs11js is synchronous, and so is
 * cdktf synth). The plaintext key is never requested from the token: only its public attributes, a check value
 * the token computes, and the wrapped blob leave it.
 *
 *     session AES-256 key  = C_GenerateKey(CKM_AES_KEY_GEN)            -- a session object, sensitive
 *     wrappedKey           = C_WrapKey(CKM_AES_KEY_WRAP_PAD, session key, target key)
 *     wrapping key         = C_CreateObject(RSA public key, session object)
 *     wrappedEph           = C_WrapKey(CKM_RSA_PKCS_OAEP(H, MGF1-H), wrapping key, session key)
 *     blob                 = wrappedEph || wrappedKey                    -- shared/design/thalassa-kms-api.md
 *
 * Both session objects are destroyed, the session logged out and closed, and the module finalized, whatever
 * happens.
 */
import type * as Pkcs11Js from 'pkcs11js';
import { shownPath, shownVariable } from '../disclosure';
import { importableKeyType, type ImportableKeyType } from '../key-types';
import { parseWrapHash, type WrapHash, type WrappingKey } from '../wrapping';
import { loadBinding, type Pkcs11Binding } from './binding';
import { HsmError } from './errors';
import { ckr, ignoreErrors, printable, reason } from './token-text';
import { TokenSession, type Handle } from './token-session';

/** Where a key lives in a PKCS#11 token. */
export interface Pkcs11KeyRef {
  /** Path of the token's PKCS#11 module (shared library), e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  readonly module: string;
  /** The token's label (`CKA_LABEL` of the token, as `pkcs11-tool -L` shows it); selects the slot. */
  readonly tokenLabel: string;
  /**
   * The NAME of the environment variable holding the user PIN. The PIN itself never appears in code,
   * configuration, output or errors.
   */
  readonly pinEnv: string;
  /** The key's `CKA_LABEL`. Exactly one of `keyLabel` and `keyId`. */
  readonly keyLabel?: string;
  /** The key's `CKA_ID`, as hex. Exactly one of `keyLabel` and `keyId`. */
  readonly keyId?: string;
}

/** Options of {@link wrapInToken}. */
export interface TokenWrapOptions {
  /**
   * The OAEP hash (and MGF1 hash). `auto` uses SHA-256 where the token accepts it and falls back to SHA-1
   * (all SoftHSM2 2.6.1 offers); a named hash is used or the wrap fails.
   * @default 'auto'
   */
  readonly hash?: 'auto' | WrapHash;
}

/** A blob wrapped inside a token, ready for import. */
export interface TokenWrapResult {
  /** The wrapped blob (base64 it for `importKeyMaterial`). */
  readonly blob: Buffer;
  /** `spki-sha256:…` (asymmetric), `cmac-aes:…` or `kcv-aes:…` (symmetric). */
  readonly fingerprint: string;
  /**
   * Symmetric keys that may sign (`CKA_SIGN`): `cmac-aes:` + the token's AES-CMAC over the commitment label,
   * the proof import records and adoption asks for. Undefined for asymmetric keys (their public key proves
   * them) and for a symmetric key that may not sign: such a key is never adopted.
   */
  readonly commitment?: string;
  /** The OAEP hash actually used: send it as the import's `hashFunction`. */
  readonly hashFunction: WrapHash;
  /** The key type the key was checked against. */
  readonly keyType: string;
}

const CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191;

/**
 * Wraps the key `ref` names, inside its token, for import with `wrappingKey`; checks it against `keyType` and
 * fingerprints it there. Synchronous.
 * @throws HsmError naming what is wrong (never the PIN); KeyTypeError for an unknown or HMAC key type
 */
export function wrapInToken(ref: Pkcs11KeyRef, keyType: string | ImportableKeyType, wrappingKey: WrappingKey, options: TokenWrapOptions = {}): TokenWrapResult {
  const type = typeof keyType === 'string' ? importableKeyType(keyType) : keyType;
  const hashes: WrapHash[] = options.hash === undefined || options.hash === 'auto' ? ['sha256', 'sha1'] : [parseWrapHash(options.hash)];
  return withSession(ref, type, (t) => {
    const key = t.findKey();
    t.checkKeyType(key);
    t.checkWrappable(key);
    const fingerprint = t.fingerprint(key);
    const commitment = t.commitment(key);
    t.requireMechanisms(['CKM_AES_KEY_GEN', 'CKM_AES_KEY_WRAP_PAD', 'CKM_RSA_PKCS_OAEP']);
    const sessionKey = t.generateSessionAesKey();
    try {
      const wrappedKey = t.wrap({ mechanism: t.b.CKM_AES_KEY_WRAP_PAD }, sessionKey, key, 'the key with CKM_AES_KEY_WRAP_PAD');
      const rsa = t.importWrappingKey(wrappingKey);
      try {
        const { wrapped, hash } = t.wrapOaep(rsa, sessionKey, hashes);
        if (wrapped.length !== wrappingKey.modulusBytes) {
          throw new HsmError('HSM_OPERATION', `The token's RSA-OAEP wrap is ${wrapped.length} bytes; the wrapping key's modulus is ${wrappingKey.modulusBytes}.`);
        }
        return { blob: Buffer.concat([wrapped, wrappedKey]), fingerprint, ...(commitment === undefined ? {} : { commitment }), hashFunction: hash, keyType: type.name };
      } finally {
        t.destroy(rsa);
      }
    } finally {
      t.destroy(sessionKey);
    }
  });
}

/**
 * The fingerprint of the key `ref` names, computed from the token (public key, or a check value the token
 * computes), after checking it against `keyType`. Synchronous.
 */
export function fingerprintInToken(ref: Pkcs11KeyRef, keyType: string | ImportableKeyType): string {
  const type = typeof keyType === 'string' ? importableKeyType(keyType) : keyType;
  return withSession(ref, type, (t) => {
    const key = t.findKey();
    t.checkKeyType(key);
    return t.fingerprint(key);
  });
}

function withSession<T>(ref: Pkcs11KeyRef, type: ImportableKeyType, fn: (t: TokenSession) => T): T {
  checkRef(ref);
  if (type.category === 'symmetric' && type.cipher === 'chacha20-poly1305') {
    throw new HsmError(
      'HSM_KEY_TYPE_UNSUPPORTED',
      `Key type ${type.name} cannot be wrapped from a PKCS#11 token by this package: it handles AES keys only (SoftHSM2 and most HSMs cannot hold ChaCha20 keys). Use an AES key type, or wrap the ChaCha20 key from a file.`,
    );
  }
  const variable = ref.pinEnv;
  const pin = process.env[variable];
  if (pin === undefined || pin === '') {
    throw new HsmError('HSM_PIN_MISSING', `The PIN of token "${printable(ref.tokenLabel)}" is read from environment variable ${shownVariable(variable)}, which is not set or empty. Export it before running.`);
  }
  const binding = loadBinding();
  const p = new binding.PKCS11();
  const module = shownPath(ref.module);
  try {
    p.load(ref.module);
  } catch (err) {
    throw new HsmError('HSM_MODULE', `Cannot load the PKCS#11 module ${module}: ${reason(err)}. Check the path of the token's shared library (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so).`);
  }
  let initialized = false;
  try {
    try {
      p.C_Initialize();
      initialized = true;
    } catch (err) {
      if (ckr(err) !== CKR_CRYPTOKI_ALREADY_INITIALIZED) throw new HsmError('HSM_MODULE', `The PKCS#11 module ${module} does not initialize: ${reason(err)}.`);
    }
    const slot = findSlot(p, ref, module);
    // Read-only: session objects need no write access to the token, and nothing here touches token objects.
    const session = p.C_OpenSession(slot, binding.CKF_SERIAL_SESSION);
    try {
      const loggedIn = login(binding, p, session, pin, ref);
      try {
        return fn(new TokenSession(binding, p, slot, session, ref, type));
      } finally {
        if (loggedIn) ignoreErrors(() => p.C_Logout(session));
      }
    } finally {
      ignoreErrors(() => p.C_CloseSession(session));
    }
  } catch (err) {
    if (err instanceof HsmError) throw err;
    throw new HsmError('HSM_OPERATION', `The token "${printable(ref.tokenLabel)}" (module ${module}) refused an operation: ${reason(err)}.`);
  } finally {
    if (initialized) ignoreErrors(() => p.C_Finalize());
    ignoreErrors(() => p.close());
  }
}

function checkRef(ref: Pkcs11KeyRef): void {
  const missing = (['module', 'tokenLabel', 'pinEnv'] as const).filter((k) => typeof ref?.[k] !== 'string' || ref[k] === '');
  if (missing.length > 0) throw new HsmError('HSM_KEY_NOT_FOUND', `A PKCS#11 key needs ${missing.join(', ')} (non-empty strings).`);
  const byLabel = typeof ref.keyLabel === 'string' && ref.keyLabel !== '';
  const byId = typeof ref.keyId === 'string' && ref.keyId !== '';
  if (byLabel === byId) throw new HsmError('HSM_KEY_NOT_FOUND', 'A PKCS#11 key is named by exactly one of keyLabel (CKA_LABEL) and keyId (CKA_ID, hex).');
  if (byId && !/^(?:[0-9a-fA-F]{2})+$/.test(ref.keyId as string)) {
    throw new HsmError('HSM_KEY_NOT_FOUND', `keyId must be the key's CKA_ID as hex (an even number of 0-9a-f digits); received ${(ref.keyId as string).length} characters that are not.`);
  }
}

function findSlot(p: Pkcs11Js.PKCS11, ref: Pkcs11KeyRef, module: string): Handle {
  const labels: string[] = [];
  for (const slot of p.C_GetSlotList(true)) {
    const label = p.C_GetTokenInfo(slot).label.trim();
    if (label === ref.tokenLabel) return slot;
    labels.push(`"${printable(label)}"`);
  }
  throw new HsmError(
    'HSM_TOKEN_NOT_FOUND',
    `No token labelled "${printable(ref.tokenLabel)}" in PKCS#11 module ${module}; tokens present: ${labels.length > 0 ? labels.join(', ') : 'none'}.`,
  );
}

function login(b: Pkcs11Binding, p: Pkcs11Js.PKCS11, session: Handle, pin: string, ref: Pkcs11KeyRef): boolean {
  try {
    p.C_Login(session, b.CKU_USER, pin);
    return true;
  } catch (err) {
    const code = ckr(err);
    if (code === b.CKR_USER_ALREADY_LOGGED_IN) return false;
    const token = `token "${printable(ref.tokenLabel)}"`;
    const from = `the PIN from environment variable ${shownVariable(ref.pinEnv)}`;
    if (code === b.CKR_PIN_INCORRECT) throw new HsmError('HSM_PIN_WRONG', `The ${token} refused ${from} (CKR_PIN_INCORRECT). Repeated wrong PINs lock the token.`);
    if (code === b.CKR_PIN_LOCKED) throw new HsmError('HSM_PIN_LOCKED', `The user PIN of ${token} is locked (CKR_PIN_LOCKED); the token's security officer must unlock it.`);
    if (code === b.CKR_PIN_LEN_RANGE || code === b.CKR_PIN_INVALID) throw new HsmError('HSM_PIN_WRONG', `The ${token} refused ${from} as malformed (${reason(err)}).`);
    throw new HsmError('HSM_OPERATION', `Login to ${token} failed: ${reason(err)}.`);
  }
}
