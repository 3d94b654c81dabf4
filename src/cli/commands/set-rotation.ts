import { shownValue } from '../../disclosure';
import { setRotation } from '../../api';
import { ExitCode, optionalString, requireString, UsageError, type Command } from '../command';
import { API_ENV_HELP, describeKey, fingerprintOption, printJson, OWNERSHIP_HELP, OWNERSHIP_OPTIONS, ownershipOptions, regionOption, REGION_OPTION, withClient } from './api-options';

export const setRotationCommand: Command = {
  name: 'set-rotation',
  options: { ...REGION_OPTION, name: { type: 'string' }, fingerprint: { type: 'string' }, ...OWNERSHIP_OPTIONS, enabled: { type: 'string' }, 'period-days': { type: 'string' } },
  help: `Usage: thalassa-byok set-rotation --region R --name N --fingerprint FP --enabled true|false
                                  [--period-days N] [--owner ID --construct ID] [--json] [--verbose]

Sets the automatic rotation of the key named N (PATCH …/rotation), after checking that it carries
fingerprint FP. The key must have been imported with --allow-rotation. This is the command the
ImportedKmsKey rotation resource runs.

  --period-days N       Rotation period, 1..3650 days. Needed with --enabled true unless the key
                        already has a period: the API refuses rotation without one (400)
${OWNERSHIP_HELP}
${API_ENV_HELP}
Exit codes: 0 applied, 1 failure, 2 usage error, 3 the key carries another fingerprint (nothing changed).
`,
  async run(options, io) {
    const region = regionOption(options);
    const name = requireString(options, 'name');
    const fingerprint = fingerprintOption(options);
    const enabledText = requireString(options, 'enabled');
    if (enabledText !== 'true' && enabledText !== 'false') throw new UsageError(`--enabled must be true or false; received ${shownValue(enabledText)}.`);
    const periodText = optionalString(options, 'period-days');
    const period = periodText === undefined ? undefined : Number(periodText);
    if (period !== undefined && !(Number.isInteger(period) && period >= 1 && period <= 3650)) {
      throw new UsageError(`--period-days must be a whole number of days from 1 to 3650; received ${shownValue(periodText)}.`);
    }
    const key = await withClient(options, io, (client) => setRotation(client, {
      ...ownershipOptions(options), region, name, fingerprint, settings: { keyRotationEnabled: enabledText === 'true', rotationPeriodInDays: period },
    }));
    if (options.json) printJson(io, key);
    else io.stdout(`Rotation of key ${key.identity} ("${name}") in ${region} is now ${key.keyRotationEnabled ? `on, every ${key.rotationPeriodInDays} days` : 'off'}.\n${describeKey(key)}`);
    return ExitCode.OK;
  },
};
