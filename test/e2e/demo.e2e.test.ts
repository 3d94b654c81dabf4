/**
 * The README's first command, `npm run demo`, from a copy of this checkout (what a fresh clone has: tracked
 * and new files, not `.demo/`, `cdktf.out/` or state), once against the emulator as users get it and once in
 * strict mode (issue 12: the demo passes against the leanest answers the real API may give).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { childEnv, REPO, runAsync } from './harness';

jest.setTimeout(300_000);

/** The files a fresh clone of this checkout would have, plus new files not yet committed. */
function checkoutFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' });
  return listed.split('\0').filter((path) => path !== '' && existsSync(join(REPO, path)));
}

describe.each([
  { mode: 'as users get it', strict: '0' },
  { mode: 'strict', strict: '1' },
])('npm run demo in a copy of the checkout, emulator $mode', ({ strict }) => {
  let copy: string;

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'thalassa-byok-demo-'));
    for (const path of checkoutFiles()) {
      mkdirSync(dirname(join(copy, path)), { recursive: true });
      cpSync(join(REPO, path), join(copy, path));
    }
    symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), 'dir');
  });

  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('deploys the example stack, proves every key and exits 0', async () => {
    const demo = await runAsync('npm', ['run', 'demo'], { cwd: copy, env: childEnv({ THALASSA_EMULATOR_STRICT: strict }), timeoutMs: 240_000 });
    expect({ code: demo.code, tail: demo.output.slice(-1500) }).toEqual({ code: 0, tail: expect.stringMatching(/All checks passed in /) });
    expect(demo.output.includes('strict mode (THALASSA_EMULATOR_STRICT)')).toBe(strict === '1');
    // Each of the three example keys was proven against the emulator, and its state holds no blob.
    expect(demo.output.match(/✓ imported: true, active/g)).toHaveLength(3);
    expect(readFileSync(join(copy, 'terraform.byok-example.tfstate'), 'utf8')).not.toMatch(/importKeyMaterial|wrapped_key_material/);
  });
});
