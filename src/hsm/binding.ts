/**
 * Loads the optional peer dependency `pkcs11js` on first use only: users without an HSM never install, build
 * or load native code, and a missing binding is a clear error naming the package.
 */
import { createRequire } from 'node:module';
import type * as Pkcs11Js from 'pkcs11js';
import { HsmError } from './errors';

export type Pkcs11Binding = typeof Pkcs11Js;

let cached: Pkcs11Binding | undefined;

export function loadBinding(): Pkcs11Binding {
  if (cached !== undefined) return cached;
  try {
    cached = createRequire(__filename)('pkcs11js') as Pkcs11Binding;
    return cached;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const notBuilt = code === 'MODULE_NOT_FOUND' && /pkcs11\.node/.test((err as Error).message);
    throw new HsmError(
      'HSM_BINDING_MISSING',
      notBuilt
        ? 'The PKCS#11 binding "pkcs11js" is installed but its native addon was not built (install scripts were skipped). Run: npm rebuild pkcs11js'
        : 'Keys in an HSM need the PKCS#11 binding "pkcs11js", an optional peer dependency of cdktf-thalassa-byok that is not installed. ' +
          'Run: npm install pkcs11js (it builds a native addon with node-gyp; on npm 11 also approve it: npm install-scripts approve pkcs11js).',
    );
  }
}
