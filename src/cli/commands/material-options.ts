/**
 * The options `wrap` and `fingerprint` share for naming key material: a file or variable, or a key inside a
 * PKCS#11 token. Exactly one source; the token's key goes through `KeyMaterial.fromPkcs11` and `src/hsm`, the
 * construct's own code path, so the CLI and a synth check, fingerprint and wrap a token's key the same way.
 */
import { shownValue } from '../../disclosure';
import { KeyMaterial, MATERIAL_FORMATS, type CanonicalKeyMaterial, type MaterialFormat, type Pkcs11KeySource } from '../../material';
import { optionalString, requireString, UsageError, type OptionsConfig, type ParsedOptions } from '../command';

const FILE_OPTIONS = ['material', 'material-env', 'format', 'passphrase-env'] as const;
const PKCS11_OPTIONS = ['pkcs11-module', 'token-label', 'pin-env', 'key-label', 'key-id'] as const;

export const MATERIAL_OPTIONS: OptionsConfig = {
  'key-type': { type: 'string' },
  ...Object.fromEntries([...FILE_OPTIONS, ...PKCS11_OPTIONS].map((name) => [name, { type: 'string' as const }])),
};

export const MATERIAL_USAGE = '(--material PATH | --material-env VAR | --pkcs11-module LIB --token-label L --pin-env VAR (--key-label L | --key-id HEX))';

export const MATERIAL_HELP = `  --key-type T          One of the importable key types (aes128-gcm96, aes256-gcm96, chacha20-poly1305,
                        rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519)
  --material PATH       File holding the key material ("-" is not accepted: material never goes through a pipe
                        that a shell history or log could capture)
  --material-env VAR    Or: environment variable holding the material as text (hex, base64, PEM or JWK)
  --format F            ${MATERIAL_FORMATS.join(' | ')} (default auto: recognised from the input)
  --passphrase-env VAR  Environment variable holding the passphrase of an encrypted PKCS#8 PEM
  --pkcs11-module LIB   Or: the key is in a PKCS#11 token (an HSM), and never leaves it; LIB is the token's
                        PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so (needs the npm package pkcs11js)
  --token-label L       The token's label (as "pkcs11-tool -L" shows it)
  --pin-env VAR         The NAME of the environment variable holding the token's user PIN (never the PIN)
  --key-label L         The key's CKA_LABEL; or
  --key-id HEX          the key's CKA_ID, as hex
`;

/** Where the command line says the material is: loaded from a file or variable, or named in a token. */
export type MaterialSource =
  | { readonly kind: 'material'; readonly keyType: string; readonly load: () => CanonicalKeyMaterial }
  | { readonly kind: 'pkcs11'; readonly keyType: string; readonly ref: Pkcs11KeySource };

/** The key type and the one material source named on the command line; usage errors name the options. */
export function materialSourceFromOptions(options: ParsedOptions): MaterialSource {
  const keyType = requireString(options, 'key-type');
  const given = (names: readonly string[]): string[] => names.filter((name) => options[name] !== undefined).map((name) => `--${name}`);
  const pkcs11 = given(PKCS11_OPTIONS);
  if (pkcs11.length > 0) {
    const mixed = given(FILE_OPTIONS);
    if (mixed.length > 0) throw new UsageError(`${mixed.join(', ')} cannot be combined with ${pkcs11.join(', ')}: a key is read either from a file or variable, or from a PKCS#11 token.`);
    return { kind: 'pkcs11', keyType, ref: pkcs11RefFromOptions(options, pkcs11) };
  }
  const path = optionalString(options, 'material');
  const variable = optionalString(options, 'material-env');
  if ((path === undefined) === (variable === undefined)) {
    throw new UsageError('Give exactly one of --material PATH, --material-env VAR, or a key in a PKCS#11 token (--pkcs11-module with --token-label, --pin-env and --key-label or --key-id).');
  }
  const format = optionalString(options, 'format') ?? 'auto';
  if (!(MATERIAL_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${MATERIAL_FORMATS.join(', ')}; received ${shownValue(format)}.`);
  }
  const sourceOptions = { format: format as MaterialFormat, passphraseEnv: optionalString(options, 'passphrase-env') };
  const source = path !== undefined ? KeyMaterial.fromFile(path, sourceOptions) : KeyMaterial.fromEnv(variable as string, sourceOptions);
  return { kind: 'material', keyType, load: () => source.load(keyType) };
}

/**
 * The token key the options name, checked as `KeyMaterial.fromPkcs11` checks it (which also normalizes the id).
 * Values are never quoted here: a PIN pasted where its variable's name belongs must not reach stderr.
 */
function pkcs11RefFromOptions(options: ParsedOptions, given: readonly string[]): Pkcs11KeySource {
  const missing = (['pkcs11-module', 'token-label', 'pin-env'] as const).filter((name) => options[name] === undefined || options[name] === '');
  if (missing.length > 0) {
    throw new UsageError(`A key in a PKCS#11 token (${given.join(', ')}) also needs ${missing.map((m) => `--${m}`).join(', ')}: the token's library, its label, and the NAME of the variable holding the PIN.`);
  }
  const keyLabel = optionalString(options, 'key-label');
  const keyId = optionalString(options, 'key-id');
  if ((keyLabel === undefined || keyLabel === '') === (keyId === undefined || keyId === '')) {
    throw new UsageError('Name the key in the token by exactly one of --key-label L (its CKA_LABEL) or --key-id HEX (its CKA_ID).');
  }
  if (keyId !== undefined && !/^(?:[0-9a-fA-F]{2})+$/.test(keyId)) {
    throw new UsageError(`--key-id must be the key's CKA_ID as hex (an even number of 0-9a-f digits); received ${keyId.length} characters that are not.`);
  }
  return KeyMaterial.fromPkcs11({
    module: requireString(options, 'pkcs11-module'), tokenLabel: requireString(options, 'token-label'), pinEnv: requireString(options, 'pin-env'),
    ...(keyLabel !== undefined ? { keyLabel } : { keyId }),
  }).ref;
}
