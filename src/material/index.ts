export { KeyMaterialError, type KeyMaterialErrorCode } from './errors';
export { normalizeMaterial, parseCanonicalMaterial, MATERIAL_FORMATS, type MaterialFormat, type MaterialParseOptions } from './parse';
export { fingerprintCanonical, spkiFingerprint, cmacAesFingerprint, kcvAesFingerprint, cmacAesCommitment, COMMITMENT_LABEL, COMMITMENT_PATTERN, FINGERPRINT_PATTERN, FINGERPRINT_PREFIXES, KEY_IDENTIFIER_PATTERN, FINGERPRINT_ANNOTATION, SYMMETRIC_FINGERPRINT_LABEL } from './fingerprint';
export { KeyMaterial, CanonicalKeyMaterial, type KeyMaterialOptions } from './key-material';
export { PreWrappedKeyMaterial, type PreWrappedOptions } from './pre-wrapped';
export { HsmKeyMaterial, type Pkcs11KeySource } from './hsm-material';
