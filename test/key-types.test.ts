import { IMPORTABLE_KEY_TYPE_NAMES, KEY_TYPES, KeyTypeError, importableKeyType, keyType } from '../src/key-types';

describe('key-type catalogue', () => {
  it('lists all 13 Thalassa key types, 10 of them importable', () => {
    expect(Object.keys(KEY_TYPES)).toHaveLength(13);
    expect(IMPORTABLE_KEY_TYPE_NAMES).toEqual([
      'aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305',
      'rsa-2048', 'rsa-3072', 'rsa-4096',
      'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519',
    ]);
  });

  it('records the canonical import format and size of each importable type', () => {
    expect(KEY_TYPES['aes128-gcm96']).toMatchObject({ canonicalFormat: 'raw', sizeBytes: 16 });
    expect(KEY_TYPES['chacha20-poly1305']).toMatchObject({ canonicalFormat: 'raw', sizeBytes: 32 });
    expect(KEY_TYPES['rsa-3072']).toMatchObject({ canonicalFormat: 'pkcs8-der', modulusBits: 3072 });
    expect(KEY_TYPES['ecdsa-p521']).toMatchObject({ canonicalFormat: 'pkcs8-der', curve: 'P-521', namedCurve: 'secp521r1' });
    expect(KEY_TYPES['ed25519']).toMatchObject({ canonicalFormat: 'pkcs8-der', category: 'eddsa' });
    for (const name of Object.keys(KEY_TYPES) as (keyof typeof KEY_TYPES)[]) expect(KEY_TYPES[name].name).toBe(name);
  });

  it.each(['hmac', 'hmac-sha256', 'hmac-sha512'])('refuses to import %s and says why', (name) => {
    expect(keyType(name).importable).toBe(false);
    expect(() => importableKeyType(name)).toThrow(expect.objectContaining({ code: 'KEY_TYPE_NOT_IMPORTABLE' }));
    expect(() => importableKeyType(name)).toThrow(/HMAC key material/);
  });

  it('names the valid types when given an unknown one', () => {
    let error: unknown;
    try { keyType('aes512'); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(KeyTypeError);
    expect(error).toMatchObject({ code: 'KEY_TYPE_UNKNOWN' });
    expect((error as Error).message).toMatch(/"aes512".*aes256-gcm96/);
  });

  it.each([['ecdsa-P256', 'ecdsa-p256'], ['ECDSA_P384', 'ecdsa-p384'], ['aes256-gcm', 'aes256-gcm96'], ['ed2519', 'ed25519'], ['rsa-409', 'rsa-4096']])(
    'suggests the near miss: %s → %s', (typo, meant) => {
      expect(() => importableKeyType(typo)).toThrow(new RegExp(`Did you mean "${meant}"\\?`));
    },
  );

  it('offers no suggestion for a far miss, and lists only importable types for an import', () => {
    let error: unknown;
    try { importableKeyType('blowfish'); } catch (e) { error = e; }
    expect((error as Error).message).not.toMatch(/Did you mean/);
    expect((error as Error).message).toMatch(/Expected one of: aes128-gcm96, .*ed25519\.$/);
    expect((error as Error).message).not.toMatch(/hmac/);
  });
});
