/**
 * The synthesized JSON is valid Terraform: plain Terraform (no provider download, no registry) initialises,
 * validates and plans a stack of terraform_data keys, and the plan holds no wrapped blob.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportedKmsKey } from '../../src/constructs';
import { KeyMaterial } from '../../src';
import { baseProps, fullSynth } from './fixtures';
import { findTerraform } from '../support/terraform';
import { wrappedKeyOf } from '../support/wrapped-keys';

const TERRAFORM = findTerraform();

describe('terraform', () => {
  let stackDir: string;
  let keys: ImportedKmsKey[] = [];
  const env = (dir: string): NodeJS.ProcessEnv => {
    const rc = join(dir, '..', 'empty.tfrc');
    writeFileSync(rc, '');
    return { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: rc, TF_IN_AUTOMATION: '1' };
  };
  const terraform = (...args: string[]): string => execFileSync(TERRAFORM, args, { cwd: stackDir, env: env(stackDir), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(() => {
    const outdir = fullSynth((stack) => {
      keys = [
        new ImportedKmsKey(stack, 'aes', baseProps({ description: 'literal ${not.an.expression} and %{ if }', labels: { env: 'test' }, allowRotation: true, rotation: { enabled: true, periodInDays: 90 } })),
        new ImportedKmsKey(stack, 'retained', baseProps({ name: 'retained', removalPolicy: 'retain', preventDestroy: true, material: KeyMaterial.fromBytes(Buffer.alloc(32, 7)) })),
      ];
    });
    stackDir = join(outdir, 'stacks', 'stack');
    terraform('init', '-input=false', '-no-color');
  });

  test('validate', () => {
    const result = JSON.parse(terraform('validate', '-json', '-no-color')) as { valid: boolean; diagnostics: unknown[] };
    expect(result.diagnostics).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test('plan: three creates and the key owner\'s two, the names in the plan, the template text kept literal, no blob', () => {
    terraform('plan', '-input=false', '-no-color', '-out=tfplan');
    const plan = terraform('show', '-json', 'tfplan');
    const all = (JSON.parse(plan) as { resource_changes: { address: string; type: string; change: { actions: string[]; after: Record<string, unknown> } }[] }).resource_changes;
    expect(all.map((c) => [c.type, c.change.actions])).toEqual(Array(5).fill(['terraform_data', ['create']]));
    const changes = all.filter((c) => !c.address.includes('ThalassaByokKeyOwner'));
    expect(changes).toHaveLength(3);
    const afters = changes.map((c) => c.change.after.triggers_replace as Record<string, unknown>);
    expect(afters.map((t) => t.name).sort()).toEqual([keys[0].physicalName, keys[0].physicalName, keys[1].physicalName].sort());
    expect(afters.find((t) => t.description !== undefined && t.keyType !== undefined && t.name === keys[0].physicalName)?.description)
      .toBe('literal ${not.an.expression} and %{ if }');
    for (const k of keys) {
      const { blob } = wrappedKeyOf(stackDir, k);
      for (const text of [blob.toString('base64'), blob.toString('hex')]) {
        expect(plan).not.toContain(text);
        expect(readFileSync(join(stackDir, 'tfplan')).includes(text)).toBe(false);
      }
    }
  });
});
