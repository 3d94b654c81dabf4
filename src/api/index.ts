export { KmsClient, type WrappingKeyAnswer } from './client';
export { resolveApiConfig, isLoopback, DEFAULT_ENDPOINT, type ApiClientOptions, type ApiConfig, type Credentials } from './config';
export { ApiError, type ApiErrorCode, type ApiErrorDetails } from './errors';
export {
  importKey, deleteKey, setRotation, KeyOwnershipError,
  type ImportKeyInput, type ImportOutcome, type DeleteOutcome, type WorkflowOptions,
} from './key-lifecycle';
export type * from './types';
