/**
 * The construct: `ImportedKmsKey` and its props, and the error family its validation throws.
 */
export { ImportedKmsKey, type ImportedKmsKeyProps, type RotationSettings, type RemovalPolicy } from './imported-kms-key';
export { ImportedKmsKeyError, type ImportedKmsKeyErrorCode } from './errors';
export type { LifecycleResourceType } from './lifecycle';
