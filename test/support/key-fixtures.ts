/**
 * Key material for the crypto-core tests, generated in memory at test time (never committed): one key per
 * importable type, its canonical import form, and every input encoding the material loader accepts.
 *
 * Generation is memoized per test file (jest gives each file its own module registry), and RSA keys are
 * generated asynchronously so that two cores work on them at once.
 */
import { createPrivateKey, generateKeyPair, KeyObject, randomBytes, type JsonWebKey } from 'node:crypto';
import { IMPORTABLE_KEY_TYPE_NAMES, KEY_TYPES, type ImportableKeyType, type KeyTypeName } from '../../src/key-types';
import type { MaterialFormat } from '../../src/material';

/** The environment variable encrypted fixtures read their passphrase from; suites set it in beforeAll. */
export const PASSPHRASE_ENV = 'BYOK_TEST_FIXTURE_PASSPHRASE';
export const PASSPHRASE = 'correct horse battery staple';

export const HASHES = ['sha1', 'sha256', 'sha384', 'sha512'] as const;

/** One encoding of a key, as a user would hand it to `KeyMaterial`. */
export interface MaterialInput {
  /** e.g. `pkcs1 pem` or `hex + newline`. */
  readonly label: string;
  readonly bytes: Buffer;
  /** The explicit `format` option; undefined means auto-detection. */
  readonly format?: MaterialFormat;
  /** True when the input is encrypted and needs `passphraseEnv: PASSPHRASE_ENV`. */
  readonly encrypted?: boolean;
  /** True when the input is text (so it can come from an environment variable). */
  readonly text: boolean;
}

export interface KeyFixture {
  readonly name: KeyTypeName;
  readonly type: ImportableKeyType;
  /** The canonical import bytes: the raw key, or PKCS#8 DER as Node itself exports it. */
  readonly canonical: Buffer;
  readonly privateKey?: KeyObject;
  readonly publicKey?: KeyObject;
  /** Every accepted encoding, each once with auto-detection and once with its explicit format. */
  readonly inputs: readonly MaterialInput[];
}

export const IMPORTABLE_TYPES: readonly KeyTypeName[] = IMPORTABLE_KEY_TYPE_NAMES;

/** `'-----BEGIN ' + label + '-----'` built at run time, so no committed file holds a private-key PEM marker. */
export function pemMarker(edge: 'BEGIN' | 'END', label: string): string {
  return `-----${edge} ${label}-----`;
}

const keyPairs = new Map<string, Promise<{ privateKey: KeyObject; publicKey: KeyObject }>>();

/** A generated key pair, memoized by its description (e.g. `rsa:2048`, `ec:P-384`, `ed25519`; `rsa:2048#b` is another key). */
export function keyPair(spec: string): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  let pair = keyPairs.get(spec);
  if (pair === undefined) {
    pair = new Promise((resolve, reject) => {
      const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) => (err ? reject(err) : resolve({ publicKey, privateKey }));
      const [kind, param] = spec.split('#')[0].split(':');
      if (kind === 'rsa') generateKeyPair('rsa', { modulusLength: Number(param) }, done);
      else if (kind === 'ec') generateKeyPair('ec', { namedCurve: param }, done);
      else if (kind === 'ed25519') generateKeyPair('ed25519', {}, done);
      else if (kind === 'ed448') generateKeyPair('ed448', {}, done);
      else if (kind === 'x25519') generateKeyPair('x25519', {}, done);
      else reject(new Error(`unknown key spec ${spec}`));
    });
    keyPairs.set(spec, pair);
  }
  return pair;
}

/** The key-pair spec a key type's fixture is generated from. */
export function specOf(type: ImportableKeyType): string {
  switch (type.category) {
    case 'rsa': return `rsa:${type.modulusBits}`;
    case 'ecdsa': return `ec:${type.curve}`;
    case 'eddsa': return 'ed25519';
    default: throw new Error(`no key pair for ${type.name}`);
  }
}

const fixtures = new Map<KeyTypeName, Promise<KeyFixture>>();

/** The fixture of one importable key type (generated on first use). */
export function keyFixture(name: KeyTypeName): Promise<KeyFixture> {
  let fixture = fixtures.get(name);
  if (fixture === undefined) {
    fixture = makeFixture(name);
    fixtures.set(name, fixture);
  }
  return fixture;
}

/** The fixtures of all 10 importable types, generated concurrently. */
export async function allKeyFixtures(): Promise<Map<KeyTypeName, KeyFixture>> {
  const list = await Promise.all(IMPORTABLE_TYPES.map((n) => keyFixture(n)));
  return new Map(list.map((f) => [f.name, f]));
}

async function makeFixture(name: KeyTypeName): Promise<KeyFixture> {
  const type = KEY_TYPES[name] as ImportableKeyType;
  if (type.category === 'symmetric') {
    const raw = randomBytes(type.sizeBytes);
    return { name, type, canonical: raw, inputs: makeInputs(type, { raw, key: undefined as unknown as KeyObject }) };
  }
  const { privateKey, publicKey } = await keyPair(specOf(type));
  const canonical = privateKey.export({ format: 'der', type: 'pkcs8' });
  return { name, type, canonical, privateKey, publicKey, inputs: makeInputs(type, { raw: Buffer.alloc(0), key: privateKey }) };
}

/** How one input encoding is made from the key (the raw bytes for symmetric types, the private key otherwise). */
interface InputSpec {
  readonly label: string;
  readonly format: MaterialFormat;
  readonly encrypted?: boolean;
  /** False when only the explicit format is meant (e.g. an Ed25519 seed given as `format: 'raw'`). */
  readonly auto?: boolean;
  readonly make: (source: { raw: Buffer; key: KeyObject }) => Buffer;
}

const nl = (s: string) => Buffer.from(`${s}\n`);
const pemOf = (t: 'pkcs8' | 'pkcs1' | 'sec1') => ({ key }: { key: KeyObject }) => Buffer.from(key.export({ format: 'pem', type: t }) as string);
const derOf = (t: 'pkcs8' | 'pkcs1' | 'sec1') => ({ key }: { key: KeyObject }) => key.export({ format: 'der', type: t });
const encrypted = (t: 'pkcs8' | 'pkcs1', format: 'pem' | 'der') => ({ key }: { key: KeyObject }) => {
  const options = { type: t, cipher: 'aes-256-cbc', passphrase: PASSPHRASE } as const;
  return format === 'der' ? key.export({ ...options, format }) : Buffer.from(key.export({ ...options, format }) as string);
};
const jwkText = ({ key }: { key: KeyObject }) => Buffer.from(JSON.stringify(key.export({ format: 'jwk' })));

const SYMMETRIC_INPUTS: readonly InputSpec[] = [
  { label: 'raw', format: 'raw', make: ({ raw }) => Buffer.from(raw) },
  { label: 'hex', format: 'hex', make: ({ raw }) => Buffer.from(raw.toString('hex')) },
  { label: 'hex + newline', format: 'hex', make: ({ raw }) => nl(raw.toString('hex')) },
  { label: 'HEX (upper case)', format: 'hex', make: ({ raw }) => Buffer.from(raw.toString('hex').toUpperCase()) },
  { label: 'base64', format: 'base64', make: ({ raw }) => Buffer.from(raw.toString('base64')) },
  { label: 'base64 + newline', format: 'base64', make: ({ raw }) => nl(raw.toString('base64')) },
  { label: 'base64url', format: 'base64', make: ({ raw }) => Buffer.from(raw.toString('base64url')) },
  { label: 'base64url + newline', format: 'base64', make: ({ raw }) => nl(raw.toString('base64url')) },
  { label: 'jwk oct', format: 'jwk', make: ({ raw }) => Buffer.from(JSON.stringify({ kty: 'oct', k: raw.toString('base64url') })) },
  { label: 'jwk oct + newline', format: 'jwk', make: ({ raw }) => nl(JSON.stringify({ kty: 'oct', k: raw.toString('base64url') })) },
];

const COMMON_ASYMMETRIC_INPUTS: readonly InputSpec[] = [
  { label: 'pkcs8 pem', format: 'pem', make: pemOf('pkcs8') },
  { label: 'pkcs8 der', format: 'der', make: derOf('pkcs8') },
  { label: 'jwk', format: 'jwk', make: jwkText },
  { label: 'encrypted pkcs8 pem', format: 'pem', encrypted: true, make: encrypted('pkcs8', 'pem') },
  { label: 'encrypted pkcs8 der', format: 'der', encrypted: true, make: encrypted('pkcs8', 'der') },
];

const INPUTS: Record<ImportableKeyType['category'], readonly InputSpec[]> = {
  symmetric: SYMMETRIC_INPUTS,
  rsa: [
    ...COMMON_ASYMMETRIC_INPUTS,
    { label: 'pkcs1 pem', format: 'pem', make: pemOf('pkcs1') },
    { label: 'pkcs1 der', format: 'der', make: derOf('pkcs1') },
    { label: 'encrypted pkcs1 pem (Proc-Type)', format: 'pem', encrypted: true, make: encrypted('pkcs1', 'pem') },
  ],
  ecdsa: [
    ...COMMON_ASYMMETRIC_INPUTS,
    { label: 'sec1 pem', format: 'pem', make: pemOf('sec1') },
    { label: 'sec1 der', format: 'der', make: derOf('sec1') },
  ],
  eddsa: [
    ...COMMON_ASYMMETRIC_INPUTS,
    { label: 'raw 32-byte seed', format: 'seed', make: ({ key }) => ed25519Seed(key) },
    { label: 'raw 32-byte seed', format: 'raw', auto: false, make: ({ key }) => ed25519Seed(key) },
    { label: 'hex seed', format: 'seed', make: ({ key }) => Buffer.from(ed25519Seed(key).toString('hex')) },
    { label: 'hex seed + newline', format: 'seed', make: ({ key }) => nl(ed25519Seed(key).toString('hex')) },
    { label: 'base64 seed', format: 'seed', make: ({ key }) => Buffer.from(ed25519Seed(key).toString('base64')) },
  ],
};

/** The labels of a type's inputs, known before any key is generated (for `it.each` tables). */
export function inputLabels(type: ImportableKeyType): string[] {
  return expandSpecs(type).map((s) => s.fullLabel);
}

function expandSpecs(type: ImportableKeyType): (InputSpec & { fullLabel: string; explicit: boolean })[] {
  return INPUTS[type.category].flatMap((spec) => [
    ...(spec.auto === false ? [] : [{ ...spec, fullLabel: `${spec.label} (auto)`, explicit: false }]),
    { ...spec, fullLabel: `${spec.label} (format ${spec.format})`, explicit: true },
  ]);
}

function makeInputs(type: ImportableKeyType, source: { raw: Buffer; key: KeyObject }): MaterialInput[] {
  return expandSpecs(type).map((spec) => {
    const bytes = spec.make(source);
    return { label: spec.fullLabel, bytes, format: spec.explicit ? spec.format : undefined, encrypted: spec.encrypted, text: isText(bytes) };
  });
}

/** The input of a fixture with this label (see {@link inputLabels}). */
export function inputOf(fixture: KeyFixture, label: string): MaterialInput {
  const input = fixture.inputs.find((i) => i.label === label);
  if (input === undefined) throw new Error(`no input "${label}" for ${fixture.name}`);
  return input;
}

function isText(bytes: Buffer): boolean {
  return bytes.every((b) => b === 0x0a || b === 0x0d || b === 0x09 || (b >= 0x20 && b < 0x7f));
}

/** The 32-byte private seed of an Ed25519 key (the last 32 bytes of its RFC 8410 PKCS#8 DER). */
export function ed25519Seed(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(der.subarray(der.length - 32));
}

/** The private JWK members of a key, for leak checks. */
export function jwkOf(key: KeyObject): JsonWebKey {
  return key.export({ format: 'jwk' });
}

/** The canonical PKCS#8 DER of a private key, as Node exports it. */
export function pkcs8Der(key: KeyObject | Buffer): Buffer {
  const k = key instanceof KeyObject ? key : createPrivateKey({ key, format: 'der', type: 'pkcs8' });
  return k.export({ format: 'der', type: 'pkcs8' });
}
