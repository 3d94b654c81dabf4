/**
 * The common private keys read without OpenSSL's decoder: unencrypted RSA (PKCS#8, PKCS#1) and ECDSA (PKCS#8,
 * SEC1) keys in strict DER or in PEM with a single key block, and Ed25519 keys in the RFC 8410 PKCS#8 form
 * OpenSSL writes (or as a bare seed). OpenSSL 3 spends ~0.6–0.9 ms decoding a private
 * key and ~0.4 ms more encoding it back to PKCS#8 and SubjectPublicKeyInfo, the largest per-key cost of a
 * synth (bench/README.md); reading the same structures here costs a few microseconds.
 *
 * The one rule: for every input this module accepts, the result is byte for byte what the OpenSSL path of
 * `parse.ts` gives (canonical PKCS#8, SPKI fingerprint); anything else (another structure, an encrypted or
 * odd encoding, a wrong type or size, a point off the curve) is declined, and the OpenSSL path decides it,
 * with its messages. `test/material/well-formed-keys.test.ts` checks the rule against OpenSSL.
 *
 * The private parts are only sliced and copied into the canonical bytes, never into a BigInt (only the public
 * EC point is checked with BigInt arithmetic); a PEM text is a string here as it is for OpenSSL's path.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { EcdsaKeyType, ImportableKeyType, RsaKeyType } from '../key-types';
import { spkiDerFingerprint } from './fingerprint';

/** Canonical PKCS#8 DER and the SPKI fingerprint, as the OpenSSL path computes them. */
export interface WellFormedKey {
  readonly canonical: Buffer;
  readonly fingerprint: string;
}

/**
 * The key when `input` is one of the well-formed encodings of `type`; undefined to let OpenSSL decide. `input`
 * is DER bytes, or the text of what `parse.ts` recognised as PEM.
 */
export function readWellFormedKey(input: { readonly der: Buffer } | { readonly pem: string }, type: ImportableKeyType): WellFormedKey | undefined {
  if (type.category === 'symmetric') return undefined;
  let der: Buffer;
  let pemLabel: string | undefined;
  if ('der' in input) {
    der = input.der;
  } else {
    const pem = singlePemBlock(input.pem);
    if (pem === undefined) return undefined;
    ({ der, label: pemLabel } = pem);
  }
  try {
    if (type.category === 'eddsa') {
      const isV1 = der.length === ED25519_PKCS8_PREFIX.length + 32 && der.subarray(0, ED25519_PKCS8_PREFIX.length).equals(ED25519_PKCS8_PREFIX);
      return isV1 && (pemLabel === undefined || pemLabel === 'PRIVATE KEY') ? readEd25519Seed(der.subarray(ED25519_PKCS8_PREFIX.length)) : undefined;
    }
    if (type.category === 'rsa') {
      const rsaKey = pemLabel === 'RSA PRIVATE KEY' ? der : pemLabel === 'PRIVATE KEY' ? pkcs8Inner(der, RSA_ALGORITHM) : pkcs8Inner(der, RSA_ALGORITHM) ?? der;
      return rsaKey === undefined ? undefined : readRsa(rsaKey, type);
    }
    if (pemLabel === 'RSA PRIVATE KEY') return undefined;
    const curve = CURVES[type.namedCurve];
    const inner = pemLabel === 'EC PRIVATE KEY' ? undefined : pkcs8Inner(der, ecAlgorithm(curve.oid));
    if (inner !== undefined) return readEc(inner, curve, false);
    return pemLabel === 'PRIVATE KEY' ? undefined : readEc(der, curve, true);
  } finally {
    // A PEM body decoded here is a copy of the key: zeroed like the input.
    if (pemLabel !== undefined) der.fill(0);
  }
}

// ------------------------------------------------------------------------------------------------- DER

interface Tlv {
  readonly tag: number;
  /** The first byte of the TLV, of its content, and the first byte after it. */
  readonly at: number;
  readonly start: number;
  readonly end: number;
}

/** The strict-DER TLV at `pos` ending at or before `limit` (single-byte tag, minimal definite length). */
function tlv(buf: Buffer, pos: number, limit: number): Tlv | undefined {
  if (pos + 2 > limit) return undefined;
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) return undefined;
  let length = buf[pos + 1];
  let start = pos + 2;
  if (length >= 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3 || start + count > limit || buf[start] === 0) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[start + i];
    if (length < 0x80 || (count > 1 && length < 1 << (8 * (count - 1)))) return undefined;
    start += count;
  }
  const end = start + length;
  return end > limit ? undefined : { tag, at: pos, start, end };
}

/** The TLVs that exactly fill `outer`'s content, or undefined. */
function children(buf: Buffer, outer: Tlv): Tlv[] | undefined {
  const items: Tlv[] = [];
  for (let pos = outer.start; pos < outer.end;) {
    const item = tlv(buf, pos, outer.end);
    if (item === undefined) return undefined;
    items.push(item);
    pos = item.end;
  }
  return items;
}

/** The whole of `buf` as one SEQUENCE's children. */
function topSequence(buf: Buffer): Tlv[] | undefined {
  const top = tlv(buf, 0, buf.length);
  return top === undefined || top.tag !== 0x30 || top.end !== buf.length ? undefined : children(buf, top);
}

/** A positive INTEGER in minimal encoding. */
function positiveInteger(buf: Buffer, t: Tlv | undefined): t is Tlv {
  if (t === undefined || t.tag !== 0x02 || t.end === t.start) return false;
  const first = buf[t.start];
  if (first >= 0x80) return false;
  return !(first === 0 && (t.end - t.start === 1 || buf[t.start + 1] < 0x80));
}

function bytesOf(buf: Buffer, t: Tlv): Buffer {
  return buf.subarray(t.at, t.end);
}

function contentIs(buf: Buffer, t: Tlv | undefined, tag: number, content: Buffer): boolean {
  return t !== undefined && t.tag === tag && buf.subarray(t.start, t.end).equals(content);
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** TAG LENGTH parts…, in one new buffer. */
function encode(tag: number, parts: readonly Buffer[]): Buffer {
  const length = parts.reduce((sum, p) => sum + p.length, 0);
  return Buffer.concat([Buffer.from([tag]), encodeLength(length), ...parts]);
}

// ---------------------------------------------------------------------------------------------- PKCS#8

const VERSION_0 = Buffer.from([0x02, 0x01, 0x00]);
/** AlgorithmIdentifier { rsaEncryption, NULL }. */
const RSA_ALGORITHM = Buffer.from('300d06092a864886f70d0101010500', 'hex');
const EC_PUBLIC_KEY_OID = Buffer.from('06072a8648ce3d0201', 'hex');

function ecAlgorithm(curveOid: Buffer): Buffer {
  return encode(0x30, [EC_PUBLIC_KEY_OID, curveOid]);
}

/** The private key inside a PrivateKeyInfo { 0, algorithm, OCTET STRING } (no attributes), when its algorithm is `algorithm`. */
function pkcs8Inner(der: Buffer, algorithm: Buffer): Buffer | undefined {
  const items = topSequence(der);
  if (items === undefined || items.length !== 3 || !bytesOf(der, items[0]).equals(VERSION_0)) return undefined;
  if (!bytesOf(der, items[1]).equals(algorithm) || items[2].tag !== 0x04) return undefined;
  return der.subarray(items[2].start, items[2].end);
}

/**
 * PrivateKeyInfo { 0, algorithm, OCTET STRING privateKey }, written into one new buffer: no intermediate copy
 * of the private key is left for the garbage collector (the caller zeroes the result when done with it).
 */
function pkcs8(algorithm: Buffer, privateKey: Buffer): Buffer {
  const octetHeader = Buffer.concat([Buffer.from([0x04]), encodeLength(privateKey.length)]);
  const contentLength = VERSION_0.length + algorithm.length + octetHeader.length + privateKey.length;
  const header = Buffer.concat([Buffer.from([0x30]), encodeLength(contentLength)]);
  const out = Buffer.alloc(header.length + contentLength);
  let at = 0;
  for (const part of [header, VERSION_0, algorithm, octetHeader, privateKey]) at += part.copy(out, at);
  return out;
}

// ------------------------------------------------------------------------------------------------- RSA

/** RSAPrivateKey { 0, n, e, d, p, q, dp, dq, qi } (two primes) with an n of the type's size. */
function readRsa(der: Buffer, type: RsaKeyType): WellFormedKey | undefined {
  const items = topSequence(der);
  if (items === undefined || items.length !== 9 || !bytesOf(der, items[0]).equals(VERSION_0)) return undefined;
  if (!items.slice(1).every((item) => positiveInteger(der, item))) return undefined;
  const [, n, e] = items;
  const leading = der[n.start] === 0 ? 1 : 0;
  const bits = (n.end - n.start - leading) * 8 - Math.clz32(der[n.start + leading]) + 24;
  if (bits !== type.modulusBits) return undefined;
  const publicKey = encode(0x30, [bytesOf(der, n), bytesOf(der, e)]);
  const spki = encode(0x30, [RSA_ALGORITHM, encode(0x03, [Buffer.from([0]), publicKey])]);
  return { canonical: pkcs8(RSA_ALGORITHM, der), fingerprint: spkiDerFingerprint(spki) };
}

// ------------------------------------------------------------------------------------------------- EC

interface Curve {
  readonly oid: Buffer;
  /** Bytes of a field element (and of the private scalar, as OpenSSL encodes it). */
  readonly size: number;
  readonly p: bigint;
  readonly b: bigint;
  /** The group order, big-endian, `size` bytes: a private scalar must be below it. */
  readonly order: Buffer;
}

function curve(oid: string, size: number, p: string, b: string, order: string): Curve {
  return { oid: Buffer.from(oid, 'hex'), size, p: BigInt(`0x${p}`), b: BigInt(`0x${b}`), order: Buffer.from(order.padStart(size * 2, '0'), 'hex') };
}

/** The NIST curves (SEC 2), a = -3; `test/material/well-formed-keys.test.ts` checks them against OpenSSL's. */
const CURVES: Record<EcdsaKeyType['namedCurve'], Curve> = {
  'prime256v1': curve('06082a8648ce3d030107', 32,
    'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff',
    '5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b',
    'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  'secp384r1': curve('06052b81040022', 48,
    'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff',
    'b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef',
    'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
  'secp521r1': curve('06052b81040023', 66,
    '01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    '0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00',
    '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409'),
};

/** The curves' parameters, for the test that compares them with OpenSSL's. */
export const CURVE_PARAMETERS: Readonly<Record<string, { readonly p: bigint; readonly b: bigint; readonly order: bigint }>> = Object.fromEntries(
  Object.entries(CURVES).map(([name, c]) => [name, { p: c.p, b: c.b, order: BigInt(`0x${c.order.toString('hex')}`) }]),
);

/**
 * ECPrivateKey { 1, OCTET STRING d, [0] curve, [1] BIT STRING point }: `[0]` required in SEC1 (`sec1`), and
 * equal to the curve when present; the uncompressed point required (OpenSSL derives a missing one, and keeps
 * a compressed one compressed), on the curve.
 */
function readEc(der: Buffer, c: Curve, sec1: boolean): WellFormedKey | undefined {
  const items = topSequence(der);
  if (items === undefined || items.length < 3 || items.length > 4 || !bytesOf(der, items[0]).equals(Buffer.from([0x02, 0x01, 0x01]))) return undefined;
  const d = items[1];
  const params = items.length === 4 ? items[2] : undefined;
  const point = items[items.length - 1];
  if (d.tag !== 0x04 || d.end - d.start !== c.size) return undefined;
  if (params !== undefined ? !contentIs(der, params, 0xa0, c.oid) : sec1) return undefined;
  if (point.tag !== 0xa1) return undefined;
  const bits = tlv(der, point.start, point.end);
  if (bits === undefined || bits.tag !== 0x03 || bits.end !== point.end || bits.end - bits.start !== 2 + 2 * c.size) return undefined;
  if (der[bits.start] !== 0 || der[bits.start + 1] !== 0x04) return undefined;
  const scalar = der.subarray(d.start, d.end);
  if (scalar.every((byte) => byte === 0) || Buffer.compare(scalar, c.order) >= 0) return undefined;
  const encodedPoint = der.subarray(bits.start + 2, bits.end);
  if (!onCurve(c, encodedPoint)) return undefined;
  const algorithm = ecAlgorithm(c.oid);
  const pointBits = encode(0x03, [Buffer.from([0]), Buffer.from([0x04]), encodedPoint]);
  const ecPrivateKey = encode(0x30, [Buffer.from([0x02, 0x01, 0x01]), bytesOf(der, d), encode(0xa1, [pointBits])]);
  const canonical = pkcs8(algorithm, ecPrivateKey);
  ecPrivateKey.fill(0);
  return { canonical, fingerprint: spkiDerFingerprint(encode(0x30, [algorithm, pointBits])) };
}

/** y² = x³ - 3x + b (mod p), with both coordinates below p. Public values only. */
function onCurve(c: Curve, xy: Buffer): boolean {
  const x = BigInt(`0x${xy.subarray(0, c.size).toString('hex')}`);
  const y = BigInt(`0x${xy.subarray(c.size).toString('hex')}`);
  if (x >= c.p || y >= c.p) return false;
  const mod = (v: bigint): bigint => ((v % c.p) + c.p) % c.p;
  return mod(y * y) === mod(x * x * x - 3n * x + c.b);
}

// -------------------------------------------------------------------------------------------- Ed25519

/** RFC 8410 OneAsymmetricKey v1 { 0, { id-Ed25519 }, OCTET STRING { OCTET STRING seed } }; the seed follows. */
export const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SubjectPublicKeyInfo { { id-Ed25519 }, BIT STRING publicKey }; the 32-byte public key follows. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * The key of a 32-byte Ed25519 seed (every seed is a valid key). Its public key needs the curve arithmetic,
 * which Node's JWK import does from `d` alone in ~40–80 µs, where OpenSSL's PKCS#8 decoder takes ~600 µs.
 * That import checks only that `x` is a string, so it gets an empty one; the route is taken only while it
 * gives RFC 8032's public key for RFC 8032's first test seed (checked once per process), and a key whose
 * import fails or answers no 32-byte `x` is declined to the OpenSSL path. The base64url text of the seed is
 * a V8 string, like a PEM text (SECURITY.md, process memory).
 */
export function readEd25519Seed(seed: Buffer): WellFormedKey | undefined {
  if (seed.length !== 32 || !(jwkRouteKnownGood ??= publicKeyOfSeed(RFC8032_SEED)?.equals(RFC8032_PUBLIC_KEY) === true)) return undefined;
  const publicKey = publicKeyOfSeed(seed);
  if (publicKey === undefined) return undefined;
  const canonical = Buffer.alloc(ED25519_PKCS8_PREFIX.length + 32);
  ED25519_PKCS8_PREFIX.copy(canonical);
  seed.copy(canonical, ED25519_PKCS8_PREFIX.length);
  return { canonical, fingerprint: spkiDerFingerprint(Buffer.concat([ED25519_SPKI_PREFIX, publicKey])) };
}

// RFC 8032, section 7.1, test 1: a public test vector, not a key of anyone's.
const RFC8032_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const RFC8032_PUBLIC_KEY = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
let jwkRouteKnownGood: boolean | undefined;

/** The 32-byte public key of `seed` through Node's JWK import, or undefined. Exports only the public half. */
function publicKeyOfSeed(seed: Buffer): Buffer | undefined {
  try {
    const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: '' }, format: 'jwk' });
    if (key.asymmetricKeyType !== 'ed25519') return undefined;
    const x = createPublicKey(key).export({ format: 'jwk' }).x;
    const publicKey = x === undefined ? undefined : Buffer.from(x, 'base64url');
    return publicKey?.length === 32 ? publicKey : undefined;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------------- PEM

const PEM_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);
/** Full lines of 64 base64 characters, then a last line of up to 64 (padding at its end only). */
const PEM_BODY = /^\r?\n(?:[A-Za-z0-9+/]{64}\r?\n)*[A-Za-z0-9+/]{1,63}(?:[A-Za-z0-9+/]|=|==|[A-Za-z0-9+/]=)?\r?\n$/;

/**
 * The DER of the one private-key block of a PEM text (optionally after an `EC PARAMETERS` block, as `openssl
 * ecparam -genkey` writes), with no headers and 64-character lines; undefined for anything else.
 */
function singlePemBlock(text: string): { der: Buffer; label: string } | undefined {
  const begins = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)];
  const block = begins.length === 1 ? begins[0] : begins.length === 2 && begins[0][1] === 'EC PARAMETERS' ? begins[1] : undefined;
  if (block === undefined || !PEM_LABELS.has(block[1])) return undefined;
  const start = (block.index as number) + block[0].length;
  const end = text.indexOf(`-----END ${block[1]}-----`, start);
  if (end < 0) return undefined;
  const body = text.slice(start, end);
  if (!PEM_BODY.test(body) || body.replace(/[\r\n]/g, '').length % 4 !== 0) return undefined;
  return { der: Buffer.from(body, 'base64'), label: block[1] };
}
