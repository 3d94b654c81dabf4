import { FINGERPRINT_ANNOTATION } from '../../material';
import { ExitCode, type Command } from '../command';
import { API_ENV_HELP, keyValueOptions, printJson, regionOption, REGION_OPTION, withClient } from './api-options';

export const listCommand: Command = {
  name: 'list',
  options: { ...REGION_OPTION, label: { type: 'string', multiple: true } },
  help: `Usage: thalassa-byok list --region R [--label k=v ...] [--json] [--verbose]

Lists the keys of a region, optionally only those carrying every given label.

${API_ENV_HELP}
Exit codes: 0 success, 1 failure, 2 usage error.
`,
  async run(options, io) {
    const region = regionOption(options);
    const labels = keyValueOptions(options, 'label');
    const keys = await withClient(options, io, (client) => client.listKeys(region, { labels }));
    if (options.json) {
      printJson(io, keys);
      return ExitCode.OK;
    }
    if (keys.length === 0) {
      io.stdout(`No keys in ${region}${labels ? ' with those labels' : ''}.\n`);
      return ExitCode.OK;
    }
    const rows = keys.map((k) => [k.identity, k.name, k.keyType, k.status, k.imported ? 'imported' : 'generated', k.annotations?.[FINGERPRINT_ANNOTATION] ?? '-']);
    const header = ['IDENTITY', 'NAME', 'TYPE', 'STATUS', 'ORIGIN', 'FINGERPRINT'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
    io.stdout(`${[line(header), ...rows.map(line)].join('\n')}\n`);
    return ExitCode.OK;
  },
};
