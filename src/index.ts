/**
 * cdktf-thalassa-byok: declare imported (bring-your-own-key) Thalassa Cloud KMS keys in CDK for Terraform.
 *
 * The package root is what a cdktf app needs: the construct and the crypto core it uses. The API client and
 * the emulator have their own doors (`dist/api`, `dist/emulator`), so that neither an app's synth nor the
 * provisioner's CLI loads code it does not use.
 */
export { ByokError } from './errors';
export * from './key-types';
export * from './material';
export * from './wrapping';
export * from './constructs';
