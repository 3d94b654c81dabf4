import { createPublicKey } from 'node:crypto';
import { shownPath, shownValue, shownVariable } from '../../disclosure';
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { importKey, type KmsClient } from '../../api';
import { importableKeyType } from '../../key-types';
// From its own module, not the wrapping index: a provisioner's import needs the hash names, not the wrapping
// code and its crypto (start-up; see bench/README.md).
import { parseWrapHash } from '../../wrapping/hash';
import { checkWrappedBlob, type LiveWrappingKey } from '../../wrapping/blob-check';
import { spkiFingerprint } from '../../material/fingerprint';
import { ExitCode, optionalString, requireString, UsageError, type Command, type ParsedOptions } from '../command';
import { API_ENV_HELP, describeKey, fingerprintOption, keyValueOptions, printJson, regionOption, REGION_OPTION, withClient } from './api-options';

export const importCommand: Command = {
  name: 'import',
  options: {
    ...REGION_OPTION,
    name: { type: 'string' },
    'key-type': { type: 'string' },
    'wrapped-file': { type: 'string' },
    'wrapped-env': { type: 'string' },
    fingerprint: { type: 'string' },
    hash: { type: 'string' },
    'allow-rotation': { type: 'boolean' },
    description: { type: 'string' },
    label: { type: 'string', multiple: true },
    annotation: { type: 'string', multiple: true },
    'export-allowed': { type: 'boolean' },
    'wrapping-key-fingerprint': { type: 'string' },
  },
  help: `Usage: thalassa-byok import --region R --name N --key-type T (--wrapped-file F | --wrapped-env VAR)
                            --fingerprint FP [--hash H] [--allow-rotation] [--description D]
                            [--label k=v ...] [--annotation k=v ...] [--export-allowed]
                            [--wrapping-key-fingerprint FP] [--json] [--verbose]

Imports a wrapped key (POST /v1/kms/{region}/keys with importKeyMaterial) and records its fingerprint in
the annotation cdktf-thalassa-byok/fingerprint. This is the command the ImportedKmsKey provisioner runs.

Idempotent: if a key with this name already exists and carries the same fingerprint, it is adopted (and its
scheduled deletion cancelled, if any) and the command succeeds; if it carries another fingerprint, or none,
nothing is changed and the command exits 3. When a create's answer is lost (timeout, reset, 5xx), the key is
looked up by name before anything is sent again, so a retried import never makes two keys.

  --region R            Region slug, e.g. nl-01
  --name N              Key name (unique in the region, including keys pending deletion)
  --key-type T          An importable key type (not hmac*)
  --wrapped-file F      File holding the wrapped blob (base64 text or binary), as "thalassa-byok wrap --out" writes;
                        a regular file of yours, mode 0600, in a folder only you can write
  --wrapped-env VAR     Or: environment variable holding the wrapped blob as base64
  --fingerprint FP      The material's fingerprint (thalassa-byok fingerprint)
  --hash H              The OAEP hash the blob was wrapped with (default sha256)
  --allow-rotation      Allow rotation of the imported key (can never be changed later)
  --description D, --label k=v, --annotation k=v, --export-allowed   Key settings (immutable)
  --wrapping-key-fingerprint FP   The wrapping key the blob was made with (spki-sha256:…); refused, with
                        both fingerprints, when the region's live wrapping key differs
  --json                Print the result as JSON
  --verbose, -v         Log each HTTP request (method, path, status) to stderr

Before anything is sent, the blob is checked against the region's live wrapping key (fetched first): its
length must be the key's modulus plus a multiple of 8 bytes of key wrap, and a file that looks like key
material (PEM, DER, hex or raw) is refused without being sent or shown.

${API_ENV_HELP}
Exit codes: 0 imported or adopted, 1 failure, 2 usage error, 3 the name belongs to another key (nothing changed).
`,
  async run(options, io) {
    const region = regionOption(options);
    const name = requireString(options, 'name');
    const keyType = importableKeyType(requireString(options, 'key-type')).name;
    const fingerprint = fingerprintOption(options);
    const hashFunction = parseWrapHash(optionalString(options, 'hash'));
    const labels = reservedKeysRefused(keyValueOptions(options, 'label'), 'label');
    const annotations = reservedKeysRefused(keyValueOptions(options, 'annotation'), 'annotation');
    const { base64: importKeyMaterial, read } = readWrappedBlob(options, io.env);
    const wrappingKeyFingerprint = optionalString(options, 'wrapping-key-fingerprint');
    io.stderr(`Importing ${keyType} key "${name}" into ${region} (fingerprint ${fingerprint})…\n`);
    const outcome = await withClient(options, io, async (client) => {
      // Checked before the first request of the workflow: an adoption sends no blob, but a file that is the
      // key itself must be refused whatever the API holds.
      checkWrappedBlob(Buffer.from(importKeyMaterial, 'base64'), await liveWrappingKey(client, region), { expectedFingerprint: wrappingKeyFingerprint, fileBytes: read });
      return importKey(client, {
        region, name, keyType, importKeyMaterial, fingerprint, hashFunction,
        allowRotation: options['allow-rotation'] === true,
        description: optionalString(options, 'description'),
        labels, annotations,
        exportAllowed: options['export-allowed'] === true,
      }, { progress: (line) => io.stderr(`${line}\n`) });
    });
    const verb = outcome.action === 'created' ? 'Imported' : outcome.restored ? 'Adopted (deletion cancelled)' : 'Adopted existing';
    if (options.json) {
      printJson(io, { action: outcome.action, restored: outcome.action === 'adopted' ? outcome.restored : false, key: outcome.key });
    } else {
      io.stdout(`${verb} key ${outcome.key.identity} ("${name}") in ${region}.\n${describeKey(outcome.key)}`);
    }
    return ExitCode.OK;
  },
};

const RESERVED_PREFIX = 'cdktf-thalassa-byok/';

/**
 * Keys under cdktf-thalassa-byok/ belong to this tool (the fingerprint annotation); a user value there used
 * to be overwritten silently. Refused, as the construct refuses it.
 */
function reservedKeysRefused(map: Record<string, string> | undefined, option: string): Record<string, string> | undefined {
  const reserved = Object.keys(map ?? {}).find((k) => k.startsWith(RESERVED_PREFIX));
  if (reserved !== undefined) {
    throw new UsageError(`--${option} ${shownValue(reserved)}: keys under "${RESERVED_PREFIX}" are reserved for this tool (the fingerprint is recorded there by import); choose another key.`);
  }
  return map;
}

/**
 * Reads the blob file only if nobody but the current user could have planted it: a regular file (no symlink
 * followed), owned by this user, mode 0600 (or 0400), in a folder that only this user can write. Another
 * local user who could rename or replace it could otherwise have their own material imported under ours.
 */
function readOwnerOnlyFile(file: string): Buffer {
  const uid = process.getuid?.();
  const folder = statSync(dirname(resolve(file)));
  if ((folder.mode & 0o022) !== 0 || (uid !== undefined && folder.uid !== uid)) {
    throw new UsageError(`--wrapped-file ${shownPath(file)}: its folder can be written by another user (mode ${(folder.mode & 0o777).toString(8)}, owner ${folder.uid}), who could replace the blob. Keep blobs in a folder only you can write (chmod 700) and synth again.`);
  }
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stat = fstatSync(fd);
    const mode = stat.mode & 0o777;
    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (mode !== 0o600 && mode !== 0o400)) {
      throw new UsageError(`--wrapped-file ${shownPath(file)} must be a regular file owned by you with mode 0600; it is ${stat.isFile() ? 'a file' : 'not a regular file'} of owner ${stat.uid}, mode ${mode.toString(8).padStart(4, '0')}. Synth again (the construct and "wrap --out" write it that way).`);
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The region's wrapping key, just what the blob check needs (without loading the wrapping code). */
async function liveWrappingKey(client: KmsClient, region: string): Promise<LiveWrappingKey> {
  const key = createPublicKey({ key: (await client.wrappingKey(region)).publicKey, format: 'pem' });
  return { modulusBytes: Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8), fingerprint: spkiFingerprint(key) };
}

/** The blob as base64 and the bytes as read (for the key-likeness check); never echoed. */
function readWrappedBlob(options: ParsedOptions, env: NodeJS.ProcessEnv): { base64: string; read: Buffer } {
  const file = optionalString(options, 'wrapped-file');
  const variable = optionalString(options, 'wrapped-env');
  if ((file === undefined) === (variable === undefined)) throw new UsageError('Give exactly one of --wrapped-file F or --wrapped-env VAR.');
  let data: Buffer;
  if (file !== undefined) {
    try {
      data = readOwnerOnlyFile(file);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`Cannot read the wrapped blob from ${shownPath(file)} (${(err as NodeJS.ErrnoException).code}). Was the stack synthesized (cdktf synth) on this machine?`);
    }
  } else {
    const value = env[variable as string];
    if (!value) throw new UsageError(`Environment variable ${shownVariable(variable as string)} is not set or empty; it should hold the wrapped blob as base64.`);
    data = Buffer.from(value, 'latin1');
  }
  const text = data.toString('latin1').replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0) return { base64: text, read: data };
  if (variable !== undefined) throw new UsageError(`Environment variable ${shownVariable(variable)} does not hold base64 (${text.length} characters).`);
  return { base64: data.toString('base64'), read: data };
}
