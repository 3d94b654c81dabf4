import { writeFileSync } from 'node:fs';
import { WrappingKey } from '../../wrapping';
import { ExitCode, optionalString, type Command } from '../command';
import { API_ENV_HELP, printJson, regionOption, REGION_OPTION, withClient } from './api-options';

export const wrappingKeyCommand: Command = {
  name: 'wrapping-key',
  options: { ...REGION_OPTION, out: { type: 'string' }, pin: { type: 'string' } },
  help: `Usage: thalassa-byok wrapping-key --region R [--out FILE] [--pin FP] [--json] [--verbose]

Fetches the region's RSA wrapping key (GET /v1/kms/{region}/wrapping-key), checks it (RSA, at least 2048
bits) and prints its fingerprint. Verify the fingerprint out of band once, then pin it in code
(WrappingKey.fromPemFile(path, { pin })) so that a substituted key fails at synth.

  --out FILE   Save the key as PEM. It is public: commit it with your key definitions for review.
  --pin FP     Refuse the key unless its fingerprint is FP (spki-sha256:…); nothing is saved on a mismatch

${API_ENV_HELP}
Exit codes: 0 success, 1 failure (including a pin mismatch), 2 usage error.
`,
  async run(options, io) {
    const region = regionOption(options);
    const answer = await withClient(options, io, (client) => client.wrappingKey(region));
    const key = WrappingKey.fromApiResponse(answer, { pin: optionalString(options, 'pin') });
    const out = optionalString(options, 'out');
    if (out !== undefined) writeFileSync(out, key.pem, { mode: 0o644 });
    if (options.json) {
      printJson(io, { region, fingerprint: key.fingerprint, modulusBits: key.modulusBits, algorithm: key.algorithm ?? null, pinned: key.pinned, savedTo: out ?? null });
    } else {
      io.stdout(`${key.fingerprint}\n`);
      io.stderr(`Wrapping key of ${region}: RSA-${key.modulusBits}${key.algorithm ? `, ${key.algorithm}` : ''}${key.pinned ? ', matches the pin' : ''}${out ? `; saved to ${out}` : ''}.\n`);
    }
    return ExitCode.OK;
  },
};
