/**
 * Keys in an HSM: wrap and fingerprint a key inside a PKCS#11 token, so its plaintext never leaves the token.
 * The binding (`pkcs11js`, an optional peer dependency) is loaded on first use only. See docs/hsm.md.
 */
export { HsmError, type HsmErrorCode } from './errors';
export { wrapInToken, fingerprintInToken, type Pkcs11KeyRef, type TokenWrapOptions, type TokenWrapResult } from './token';
