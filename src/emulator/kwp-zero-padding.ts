/**
 * What the emulator accepts after unwrapping an imported blob, beyond the exact canonical material.
 *
 * SoftHSM2's `CKM_AES_KEY_WRAP_PAD` (0x210A) pads the data with zero bytes to a multiple of 8 *before* the
 * RFC 5649 key wrap, so the wrap's own length indicator covers the zeros: a P-256 PKCS#8 (67 bytes) unwraps
 * to 72 bytes, the key followed by 5 zero bytes. A real RFC 5649 unwrap never leaves padding behind, so this is
 * a token quirk. **Decision** (the real Thalassa API's behaviour is unknown): accept it, narrowly:
 *
 * - only for asymmetric key types (PKCS#8 DER is self-delimiting; a raw symmetric key is not, so a padded
 *   symmetric key would be a different key),
 * - only when the unwrapped length is a multiple of 8 (what such padding produces),
 * - only when a complete DER SEQUENCE is followed by 1..7 bytes, all zero.
 *
 * Anything else is left as it is, and the canonical check refuses it as trailing data.
 */
import type { ImportableKeyType } from '../key-types';
import { derSequenceLength } from '../material/der';

/** The most zero bytes a pad to a multiple of 8 can add. */
export const MAX_KWP_ZERO_PADDING = 7;

/**
 * The material without SoftHSM-style zero padding, as a new buffer (the input is zeroed), or the input itself
 * when the padding rule does not apply.
 */
export function stripKwpZeroPadding(material: Buffer, type: ImportableKeyType): Buffer {
  if (type.canonicalFormat !== 'pkcs8-der') return material;
  if (material.length % 8 !== 0) return material;
  const encoded = derSequenceLength(material);
  if (encoded === undefined || encoded >= material.length) return material;
  const extra = material.length - encoded;
  if (extra > MAX_KWP_ZERO_PADDING) return material;
  for (let i = encoded; i < material.length; i++) if (material[i] !== 0) return material;
  const stripped = Buffer.from(material.subarray(0, encoded));
  material.fill(0);
  return stripped;
}

