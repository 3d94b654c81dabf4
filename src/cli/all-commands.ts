/** Every command of `thalassa-byok`, in the order its help lists them; the apply step's come from their table. */
import { APPLY_COMMANDS } from './apply-commands';
import type { CommandTable } from './run';

/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading keeps start-up lean */
export const ALL_COMMANDS: CommandTable = {
  wrap: { summary: 'Wrap key material for import with a region\'s wrapping key (off-platform)', load: () => require('./commands/wrap').wrapCommand },
  fingerprint: { summary: 'Print the fingerprint of key material', load: () => require('./commands/fingerprint').fingerprintCommand },
  'wrapping-key': { summary: 'Fetch a region\'s wrapping key, print its fingerprint, optionally save it', load: () => require('./commands/wrapping-key').wrappingKeyCommand },
  import: APPLY_COMMANDS.import,
  delete: APPLY_COMMANDS.delete,
  sweep: APPLY_COMMANDS.sweep,
  check: { summary: 'Compare the declared keys with the live API (drift, out-of-band changes); --repair fixes what is safe', load: () => require('./commands/check').checkCommand },
  'set-rotation': APPLY_COMMANDS['set-rotation'],
  'cancel-deletion': { summary: 'Restore a key that is pending deletion', load: () => require('./commands/cancel-deletion').cancelDeletionCommand },
  describe: { summary: 'Show one key', load: () => require('./commands/describe').describeCommand },
  list: { summary: 'List the keys of a region', load: () => require('./commands/list').listCommand },
  emulator: { summary: 'Run a local Thalassa KMS emulator (real cryptography) for development and tests', load: () => require('./commands/emulator').emulatorCommand },
};
/* eslint-enable @typescript-eslint/no-require-imports */
