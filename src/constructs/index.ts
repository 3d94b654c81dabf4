/**
 * The constructs: `ImportedKmsKey` and its props, the stack's `KeyOwner`, and the error family their
 * validation throws.
 */
export { ImportedKmsKey } from './imported-kms-key';
export type { ImportedKmsKeyProps, RotationSettings, RemovalPolicy } from './props';
export { KeyOwner, type KeyOwnerProps } from './key-owner';
export { ImportedKmsKeyError, type ImportedKmsKeyErrorCode } from './errors';
export type { LifecycleResourceType } from './lifecycle';
