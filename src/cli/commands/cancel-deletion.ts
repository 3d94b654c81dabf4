import { ExitCode, requireString, type Command } from '../command';
import { API_ENV_HELP, describeKey, printJson, regionOption, REGION_OPTION, withClient } from './api-options';
import { ApiError } from '../../api';

export const cancelDeletionCommand: Command = {
  name: 'cancel-deletion',
  options: { ...REGION_OPTION, name: { type: 'string' } },
  help: `Usage: thalassa-byok cancel-deletion --region R --name N [--json] [--verbose]

Cancels the scheduled deletion of the key named N: it returns to active. Possible during the 30 days a
deleted key stays pending_deletion.

${API_ENV_HELP}
Exit codes: 0 restored (or not pending), 1 failure (no such key), 2 usage error.
`,
  async run(options, io) {
    const region = regionOption(options);
    const name = requireString(options, 'name');
    const key = await withClient(options, io, async (client) => {
      const found = await client.findKeyByName(region, name);
      if (!found) throw new ApiError('API_NOT_FOUND', `No key named "${name}" exists in region ${region}, pending or not. After 30 days a deleted key is gone for good.`);
      if (found.status !== 'pending_deletion') return found;
      await client.cancelDeletion(region, found.identity);
      return client.getKey(region, found.identity);
    });
    if (options.json) printJson(io, key);
    else io.stdout(`Key ${key.identity} ("${name}") in ${region} is ${key.status}.\n${describeKey(key)}`);
    return ExitCode.OK;
  },
};
