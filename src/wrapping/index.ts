export { WrappingError, type WrappingErrorCode } from './errors';
export { WrappingKey, MIN_WRAPPING_KEY_BITS, type WrappingKeyOptions, type WrappingKeyResponse, type WrappingKeyFetchOptions } from './wrapping-key';
export { wrap, unwrap, type WrapOptions } from './wrap';
export { parseWrapHash, WRAP_HASHES, DEFAULT_WRAP_HASH, type WrapHash } from './hash';
export { kwpWrap, kwpUnwrap } from './kwp';
export { checkWrappedBlob, type LiveWrappingKey } from './blob-check';
