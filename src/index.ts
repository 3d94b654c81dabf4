/**
 * cdktf-thalassa-byok: declare imported (bring-your-own-key) Thalassa Cloud KMS keys in CDK for Terraform.
 *
 * The package root exports the crypto core; the construct, API client and emulator have their own doors
 * (`src/constructs`, `src/api`, `src/emulator`) so that loading one does not load the others.
 */
export { ByokError } from './errors';
export * from './key-types';
export * from './material';
export * from './wrapping';
export * from './constructs';
