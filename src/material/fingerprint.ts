/**
 * Fingerprints identify key material without revealing it. They are what Terraform state holds (as a replace
 * trigger) and what the import records in the key's annotations, so adoption and deletion can check identity.
 *
 * - Asymmetric keys: `spki-sha256:` + hex SHA-256 of the DER SubjectPublicKeyInfo of the public half, which
 *   anyone can check against the API's public-key endpoint.
 * - Symmetric keys: `hmac-sha256:` + hex HMAC-SHA-256 keyed *with the material* over a fixed, versioned label,
 *   a key check value that proves identity and reveals nothing (a plain hash of a key would be a guessable
 *   oracle for low-entropy material; the keyed form is not).
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import type { ImportableKeyType } from '../key-types';

/** The label the symmetric check value is computed over. Changing it changes every symmetric fingerprint. */
export const SYMMETRIC_FINGERPRINT_LABEL = 'cdktf-thalassa-byok/fingerprint/v1';

/** Matches any fingerprint this package produces. */
export const FINGERPRINT_PATTERN = /^(spki-sha256|hmac-sha256):[0-9a-f]{64}$/;

/**
 * Matches every identifier a key may carry: the fingerprints above, or the stable identifier a user gives a
 * pre-wrapped symmetric key (such as an HSM's key check value), 6..128 characters from `[A-Za-z0-9:._-]`.
 */
export const KEY_IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._-]{5,127}$/;

/** `spki-sha256:<hex>` of a public key (or of the public half of a private key). */
export function spkiFingerprint(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const spki = publicKey.export({ format: 'der', type: 'spki' });
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
