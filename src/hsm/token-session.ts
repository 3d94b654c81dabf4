/**
 * One logged-in PKCS#11 session (token.ts opens and closes it) and the operations wrapping needs: finding the
 * key, checking it against the key type, fingerprinting it, generating the session AES key, importing the
 * wrapping key as a session object, and the two wraps. Nothing here asks the token for a key's value.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type * as Pkcs11Js from 'pkcs11js';
import type { ImportableKeyType } from '../key-types';
import { COMMITMENT_LABEL, SYMMETRIC_FINGERPRINT_LABEL, spkiFingerprint } from '../material';
import type { WrapHash, WrappingKey } from '../wrapping';
import type { Pkcs11Binding } from './binding';
import { HsmError } from './errors';
import { ckr, ignoreErrors, printable, reason } from './token-text';
import type { Pkcs11KeyRef } from './token';

// PKCS#11 v3 values that pkcs11js 2.1 does not name.
const CKK_EC_EDWARDS = 0x40;
const CKZ_DATA_SPECIFIED = 0x1;
const WRAP_BUFFER_BYTES = 16384;

const CURVE_PARAMS: Record<string, readonly string[]> = {
  'P-256': ['06082a8648ce3d030107'],
  'P-384': ['06052b81040022'],
  'P-521': ['06052b81040023'],
  // RFC 8410 OID, or the PrintableString "edwards25519" some tokens (SoftHSM2 among them) use.
  'Ed25519': ['06032b6570', '130c656477617264733235353139'],
};

export type Handle = Buffer;

/** One logged-in session, and the operations wrapping needs. */
export class TokenSession {
  constructor(
    readonly b: Pkcs11Binding,
    readonly p: Pkcs11Js.PKCS11,
    private readonly slot: Handle,
    private readonly session: Handle,
    private readonly ref: Pkcs11KeyRef,
    private readonly type: ImportableKeyType,
  ) {}

  private get keyName(): string {
    return this.ref.keyLabel !== undefined && this.ref.keyLabel !== '' ? `key labelled "${printable(this.ref.keyLabel)}"` : `key with CKA_ID ${this.ref.keyId}`;
  }

  private get where(): string {
    return `in token "${printable(this.ref.tokenLabel)}"`;
  }

  private find(template: Pkcs11Js.Template): Handle[] {
    this.p.C_FindObjectsInit(this.session, template);
    try {
      return this.p.C_FindObjects(this.session, 8);
    } finally {
      this.p.C_FindObjectsFinal(this.session);
    }
  }

  private selector(): Pkcs11Js.Template {
    return this.ref.keyLabel !== undefined && this.ref.keyLabel !== ''
      ? [{ type: this.b.CKA_LABEL, value: this.ref.keyLabel }]
      : [{ type: this.b.CKA_ID, value: Buffer.from(this.ref.keyId as string, 'hex') }];
  }

  /** The secret (symmetric) or private (asymmetric) key object. */
  findKey(): Handle {
    const wanted = this.type.category === 'symmetric' ? this.b.CKO_SECRET_KEY : this.b.CKO_PRIVATE_KEY;
    const found = this.find([{ type: this.b.CKA_CLASS, value: wanted }, ...this.selector()]);
    if (found.length === 1) return found[0];
    const kind = this.type.category === 'symmetric' ? 'secret key' : 'private key';
    if (found.length > 1) {
      throw new HsmError('HSM_KEY_AMBIGUOUS', `${found.length} ${kind} objects match the ${this.keyName} ${this.where}; name the key by a unique label or by keyId (CKA_ID).`);
    }
    const others = this.find(this.selector()).map((h) => className(this.b, this.ulong(h, this.b.CKA_CLASS)));
    throw new HsmError(
      'HSM_KEY_NOT_FOUND',
      `No ${kind} object is the ${this.keyName} ${this.where} (key type ${this.type.name} needs a ${kind})` +
        (others.length > 0 ? `; objects with that name: ${others.join(', ')}.` : '. Check the label or id, and that the PIN is the user PIN of this token.'),
    );
  }

  private attribute(handle: Handle, attribute: number): Buffer | undefined {
    try {
      const [result] = this.p.C_GetAttributeValue(this.session, handle, [{ type: attribute }]);
      return result?.value === undefined ? undefined : Buffer.from(result.value);
    } catch {
      return undefined;
    }
  }

  private ulong(handle: Handle, attribute: number): number | undefined {
    const value = this.attribute(handle, attribute);
    if (value === undefined || value.length === 0 || value.length > 8) return undefined;
    return value.length === 8 ? Number(value.readBigUInt64LE(0)) : value.readUIntLE(0, Math.min(value.length, 6));
  }

  private bool(handle: Handle, attribute: number): boolean | undefined {
    const value = this.attribute(handle, attribute);
    return value === undefined || value.length === 0 ? undefined : value[0] !== 0;
  }

  /** The key's algorithm, size or curve against the key type; HSM_KEY_TYPE_MISMATCH otherwise. */
  checkKeyType(key: Handle): void {
    const t = this.type;
    const kt = this.ulong(key, this.b.CKA_KEY_TYPE);
    const mismatch = (received: string): HsmError =>
      new HsmError('HSM_KEY_TYPE_MISMATCH', `The ${this.keyName} ${this.where} is ${received}; key type ${t.name} needs ${expectedKey(t)}.`);
    if (t.category === 'symmetric') {
      if (kt !== this.b.CKK_AES) throw mismatch(`a secret key of type ${keyTypeName(this.b, kt)}`);
      const length = this.ulong(key, this.b.CKA_VALUE_LEN);
      if (length !== t.sizeBytes) throw mismatch(`an AES key of ${length === undefined ? 'unknown length' : `${length * 8} bits`}`);
      return;
    }
    if (t.category === 'rsa') {
      if (kt !== this.b.CKK_RSA) throw mismatch(`a ${keyTypeName(this.b, kt)} private key`);
      const bits = bitLength(this.attribute(key, this.b.CKA_MODULUS));
      if (bits !== t.modulusBits) throw mismatch(`an RSA key of ${bits === 0 ? 'unknown size' : `${bits} bits`}`);
      return;
    }
    const curve = t.category === 'ecdsa' ? t.curve : 'Ed25519';
    const wantedType = t.category === 'ecdsa' ? this.b.CKK_EC : CKK_EC_EDWARDS;
    if (kt !== wantedType) throw mismatch(`a ${keyTypeName(this.b, kt)} private key`);
    const params = this.attribute(key, this.b.CKA_EC_PARAMS)?.toString('hex');
    if (params === undefined || !CURVE_PARAMS[curve].includes(params)) throw mismatch(`a key on ${curveName(params)}`);
  }

  /** Refuses, before trying, a key the token will not wrap with a session key. */
  checkWrappable(key: Handle): void {
    if (this.bool(key, this.b.CKA_EXTRACTABLE) === false) {
      throw new HsmError(
        'HSM_KEY_NOT_EXTRACTABLE',
        `The ${this.keyName} ${this.where} is not extractable (CKA_EXTRACTABLE is false), so the token will not wrap it for import. ` +
          'A key can be imported only if the HSM administrator created it extractable (pkcs11-tool --extractable); CKA_EXTRACTABLE can never be turned on later.',
      );
    }
    if (this.bool(key, this.b.CKA_WRAP_WITH_TRUSTED) === true) {
      throw new HsmError(
        'HSM_KEY_NOT_EXTRACTABLE',
        `The ${this.keyName} ${this.where} may be wrapped only with a trusted key (CKA_WRAP_WITH_TRUSTED is true); the session key this wrap uses is not trusted.`,
      );
    }
  }

  /** The fingerprint, computed from the token: public key (asymmetric) or a check value (symmetric). */
  fingerprint(key: Handle): string {
    if (this.type.category === 'symmetric') return this.checkValue(key);
    return spkiFingerprint(this.publicKey(key));
  }

  /** A symmetric key's commitment, `cmac-aes:` over COMMITMENT_LABEL, if the key may sign; else undefined. */
  commitment(key: Handle): string | undefined {
    if (this.type.category !== 'symmetric' || this.bool(key, this.b.CKA_SIGN) !== true) return undefined;
    return `cmac-aes:${this.cmac(key, COMMITMENT_LABEL)}`;
  }

  private cmac(key: Handle, label: string): string {
    this.requireMechanisms(['CKM_AES_CMAC']);
    this.p.C_SignInit(this.session, { mechanism: this.b.CKM_AES_CMAC }, key);
    return Buffer.from(this.p.C_Sign(this.session, Buffer.from(label, 'ascii'), Buffer.alloc(16))).toString('hex');
  }

  private checkValue(key: Handle): string {
    const b = this.b;
    if (this.bool(key, b.CKA_SIGN) === true) {
      return `cmac-aes:${this.cmac(key, SYMMETRIC_FINGERPRINT_LABEL)}`;
    }
    if (this.bool(key, b.CKA_ENCRYPT) === true) {
      this.requireMechanisms(['CKM_AES_ECB']);
      this.p.C_EncryptInit(this.session, { mechanism: b.CKM_AES_ECB }, key);
      const block = this.p.C_Encrypt(this.session, Buffer.alloc(16), Buffer.alloc(16));
      return `kcv-aes:${Buffer.from(block).toString('hex')}`;
    }
    throw new HsmError(
      'HSM_NO_CHECK_OPERATION',
      `The ${this.keyName} ${this.where} allows neither CKA_SIGN (for an AES-CMAC check value) nor CKA_ENCRYPT (for a classic KCV), so its fingerprint cannot be computed without reading the key. ` +
        'Create the key with sign or encrypt usage, or give a pre-wrapped blob its fingerprint yourself.',
    );
  }

  private publicKey(key: Handle): KeyObject {
    const b = this.b;
    if (this.type.category === 'rsa') {
      const n = this.attribute(key, b.CKA_MODULUS);
      const e = this.attribute(key, b.CKA_PUBLIC_EXPONENT);
      if (n !== undefined && e !== undefined && n.length > 0 && e.length > 0) return createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
    }
    const id = this.attribute(key, b.CKA_ID);
    const template: Pkcs11Js.Template = id !== undefined && id.length > 0
      ? [{ type: b.CKA_CLASS, value: b.CKO_PUBLIC_KEY }, { type: b.CKA_ID, value: id }]
      : [{ type: b.CKA_CLASS, value: b.CKO_PUBLIC_KEY }, ...this.selector()];
    const candidates = this.find(template);
    if (candidates.length !== 1) {
      throw new HsmError(
        'HSM_PUBLIC_KEY_NOT_FOUND',
        `The fingerprint of the ${this.keyName} ${this.where} is its public key's, but ${candidates.length === 0 ? 'no public key object' : `${candidates.length} public key objects`} ` +
          `${id !== undefined && id.length > 0 ? 'share its CKA_ID' : 'share its label'}. Keep exactly one public key object next to the private key (pkcs11-tool --keypairgen makes one).`,
      );
    }
    const pub = candidates[0];
    if (this.type.category === 'rsa') {
      const n = this.attribute(pub, b.CKA_MODULUS);
      const e = this.attribute(pub, b.CKA_PUBLIC_EXPONENT);
      if (n === undefined || e === undefined) throw new HsmError('HSM_PUBLIC_KEY_NOT_FOUND', `The public key of the ${this.keyName} ${this.where} has no CKA_MODULUS or CKA_PUBLIC_EXPONENT.`);
      return createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
    }
    const point = ecPoint(this.attribute(pub, b.CKA_EC_POINT));
    const params = this.attribute(pub, b.CKA_EC_PARAMS)?.toString('hex');
    const curve = this.type.category === 'ecdsa' ? this.type.curve : 'Ed25519';
    if (point === undefined || (params !== undefined && !CURVE_PARAMS[curve].includes(params))) {
      throw new HsmError('HSM_PUBLIC_KEY_NOT_FOUND', `The public key object of the ${this.keyName} ${this.where} has no usable CKA_EC_POINT on ${curve}.`);
    }
    let jwk: JsonWebKey;
    if (curve === 'Ed25519') {
      if (point.length !== 32) throw new HsmError('HSM_PUBLIC_KEY_NOT_FOUND', `The Ed25519 public key of the ${this.keyName} ${this.where} is ${point.length} bytes, not 32.`);
      jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(point) };
    } else {
      const size = (point.length - 1) / 2;
      if (point[0] !== 0x04 || !Number.isInteger(size)) throw new HsmError('HSM_PUBLIC_KEY_NOT_FOUND', `The EC public key of the ${this.keyName} ${this.where} is not an uncompressed point.`);
      jwk = { kty: 'EC', crv: curve, x: b64url(point.subarray(1, 1 + size)), y: b64url(point.subarray(1 + size)) };
    }
    try {
      return createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      throw new HsmError('HSM_PUBLIC_KEY_NOT_FOUND', `The public key of the ${this.keyName} ${this.where} is not a valid ${curve} point.`);
    }
  }

  requireMechanisms(names: readonly ('CKM_AES_KEY_GEN' | 'CKM_AES_KEY_WRAP_PAD' | 'CKM_RSA_PKCS_OAEP' | 'CKM_AES_CMAC' | 'CKM_AES_ECB')[]): void {
    const offered = new Set(this.p.C_GetMechanismList(this.slot));
    const missing = names.filter((name) => !offered.has(this.b[name]));
    if (missing.length > 0) {
      throw new HsmError(
        'HSM_MECHANISM_MISSING',
        `The token "${printable(this.ref.tokenLabel)}" does not offer ${missing.map((m) => `${m} (0x${this.b[m].toString(16)})`).join(', ')}, which wrapping for import needs.`,
      );
    }
  }

  generateSessionAesKey(): Handle {
    const b = this.b;
    return this.p.C_GenerateKey(this.session, { mechanism: b.CKM_AES_KEY_GEN }, [
      { type: b.CKA_CLASS, value: b.CKO_SECRET_KEY },
      { type: b.CKA_KEY_TYPE, value: b.CKK_AES },
      { type: b.CKA_VALUE_LEN, value: 32 },
      { type: b.CKA_TOKEN, value: false },
      { type: b.CKA_PRIVATE, value: true },
      { type: b.CKA_SENSITIVE, value: true },
      { type: b.CKA_EXTRACTABLE, value: true },
      { type: b.CKA_WRAP, value: true },
      { type: b.CKA_ENCRYPT, value: false },
      { type: b.CKA_DECRYPT, value: false },
      { type: b.CKA_UNWRAP, value: false },
    ]);
  }

  importWrappingKey(wrappingKey: WrappingKey): Handle {
    const b = this.b;
    const jwk = wrappingKey.publicKey.export({ format: 'jwk' });
    return this.p.C_CreateObject(this.session, [
      { type: b.CKA_CLASS, value: b.CKO_PUBLIC_KEY },
      { type: b.CKA_KEY_TYPE, value: b.CKK_RSA },
      { type: b.CKA_TOKEN, value: false },
      { type: b.CKA_LABEL, value: 'thalassa-byok wrapping key (session)' },
      { type: b.CKA_MODULUS, value: Buffer.from(jwk.n as string, 'base64url') },
      { type: b.CKA_PUBLIC_EXPONENT, value: Buffer.from(jwk.e as string, 'base64url') },
      { type: b.CKA_WRAP, value: true },
      { type: b.CKA_ENCRYPT, value: false },
      { type: b.CKA_VERIFY, value: false },
    ]);
  }

  wrap(mechanism: Pkcs11Js.Mechanism, wrappingKey: Handle, key: Handle, what: string): Buffer {
    try {
      return Buffer.from(this.p.C_WrapKey(this.session, mechanism, wrappingKey, key, Buffer.alloc(WRAP_BUFFER_BYTES)));
    } catch (err) {
      const code = ckr(err);
      if (code === this.b.CKR_KEY_NOT_WRAPPABLE || code === this.b.CKR_KEY_UNEXTRACTABLE) {
        throw new HsmError(
          'HSM_KEY_NOT_EXTRACTABLE',
          `The token refused to wrap the ${this.keyName} ${this.where} (${reason(err)}): the key must be extractable (CKA_EXTRACTABLE) and wrappable by a session key` +
            `${this.type.category === 'eddsa' ? ', and the token must support wrapping Ed25519 keys (SoftHSM2 2.6.1 does not)' : ''}. That is the HSM administrator's choice, made when the key is created.`,
        );
      }
      throw new HsmError('HSM_OPERATION', `The token ${this.where.slice(3)} failed to wrap ${what}: ${reason(err)}.`);
    }
  }

  wrapOaep(rsa: Handle, sessionKey: Handle, hashes: readonly WrapHash[]): { wrapped: Buffer; hash: WrapHash } {
    const b = this.b;
    const params: Record<WrapHash, { hashAlg: number; mgf: number }> = {
      sha1: { hashAlg: b.CKM_SHA_1, mgf: b.CKG_MGF1_SHA1 },
      sha256: { hashAlg: b.CKM_SHA256, mgf: b.CKG_MGF1_SHA256 },
      sha384: { hashAlg: b.CKM_SHA384, mgf: b.CKG_MGF1_SHA384 },
      sha512: { hashAlg: b.CKM_SHA512, mgf: b.CKG_MGF1_SHA512 },
    };
    const refusals: string[] = [];
    for (const hash of hashes) {
      const mechanism: Pkcs11Js.Mechanism = {
        mechanism: b.CKM_RSA_PKCS_OAEP,
        parameter: { type: b.CK_PARAMS_RSA_OAEP, ...params[hash], source: CKZ_DATA_SPECIFIED } as Pkcs11Js.RsaOAEP,
      };
      try {
        return { wrapped: Buffer.from(this.p.C_WrapKey(this.session, mechanism, rsa, sessionKey, Buffer.alloc(WRAP_BUFFER_BYTES))), hash };
      } catch (err) {
        refusals.push(`${hash}: ${reason(err)}`);
      }
    }
    throw new HsmError(
      'HSM_HASH_REFUSED',
      `The token "${printable(this.ref.tokenLabel)}" refused CKM_RSA_PKCS_OAEP with ${hashes.map((h) => `${h} (MGF1-${h})`).join(' and ')}: ${refusals.join('; ')}.`,
    );
  }

  destroy(handle: Handle): void {
    ignoreErrors(() => this.p.C_DestroyObject(this.session, handle));
  }
}

function expectedKey(t: ImportableKeyType): string {
  switch (t.category) {
    case 'symmetric': return `an AES key of ${t.sizeBytes * 8} bits (CKK_AES, CKA_VALUE_LEN ${t.sizeBytes})`;
    case 'rsa': return `an RSA private key of ${t.modulusBits} bits`;
    case 'ecdsa': return `an EC private key on ${t.curve}`;
    case 'eddsa': return 'an Ed25519 private key (CKK_EC_EDWARDS)';
  }
}

function keyTypeName(b: Pkcs11Binding, kt: number | undefined): string {
  if (kt === undefined) return 'unknown type';
  if (kt === CKK_EC_EDWARDS) return 'CKK_EC_EDWARDS';
  const names = ['CKK_RSA', 'CKK_EC', 'CKK_AES', 'CKK_DSA', 'CKK_DH', 'CKK_GENERIC_SECRET', 'CKK_DES3', 'CKK_DES'] as const;
  return names.find((n) => b[n] === kt) ?? `0x${kt.toString(16)}`;
}

function className(b: Pkcs11Binding, c: number | undefined): string {
  const names = ['CKO_SECRET_KEY', 'CKO_PRIVATE_KEY', 'CKO_PUBLIC_KEY', 'CKO_CERTIFICATE', 'CKO_DATA'] as const;
  return names.find((n) => b[n] === c) ?? `class ${c === undefined ? 'unknown' : `0x${c.toString(16)}`}`;
}

function curveName(paramsHex: string | undefined): string {
  if (paramsHex === undefined) return 'an unknown curve';
  const found = Object.entries(CURVE_PARAMS).find(([, values]) => values.includes(paramsHex));
  return found ? found[0] : `another curve (CKA_EC_PARAMS ${paramsHex.slice(0, 40)})`;
}

function bitLength(value: Buffer | undefined): number {
  if (value === undefined) return 0;
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  if (i === value.length) return 0;
  return (value.length - i - 1) * 8 + (32 - Math.clz32(value[i]));
}

/** CKA_EC_POINT is a DER OCTET STRING around the point on most tokens, the bare point on some. */
function ecPoint(value: Buffer | undefined): Buffer | undefined {
  if (value === undefined || value.length < 2) return undefined;
  if (value[0] === 0x04) {
    const first = value[1];
    const [length, header] = first < 0x80 ? [first, 2] : first === 0x81 ? [value[2], 3] : first === 0x82 ? [value.readUInt16BE(2), 4] : [-1, 0];
    if (length >= 0 && header + length === value.length) return value.subarray(header);
  }
  return value;
}

function b64url(value: Buffer): string {
  return value.toString('base64url');
}
