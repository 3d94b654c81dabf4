/**
 * The DER reader of well-formed RSA and ECDSA private keys (src/material/well-formed-keys.ts) against
 * OpenSSL: it reads the encodings keys come in, and whatever it accepts, OpenSSL parses to the same canonical
 * PKCS#8 and SPKI fingerprint — for fresh keys in every encoding, and for thousands of damaged ones.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { KEY_TYPES, type EcdsaKeyType, type ImportableKeyType, type RsaKeyType } from '../../src/key-types';
import { KeyMaterial, spkiFingerprint } from '../../src/material';
import { CURVE_PARAMETERS, readWellFormedKey, type WellFormedKey } from '../../src/material/well-formed-keys';
import { openssl } from '../support/openssl';

const RSA_TYPES = ['rsa-2048', 'rsa-3072', 'rsa-4096'].map((name) => KEY_TYPES[name as 'rsa-2048'] as RsaKeyType);
const EC_TYPES = ['ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521'].map((name) => KEY_TYPES[name as 'ecdsa-p256'] as EcdsaKeyType);
const EC_PARAMETERS_PEM: Record<string, string> = {};

function generate(type: RsaKeyType | EcdsaKeyType): KeyObject {
  return type.category === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: type.modulusBits }).privateKey
    : generateKeyPairSync('ec', { namedCurve: type.namedCurve }).privateKey;
}

/** Every encoding of `key` the reader is meant to take, as the input a user's file would hold. */
function encodings(key: KeyObject, type: RsaKeyType | EcdsaKeyType): [string, { der: Buffer } | { pem: string }][] {
  const legacy = type.category === 'rsa' ? 'pkcs1' : 'sec1';
  const pem = (t: 'pkcs8' | 'pkcs1' | 'sec1'): string => key.export({ type: t, format: 'pem' }) as string;
  const der = (t: 'pkcs8' | 'pkcs1' | 'sec1'): Buffer => key.export({ type: t, format: 'der' });
  const cases: [string, { der: Buffer } | { pem: string }][] = [
    ['PKCS#8 PEM', { pem: pem('pkcs8') }], ['PKCS#8 DER', { der: der('pkcs8') }],
    [`${legacy} PEM`, { pem: pem(legacy) }], [`${legacy} DER`, { der: der(legacy) }],
    ['PKCS#8 PEM with CRLF line ends and text around it', { pem: `a comment\r\n${pem('pkcs8').replace(/\n/g, '\r\n')}trailing\n` }],
  ];
  if (type.category === 'ecdsa') cases.push(['EC PARAMETERS then SEC1 PEM (openssl ecparam -genkey)', { pem: EC_PARAMETERS_PEM[type.namedCurve] + pem('sec1') }]);
  return cases;
}

/** What OpenSSL makes of the input, or undefined when it refuses it (as the OpenSSL path of parse.ts tries it). */
function byOpenssl(input: { der: Buffer } | { pem: string }, type: ImportableKeyType): { key: KeyObject; result: WellFormedKey } | undefined {
  const attempts = 'pem' in input ? [{ key: input.pem, format: 'pem' as const }]
    : (['pkcs8', type.category === 'rsa' ? 'pkcs1' : 'sec1'] as const).map((t) => ({ key: input.der, format: 'der' as const, type: t }));
  for (const attempt of attempts) {
    try {
      const key = createPrivateKey(attempt);
      return { key, result: { canonical: key.export({ type: 'pkcs8', format: 'der' }), fingerprint: spkiFingerprint(key) } };
    } catch {
      // the next structure
    }
  }
  return undefined;
}

/** The rule: whatever the reader accepts, OpenSSL parses to the same key of the same type, size and curve. */
function expectAgreesWithOpenssl(input: { der: Buffer } | { pem: string }, type: RsaKeyType | EcdsaKeyType): boolean {
  const ours = readWellFormedKey(input, type);
  if (ours === undefined) return false;
  const theirs = byOpenssl(input, type);
  expect(theirs).toBeDefined();
  const details = theirs!.key.asymmetricKeyDetails;
  expect(type.category === 'rsa' ? [theirs!.key.asymmetricKeyType, details?.modulusLength] : [theirs!.key.asymmetricKeyType, details?.namedCurve])
    .toEqual(type.category === 'rsa' ? ['rsa', type.modulusBits] : ['ec', type.namedCurve]);
  expect(ours.fingerprint).toBe(theirs!.result.fingerprint);
  expect(ours.canonical.equals(theirs!.result.canonical)).toBe(true);
  return true;
}

beforeAll(() => {
  for (const type of EC_TYPES) {
    EC_PARAMETERS_PEM[type.namedCurve] = openssl(['ecparam', '-name', type.namedCurve]).toString('latin1');
  }
});

test('the curve parameters are OpenSSL\'s', () => {
  for (const type of EC_TYPES) {
    const text = openssl(['ecparam', '-name', type.namedCurve, '-param_enc', 'explicit', '-noout', '-text']).toString('latin1');
    const field = (label: string): bigint => BigInt(`0x${/\n(?:Prime|A|B|Order):[^\n]*\n((?:\s+[0-9a-f:]+\n)+)/g.exec(text.slice(text.indexOf(`\n${label}:`)))![1].replace(/[\s:]/g, '')}`);
    const mine = CURVE_PARAMETERS[type.namedCurve];
    expect([type.name, mine.p, mine.b, mine.order]).toEqual([type.name, field('Prime'), field('B'), field('Order')]);
    expect(field('A')).toBe(mine.p - 3n);
  }
});

describe.each([...RSA_TYPES, ...EC_TYPES])('%s', (type) => {
  const keys = Array.from({ length: type.category === 'rsa' && type.modulusBits > 2048 ? 2 : 4 }, () => generate(type));

  test('every usual encoding is read, to what OpenSSL gives', () => {
    for (const key of keys) {
      for (const [name, input] of encodings(key, type)) expect([name, expectAgreesWithOpenssl(input, type)]).toEqual([name, true]);
    }
  });

  test('through KeyMaterial: the same canonical bytes and fingerprint as before the reader existed', () => {
    const pem = keys[0].export({ type: 'pkcs8', format: 'pem' }) as string;
    const loaded = KeyMaterial.fromBytes(pem).load(type);
    expect(loaded.fingerprint).toBe(spkiFingerprint(keys[0]));
    expect(loaded.bytes().equals(keys[0].export({ type: 'pkcs8', format: 'der' }))).toBe(true);
  });

  test('declines a key of another size or curve, an encrypted one, and public keys (OpenSSL\'s path names them)', () => {
    const other = type.category === 'rsa' ? RSA_TYPES.find((t) => t !== type)! : EC_TYPES.find((t) => t !== type)!;
    const otherKey = generate(other);
    for (const [, input] of encodings(otherKey, other)) expect(readWellFormedKey(input, type)).toBeUndefined();
    expect(readWellFormedKey({ pem: keys[0].export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass' }) as string }, type)).toBeUndefined();
    expect(readWellFormedKey({ der: keys[0].export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: 'pass' }) }, type)).toBeUndefined();
    const publicKey = createPublicKey(keys[0]);
    expect(readWellFormedKey({ der: publicKey.export({ type: 'spki', format: 'der' }) }, type)).toBeUndefined();
    expect(readWellFormedKey({ pem: publicKey.export({ type: 'spki', format: 'pem' }) as string }, type)).toBeUndefined();
  });

  test('damaged keys (bit flips, truncation, insertion, deletion): accepted only where OpenSSL reads the same key', () => {
    const der = keys[0].export({ type: 'pkcs8', format: 'der' });
    const legacy = keys[0].export({ type: type.category === 'rsa' ? 'pkcs1' : 'sec1', format: 'der' });
    let accepted = 0;
    const rounds = type.category === 'rsa' ? 300 : 600;
    for (let i = 0; i < rounds; i++) {
      for (const original of [der, legacy]) {
        const damaged = Buffer.from(original);
        const at = randomBytes(2).readUInt16BE() % damaged.length;
        const kind = i % 4;
        const input = kind === 0 ? (damaged[at] ^= 1 << (i % 8), damaged)
          : kind === 1 ? damaged.subarray(0, at)
            : kind === 2 ? Buffer.concat([damaged.subarray(0, at), randomBytes(1), damaged.subarray(at)])
              : Buffer.concat([damaged.subarray(0, at), damaged.subarray(at + 1)]);
        if (expectAgreesWithOpenssl({ der: input }, type)) accepted++;
      }
    }
    // Flips inside the private values still make a key OpenSSL reads alike; flips in the structure do not.
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(rounds * 2);
  });
});

test('an EC point off the curve, a zero or too large scalar, a compressed point: declined (OpenSSL decides)', () => {
  const type = EC_TYPES[0];
  const der = generate(type).export({ type: 'pkcs8', format: 'der' });
  const offCurve = Buffer.from(der);
  offCurve[offCurve.length - 1] ^= 1;
  expect(readWellFormedKey({ der: offCurve }, type)).toBeUndefined();
  expect(byOpenssl({ der: offCurve }, type)).toBeUndefined();
  // The scalar is the 32 bytes after the inner SEQUENCE's version: 30 81 87 … 04 6d 30 6b 02 01 01 04 20 <d>.
  const scalarAt = der.indexOf(Buffer.from('0201010420', 'hex')) + 5;
  for (const fill of [0x00, 0xff]) {
    const bad = Buffer.from(der);
    bad.fill(fill, scalarAt, scalarAt + 32);
    expect(readWellFormedKey({ der: bad }, type)).toBeUndefined();
  }
  const compressed = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const sec1 = compressed.export({ type: 'sec1', format: 'der' });
  const point = sec1.subarray(sec1.length - 65);
  const shortPoint = Buffer.concat([Buffer.from([0x02 + (point[64] & 1)]), point.subarray(1, 33)]);
  const rebuilt = Buffer.concat([sec1.subarray(0, sec1.length - 65 - 5), Buffer.from('a124032200', 'hex'), shortPoint]);
  rebuilt[1] = rebuilt.length - 2;
  expect(readWellFormedKey({ der: rebuilt }, type)).toBeUndefined();
});
