import { ExitCode, type Command } from '../command';
import { loadMaterialFromOptions, MATERIAL_HELP, MATERIAL_OPTIONS } from './material-options';

export const fingerprintCommand: Command = {
  name: 'fingerprint',
  options: { ...MATERIAL_OPTIONS, json: { type: 'boolean' } },
  help: `Usage: thalassa-byok fingerprint --key-type T (--material PATH | --material-env VAR) [--format F]
                                 [--passphrase-env VAR] [--json]

Validates key material against its key type and prints its fingerprint: spki-sha256:<hex> (SHA-256 of the
public key's DER SubjectPublicKeyInfo) for asymmetric keys, hmac-sha256:<hex> (a key check value) for
symmetric keys. The fingerprint identifies the key without revealing it; it is what Terraform state holds.

${MATERIAL_HELP}  --json                Print {"keyType", "fingerprint"} as JSON

Exit codes: 0 success, 1 failure, 2 usage error.
`,
  async run(options, io) {
    const material = loadMaterialFromOptions(options);
    try {
      io.stdout(options.json ? `${JSON.stringify({ keyType: material.keyType.name, fingerprint: material.fingerprint })}\n` : `${material.fingerprint}\n`);
      return ExitCode.OK;
    } finally {
      material.destroy();
    }
  },
};
