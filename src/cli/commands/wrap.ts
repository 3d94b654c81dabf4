import { HsmError, wrapInToken } from '../../hsm';
import { writeOwnerOnlyFile } from '../../secret-file';
import { WrappingKey, wrap, parseWrapHash, WRAP_HASHES, DEFAULT_WRAP_HASH, type WrapHash } from '../../wrapping';
import { ExitCode, optionalString, requireString, type Command } from '../command';
import { materialSourceFromOptions, MATERIAL_HELP, MATERIAL_OPTIONS, MATERIAL_USAGE, type MaterialSource } from './material-options';

export const wrapCommand: Command = {
  name: 'wrap',
  options: {
    ...MATERIAL_OPTIONS,
    'wrapping-key': { type: 'string' },
    pin: { type: 'string' },
    hash: { type: 'string' },
    out: { type: 'string' },
  },
  help: `Usage: thalassa-byok wrap --key-type T ${MATERIAL_USAGE}
                          --wrapping-key PEM_PATH [--pin FP] [--hash H] [--format F] [--passphrase-env VAR] [--out FILE]

Wraps key material for import (CKM_RSA_AES_KEY_WRAP: RSA-OAEP of a fresh AES-256 key, then AES key wrap
with padding, RFC 5649, of the material) and prints the base64 blob for "importKeyMaterial". A key in a
PKCS#11 token is wrapped inside the token, in the same format: its plaintext never leaves the token.

${MATERIAL_HELP}  --wrapping-key PATH   The region's wrapping key, a PEM public key (thalassa-byok wrapping-key --out)
  --pin FP              Refuse the wrapping key unless its fingerprint is FP (spki-sha256:…); not the token's PIN
  --hash H              OAEP hash, sent as "hashFunction": ${WRAP_HASHES.join(', ')} (default ${DEFAULT_WRAP_HASH});
                        a token wraps with exactly this hash or fails (SoftHSM2 2.6.1 offers sha1 only)
  --out FILE            Write the blob to FILE (mode 0600) instead of stdout; prints the fingerprint instead

The blob is a secret: anyone who holds the region's unwrapping key can recover the material from it.
Exit codes: 0 success, 1 failure, 2 usage error.
`,
  async run(options, io) {
    const wrappingKey = WrappingKey.fromPemFile(requireString(options, 'wrapping-key'), { pin: optionalString(options, 'pin') });
    const hash = parseWrapHash(optionalString(options, 'hash'));
    const { blob, keyType, fingerprint } = wrapped(materialSourceFromOptions(options), wrappingKey, hash);
    const base64 = blob.toString('base64');
    const out = optionalString(options, 'out');
    if (out === undefined) {
      io.stdout(`${base64}\n`);
    } else {
      writeOwnerOnlyFile(out, `${base64}\n`);
      io.stderr(`Wrapped ${keyType} key ${fingerprint} with wrapping key ${wrappingKey.fingerprint} (${hash}) into ${out}\n`);
    }
    if (!wrappingKey.pinned) io.stderr(`warning: the wrapping key is not pinned; pass --pin ${wrappingKey.fingerprint} once you have verified it.\n`);
    return ExitCode.OK;
  },
};

/** The blob, from either source, in the one import format; the material's copy is wiped after use. */
function wrapped(source: MaterialSource, wrappingKey: WrappingKey, hash: WrapHash): { blob: Buffer; keyType: string; fingerprint: string } {
  if (source.kind === 'pkcs11') {
    try {
      // Exactly the requested hash, as the construct does: the hash is what the import must send, so a token
      // must not silently choose another.
      return wrapInToken(source.ref, source.keyType, wrappingKey, { hash });
    } catch (err) {
      if (err instanceof HsmError && err.code === 'HSM_HASH_REFUSED') {
        throw new HsmError(err.code, `${err.message} Pass --hash with a hash the token offers (--hash sha1 for SoftHSM2 2.6.1, which is weak: prefer an HSM with SHA-256), and the same --hash to import.`);
      }
      throw err;
    }
  }
  const material = source.load();
  try {
    return { blob: wrap(material, wrappingKey, { hash }), keyType: material.keyType.name, fingerprint: material.fingerprint };
  } finally {
    material.destroy();
  }
}
