/**
 * Fuzzing the key-material parsers: arbitrary bytes and text, shaped-but-wrong inputs (PEM frames, JSON, DER
 * headers), and damaged valid keys (bit flips, truncation, insertion, deletion) through `normalizeMaterial`
 * (every importable type, every format), `KeyMaterial.fromBytes(...).load` and `parseCanonicalMaterial`.
 *
 * The property: the parser returns canonical material that parses again as the type, or throws a
 * KeyMaterialError / KeyTypeError with a known code — never another exception — and the error never
 * contains the material it was given.
 */
import fc from 'fast-check';
import { IMPORTABLE_KEY_TYPE_NAMES, KEY_TYPES, type ImportableKeyType, type KeyTypeName } from '../../src/key-types';
import { KeyMaterial, MATERIAL_FORMATS, normalizeMaterial, parseCanonicalMaterial, type MaterialFormat } from '../../src/material';
import { allKeyFixtures, PASSPHRASE, pemMarker, type KeyFixture } from '../support/key-fixtures';
import { expectNoLeak } from '../support/no-leak';
import { fuzzParams, fuzzTimeout, mutate, mutationArb, typedOutcome } from './fuzz-config';

const MATERIAL_CODES = new Set([
  'MATERIAL_SOURCE', 'MATERIAL_FORMAT', 'MATERIAL_LENGTH', 'MATERIAL_ALGORITHM', 'MATERIAL_RSA_SIZE', 'MATERIAL_CURVE',
  'MATERIAL_NOT_PRIVATE', 'MATERIAL_PASSPHRASE_MISSING', 'MATERIAL_PASSPHRASE_WRONG',
]);
const LOAD_CODES = new Set([...MATERIAL_CODES, 'KEY_TYPE_UNKNOWN', 'KEY_TYPE_NOT_IMPORTABLE']);

const TYPES = IMPORTABLE_KEY_TYPE_NAMES.map((n) => KEY_TYPES[n] as ImportableKeyType);
const typeArb = fc.constantFrom(...TYPES);
const formatArb = fc.constantFrom<MaterialFormat>(...MATERIAL_FORMATS);
const passphraseArb = fc.option(fc.string({ maxLength: 24 }), { nil: undefined });

/** Checks what normalizeMaterial returned: canonical bytes that validate again as the same type. */
function expectCanonical(type: ImportableKeyType, canonical: Buffer): void {
  if (type.category === 'symmetric') expect(canonical.length).toBe(type.sizeBytes);
  const again = typedOutcome(() => parseCanonicalMaterial(canonical, type), MATERIAL_CODES);
  if (again.error) throw new Error(`normalizeMaterial returned bytes that parseCanonicalMaterial refuses: ${again.error.code}`);
}

function normalizeTyped(input: Uint8Array, type: ImportableKeyType, format: MaterialFormat, passphrase?: string) {
  const outcome = typedOutcome(() => normalizeMaterial(input, type, { format, passphrase }), MATERIAL_CODES);
  if (outcome.value) expectCanonical(type, outcome.value);
  return outcome;
}

// Inputs that get past the first checks: PEM frames, JSON objects (JWK-like), DER-ish sequences, hex and base64.
const PEM_LABELS = ['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PUBLIC KEY', 'CERTIFICATE', 'EC PARAMETERS', 'X'];
const base64Text = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));
const pemArb = fc.tuple(fc.constantFrom(...PEM_LABELS), fc.constantFrom(...PEM_LABELS), base64Text(0, 300), fc.boolean(), fc.string({ maxLength: 40 }))
  .map(([begin, end, body, procType, extra]) =>
    `${pemMarker('BEGIN', begin)}\n${procType ? 'Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n' : ''}${body.replace(/(.{64})/g, '$1\n')}\n${pemMarker('END', end)}\n${extra}`);
const jwkValueArb = fc.oneof(base64Text(0, 80).map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')), fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null), fc.boolean());
const jwkArb = fc.record({
  kty: fc.oneof(fc.constantFrom('RSA', 'EC', 'OKP', 'oct', 'rsa', ''), fc.string({ maxLength: 8 }), fc.integer()),
  crv: fc.option(fc.constantFrom('P-256', 'P-384', 'P-521', 'Ed25519', 'X25519', 'secp256k1'), { nil: undefined }),
  k: fc.option(jwkValueArb, { nil: undefined }), d: fc.option(jwkValueArb, { nil: undefined }),
  n: fc.option(jwkValueArb, { nil: undefined }), e: fc.option(jwkValueArb, { nil: undefined }),
  x: fc.option(jwkValueArb, { nil: undefined }), y: fc.option(jwkValueArb, { nil: undefined }),
}, { requiredKeys: [] }).map((o) => JSON.stringify(o));
const derArb = fc.tuple(fc.integer({ min: 0, max: 300 }), fc.uint8Array({ maxLength: 300 }))
  .map(([len, body]) => Buffer.concat([Buffer.from([0x30, len < 128 ? len : 0x82, ...(len < 128 ? [] : [len >> 8, len & 0xff])]), body]));
const shapedArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  pemArb.map((s) => Buffer.from(s)),
  jwkArb.map((s) => Buffer.from(s)),
  derArb,
  fc.uint8Array({ minLength: 1, maxLength: 80 }).map((b) => Buffer.from(Buffer.from(b).toString('hex'))),
  base64Text(1, 80).map((s) => Buffer.from(s)),
  fc.uint8Array({ minLength: 31, maxLength: 33 }),
);

describe('material parsers under arbitrary input', () => {
  it('normalizeMaterial: arbitrary bytes, every type and format, yield canonical material or a typed error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), typeArb, formatArb, passphraseArb, (bytes, type, format, passphrase) => {
      normalizeTyped(bytes, type, format, passphrase);
    }), fuzzParams(1500));
  }, fuzzTimeout(30_000));

  it('normalizeMaterial: arbitrary text (full Unicode) yields canonical material or a typed error', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), typeArb, formatArb, (text, type, format) => {
      normalizeTyped(Buffer.from(text, 'utf8'), type, format);
    }), fuzzParams(1000));
  }, fuzzTimeout(30_000));

  it('normalizeMaterial: PEM frames, JWK-like JSON, DER-like sequences, hex and base64 of any size', () => {
    fc.assert(fc.property(shapedArb, typeArb, formatArb, passphraseArb, (bytes, type, format, passphrase) => {
      normalizeTyped(bytes, type, format, passphrase);
    }), fuzzParams(1500));
  }, fuzzTimeout(30_000));

  it('KeyMaterial.fromBytes(...).load: arbitrary input and arbitrary key-type names yield typed errors', () => {
    const nameArb = fc.oneof(fc.constantFrom<string>(...Object.keys(KEY_TYPES)), fc.string({ maxLength: 20 }));
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), shapedArb), nameArb, formatArb, (bytes, name, format) => {
      const outcome = typedOutcome(() => KeyMaterial.fromBytes(bytes, { format }).load(name), LOAD_CODES);
      outcome.value?.destroy();
    }), fuzzParams(800));
  }, fuzzTimeout(30_000));

  it('parseCanonicalMaterial: arbitrary bytes and DER-like sequences yield a typed error (or a valid key)', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), derArb), typeArb, (bytes, type) => {
      typedOutcome(() => parseCanonicalMaterial(bytes, type), MATERIAL_CODES);
    }), fuzzParams(1500));
  }, fuzzTimeout(30_000));
});

/**
 * The secret parts of an input encoding, for the leak check (the canonical bytes cover raw, hex, base64 and
 * DER forms): a PEM's body lines, a JWK's private members. Not the PEM frame or JSON member names, which
 * are public and may rightly appear in a message ("a PEM \"ENCRYPTED PRIVATE KEY\" without its END line").
 */
function inputSecrets(input: KeyFixture['inputs'][number]): string[] {
  const text = input.bytes.toString('latin1');
  if (text.includes('-----BEGIN')) return [text];
  if (input.format === 'jwk' || (input.format === undefined && text.trimStart().startsWith('{'))) {
    let jwk: Record<string, unknown>;
    try {
      jwk = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // A random raw key may start with "{" too (one in 256 does): not a JWK, nothing more to look for.
      return [];
    }
    return ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].map((m) => jwk[m]).filter((v): v is string => typeof v === 'string');
  }
  return [];
}

describe('damaged valid key material', () => {
  let fixtures: Map<KeyTypeName, KeyFixture>;
  let cases: { fixture: KeyFixture; input: KeyFixture['inputs'][number] }[];

  beforeAll(async () => {
    process.env.BYOK_FUZZ_PASSPHRASE = PASSPHRASE;
    fixtures = await allKeyFixtures();
    cases = [...fixtures.values()].flatMap((fixture) => fixture.inputs.map((input) => ({ fixture, input })));
  }, 120_000);

  afterAll(() => {
    delete process.env.BYOK_FUZZ_PASSPHRASE;
  });

  it('every mutation of every encoding of every type: typed error that does not contain the material, or a valid key', () => {
    fc.assert(fc.property(fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), fc.boolean(), (pick, mutations, asOtherType) => {
      const { fixture, input } = cases[pick % cases.length];
      const damaged = mutations.reduce<Buffer>((b, m) => mutate(b, m), Buffer.from(input.bytes));
      // Sometimes offer the damaged key to another type too: the cross-type messages must not leak either.
      const type = asOtherType ? TYPES[pick % TYPES.length] : fixture.type;
      const source = KeyMaterial.fromBytes(damaged, { format: input.format, passphraseEnv: input.encrypted ? 'BYOK_FUZZ_PASSPHRASE' : undefined });
      const outcome = typedOutcome(() => source.load(type), LOAD_CODES);
      if (outcome.error) {
        const text = `${outcome.error.message}\n${JSON.stringify(outcome.error)}\n${String(source)}`;
        expectNoLeak(text, fixture.canonical, ...inputSecrets(input));
      } else {
        expectCanonical(type, outcome.value!.bytes());
        outcome.value!.destroy();
      }
    }), fuzzParams(600));
  }, fuzzTimeout(60_000));

  it('parseCanonicalMaterial on damaged canonical bytes: typed error without the material, or a valid key', () => {
    const asymmetric = () => [...fixtures.values()].filter((f) => f.type.category !== 'symmetric');
    fc.assert(fc.property(fc.nat(), mutationArb, (pick, mutation) => {
      const list = asymmetric();
      const fixture = list[pick % list.length];
      const damaged = mutate(fixture.canonical, mutation);
      const outcome = typedOutcome(() => parseCanonicalMaterial(damaged, fixture.type), MATERIAL_CODES);
      if (outcome.error) expectNoLeak(outcome.error.message, fixture.canonical);
    }), fuzzParams(500));
  }, fuzzTimeout(60_000));
});
