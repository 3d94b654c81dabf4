/** Reading a synthesized stack's wrapped-keys file (`byok/keys.wrapped`), as the apply step reads it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWrappedKeys, WRAPPED_KEYS_FILE, type WrappedKeyEntry } from '../../src/wrapped-keys';

/** The stack's entries by construct id; `stackDir` is `cdktf.out/stacks/<stack>`. */
export function wrappedKeysOf(stackDir: string): Map<string, WrappedKeyEntry> {
  return parseWrappedKeys(readFileSync(join(stackDir, WRAPPED_KEYS_FILE)));
}

/** One key's entry; throws when the stack has none for it. */
export function wrappedKeyOf(stackDir: string, key: { readonly constructId: string }): { blob: Buffer; commitment?: string } {
  const entry = wrappedKeysOf(stackDir).get(key.constructId);
  if (entry === undefined) throw new Error(`${join(stackDir, WRAPPED_KEYS_FILE)} has no entry for construct ${key.constructId}`);
  return { blob: Buffer.from(entry.blob), ...(entry.commitment === undefined ? {} : { commitment: entry.commitment }) };
}
