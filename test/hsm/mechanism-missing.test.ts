/**
 * A token that does not offer a mechanism wrapping needs (issue 16, item 4): SoftHSM2 with a `slots.mechanisms`
 * list that leaves out CKM_AES_KEY_WRAP_PAD (2.6.1 ignored the `-CKM_…` exclusion form when tried, so the list
 * names what stays: key generation, the check-value operations, OAEP and the unpadded key wrap) cannot make the
 * blob's second half, and has no CKM_RSA_AES_KEY_WRAP either. The error names the mechanism, its number and the
 * token, never the PIN. Its own file: SOFTHSM2_CONF is process-wide, and this configuration must not reach
 * the other HSM tests.
 */
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprintInToken, HsmError, wrapInToken } from '../../src/hsm';
import { WrappingKey } from '../../src/wrapping';
import { createToken, PIN_ENV, type TestToken } from './softhsm';

let token: TestToken;
let wrappingKey: WrappingKey;
const PIN = 'mech-pin-4711-8023';

beforeAll(async () => {
  token = await createToken('byok-nokwp', PIN);
  token.tool(['--keygen', '--key-type', 'AES:32', '--label', 'aes256', '--extractable']);
  // Read at C_Initialize: from now on every session of this process sees the token without the mechanism.
  appendFileSync(join(token.dir, 'softhsm2.conf'), 'slots.mechanisms = CKM_AES_KEY_GEN,CKM_AES_CMAC,CKM_AES_ECB,CKM_RSA_PKCS_OAEP,CKM_AES_KEY_WRAP\n');
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  wrappingKey = WrappingKey.fromPem(publicKey.export({ format: 'pem', type: 'spki' }).toString());
});

afterAll(() => {
  token?.cleanup();
});

const ref = { get module() { return token.module; }, get tokenLabel() { return token.label; }, pinEnv: PIN_ENV, keyLabel: 'aes256' };

it('wrap names CKM_AES_KEY_WRAP_PAD (0x210a) and the token, never the PIN', () => {
  let caught: unknown;
  try {
    wrapInToken({ ...ref }, 'aes256-gcm96', wrappingKey, { hash: 'sha1' });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(HsmError);
  const { code, message } = caught as HsmError;
  expect({ code, message }).toEqual({
    code: 'HSM_MECHANISM_MISSING',
    message: expect.stringMatching(/The token "byok-nokwp" does not offer .*CKM_AES_KEY_WRAP_PAD \(0x210a\).*which wrapping for import needs/),
  });
  expect(message).not.toContain(PIN);
});

it('the fingerprint, which needs no wrap mechanism, still works on that token', () => {
  expect(fingerprintInToken({ ...ref }, 'aes256-gcm96')).toMatch(/^cmac-aes:[0-9a-f]{32}$/);
});
