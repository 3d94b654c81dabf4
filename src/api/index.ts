export { KmsClient, type WrappingKeyAnswer } from './client';
export { resolveApiConfig, isLoopback, DEFAULT_ENDPOINT, type ApiClientOptions, type ApiConfig, type Credentials } from './config';
export { ApiError, type ApiErrorCode, type ApiErrorDetails } from './errors';
export {
  findOnlyKey, importKey, setRotation, KeyOwnershipError,
  type ImportKeyInput, type ImportOutcome, type KeyOwnership, type WorkflowOptions,
} from './key-lifecycle';
export { deleteKey, listOwnedKeys, sweepKeys, sweepRegions, type DeleteOutcome, type OwnedKeys, type SweepInput, type SweptKey } from './key-deletion';
export type * from './types';
export {
  checkStack, repairStack,
  type CheckStackInput, type Difference, type DriftKind, type Finding, type KeyReport, type RepairAction, type RepairInput, type StackReport, type UndeclaredKey,
} from './key-check';
