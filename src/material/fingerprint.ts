/**
 * Fingerprints identify key material without revealing it. They are what Terraform state holds (as a replace
 * trigger) and what the import records in the key's annotations, so adoption and deletion can check identity.
 *
 * - Asymmetric keys: `spki-sha256:` + hex SHA-256 of the DER SubjectPublicKeyInfo of the public half, which
 *   anyone can check against the API's public-key endpoint.
 * - Symmetric keys: `hmac-sha256:` + hex HMAC-SHA-256 keyed *with the material* over a fixed, versioned label,
 *   a key check value that proves identity and reveals nothing (a plain hash of a key would be a guessable
 *   oracle for low-entropy material; the keyed form is not).
 * - Symmetric keys held in an HSM (src/hsm), where the material never leaves the token and an HMAC keyed with
 *   it cannot be computed: a check value the token computes with an operation the key allows.
 *   `cmac-aes:` + hex of the full 16-byte AES-CMAC (RFC 4493) of the same label, where the key may sign;
 *   otherwise `kcv-aes:` + hex of the full 16-byte AES-ECB encryption of a zero block (the classic key check
 *   value is its first 3 bytes), where the key may encrypt. The same key therefore has another fingerprint in
 *   an HSM than in a file: moving a key into an HSM replaces it in Terraform's eyes.
 */
import { createCipheriv, createHash, createHmac, createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import type { ImportableKeyType } from '../key-types';

/** The label the symmetric check value is computed over. Changing it changes every symmetric fingerprint. */
export const SYMMETRIC_FINGERPRINT_LABEL = 'cdktf-thalassa-byok/fingerprint/v1';

/** Matches any fingerprint this package produces. */
export const FINGERPRINT_PATTERN = /^(?:(?:spki-sha256|hmac-sha256):[0-9a-f]{64}|(?:cmac-aes|kcv-aes):[0-9a-f]{32})$/;

/** The prefixes of the fingerprints above: the first two from material in hand, the last two from an HSM. */
export const FINGERPRINT_PREFIXES = ['spki-sha256', 'hmac-sha256', 'cmac-aes', 'kcv-aes'] as const;

/**
 * Matches every identifier a key may carry: the fingerprints above, or the stable identifier a user gives a
 * pre-wrapped symmetric key (such as an HSM's key check value), 6..128 characters from `[A-Za-z0-9:._-]`.
 */
export const KEY_IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._-]{5,127}$/;

/** `spki-sha256:<hex>` of a public key (or of the public half of a private key). */
export function spkiFingerprint(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return spkiDerFingerprint(publicKey.export({ format: 'der', type: 'spki' }));
}

/** `spki-sha256:<hex>` of a SubjectPublicKeyInfo in DER. */
export function spkiDerFingerprint(spki: Uint8Array): string {
  return `spki-sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** `spki-sha256:<hex>` of a PEM public key, as the API's public-key endpoint answers it; undefined if it is not one. */
export function spkiPemFingerprint(pem: string): string | undefined {
  try {
    return spkiFingerprint(createPublicKey({ key: pem, format: 'pem' }));
  } catch {
    return undefined;
  }
}

/** The fingerprint of canonical material of the given type. */
export function fingerprintCanonical(canonical: Buffer, type: ImportableKeyType): string {
  if (type.category === 'symmetric') {
    return `hmac-sha256:${createHmac('sha256', canonical).update(SYMMETRIC_FINGERPRINT_LABEL, 'ascii').digest('hex')}`;
  }
  return spkiFingerprint(createPrivateKey({ key: canonical, format: 'der', type: 'pkcs8' }));
}

export { FINGERPRINT_ANNOTATION } from '../protocol';

/** The label the symmetric commitment is computed over; differs from the fingerprint's, so one does not give the other. */
export const COMMITMENT_LABEL = 'cdktf-thalassa-byok/commitment/v1';

/**
 * A symmetric key's commitment (`hmac-sha256:` + hex): proof, recorded on the key at import, that whoever
 * created it held the material. Not in state or plan, unlike the fingerprint.
 */
export function symmetricCommitment(canonical: Buffer): string {
  return `hmac-sha256:${createHmac('sha256', canonical).update(COMMITMENT_LABEL, 'ascii').digest('hex')}`;
}

/**
 * Every commitment this package records: `hmac-sha256:` (material in hand) or `cmac-aes:` (a key in an HSM, the
 * token's AES-CMAC over {@link COMMITMENT_LABEL}). Import and adoption compare them as opaque text.
 */
export const COMMITMENT_PATTERN = /^(?:hmac-sha256:[0-9a-f]{64}|cmac-aes:[0-9a-f]{32})$/;

/**
 * `cmac-aes:<hex>`: the commitment of a symmetric key held in an HSM, the AES-CMAC (RFC 4493) of
 * {@link COMMITMENT_LABEL}, which the token computes for a key that may sign (`CKM_AES_CMAC`). Computable here
 * for material in hand, to compare. A key that may not sign gets no commitment in a token, and is never adopted.
 */
export function cmacAesCommitment(key: Uint8Array): string {
  return `cmac-aes:${aesCmac(key, Buffer.from(COMMITMENT_LABEL, 'ascii')).toString('hex')}`;
}

/**
 * `cmac-aes:<hex>`: the AES-CMAC (RFC 4493) of {@link SYMMETRIC_FINGERPRINT_LABEL} under a raw AES key, what an
 * HSM computes for a key that may sign (`CKM_AES_CMAC`). Computable here for material in hand, to compare.
 */
export function cmacAesFingerprint(key: Uint8Array): string {
  return `cmac-aes:${aesCmac(key, Buffer.from(SYMMETRIC_FINGERPRINT_LABEL, 'ascii')).toString('hex')}`;
}

/**
 * `kcv-aes:<hex>`: AES-ECB of one zero block under a raw AES key (all 16 bytes; the classic KCV is the first 3),
 * what an HSM computes for a key that may encrypt but not sign (`CKM_AES_ECB`).
 */
export function kcvAesFingerprint(key: Uint8Array): string {
  return `kcv-aes:${aesBlock(key, Buffer.alloc(16)).toString('hex')}`;
}

function aesBlock(key: Uint8Array, block: Buffer): Buffer {
  const name = key.length === 16 ? 'aes-128-ecb' : key.length === 24 ? 'aes-192-ecb' : key.length === 32 ? 'aes-256-ecb' : undefined;
  if (name === undefined) throw new RangeError(`An AES key is 16, 24 or 32 bytes; received ${key.length}.`);
  const cipher = createCipheriv(name, key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

/** RFC 4493 AES-CMAC, on AES-ECB blocks. Exported for its test vectors, not from the folder. */
export function aesCmac(key: Uint8Array, message: Buffer): Buffer {
  const double = (block: Buffer): Buffer => {
    const out = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) out[i] = ((block[i] << 1) | (i < 15 ? block[i + 1] >> 7 : 0)) & 0xff;
    if (block[0] & 0x80) out[15] ^= 0x87;
    return out;
  };
  const k1 = double(aesBlock(key, Buffer.alloc(16)));
  const k2 = double(k1);
  const blocks = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  const last = Buffer.alloc(16);
  message.copy(last, 0, (blocks - 1) * 16);
  if (!complete) last[message.length - (blocks - 1) * 16] = 0x80;
  const subkey = complete ? k1 : k2;
  for (let i = 0; i < 16; i++) last[i] ^= subkey[i];
  let x: Buffer = Buffer.alloc(16);
  for (let b = 0; b < blocks - 1; b++) {
    const y = Buffer.from(message.subarray(b * 16, b * 16 + 16));
    for (let i = 0; i < 16; i++) y[i] ^= x[i];
    x = aesBlock(key, y);
  }
  for (let i = 0; i < 16; i++) last[i] ^= x[i];
  return aesBlock(key, last);
}
