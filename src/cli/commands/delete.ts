import { deleteKey } from '../../api';
import { ExitCode, requireString, type Command } from '../command';
import { API_ENV_HELP, fingerprintOption, printJson, OWNERSHIP_HELP, OWNERSHIP_OPTIONS, ownershipOptions, regionOption, REGION_OPTION, withClient } from './api-options';

export const deleteCommand: Command = {
  name: 'delete',
  options: { ...REGION_OPTION, name: { type: 'string' }, fingerprint: { type: 'string' }, ...OWNERSHIP_OPTIONS },
  help: `Usage: thalassa-byok delete --region R --name N --fingerprint FP [--owner ID --construct ID] [--json] [--verbose]

Schedules deletion of the key named N (it stays pending_deletion for 30 days and can be restored with
"thalassa-byok cancel-deletion") — but only if it carries fingerprint FP. A key that is already gone or
already pending deletion is success. For keys of an ImportedKmsKey, give its owner id and construct: a key
carrying other ones (or none) is refused.

${OWNERSHIP_HELP}${API_ENV_HELP}
Exit codes: 0 scheduled, already pending or absent; 1 failure; 2 usage error; 3 the key carries another
fingerprint (nothing deleted).
`,
  async run(options, io) {
    const region = regionOption(options);
    const name = requireString(options, 'name');
    const fingerprint = fingerprintOption(options);
    const outcome = await withClient(options, io, (client) => deleteKey(client, { ...ownershipOptions(options), region, name, fingerprint }));
    if (options.json) {
      printJson(io, outcome);
    } else if (outcome.action === 'absent') {
      io.stdout(`No key named "${name}" in ${region}; nothing to delete.\n`);
    } else if (outcome.action === 'already-pending') {
      io.stdout(`Key ${outcome.key.identity} ("${name}") in ${region} is already scheduled for deletion.\n`);
    } else {
      io.stdout(`Scheduled deletion of key ${outcome.key.identity} ("${name}") in ${region}: pending for 30 days; restore with "thalassa-byok cancel-deletion --region ${region} --name ${name}".\n`);
    }
    return ExitCode.OK;
  },
};
