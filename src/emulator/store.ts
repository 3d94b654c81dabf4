/**
 * The emulator's state and its persistence.
 *
 * State is one JSON document. With a data directory it is written to `state.json` after every change, before
 * the change is acknowledged: a temporary file (created 0600) is written and fsynced, renamed over the old
 * one, and the directory is fsynced — so a `kill -9` at any moment leaves either the old or the new document,
 * never a torn one. Writes are serialized and grouped: changes made while a write is in flight go out together
 * in the next one, and each waiting request is answered only when a write containing its change is durable.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EmulatorError } from './errors';

/** A key's lifecycle status, as the API spells it. */
export type KeyStatus = 'active' | 'disabled' | 'pending_deletion';

/** One version of a key's material. `material` is the canonical bytes in base64 (raw, or PKCS#8 DER). */
export interface StoredKeyVersion {
  version: number;
  status: 'active';
  createdAt: string;
  material: string;
}

/** A key as the emulator keeps it, material included. Never sent as is: see `kms.ts` for the API view. */
export interface StoredKey {
  identity: string;
  name: string;
  slug: string;
  description: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  organisation: string;
  projectId: string | null;
  region: string;
  keyType: string;
  status: KeyStatus;
  exportAllowed: boolean;
  imported: boolean;
  allowRotation: boolean;
  keyRotationEnabled: boolean;
  rotationPeriodInDays: number | null;
  latestVersion: number;
  versions: StoredKeyVersion[];
  createdAt: string;
  updatedAt: string;
  objectVersion: number;
  /** When the key will be deleted; set while `pending_deletion`. */
  deleteAfter: string | null;
}

/** A region's RSA wrapping key, private half included (PKCS#8 PEM). */
export interface StoredWrappingKey {
  privateKeyPem: string;
  createdAt: string;
}

/** The whole persisted document. */
export interface EmulatorState {
  format: 1;
  wrappingKeys: Record<string, StoredWrappingKey>;
  keys: StoredKey[];
}

const STATE_FILE = 'state.json';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Holds the state in memory and, with a data directory, on disk. */
export class StateStore {
  /** The live state. Mutate it synchronously, then `await commit()` before answering. */
  readonly state: EmulatorState;
  readonly #dir: string | undefined;
  #next: Deferred | undefined;
  #writing: Promise<void> | undefined;

  private constructor(state: EmulatorState, dir: string | undefined) {
    this.state = state;
    this.#dir = dir;
  }

  /** Memory only: nothing is ever written. */
  static inMemory(): StateStore {
    return new StateStore({ format: 1, wrappingKeys: {}, keys: [] }, undefined);
  }

  /**
   * Opens (or creates, mode 0700) a data directory and loads its state. A directory that group or others can
   * read is refused: it holds private keys. Leftover temporary files of an interrupted write are removed.
   */
  static async open(dir: string): Promise<StateStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const info = await stat(dir);
    if (!info.isDirectory()) throw new EmulatorError('STATE_FILE', 500, `The emulator data directory ${dir} is not a directory.`);
    if ((info.mode & 0o077) !== 0) {
      throw new EmulatorError('STATE_FILE', 500, `The emulator data directory ${dir} is accessible to group or others (mode ${(info.mode & 0o777).toString(8)}); it holds private keys, so it must be owner-only: chmod 700 ${dir}.`);
    }
    for (const name of await readdir(dir)) {
      if (name.startsWith(`.${STATE_FILE}.`) && name.endsWith('.tmp')) await unlink(join(dir, name)).catch(() => undefined);
    }
    let text: string | undefined;
    try {
      text = await readFile(join(dir, STATE_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text === undefined) return new StateStore({ format: 1, wrappingKeys: {}, keys: [] }, dir);
    let state: EmulatorState;
    try {
      state = JSON.parse(text) as EmulatorState;
    } catch {
      throw new EmulatorError('STATE_FILE', 500, `The emulator state file ${join(dir, STATE_FILE)} is not valid JSON; it was not written by this emulator or was changed by hand.`);
    }
    if (state?.format !== 1 || !Array.isArray(state.keys) || typeof state.wrappingKeys !== 'object') {
      throw new EmulatorError('STATE_FILE', 500, `The emulator state file ${join(dir, STATE_FILE)} has an unknown format.`);
    }
    return new StateStore(state, dir);
  }

  /** The state file's path, or undefined in memory-only mode. */
  get path(): string | undefined {
    return this.#dir === undefined ? undefined : join(this.#dir, STATE_FILE);
  }

  /** Resolves once every change made before the call is durable (at once in memory-only mode). */
  commit(): Promise<void> {
    if (this.#dir === undefined) return Promise.resolve();
    this.#next ??= deferred();
    const waiting = this.#next.promise;
    this.#writing ??= this.drain();
    return waiting;
  }

  /** Resolves when no write is in flight. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing.catch(() => undefined);
  }

  private async drain(): Promise<void> {
    try {
      while (this.#next) {
        const batch = this.#next;
        this.#next = undefined;
        // Serialized now, so the document holds every change made before the waiting commits.
        const document = JSON.stringify(this.state);
        try {
          await writeAtomically(this.#dir as string, STATE_FILE, document);
          batch.resolve();
        } catch (err) {
          batch.reject(err);
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }
}

async function writeAtomically(dir: string, name: string, text: string): Promise<void> {
  const temp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
  } catch (err) {
    await file.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await file.close();
  await rename(temp, join(dir, name));
  // The rename is durable only once the directory entry is on disk.
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
