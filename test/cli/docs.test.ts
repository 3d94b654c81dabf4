import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_COMMANDS } from '../../src/cli/all-commands';
import { ExitCode } from '../../src/cli/command';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'cli.md'), 'utf8');

describe('docs/cli.md matches the CLI', () => {
  it.each(Object.keys(ALL_COMMANDS))('documents "%s" with its usage line', (name) => {
    expect(doc).toContain(`## \`thalassa-byok ${name}\``);
    expect(doc).toMatch(new RegExp(`^thalassa-byok ${name} `, 'm'));
  });

  it('documents every exit code', () => {
    for (const code of Object.values(ExitCode)) expect(doc).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('documents every environment variable the API client reads', () => {
    const config = readFileSync(join(__dirname, '..', '..', 'src', 'api', 'config.ts'), 'utf8');
    const variables = new Set(config.match(/THALASSA_[A-Z_]+/g));
    expect(variables.size).toBeGreaterThanOrEqual(7);
    for (const variable of variables) expect(doc).toContain(`\`${variable}\``);
  });
});
