import { createPublicKey } from 'node:crypto';
import { shownPath, shownValue, shownVariable } from '../../disclosure';
import { findOnlyKey, importKey, listOwnedKeys, sweepKeys, sweepRegions, type ImportOutcome, type KmsClient, type SweptKey } from '../../api';
import { RESERVED_PREFIX } from '../../protocol';
import { readCommitmentFile, readOwnerOnlyFile, wrappedKeyEntryOf } from '../owner-only-file';
import { isWrappedKeysFile } from '../../wrapped-keys';
import { importableKeyType } from '../../key-types';
// From its own module, not the wrapping index: a provisioner's import needs the hash names, not the wrapping
// code and its crypto (start-up; see bench/README.md).
import { parseWrapHash } from '../../wrapping/hash';
import { checkWrappedBlob, type LiveWrappingKey } from '../../wrapping/blob-check';
import { spkiFingerprint } from '../../material/fingerprint';
import { ExitCode, optionalString, requireString, UsageError, type Command, type ParsedOptions } from '../command';
import {
  API_ENV_HELP, describeKey, fingerprintOption, keyValueOptions, OWNERSHIP_HELP, OWNERSHIP_OPTIONS, ownershipOptions, printJson, regionOption, REGION_OPTION, withClient,
} from './api-options';

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
    ...OWNERSHIP_OPTIONS,
    'commitment-file': { type: 'string' },
    'sweep-predecessors': { type: 'boolean' },
  },
  help: `Usage: thalassa-byok import --region R --name N --key-type T (--wrapped-file F | --wrapped-env VAR)
                            --fingerprint FP [--hash H] [--allow-rotation] [--description D]
                            [--label k=v ...] [--annotation k=v ...] [--export-allowed]
                            [--wrapping-key-fingerprint FP] [--owner ID --construct ID]
                            [--commitment-file F] [--sweep-predecessors] [--json] [--verbose]

Imports a wrapped key (POST /v1/kms/{region}/keys with importKeyMaterial) and records its fingerprint in
the annotation cdktf-thalassa-byok/fingerprint. This is the command the ImportedKmsKey provisioner runs.

Idempotent: a key that already has this name is adopted (and its scheduled deletion cancelled, if any) only
if it is provably this one: the same fingerprint, owner id, construct and settings, and proof that it holds
this material (an asymmetric key's public key has the fingerprint; a symmetric key carries the commitment
from its entry in byok/keys.wrapped, or from --commitment-file). Anything else is refused, nothing is changed, and the command exits 3. When a create's answer is lost (timeout, reset, 5xx), the key is
looked up by name before anything is sent again, so a retried import never makes two keys.

  --region R            Region slug, e.g. nl-01
  --name N              Key name (unique in the region, including keys pending deletion)
  --key-type T          An importable key type (not hmac*)
  --wrapped-file F      File holding the wrapped blob (base64 text or binary), as "thalassa-byok wrap --out" writes;
                        or the stack's byok/keys.wrapped the synth writes, whose entry for --construct is
                        the key's blob and commitment; a regular file of yours, mode 0600, in a folder only
                        you can write
  --wrapped-env VAR     Or: environment variable holding the wrapped blob as base64
  --fingerprint FP      The material's fingerprint (thalassa-byok fingerprint)
  --hash H              The OAEP hash the blob was wrapped with (default sha256)
  --allow-rotation      Allow rotation of the imported key (can never be changed later)
  --description D, --label k=v, --annotation k=v, --export-allowed   Key settings (immutable)
  --wrapping-key-fingerprint FP   The wrapping key the blob was made with (spki-sha256:…); refused, with
                        both fingerprints, when the region's live wrapping key differs
${OWNERSHIP_HELP}  --commitment-file F   File holding a symmetric key's commitment (hmac-sha256:… or cmac-aes:…), recorded on
                        the key and required to adopt it, for a single blob's --wrapped-file; same file rules
  --sweep-predecessors  After the import or adoption succeeded, schedule deletion of this owner's other
                        keys of the same construct, in every region (needs --owner and --construct)
  --json                Print the result as JSON
  --verbose, -v         Log each HTTP request (method, path, status) to stderr

Before the blob is sent, it is checked against the region's live wrapping key (fetched with the name lookup): its
length must be the key's modulus plus a multiple of 8 bytes of key wrap, and a file that looks like key
material (PEM, DER, hex or raw) is refused without being sent or shown.

${API_ENV_HELP}
Exit codes: 0 imported or adopted, 1 failure, 2 usage error, 3 the name belongs to a key that is not provably
this one (nothing changed).
`,
  async run(options, io) {
    const region = regionOption(options);
    const name = requireString(options, 'name');
    const keyType = importableKeyType(requireString(options, 'key-type')).name;
    const fingerprint = fingerprintOption(options);
    const hashFunction = parseWrapHash(optionalString(options, 'hash'));
    const labels = reservedKeysRefused(keyValueOptions(options, 'label'), 'label');
    const annotations = reservedKeysRefused(keyValueOptions(options, 'annotation'), 'annotation');
    const ownership = ownershipOptions(options);
    const { base64: importKeyMaterial, read, commitment } = readWrappedBlob(options, io.env, ownership.construct);
    const wrappingKeyFingerprint = optionalString(options, 'wrapping-key-fingerprint');
    const sweep = options['sweep-predecessors'] === true;
    if (sweep && (ownership.owner === undefined || ownership.construct === undefined)) {
      throw new UsageError('--sweep-predecessors needs --owner and --construct: only keys carrying both are swept.');
    }
    io.stderr(`Importing ${keyType} key "${name}" into ${region} (fingerprint ${fingerprint})…\n`);
    const { outcome, swept } = await withClient(options, io, async (client) => {
      // The reads the import needs go out together (a round trip each is most of a provisioner's time): the
      // live wrapping key, the key of that name, and, to sweep, the construct's keys in every region. None
      // sends anything of the blob. The create or adoption waits for the first two; the sweep, after it, for
      // the listing (which may still be running meanwhile: the key it makes or adopts is kept by identity).
      const lookups = {
        wrappingKey: handledLater(liveWrappingKey(client, region)),
        existing: handledLater(findOnlyKey(client, region, name)),
        owned: sweep ? handledLater(sweepRegions(client, [region]).then((regions) => listOwnedKeys(client, ownership.owner as string, regions))) : undefined,
      };
      // Checked before anything is created or adopted: an adoption sends no blob, but a file that is the key
      // itself must be refused whatever the API holds.
      checkWrappedBlob(Buffer.from(importKeyMaterial, 'base64'), await lookups.wrappingKey, { expectedFingerprint: wrappingKeyFingerprint, fileBytes: read });
      const progress = (line: string): void => io.stderr(`${line}\n`);
      const imported: ImportOutcome = await importKey(client, {
        region, name, keyType, importKeyMaterial, fingerprint, hashFunction, commitment, ...ownership,
        allowRotation: options['allow-rotation'] === true,
        description: optionalString(options, 'description'),
        labels, annotations,
        exportAllowed: options['export-allowed'] === true,
      }, { progress, existing: lookups.existing });
      let predecessors: SweptKey[] = [];
      if (lookups.owned !== undefined) {
        try {
          const listed = await lookups.owned;
          // The result goes to stdout at the end; without this line first, a log showing both streams would
          // show the old keys' deletion before the new key exists.
          let replacing = false;
          predecessors = await sweepKeys(client, {
            owner: ownership.owner as string, constructs: [ownership.construct as string],
            regions: listed.map((l) => l.region), listed, keep: { identities: new Set([imported.key.identity]) },
            proofs: new Map([[fingerprint, commitment]]),
          }, (line) => {
            if (!replacing) progress(`Key ${imported.key.identity} ("${name}") is ${imported.action === 'created' ? 'imported' : 'adopted'} and active; the keys it replaces go next.`);
            replacing = true;
            progress(line);
          });
        } catch (err) {
          if (err instanceof Error) {
            err.message = `Key ${imported.key.identity} ("${name}") is imported and active, but scheduling deletion of the keys it replaces failed: ${err.message} The next deploy retries.`;
          }
          throw err;
        }
      }
      return { outcome: imported, swept: predecessors };
    });
    const verb = outcome.action === 'created' ? 'Imported' : outcome.restored ? 'Adopted (deletion cancelled)' : 'Adopted existing';
    if (options.json) {
      printJson(io, {
        action: outcome.action, restored: outcome.action === 'adopted' ? outcome.restored : false, key: outcome.key,
        swept: swept.map((s) => ({ region: s.region, identity: s.key.identity, name: s.key.name, action: s.action })),
      });
    } else {
      io.stdout(`${verb} key ${outcome.key.identity} ("${name}") in ${region}.\n${describeKey(outcome.key)}`);
    }
    return ExitCode.OK;
  },
};

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
 * `promise`, marked as handled: when an earlier lookup fails, the command stops without awaiting the others
 * (closing the client abandons them), and their failure must not surface as an unhandled rejection.
 * Awaiting it still throws.
 */
function handledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** The region's wrapping key, just what the blob check needs (without loading the wrapping code). */
async function liveWrappingKey(client: KmsClient, region: string): Promise<LiveWrappingKey> {
  const key = createPublicKey({ key: (await client.wrappingKey(region)).publicKey, format: 'pem' });
  return { modulusBytes: Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8), fingerprint: spkiFingerprint(key) };
}

/**
 * The blob as base64, the bytes as read (for the key-likeness check; never echoed), and the commitment: from
 * --commitment-file, or from the key's entry when --wrapped-file is a stack's wrapped-keys file.
 */
function readWrappedBlob(options: ParsedOptions, env: NodeJS.ProcessEnv, construct: string | undefined): { base64: string; read: Buffer; commitment?: string } {
  const file = optionalString(options, 'wrapped-file');
  const variable = optionalString(options, 'wrapped-env');
  const commitmentFile = optionalString(options, 'commitment-file');
  if ((file === undefined) === (variable === undefined)) throw new UsageError('Give exactly one of --wrapped-file F or --wrapped-env VAR.');
  let data: Buffer;
  if (file !== undefined) {
    data = readOwnerOnlyFile(file, 'wrapped-file');
    if (isWrappedKeysFile(data)) {
      if (commitmentFile !== undefined) {
        throw new UsageError(`--commitment-file is for a single blob's file; --wrapped-file ${shownPath(file)} is a stack's wrapped-keys file, whose entry holds the commitment. Drop --commitment-file.`);
      }
      const entry = wrappedKeyEntryOf(data, file, construct, 'wrapped-file');
      const blob = Buffer.from(entry.blob);
      return { base64: blob.toString('base64'), read: blob, ...(entry.commitment === undefined ? {} : { commitment: entry.commitment }) };
    }
  } else {
    const value = env[variable as string];
    if (!value) throw new UsageError(`Environment variable ${shownVariable(variable as string)} is not set or empty; it should hold the wrapped blob as base64.`);
    data = Buffer.from(value, 'latin1');
  }
  const commitment = commitmentFile === undefined ? undefined : readCommitmentFile(commitmentFile, 'commitment-file');
  const text = data.toString('latin1').replace(/\s+/g, '');
  const blob = /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0 ? text : undefined;
  if (blob === undefined && variable !== undefined) throw new UsageError(`Environment variable ${shownVariable(variable)} does not hold base64 (${text.length} characters).`);
  return { base64: blob ?? data.toString('base64'), read: data, ...(commitment === undefined ? {} : { commitment }) };
}
