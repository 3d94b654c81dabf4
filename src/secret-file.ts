import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface OwnerOnlyFileOptions {
  /**
   * fsync the file before it replaces the old one, so that it survives a crash. True for what a user keeps
   * (`wrap --out`); false for synth output, which every synth writes again and whose neighbour cdk.tf.json
   * cdktf does not fsync either: a file torn by a crash is refused by the import (the blob does not unwrap),
   * never imported. One fsync per key was a fifth of a 1,000-key synth's own work (bench/README.md).
   * @default true
   */
  readonly durable?: boolean;
}

/**
 * Writes a secret file readable by its owner only (mode 0600), atomically: a temporary file in the same
 * folder, created 0600 with O_EXCL (so no existing file or symlink is ever opened), then renamed over the
 * target (rename replaces a symlink, never follows it). An existing file's wider mode is never inherited, and
 * the temporary file is removed on every failure path.
 */
export function writeOwnerOnlyFile(path: string, data: string | Uint8Array, options: OwnerOnlyFileOptions = {}): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      if (options.durable !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // Already renamed or never created: nothing is left behind either way.
    }
    throw err;
  }
}
