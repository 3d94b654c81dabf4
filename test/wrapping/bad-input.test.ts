/**
 * Acceptance: the bad-input table for wrapping keys, hashes and blobs. Every case fails with WrappingError and
 * its exact code, and no rendering of the error contains the material, the blob or a private key.
 */
import { constants, createPublicKey, KeyObject, publicEncrypt, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ByokError } from '../../src/errors';
import { kwpWrap, unwrap, wrap, WrappingError, WrappingKey } from '../../src/wrapping';
import { keyFixture, keyPair, pemMarker, type KeyFixture } from '../support/key-fixtures';
import { errorRenderings, expectNoLeak, thrownBy } from '../support/no-leak';

interface Case {
  readonly run: () => unknown;
  readonly code: string;
}

interface State {
  wk: KeyObject;
  wkPriv: KeyObject;
  other: KeyObject;
  rsa1024: KeyObject;
  ec: KeyObject;
  ed: KeyObject;
  material: KeyFixture;
  blob: Buffer;
}
let s: State;

beforeAll(async () => {
  const [wk, other, rsa1024, ec, ed, material] = await Promise.all([
    keyPair('rsa:2048'), keyPair('rsa:3072'), keyPair('rsa:1024'), keyPair('ec:P-256'), keyPair('ed25519'), keyFixture('ecdsa-p384'),
  ]);
  const wrappingKey = WrappingKey.fromPem(spkiPem(wk.publicKey));
  s = {
    wk: wk.publicKey, wkPriv: wk.privateKey, other: other.privateKey, rsa1024: rsa1024.publicKey, ec: ec.privateKey, ed: ed.publicKey,
    material, blob: wrap(material.canonical, wrappingKey, { hash: 'sha256' }),
  };
});

const spkiPem = (key: KeyObject) => (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'pem', type: 'spki' }) as string;
const fingerprintOf = () => WrappingKey.fromPem(spkiPem(s.wk)).fingerprint;
const damaged = (index: (blob: Buffer) => number) => () => {
  const blob = Buffer.from(s.blob);
  blob[index(blob)] ^= 0x40;
  return unwrap(blob, s.wkPriv);
};

const CASES: [string, Case][] = [
  // Wrapping keys.
  ['RSA-1024 wrapping key (PEM)', { run: () => WrappingKey.fromPem(spkiPem(s.rsa1024)), code: 'WRAPPING_KEY_TOO_SMALL' }],
  ['RSA-1024 wrapping key (API response)', { run: () => WrappingKey.fromApiResponse(JSON.stringify({ publicKey: spkiPem(s.rsa1024) })), code: 'WRAPPING_KEY_TOO_SMALL' }],
  ['EC public key as wrapping key', { run: () => WrappingKey.fromPem(spkiPem(s.ec)), code: 'WRAPPING_KEY_NOT_RSA' }],
  ['Ed25519 public key as wrapping key', { run: () => WrappingKey.fromPem(spkiPem(s.ed)), code: 'WRAPPING_KEY_NOT_RSA' }],
  ['private key (PKCS#8 PEM) as wrapping key', { run: () => WrappingKey.fromPem(s.wkPriv.export({ format: 'pem', type: 'pkcs8' }) as string), code: 'WRAPPING_KEY_INVALID' }],
  ['private key (PKCS#1 PEM) in the API response', { run: () => WrappingKey.fromApiResponse({ publicKey: s.wkPriv.export({ format: 'pem', type: 'pkcs1' }) as string }), code: 'WRAPPING_KEY_INVALID' }],
  ['garbage PEM body', { run: () => WrappingKey.fromPem(`${pemMarker('BEGIN', 'PUBLIC KEY')}\n${randomBytes(200).toString('base64')}\n${pemMarker('END', 'PUBLIC KEY')}\n`), code: 'WRAPPING_KEY_INVALID' }],
  ['truncated public PEM', { run: () => WrappingKey.fromPem(spkiPem(s.wk).slice(0, 200)), code: 'WRAPPING_KEY_INVALID' }],
  ['text that is not PEM', { run: () => WrappingKey.fromPem('ssh-rsa AAAAB3NzaC1yc2E comment'), code: 'WRAPPING_KEY_INVALID' }],
  ['API response without publicKey', { run: () => WrappingKey.fromApiResponse('{"algorithm":"RSA_OAEP"}'), code: 'WRAPPING_KEY_INVALID' }],
  ['API response that is neither JSON nor PEM', { run: () => WrappingKey.fromApiResponse('<html>502 Bad Gateway</html>'), code: 'WRAPPING_KEY_INVALID' }],
  ['wrapping key file that does not exist', { run: () => WrappingKey.fromPemFile(join(__dirname, 'no-such-wrapping-key.pem')), code: 'WRAPPING_KEY_SOURCE' }],
  ['pin of another key', { run: () => WrappingKey.fromPem(spkiPem(s.wk), { pin: `spki-sha256:${'0'.repeat(64)}` }), code: 'WRAPPING_KEY_PIN_MISMATCH' }],
  ['pin of another key, as bare hex', { run: () => WrappingKey.fromPem(spkiPem(s.other), { pin: fingerprintOf().slice('spki-sha256:'.length) }), code: 'WRAPPING_KEY_PIN_MISMATCH' }],
  ['malformed pin', { run: () => WrappingKey.fromPem(spkiPem(s.wk), { pin: 'sha256:abc' }), code: 'WRAPPING_KEY_PIN_MISMATCH' }],
  ['empty pin', { run: () => WrappingKey.fromPem(spkiPem(s.wk), { pin: '' }), code: 'WRAPPING_KEY_PIN_MISMATCH' }],

  // Hashes.
  ['wrap with an unsupported hash (md5)', { run: () => wrap(s.material.canonical, WrappingKey.fromPem(spkiPem(s.wk)), { hash: 'md5' }), code: 'HASH_UNSUPPORTED' }],
  ['unwrap with an unsupported hash (sha3-256)', { run: () => unwrap(s.blob, s.wkPriv, { hash: 'sha3-256' }), code: 'HASH_UNSUPPORTED' }],

  // Blobs.
  ['blob too short (100 bytes)', { run: () => unwrap(s.blob.subarray(0, 100), s.wkPriv), code: 'BLOB_LENGTH' }],
  ['blob of only the RSA part', { run: () => unwrap(s.blob.subarray(0, 256), s.wkPriv), code: 'BLOB_LENGTH' }],
  ['blob one byte short of the smallest', { run: () => unwrap(s.blob.subarray(0, 256 + 15), s.wkPriv), code: 'BLOB_LENGTH' }],
  ['blob of wrong length (5 bytes extra)', { run: () => unwrap(Buffer.concat([s.blob, randomBytes(5)]), s.wkPriv), code: 'BLOB_LENGTH' }],
  ['blob wrapped for an RSA-2048 key, unwrapped with an RSA-3072 key', { run: () => unwrap(s.blob, s.other), code: 'BLOB_UNWRAP' }],
  ['blob wrapped for an RSA-2048 key, unwrapped with an RSA-4096 key (shorter than its RSA part)', { run: async () => unwrap(s.blob, (await keyPair('rsa:4096')).privateKey), code: 'BLOB_LENGTH' }],
  ['blob wrapped with another key of the same size', {
    run: async () => unwrap(s.blob, (await keyPair('rsa:2048#other')).privateKey),
    code: 'BLOB_UNWRAP',
  }],
  ['blob unwrapped with the wrong hash', { run: () => unwrap(s.blob, s.wkPriv, { hash: 'sha1' }), code: 'BLOB_UNWRAP' }],
  ['blob with a damaged KWP part', { run: damaged((b) => b.length - 3), code: 'BLOB_UNWRAP' }],
  ['blob with a damaged RSA-OAEP part', { run: damaged(() => 40), code: 'BLOB_UNWRAP' }],
  ['blob whose KWP part comes from another wrap', {
    run: () => {
      const again = wrap(s.material.canonical, WrappingKey.fromPem(spkiPem(s.wk)));
      return unwrap(Buffer.concat([s.blob.subarray(0, 256), again.subarray(256)]), s.wkPriv);
    },
    code: 'BLOB_UNWRAP',
  }],
  ['blob whose RSA part holds a 16-byte key', {
    run: () => {
      const ephemeral = randomBytes(16);
      const rsa = publicEncrypt({ key: s.wk, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, ephemeral);
      return unwrap(Buffer.concat([rsa, kwpWrap(ephemeral, s.material.canonical)]), s.wkPriv);
    },
    code: 'BLOB_EPHEMERAL_LENGTH',
  }],
  ['unwrap with the public key', { run: () => unwrap(s.blob, s.wk), code: 'WRAPPING_KEY_INVALID' }],
  ['unwrap with an EC private key', { run: () => unwrap(s.blob, s.ec), code: 'WRAPPING_KEY_INVALID' }],
];

describe('bad wrapping keys, hashes and blobs', () => {
  it('has at least 25 cases (the material table holds the rest of the 30+)', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(CASES)('%s', async (_name, c) => {
    const error = await thrownBy(c.run);
    expect(error).toBeInstanceOf(WrappingError);
    expect(error).toBeInstanceOf(ByokError);
    expect((error as ByokError).code).toBe(c.code);
    expectNoLeak(errorRenderings(error), s.material.canonical, s.blob, s.wkPriv.export({ format: 'pem', type: 'pkcs8' }) as string,
      s.wkPriv.export({ format: 'pem', type: 'pkcs1' }) as string);
  });

  it('a pin mismatch names both fingerprints', async () => {
    const error = await thrownBy(() => WrappingKey.fromPem(spkiPem(s.wk), { pin: `spki-sha256:${'0'.repeat(64)}` }));
    expect((error as Error).message).toContain(fingerprintOf());
    expect((error as Error).message).toContain(`spki-sha256:${'0'.repeat(64)}`);
  });

  it('a matching pin (in either spelling) is accepted and recorded', () => {
    const fp = fingerprintOf();
    expect(WrappingKey.fromPem(spkiPem(s.wk), { pin: fp }).pinned).toBe(true);
    expect(WrappingKey.fromPem(spkiPem(s.wk), { pin: fp.slice('spki-sha256:'.length).toUpperCase() }).pinned).toBe(true);
    expect(WrappingKey.fromPem(spkiPem(s.wk)).pinned).toBe(false);
  });
});
