/**
 * Material that lives in a PKCS#11 token (an HSM) and never leaves it: this object only says where the key is.
 * The construct has the token wrap it (src/hsm `wrapInToken`) at synth; nothing here loads the PKCS#11 binding
 * or opens a session, so declaring such material costs nothing until a synth uses it.
 */
import { inspect } from 'node:util';
import type { Pkcs11KeyRef } from '../hsm/token';
import { shownPath, shownVariable } from '../disclosure';
import { KeyMaterialError } from './errors';

/** Where a key lives in a PKCS#11 token: module, token label, the PIN's variable, and the key's label or id. */
export type Pkcs11KeySource = Pkcs11KeyRef;

/**
 * A key inside a PKCS#11 token, for `ImportedKmsKey`'s `material`. Made by {@link KeyMaterial.fromPkcs11}.
 * Holds no secret: the PIN is read from its environment variable at synth, and the key is wrapped inside the
 * token.
 */
export class HsmKeyMaterial {
  /** Says where the key is, for messages (module, token and key; never the PIN). */
  public readonly source: string;
  /** The token and key this material names (a frozen copy). */
  public readonly ref: Pkcs11KeySource;

  constructor(ref: Pkcs11KeySource) {
    if (ref === null || typeof ref !== 'object') {
      throw new KeyMaterialError('MATERIAL_SOURCE', 'KeyMaterial.fromPkcs11 needs { module, tokenLabel, pinEnv, keyLabel } or { module, tokenLabel, pinEnv, keyId }.');
    }
    const missing = (['module', 'tokenLabel', 'pinEnv'] as const).filter((k) => typeof ref[k] !== 'string' || ref[k] === '');
    if (missing.length > 0) {
      throw new KeyMaterialError('MATERIAL_SOURCE', `KeyMaterial.fromPkcs11 needs ${missing.join(', ')} (non-empty strings): the module's path, the token's label, and the NAME of the variable holding the PIN.`);
    }
    const byLabel = typeof ref.keyLabel === 'string' && ref.keyLabel !== '';
    const byId = typeof ref.keyId === 'string' && ref.keyId !== '';
    if (byLabel === byId) {
      throw new KeyMaterialError('MATERIAL_SOURCE', 'KeyMaterial.fromPkcs11 names the key by exactly one of keyLabel (CKA_LABEL) and keyId (CKA_ID, hex).');
    }
    if (byId && !/^(?:[0-9a-fA-F]{2})+$/.test(ref.keyId as string)) {
      throw new KeyMaterialError('MATERIAL_SOURCE', `KeyMaterial.fromPkcs11: keyId must be the key's CKA_ID as hex (an even number of 0-9a-f digits); received ${(ref.keyId as string).length} characters that are not.`);
    }
    this.ref = Object.freeze({
      module: ref.module, tokenLabel: ref.tokenLabel, pinEnv: ref.pinEnv,
      ...(byLabel ? { keyLabel: ref.keyLabel } : { keyId: (ref.keyId as string).toLowerCase() }),
    });
    const key = byLabel ? `key labelled ${JSON.stringify(printable(ref.keyLabel as string))}` : `key with CKA_ID ${this.ref.keyId}`;
    this.source = `PKCS#11 token ${JSON.stringify(printable(ref.tokenLabel))} (module ${shownPath(ref.module)}, PIN from ${shownVariable(ref.pinEnv)}), ${key}`;
  }

  public toString(): string {
    return `HsmKeyMaterial(${this.source})`;
  }

  public toJSON(): { source: string } {
    return { source: this.source };
  }

  public [inspect.custom](): string {
    return this.toString();
  }
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}
