/**
 * cdktf-thalassa-byok: declare imported (bring-your-own-key) Thalassa Cloud KMS keys in CDK for Terraform.
 *
 * The package root is what a cdktf app needs: the construct, its key material and wrapping key, their props
 * and their errors. Everything exported here is semver-bound, so importer-side primitives (unwrap, the raw
 * key wrap, the canonical-material parser) are deliberately absent. The API client and the emulator have
 * their own doors (`cdktf-thalassa-byok/api`, `cdktf-thalassa-byok/emulator`), so that neither an app's synth
 * nor the provisioner's CLI loads code it does not use.
 */
export { ByokError } from './errors';
export {
  KEY_TYPES, IMPORTABLE_KEY_TYPE_NAMES, KeyTypeError, isKeyTypeName,
  type KeyTypeName, type ImportableKeyTypeName, type KeyType, type ImportableKeyType, type KeyCategory,
  type SymmetricKeyType, type RsaKeyType, type EcdsaKeyType, type EddsaKeyType, type HmacKeyType,
} from './key-types';
export {
  KeyMaterial, CanonicalKeyMaterial, PreWrappedKeyMaterial, HsmKeyMaterial, KeyMaterialError, MATERIAL_FORMATS, FINGERPRINT_PATTERN,
  type KeyMaterialOptions, type PreWrappedOptions, type Pkcs11KeySource, type KeyMaterialErrorCode, type MaterialFormat,
} from './material';
export {
  WrappingKey, WrappingError, wrap, WRAP_HASHES, DEFAULT_WRAP_HASH, MIN_WRAPPING_KEY_BITS,
  type WrappingKeyOptions, type WrappingKeyResponse, type WrappingKeyFetchOptions, type WrapOptions, type WrapHash, type WrappingErrorCode,
} from './wrapping';
export * from './constructs';
