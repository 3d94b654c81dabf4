/** The options `wrap` and `fingerprint` share for reading key material. */
import { shownValue } from '../../disclosure';
import { KeyMaterial, MATERIAL_FORMATS, type MaterialFormat } from '../../material';
import { optionalString, requireString, UsageError, type OptionsConfig, type ParsedOptions } from '../command';

export const MATERIAL_OPTIONS: OptionsConfig = {
  'key-type': { type: 'string' },
  material: { type: 'string' },
  'material-env': { type: 'string' },
  format: { type: 'string' },
  'passphrase-env': { type: 'string' },
};

export const MATERIAL_HELP = `  --key-type T          One of the importable key types (aes128-gcm96, aes256-gcm96, chacha20-poly1305,
                        rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519)
  --material PATH       File holding the key material ("-" is not accepted: material never goes through a pipe
                        that a shell history or log could capture)
  --material-env VAR    Or: environment variable holding the material as text (hex, base64, PEM or JWK)
  --format F            ${MATERIAL_FORMATS.join(' | ')} (default auto: recognised from the input)
  --passphrase-env VAR  Environment variable holding the passphrase of an encrypted PKCS#8 PEM
`;

/** The key type and material source named on the command line, loaded and validated. */
export function loadMaterialFromOptions(options: ParsedOptions) {
  const keyType = requireString(options, 'key-type');
  const path = optionalString(options, 'material');
  const variable = optionalString(options, 'material-env');
  if ((path === undefined) === (variable === undefined)) {
    throw new UsageError('Give exactly one of --material PATH or --material-env VAR.');
  }
  const format = optionalString(options, 'format') ?? 'auto';
  if (!(MATERIAL_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${MATERIAL_FORMATS.join(', ')}; received ${shownValue(format)}.`);
  }
  const sourceOptions = { format: format as MaterialFormat, passphraseEnv: optionalString(options, 'passphrase-env') };
  const source = path !== undefined ? KeyMaterial.fromFile(path, sourceOptions) : KeyMaterial.fromEnv(variable as string, sourceOptions);
  return source.load(keyType);
}
