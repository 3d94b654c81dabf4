/**
 * Which Node.js the suite runs on. `npm run test:node` re-runs the CLI and packed-package tests on Node 22 and
 * 24 (test/support/on-node.mjs); this proves each run really is on the Node it names, and that every `node`
 * the tests spawn (the CLI, cdktf, Terraform's provisioners) is that same Node.
 */
import { execFileSync } from 'node:child_process';

describe('the Node.js this run is on', () => {
  it(`is ${process.version}, and so is the node that child processes find on the PATH`, () => {
    console.log(`jest is running on Node.js ${process.version}`);
    const expectedMajor = process.env.BYOK_EXPECT_NODE_MAJOR;
    if (expectedMajor !== undefined) expect(process.versions.node.split('.')[0]).toBe(expectedMajor);
    expect(execFileSync('node', ['--version'], { encoding: 'utf8' }).trim()).toBe(process.version);
  });
});
