/**
 * The CLI's first step: refuse a Node.js older than the package's `engines` range, with a message that says
 * what was found and what is needed. The provisioners run `node` from the PATH Terraform sees, and version
 * managers (nvm, asdf) may leave an old one there; without this check it would fail later, obscurely.
 * This module must load, and say so, even on an old Node.js: it imports nothing but Node built-ins.
 */

/** `[major, minor, patch]` of `v22.19.0` / `22.19.0`, or undefined for anything else. */
function parseVersion(text: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])];
}

/**
 * Why Node.js `found` does not satisfy `range`, or undefined when it does. Understands the one form the
 * package uses, `>=X.Y.Z`; any other range is reported as unsupported rather than silently accepted.
 */
export function nodeEngineProblem(found: string, range: string, execPath: string): string | undefined {
  const need = /^>=\s*(\S+)$/.exec(range.trim());
  const minimum = need === null ? undefined : parseVersion(need[1]);
  const have = parseVersion(found);
  if (minimum === undefined) return `thalassa-byok: cannot read its Node.js requirement "${range}" (expected ">=X.Y.Z").`;
  if (have === undefined) return `thalassa-byok: cannot read the Node.js version "${found}" of ${execPath}.`;
  for (let i = 0; i < 3; i++) {
    if (have[i] > minimum[i]) return undefined;
    if (have[i] < minimum[i]) {
      return `thalassa-byok needs Node.js ${range.trim()}, but runs on Node.js ${found} (${execPath}). ` +
        'Terraform\'s provisioners run the `node` found on the PATH Terraform runs with: put a newer Node.js first on that PATH ' +
        '(with nvm or asdf: select it in the shell that runs cdktf/terraform), or synthesize with THALASSA_BYOK_NODE naming one.';
    }
  }
  return undefined;
}

/**
 * The package's `engines.node`, as a constant: the CLI also runs from builds that have no package.json next
 * to them (the demo's, the tests' temporary ones), and reading a file costs start-up time. A test keeps it
 * equal to package.json's.
 */
const REQUIRED_NODE = '>=20.18.1';

export function requiredNodeRange(): string {
  return REQUIRED_NODE;
}
