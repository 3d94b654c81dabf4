import { writeOwnerOnlyFile } from '../../secret-file';
import { WrappingKey, wrap, parseWrapHash, WRAP_HASHES, DEFAULT_WRAP_HASH } from '../../wrapping';
import { ExitCode, optionalString, requireString, type Command } from '../command';
import { loadMaterialFromOptions, MATERIAL_HELP, MATERIAL_OPTIONS } from './material-options';

export const wrapCommand: Command = {
  name: 'wrap',
  options: {
    ...MATERIAL_OPTIONS,
    'wrapping-key': { type: 'string' },
    pin: { type: 'string' },
    hash: { type: 'string' },
    out: { type: 'string' },
  },
  help: `Usage: thalassa-byok wrap --key-type T (--material PATH | --material-env VAR) --wrapping-key PEM_PATH
                          [--pin FP] [--hash H] [--format F] [--passphrase-env VAR] [--out FILE]

Wraps key material for import (CKM_RSA_AES_KEY_WRAP: RSA-OAEP of a fresh AES-256 key, then AES key wrap
with padding, RFC 5649, of the material) and prints the base64 blob for "importKeyMaterial".

${MATERIAL_HELP}  --wrapping-key PATH   The region's wrapping key, a PEM public key (thalassa-byok wrapping-key --out)
  --pin FP              Refuse the wrapping key unless its fingerprint is FP (spki-sha256:…)
  --hash H              OAEP hash, sent as "hashFunction": ${WRAP_HASHES.join(', ')} (default ${DEFAULT_WRAP_HASH})
  --out FILE            Write the blob to FILE (mode 0600) instead of stdout; prints the fingerprint instead

The blob is a secret: anyone who holds the region's unwrapping key can recover the material from it.
Exit codes: 0 success, 1 failure, 2 usage error.
`,
  async run(options, io) {
    const wrappingKey = WrappingKey.fromPemFile(requireString(options, 'wrapping-key'), { pin: optionalString(options, 'pin') });
    const hash = parseWrapHash(optionalString(options, 'hash'));
    const material = loadMaterialFromOptions(options);
    try {
      const blob = wrap(material, wrappingKey, { hash }).toString('base64');
      const out = optionalString(options, 'out');
      if (out === undefined) {
        io.stdout(`${blob}\n`);
      } else {
        writeOwnerOnlyFile(out, `${blob}\n`);
        io.stderr(`Wrapped ${material.keyType.name} key ${material.fingerprint} with wrapping key ${wrappingKey.fingerprint} (${hash}) into ${out}\n`);
      }
      if (!wrappingKey.pinned) io.stderr(`warning: the wrapping key is not pinned; pass --pin ${wrappingKey.fingerprint} once you have verified it.\n`);
      return ExitCode.OK;
    } finally {
      material.destroy();
    }
  },
};
