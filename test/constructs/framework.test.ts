/**
 * `constructs/framework.ts` is the one door to cdktf or cdktn. Here (this repository's devDependencies) only
 * cdktf is installed, so it is the framework; the declarations this package ships name neither framework.
 * cdktn is covered end to end by test/e2e/cdktn.e2e.test.ts (a scratch project with only cdktn).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as cdktf from 'cdktf';
import { framework, frameworkName, type Framework } from '../../src/constructs/framework';

// Compile-time: cdktf provides everything this package uses of a framework, with compatible types.
const cdktfAsFramework: Framework = cdktf;

test('with only cdktf installed, the framework is cdktf', () => {
  expect(frameworkName()).toBe('cdktf');
  expect(framework().App).toBe(cdktfAsFramework.App);
  expect(framework().TerraformStack).toBe(cdktf.TerraformStack);
});

test('no shipped declaration file imports cdktf, cdktn or @cdktf/provider-null', () => {
  const dist = join(__dirname, '..', '..', 'dist');
  const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'));
  expect(files.length).toBeGreaterThan(10);
  const offenders = files.filter((f) => /(from|import\()\s*['"](cdktf|cdktn|@cdktf\/provider-null)(\/[^'"]*)?['"]/.test(readFileSync(join(dist, f), 'utf8')));
  expect(offenders).toEqual([]);
});

test('no compiled module outside framework.ts and lifecycle.ts requires a framework', () => {
  const dist = join(__dirname, '..', '..', 'dist');
  // lifecycle.js loads @cdktf/provider-null on cdktf only, inside a function, when it is installed.
  const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js') && f !== join('constructs', 'lifecycle.js'));
  expect(files).toContain(join('constructs', 'imported-kms-key.js'));
  const offenders = files.filter((f) => /require\(['"](cdktf|cdktn|@cdktf\/provider-null)(\/[^'"]*)?['"]\)/.test(readFileSync(join(dist, f), 'utf8')));
  expect(offenders).toEqual([]);
});
