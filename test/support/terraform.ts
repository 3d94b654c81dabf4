/**
 * Finds Terraform the way users have it: `TERRAFORM_BINARY_NAME` (the variable cdktf itself honours: a name
 * looked up on the PATH, or a path), else `terraform` on the PATH. HashiCorp's apt package installs to
 * /usr/bin, Homebrew to /opt/homebrew/bin, the release zip wherever the user unpacks it: no fixed path is right.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The absolute path of the Terraform binary, or an error that names what was tried and how to fix it. */
export function findTerraform(env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.TERRAFORM_BINARY_NAME || 'terraform';
  if (wanted.includes('/')) {
    const path = isAbsolute(wanted) ? wanted : resolve(wanted);
    if (isExecutableFile(path)) return path;
    throw new Error(`Terraform was not found: TERRAFORM_BINARY_NAME names ${path}, which is not an executable file. Point it at Terraform >= 1.4, or unset it to use "terraform" from the PATH.`);
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const path = join(dir, wanted);
    if (isExecutableFile(path)) return path;
  }
  throw new Error(
    `Terraform was not found: no executable "${wanted}" in any PATH folder (${dirs.join(', ') || 'PATH is empty'}). ` +
    'Install Terraform >= 1.4 on the PATH, or set TERRAFORM_BINARY_NAME to its name or path.',
  );
}
