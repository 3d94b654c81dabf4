import { ApiError } from '../../api';
import { ExitCode, optionalString, UsageError, type Command } from '../command';
import { API_ENV_HELP, describeKey, printJson, regionOption, REGION_OPTION, withClient } from './api-options';

export const describeCommand: Command = {
  name: 'describe',
  options: { ...REGION_OPTION, name: { type: 'string' }, identity: { type: 'string' } },
  help: `Usage: thalassa-byok describe --region R (--name N | --identity ID) [--json] [--verbose]

Shows one key: identity, type, status, whether it was imported, its recorded fingerprint, rotation settings.

${API_ENV_HELP}
Exit codes: 0 found, 1 failure (including not found), 2 usage error.
`,
  async run(options, io) {
    const region = regionOption(options);
    const name = optionalString(options, 'name');
    const identity = optionalString(options, 'identity');
    if ((name === undefined) === (identity === undefined)) throw new UsageError('Give exactly one of --name N or --identity ID.');
    const key = await withClient(options, io, async (client) => {
      if (identity !== undefined) return client.getKey(region, identity);
      const found = await client.findKeyByName(region, name as string);
      if (!found) throw new ApiError('API_NOT_FOUND', `No key named "${name}" exists in region ${region} (or the credentials may not see it).`);
      return found;
    });
    if (options.json) printJson(io, key);
    else io.stdout(describeKey(key));
    return ExitCode.OK;
  },
};
