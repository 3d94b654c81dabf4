/**
 * A real SoftHSM2 token per test file: its own token directory and SOFTHSM2_CONF, keys made with pkcs11-tool.
 * Not a test file itself. Nothing here skips: without SoftHSM2 or pkcs11-tool the suite fails and says what
 * to install (`.ci/run` installs both).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import * as pkcs11js from 'pkcs11js';
import { makeTempDir, removeDir } from '../support/openssl';

const MODULE_CANDIDATES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/local/lib/softhsm/libsofthsm2.so'];
const INSTALL = 'SoftHSM2 and OpenSC are needed for test/hsm: apt-get install -y softhsm2 opensc (.ci/run does this when CI=true).';

/** The PIN's environment variable in these tests. The PIN is a throw-away test value. */
export const PIN_ENV = 'THALASSA_TEST_HSM_PIN';
export const PIN = '246813';

export interface TestToken {
  readonly module: string;
  readonly label: string;
  /** The user PIN (in {@link PIN_ENV}). */
  readonly pin: string;
  readonly dir: string;
  /** Runs pkcs11-tool logged in to this token; returns stdout. */
  tool(args: string[]): string;
  /** Opens a logged-in session with pkcs11js for checks the test makes itself; closes everything after `fn`. */
  withSession<T>(fn: (p: pkcs11js.PKCS11, session: Buffer) => T): T;
  cleanup(): void;
}

export function softHsmModule(): string {
  const found = MODULE_CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) throw new Error(`No SoftHSM2 PKCS#11 module at ${MODULE_CANDIDATES.join(', ')}. ${INSTALL}`);
  return found;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): string {
  try {
    return execFileSync(command, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${command} is not installed. ${INSTALL}`);
    const e = err as { stderr?: string; stdout?: string };
    throw new Error(`${command} ${args[0] ?? ''} failed: ${(e.stderr ?? '').slice(0, 500)}${(e.stdout ?? '').slice(0, 500)}`);
  }
}

/**
 * Sets a variable in the process's real environment, where SoftHSM2's getenv looks. Jest gives each test file a
 * copy of process.env that never reaches the C library; a worker thread with SHARE_ENV writes the real one.
 */
async function setRealEnv(name: string, value: string): Promise<void> {
  const worker = new Worker('process.env[require("node:worker_threads").workerData.name] = require("node:worker_threads").workerData.value;', {
    eval: true, env: SHARE_ENV, workerData: { name, value },
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))));
  });
}

/**
 * Creates a fresh token in its own directory and points SOFTHSM2_CONF of this process at it. A test that
 * searches output for the PIN passes a long random one: six digits could turn up in any hex by chance.
 */
export async function createToken(label = 'byok-test', pin = PIN): Promise<TestToken> {
  const module = softHsmModule();
  const dir = makeTempDir('thalassa-hsm-test-');
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  process.env.SOFTHSM2_CONF = conf;
  await setRealEnv('SOFTHSM2_CONF', conf);
  process.env[PIN_ENV] = pin;
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  run('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', '13572468', '--pin', pin], env);
  return {
    module, label, dir, pin,
    tool: (args) => run('pkcs11-tool', ['--module', module, '--token-label', label, '--login', '--pin', pin, ...args], env),
    withSession(fn) {
      const p = new pkcs11js.PKCS11();
      p.load(module);
      p.C_Initialize();
      try {
        const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === label);
        if (slot === undefined) throw new Error(`token ${label} not found`);
        const session = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
        p.C_Login(session, pkcs11js.CKU_USER, pin);
        try {
          return fn(p, session);
        } finally {
          p.C_Logout(session);
          p.C_CloseSession(session);
        }
      } finally {
        p.C_Finalize();
        p.close();
      }
    },
    cleanup: () => removeDir(dir),
  };
}

/** Finds one object by class and label in a test session. */
export function findObject(p: pkcs11js.PKCS11, session: Buffer, cls: number, label: string): Buffer {
  p.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: cls }, { type: pkcs11js.CKA_LABEL, value: label }]);
  const found = p.C_FindObjects(session, 4);
  p.C_FindObjectsFinal(session);
  if (found.length !== 1) throw new Error(`${found.length} objects labelled ${label}`);
  return found[0];
}

/**
 * The token's public key as DER SPKI, independently of src/hsm: pkcs11-tool --read-object for RSA; for EC (where
 * OpenSC 0.23's read-object fails on P-384) the CKA_EC_POINT read here, behind the curve's fixed SPKI header.
 */
export function tokenSpki(token: TestToken, label: string, ecPrefix: string | undefined): Buffer {
  if (ecPrefix === undefined) {
    token.tool(['--read-object', '--type', 'pubkey', '--label', label, '--output-file', join(token.dir, `${label}.der`)]);
    return readFileSync(join(token.dir, `${label}.der`));
  }
  const encoded = token.withSession((p, session) => {
    const pub = findObject(p, session, pkcs11js.CKO_PUBLIC_KEY, label);
    return Buffer.from(p.C_GetAttributeValue(session, pub, [{ type: pkcs11js.CKA_EC_POINT }])[0].value as Buffer);
  });
  // CKA_EC_POINT is a DER OCTET STRING: 04, a length (one byte, or 81 and one byte), then the point.
  const point = encoded.subarray(encoded[1] === 0x81 ? 3 : 2);
  return Buffer.concat([Buffer.from(ecPrefix, 'hex'), point]);
}

/** DER SubjectPublicKeyInfo headers (id-ecPublicKey, the curve, BIT STRING) before an uncompressed point. */
export const EC_SPKI_PREFIX = {
  'P-256': '3059301306072a8648ce3d020106082a8648ce3d030107034200',
  'P-384': '3076301006072a8648ce3d020106052b81040022036200',
  'P-521': '30819b301006072a8648ce3d020106052b8104002303818600',
} as const;
