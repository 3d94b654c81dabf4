import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { shownPath, shownValue } from '../disclosure';
import { COMMITMENT_PATTERN } from '../material/fingerprint';
import { parseWrappedKeys, wrappedKeyEntry, type WrappedKeyEntry } from '../wrapped-keys';
import { UsageError } from './command';

/**
 * Reads a file the synth wrote for the apply step (a wrapped blob, a commitment, the stack's manifest) only
 * if nobody but the current user could have planted it: a regular file (no symlink followed), owned by this
 * user, mode 0600 (or 0400), in a folder that only this user can write. Another local user who could rename
 * or replace it could otherwise have their own material imported under ours, or steer a sweep.
 */
export function readOwnerOnlyFile(file: string, option: string): Buffer {
  const uid = process.getuid?.();
  let fd: number;
  try {
    const folder = statSync(dirname(resolve(file)));
    if ((folder.mode & 0o022) !== 0 || (uid !== undefined && folder.uid !== uid)) {
      throw new UsageError(`--${option} ${shownPath(file)}: its folder can be written by another user (mode ${(folder.mode & 0o777).toString(8)}, owner ${folder.uid}), who could replace the file. Keep it in a folder only you can write (chmod 700) and synth again.`);
    }
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`Cannot read --${option} ${shownPath(file)} (${(err as NodeJS.ErrnoException).code}). Was the stack synthesized (cdktf synth) on this machine?`);
  }
  try {
    const stat = fstatSync(fd);
    const mode = stat.mode & 0o777;
    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (mode !== 0o600 && mode !== 0o400)) {
      throw new UsageError(`--${option} ${shownPath(file)} must be a regular file owned by you with mode 0600; it is ${stat.isFile() ? 'a file' : 'not a regular file'} of owner ${stat.uid}, mode ${mode.toString(8).padStart(4, '0')}. Synth again (the construct and "wrap --out" write it that way).`);
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A symmetric key's commitment, from a file the synth wrote: `hmac-sha256:` and 64 hex digits (material in hand)
 * or `cmac-aes:` and 32 hex digits (a key in an HSM, computed by the token); never echoed.
 */
export function readCommitmentFile(file: string, option: string): string {
  const text = readOwnerOnlyFile(file, option).toString('latin1').trim();
  if (!COMMITMENT_PATTERN.test(text)) {
    throw new UsageError(`--${option} ${shownPath(file)} does not hold a commitment (hmac-sha256: and 64 hex digits, or cmac-aes: and 32; it holds ${text.length} characters). Synth again.`);
  }
  return text;
}

/**
 * The entry of `construct` in a stack's wrapped-keys file already read (`data`); a {@link UsageError} naming
 * the file, never its content, when it has none or the entry is malformed.
 */
export function wrappedKeyEntryOf(data: Buffer, file: string, construct: string | undefined, option: string): WrappedKeyEntry {
  if (construct === undefined) {
    throw new UsageError(`--${option} ${shownPath(file)} is a stack's wrapped-keys file: give --construct ID to pick the key's entry (the synth's command line does).`);
  }
  let entry: WrappedKeyEntry | undefined;
  try {
    entry = wrappedKeyEntry(data, construct);
  } catch (err) {
    throw new UsageError(`--${option} ${shownPath(file)}: ${(err as Error).message}. Synth again.`);
  }
  if (entry === undefined) throw new UsageError(`--${option} ${shownPath(file)} has no entry for construct ${shownValue(construct)}. Synth again (cdktf synth) so that it holds this key.`);
  return entry;
}

/** Every entry of a stack's wrapped-keys file (owner-only file rules), by construct id. */
export function readWrappedKeys(file: string, option: string): Map<string, WrappedKeyEntry> {
  const data = readOwnerOnlyFile(file, option);
  try {
    return parseWrappedKeys(data);
  } catch (err) {
    throw new UsageError(`--${option} ${shownPath(file)}: ${(err as Error).message}. Synth again.`);
  }
}
