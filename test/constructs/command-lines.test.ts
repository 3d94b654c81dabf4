/**
 * The contract between the construct and the CLI: every command line a provisioner runs parses with the
 * CLI's own option parser, and carries the values the construct meant.
 */
import { generateKeyPairSync } from 'node:crypto';
import { ImportedKmsKey, KeyOwner } from '../../src/constructs';
import { KeyMaterial } from '../../src';
import { parseCommandLine } from '../../src/cli/command';
import { APPLY_COMMANDS } from '../../src/cli/apply-commands';
import { loadCommand } from '../../src/cli/run';
import { argv, baseProps, newStack, synthJson, type Provisioner } from './fixtures';

const stack = newStack();
new KeyOwner(stack, {});
const sym = new ImportedKmsKey(stack, 'sym', baseProps({
  name: 'sym', description: 'with spaces, = signs and\nnewlines', labels: { env: 'prod', 'team.io/owner': 'a' }, annotations: { note: 'x=y z' },
  allowRotation: true, rotation: { enabled: true, periodInDays: 30 }, exportAllowed: true,
}));
const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const asym = new ImportedKmsKey(stack, 'asym', baseProps({ name: 'asym', keyType: 'ed25519', material: KeyMaterial.fromBytes(ed), removalPolicy: 'retain', hashFunction: 'sha512' }));
const nul = new ImportedKmsKey(stack, 'nul', baseProps({ name: 'nul', lifecycleResource: 'null_resource' }));
const out = synthJson(stack);
const all = Object.entries({ ...out.resource?.terraform_data, ...out.resource?.null_resource })
  .flatMap(([id, r]) => ((r as { provisioner?: Provisioner[] }).provisioner ?? []).map((p) => [id, argv(p)] as const));

test('every provisioner runs a command of the apply step whose options parse, and ends with the step Terraform names on failure', () => {
  expect(all.length).toBe(6);
  for (const [id, line] of all) {
    expect(line.at(-1)).toMatch(/^--step=(import of key \S+ into nl-01|rotation settings of key \S+ in nl-01|deletion of the .*)$/);
    const command = loadCommand(APPLY_COMMANDS, line[2]);
    expect([id, command?.name]).toEqual([id, line[2]]);
    expect(() => parseCommandLine(command!, line.slice(3))).not.toThrow();
  }
});

test('the import options carry the declared values', () => {
  const lines = all.filter(([, l]) => l[2] === 'import').map(([id, l]) => [id, parseCommandLine(loadCommand(APPLY_COMMANDS, 'import')!, l.slice(3)).options] as const);
  expect(lines).toHaveLength(3);
  const bySym = lines.find(([id]) => id.startsWith('sym_'))![1];
  expect(bySym).toMatchObject({
    region: 'nl-01', name: sym.physicalName, 'key-type': 'aes256-gcm96', hash: 'sha256', description: 'with spaces, = signs and\nnewlines',
    label: ['env=prod', 'team.io/owner=a'], annotation: ['note=x=y z'], 'allow-rotation': true, 'export-allowed': true,
    'wrapped-file': sym.wrappedBlobFile, fingerprint: sym.fingerprint, construct: sym.constructId, 'sweep-predecessors': true,
  });
  expect(bySym.owner).toMatch(/^\$\{terraform_data\.ThalassaByokKeyOwner_[0-9A-F]{8}\.id\}$/);
  // The commitment is the key's entry in the stack's wrapped-keys file, like its blob: never a separate file.
  expect(bySym['wrapped-file']).toBe('byok/keys.wrapped');
  expect(bySym['commitment-file']).toBeUndefined();
  const byAsym = lines.find(([id]) => id.startsWith('asym_'))![1];
  expect(byAsym).toMatchObject({ 'key-type': 'ed25519', hash: 'sha512', construct: asym.constructId });
  expect(byAsym['sweep-predecessors']).toBeUndefined();
  expect(byAsym['commitment-file']).toBeUndefined();
  expect(lines.find(([id]) => id.startsWith('nul_'))![1]).toMatchObject({ construct: nul.constructId });
});

test('the key owner\'s destroy steps', () => {
  const sweeps = all.filter(([, l]) => l[2] === 'sweep').map(([, l]) => parseCommandLine(loadCommand(APPLY_COMMANDS, 'sweep')!, l.slice(3)).options);
  expect(sweeps).toEqual(expect.arrayContaining([
    { owner: '${self.id}', manifest: 'byok/keys.json', 'stack-destroyed': true, step: 'deletion of the destroyed stack\'s keys' },
    { owner: '${self.input.owner}', manifest: 'byok/keys.json', removed: '${self.input.keys}', step: 'deletion of the keys removed from the code' },
  ]));
  const rotation = all.find(([, l]) => l[2] === 'set-rotation')![1];
  expect(parseCommandLine(loadCommand(APPLY_COMMANDS, 'set-rotation')!, rotation.slice(3)).options).toMatchObject({
    name: sym.physicalName, enabled: 'true', 'period-days': '30', fingerprint: sym.fingerprint, construct: sym.constructId,
  });
});
