/**
 * "Synth output is portable" (architecture.md): `cdk.tf.json` names no absolute path of the synth machine.
 * The provisioners run `node` from Terraform's PATH and the CLI by a path relative to the stack's working
 * directory (`<outdir>/stacks/<stack>`), which must lead to this package's `dist/cli/apply-step.js`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { App, LocalBackend, TerraformStack } from 'cdktf';
import { ImportedKmsKey, KeyOwner } from '../../src/constructs';
import { baseProps } from './fixtures';

const REPO = resolve(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli', 'apply-step.js');

interface Found { readonly at: string; readonly value: string }

/** Every string in `value` (keys included), with where it is. */
function strings(value: unknown, at = ''): Found[] {
  if (typeof value === 'string') return [{ at, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${at}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [{ at: `${at}.${k} (key)`, value: k }, ...strings(v, `${at}.${k}`)]);
  }
  return [];
}

interface LocalExec { 'local-exec': { interpreter: string[]; command: string } }

function interpreters(config: { resource?: Record<string, Record<string, { provisioner?: LocalExec[] }>> }): string[][] {
  return Object.values(config.resource ?? {}).flatMap((byId) => Object.values(byId))
    .flatMap((r) => (r.provisioner ?? []).map((p) => p['local-exec'].interpreter));
}

/** Synthesizes two stacks (terraform_data and null_resource) into `outdir`; returns each stack's folder and config. */
function synthInto(outdir: string, backend = true): { dir: string; config: Record<string, unknown> }[] {
  mkdirSync(join(outdir, '..'), { recursive: true });
  const app = new App({ outdir });
  const a = new TerraformStack(app, 'keys-a');
  // cdktf's default local backend names the state by an absolute path (see the last test): a portable
  // stack declares its backend, here a state file relative to the stack's folder.
  if (backend) new LocalBackend(a, { path: 'terraform.tfstate' });
  new ImportedKmsKey(a, 'Master', baseProps());
  const b = new TerraformStack(app, 'keys-b');
  if (backend) new LocalBackend(b, { path: 'terraform.tfstate' });
  new KeyOwner(b, { lifecycleResource: 'null_resource' });
  new ImportedKmsKey(b, 'Other', baseProps({ name: 'other', lifecycleResource: 'null_resource', allowRotation: true, rotation: { enabled: true, periodInDays: 90 } }));
  app.synth();
  return ['keys-a', 'keys-b'].map((stack) => {
    const dir = join(resolve(outdir), 'stacks', stack);
    return { dir, config: JSON.parse(readFileSync(join(dir, 'cdk.tf.json'), 'utf8')) as Record<string, unknown> };
  });
}

describe('cdk.tf.json names no absolute path of the synth machine', () => {
  // Inside the checkout (cdktf.out/ is git-ignored), as a project's outdir sits next to its node_modules.
  const base = join(REPO, 'cdktf.out');
  let scratch: string;
  beforeAll(() => {
    mkdirSync(base, { recursive: true });
    scratch = mkdtempSync(join(base, 'portable-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const machinePaths = (): string[] => [REPO, homedir(), tmpdir(), process.execPath, scratch].filter((p) => p.length > 1);

  test.each([
    ['the default layout (outdir next to the package)', (): string => join(scratch, 'default', 'cdktf.out')],
    ['a customised, deeper outdir', (): string => join(scratch, 'custom', 'build', 'terraform', 'out')],
    ['a relative outdir (resolved against the synth\'s working directory)', (): string => relative(process.cwd(), join(scratch, 'rel', 'out'))],
  ])('%s', (_label, outdir) => {
    const synthesized = synthInto(outdir());
    for (const { dir, config } of synthesized) {
      const all = strings(config);
      // `//` is cdktf's metadata key, not a path.
      const absolute = all.filter(({ value }) => value !== '//').filter(({ value }) => value.startsWith('/') || machinePaths().some((p) => value.includes(p)));
      expect(absolute).toEqual([]);
      const lines = interpreters(config as Parameters<typeof interpreters>[0]);
      expect(lines.length).toBeGreaterThanOrEqual(3);
      for (const [node, script] of lines) {
        expect(node).toBe('node');
        // Terraform runs provisioners in the stack's folder: from there, the script is this package's CLI.
        expect(resolve(dir, script)).toBe(CLI);
        expect(existsSync(resolve(dir, script))).toBe(true);
      }
    }
  });

  test('THALASSA_BYOK_NODE at synth names the executable instead of `node`', () => {
    process.env.THALASSA_BYOK_NODE = 'node22';
    try {
      const [{ config }] = synthInto(join(scratch, 'override', 'cdktf.out'));
      const lines = interpreters(config as Parameters<typeof interpreters>[0]);
      expect(lines.length).toBeGreaterThan(0);
      for (const [node] of lines) expect(node).toBe('node22');
    } finally {
      delete process.env.THALASSA_BYOK_NODE;
    }
  });

  test('cdktf\'s default local backend is the one absolute path left (why the README says to declare a backend)', () => {
    const [{ config }] = synthInto(join(scratch, 'no-backend', 'cdktf.out'), false);
    const absolute = strings(config).filter(({ value }) => value !== '//' && value.startsWith('/'));
    expect(absolute).toEqual([{ at: '.terraform.backend.local.path', value: join(process.cwd(), 'terraform.keys-a.tfstate') }]);
  });
});
