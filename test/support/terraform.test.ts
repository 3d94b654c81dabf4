import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTerraform } from './terraform';

describe('findTerraform: Terraform as users have it, on the PATH', () => {
  let root: string;
  beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'find-terraform-')); });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const fakeBinary = (dir: string, name = 'terraform', mode = 0o755): string => {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, mode);
    return path;
  };

  it('takes the first executable "terraform" on the PATH, wherever it is installed', () => {
    const first = join(root, 'opt', 'homebrew', 'bin');
    const second = join(root, 'usr', 'bin');
    const expected = fakeBinary(first);
    fakeBinary(second);
    expect(findTerraform({ PATH: [join(root, 'empty'), first, second].join(':') })).toBe(expected);
  });

  it('skips a non-executable file of that name', () => {
    fakeBinary(join(root, 'a'), 'terraform', 0o644);
    const expected = fakeBinary(join(root, 'b'));
    expect(findTerraform({ PATH: `${join(root, 'a')}:${join(root, 'b')}` })).toBe(expected);
  });

  it('honours TERRAFORM_BINARY_NAME as a name on the PATH and as a path, as cdktf does', () => {
    const tofu = fakeBinary(join(root, 'bin'), 'tofu');
    expect(findTerraform({ PATH: join(root, 'bin'), TERRAFORM_BINARY_NAME: 'tofu' })).toBe(tofu);
    expect(findTerraform({ PATH: '', TERRAFORM_BINARY_NAME: tofu })).toBe(tofu);
  });

  it('names every folder it looked in, and the fix, when Terraform is missing', () => {
    const dirs = [join(root, 'x'), join(root, 'y')];
    expect(() => findTerraform({ PATH: dirs.join(':') })).toThrow(
      new RegExp(`no executable "terraform" in any PATH folder \\(${dirs.join(', ')}\\).*TERRAFORM_BINARY_NAME`),
    );
    expect(() => findTerraform({ PATH: '', TERRAFORM_BINARY_NAME: join(root, 'nope') })).toThrow(/TERRAFORM_BINARY_NAME names .*nope, which is not an executable file/);
  });
});
