/**
 * The DER reader of well-formed RSA, ECDSA and Ed25519 private keys (src/material/well-formed-keys.ts) against
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
function expectAgreesWithOpenssl(input: { der: Buffer } | { pem: string }, type: ImportableKeyType): boolean {
  const ours = readWellFormedKey(input, type);
  if (ours === undefined) return false;
  const theirs = byOpenssl(input, type);
  expect(theirs).toBeDefined();
  const details = theirs!.key.asymmetricKeyDetails;
  expect(type.category === 'rsa' ? [theirs!.key.asymmetricKeyType, details?.modulusLength]
    : type.category === 'ecdsa' ? [theirs!.key.asymmetricKeyType, details?.namedCurve] : [theirs!.key.asymmetricKeyType])
    .toEqual(type.category === 'rsa' ? ['rsa', type.modulusBits] : type.category === 'ecdsa' ? ['ec', type.namedCurve] : ['ed25519']);
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

describe('ed25519', () => {
  const type = KEY_TYPES.ed25519;
  const keys = Array.from({ length: 8 }, () => generateKeyPairSync('ed25519').privateKey);

  test('PKCS#8 as OpenSSL writes it (PEM, CRLF PEM, DER) is read, to what OpenSSL gives', () => {
    for (const key of keys) {
      const pem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
      for (const input of [{ pem }, { pem: `note\r\n${pem.replace(/\n/g, '\r\n')}` }, { der: key.export({ type: 'pkcs8', format: 'der' }) }]) {
        expect(expectAgreesWithOpenssl(input, type)).toBe(true);
      }
    }
    const fromOpensslCli = openssl(['genpkey', '-algorithm', 'ed25519']).toString('latin1');
    expect(expectAgreesWithOpenssl({ pem: fromOpensslCli }, type)).toBe(true);
  });

  test('a seed (raw, hex, base64) loads to the canonical PKCS#8 and fingerprint OpenSSL gives', () => {
    for (const key of keys.slice(0, 3)) {
      const der = key.export({ type: 'pkcs8', format: 'der' });
      const seed = der.subarray(16);
      for (const input of [Buffer.from(seed), seed.toString('hex'), seed.toString('base64')]) {
        const loaded = KeyMaterial.fromBytes(input, { format: 'seed' }).load(type);
        expect(loaded.fingerprint).toBe(spkiFingerprint(key));
        expect(loaded.bytes().equals(der)).toBe(true);
      }
    }
  });

  test('declines PKCS#8 with a public key or attributes, another algorithm, a wrong length and an encrypted key', () => {
    const der = keys[0].export({ type: 'pkcs8', format: 'der' });
    const seed = der.subarray(16);
    const publicKey = createPublicKey(keys[0]).export({ type: 'spki', format: 'der' }).subarray(12);
    // OneAsymmetricKey v2 { 1, alg, OCTET STRING { seed }, [1] publicKey }
    const v2 = Buffer.concat([Buffer.from('3051020101300506032b657004220420', 'hex'), seed, Buffer.from('812100', 'hex'), publicKey]);
    expect(readWellFormedKey({ der: v2 }, type)).toBeUndefined();
    const ed448 = generateKeyPairSync('ed448').privateKey.export({ type: 'pkcs8', format: 'der' });
    expect(readWellFormedKey({ der: ed448 }, type)).toBeUndefined();
    expect(readWellFormedKey({ der: der.subarray(0, 47) }, type)).toBeUndefined();
    expect(readWellFormedKey({ der: Buffer.concat([der, Buffer.from([0])]) }, type)).toBeUndefined();
    expect(readWellFormedKey({ pem: keys[0].export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass' }) as string }, type)).toBeUndefined();
    expect(readWellFormedKey({ pem: createPublicKey(keys[0]).export({ type: 'spki', format: 'pem' }) as string }, type)).toBeUndefined();
    // …and each is then loaded or refused as OpenSSL decides: whatever it makes of v2 (OpenSSL 3.0 refuses it).
    const v2ByOpenssl = byOpenssl({ der: v2 }, type);
    if (v2ByOpenssl === undefined) expect(() => KeyMaterial.fromBytes(v2).load(type)).toThrow(/received 83 bytes that are not a DER private key/);
    else expect(KeyMaterial.fromBytes(v2).load(type).fingerprint).toBe(v2ByOpenssl.result.fingerprint);
    expect(() => KeyMaterial.fromBytes(ed448).load(type)).toThrow(/needs an Ed25519 private key; received an Ed448 key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => KeyMaterial.fromBytes(rsa).load(type)).toThrow(/needs an Ed25519 private key; received an RSA key\./);
  });

  test('damaged keys: accepted only where OpenSSL reads the same key', () => {
    const der = keys[0].export({ type: 'pkcs8', format: 'der' });
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const damaged = Buffer.from(der);
      damaged[i % damaged.length] ^= 1 << (i % 8);
      if (expectAgreesWithOpenssl({ der: damaged }, type)) accepted++;
    }
    // Flips inside the seed make another valid key; flips in the header are declined.
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(400);
  });

  test('if Node\'s JWK import ever failed, read the empty x, or derived another key from d, the key goes to OpenSSL instead', () => {
    const der = keys[1].export({ type: 'pkcs8', format: 'der' });
    for (const behaviour of ['throws', 'keeps x', 'derives another key'] as const) {
      jest.isolateModules(() => {
        jest.doMock('node:crypto', () => {
          const real = jest.requireActual<typeof import('node:crypto')>('node:crypto');
          const fromJwk = new WeakSet<object>();
          return {
            ...real,
            createPrivateKey: (options: Parameters<typeof real.createPrivateKey>[0]) => {
              const jwk = (options as { format?: string }).format === 'jwk' ? (options as { key: { d: string } }).key : undefined;
              if (jwk === undefined) return real.createPrivateKey(options);
              if (behaviour === 'throws') throw new TypeError('Invalid JWK');
              // Another key, consistently: as if d were read in some other way.
              const d = behaviour === 'derives another key' ? real.createHash('sha256').update(jwk.d).digest().toString('base64url') : jwk.d;
              const key = real.createPrivateKey({ key: { ...jwk, d }, format: 'jwk' });
              fromJwk.add(key);
              return key;
            },
            createPublicKey: (key: Parameters<typeof real.createPublicKey>[0]) => {
              const made = real.createPublicKey(key);
              if (behaviour !== 'keeps x' || !fromJwk.has(key as object)) return made;
              return Object.assign(Object.create(made) as object, { export: () => ({ kty: 'OKP', crv: 'Ed25519', x: '' }) });
            },
          };
        });
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const isolated = require('../../src/material/well-formed-keys') as typeof import('../../src/material/well-formed-keys');
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const material = require('../../src/material') as typeof import('../../src/material');
        expect([behaviour, isolated.readWellFormedKey({ der }, type)]).toEqual([behaviour, undefined]);
        expect([behaviour, isolated.readEd25519Seed(der.subarray(16))]).toEqual([behaviour, undefined]);
        const loaded = material.KeyMaterial.fromBytes(der).load(type);
        expect(loaded.fingerprint).toBe(spkiFingerprint(keys[1]));
        expect(loaded.bytes().equals(der)).toBe(true);
      });
    }
    jest.dontMock('node:crypto');
  });

  test('the route is checked against RFC 8032\'s first test vector, and agrees with it', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const read = readWellFormedKey({ der: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]) }, type);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex')]);
    expect(read?.fingerprint).toBe(spkiFingerprint(createPublicKey({ key: spki, format: 'der', type: 'spki' })));
  });
});
