import { fingerprintInToken } from '../../hsm';
import { importableKeyType } from '../../key-types';
import { ExitCode, type Command } from '../command';
import { materialSourceFromOptions, MATERIAL_HELP, MATERIAL_OPTIONS, MATERIAL_USAGE } from './material-options';

export const fingerprintCommand: Command = {
  name: 'fingerprint',
  options: { ...MATERIAL_OPTIONS, json: { type: 'boolean' } },
  help: `Usage: thalassa-byok fingerprint --key-type T ${MATERIAL_USAGE}
                                 [--format F] [--passphrase-env VAR] [--json]

Validates key material against its key type and prints its fingerprint: spki-sha256:<hex> (SHA-256 of the
public key's DER SubjectPublicKeyInfo) for asymmetric keys, hmac-sha256:<hex> (a key check value) for
symmetric keys. The fingerprint identifies the key without revealing it; it is what Terraform state holds.
A key in a PKCS#11 token is fingerprinted there: its public key (spki-sha256:, the same as the key's PEM
gives), or for an AES key a check value the token computes, cmac-aes:<hex> (the key may sign) or
kcv-aes:<hex> (it may only encrypt); so an AES key moved from a file into a token has a new fingerprint.

${MATERIAL_HELP}  --json                Print {"keyType", "fingerprint"} as JSON

Exit codes: 0 success, 1 failure, 2 usage error.
`,
  async run(options, io) {
    const source = materialSourceFromOptions(options);
    let result: { keyType: string; fingerprint: string };
    if (source.kind === 'pkcs11') {
      // The construct's code path (src/hsm): the key type is checked and the fingerprint computed in the token.
      const keyType = importableKeyType(source.keyType);
      result = { keyType: keyType.name, fingerprint: fingerprintInToken(source.ref, keyType) };
    } else {
      const material = source.load();
      try {
        result = { keyType: material.keyType.name, fingerprint: material.fingerprint };
      } finally {
        material.destroy();
      }
    }
    io.stdout(options.json ? `${JSON.stringify(result)}\n` : `${result.fingerprint}\n`);
    return ExitCode.OK;
  },
};
