/**
 * The provisioners run `node` from Terraform's PATH, which an nvm/asdf setup may point at an old Node.js:
 * the CLI must refuse it up front, naming the version found and the one needed (package.json `engines`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEngineProblem, requiredNodeRange } from '../../src/cli/node-engine';
import { CLI } from '../support/cli';

const ENGINES = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

describe('nodeEngineProblem', () => {
  test('holds the package\'s own engines range', () => {
    expect(requiredNodeRange()).toBe(ENGINES);
    expect(nodeEngineProblem(process.version, ENGINES, process.execPath)).toBeUndefined();
  });

  test.each([
    ['v20.18.1', undefined], ['v20.18.2', undefined], ['v20.19.0', undefined], ['v22.0.0', undefined], ['v24.3.0', undefined],
    ['v20.18.0', 'too old'], ['v20.9.9', 'too old'], ['v18.20.4', 'too old'], ['v16.0.0', 'too old'],
  ])('%s against >=20.18.1: %s', (found, verdict) => {
    const problem = nodeEngineProblem(found, '>=20.18.1', '/opt/old/bin/node');
    if (verdict === undefined) expect(problem).toBeUndefined();
    else expect(problem).toBe(`thalassa-byok needs Node.js >=20.18.1, but runs on Node.js ${found} (/opt/old/bin/node). ` +
      'Terraform\'s provisioners run the `node` found on the PATH Terraform runs with: put a newer Node.js first on that PATH ' +
      '(with nvm or asdf: select it in the shell that runs cdktf/terraform), or synthesize with THALASSA_BYOK_NODE naming one.');
  });

  test('a range it cannot read is reported, not silently accepted', () => {
    expect(nodeEngineProblem('v22.0.0', '^20 || ^22', 'node')).toMatch(/cannot read its Node\.js requirement "\^20 \|\| \^22"/);
  });
});

describe('the built CLI on a Node.js older than engines', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'byok-old-node-'));
    // Stands in for an old `node` on the PATH: the real CLI, with process.version reporting 18.
    writeFileSync(join(dir, 'old.js'), "Object.defineProperty(process, 'version', { value: 'v18.20.4' });\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('exits 1 before doing anything, naming the version found and the one needed', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['-r', join(dir, 'old.js'), CLI, 'import', '--help'], { env: { PATH: process.env.PATH } }, (error, out, err) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout: String(out), stderr: String(err) });
      });
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`thalassa-byok needs Node.js ${ENGINES}, but runs on Node.js v18.20.4 (${process.execPath})`);
  });
});
