/**
 * Writes sample key material for the examples into `BYOK_EXAMPLE_DIR` (default `.demo/material`), owner-only.
 * Existing files are kept, so the keys (and their fingerprints) stay the same across runs. The wrapping key
 * is not generated: it is the region's, fetched with `thalassa-byok wrapping-key --region <r> --out <file>`.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeOwnerOnlyFile } from '../src/secret-file';
import { exampleConfig, MATERIAL_FILES } from './config';

const { dir } = exampleConfig();
mkdirSync(dir, { recursive: true, mode: 0o700 });
const make: Record<string, () => Buffer | string> = {
  [MATERIAL_FILES.aes256]: () => randomBytes(32),
  [MATERIAL_FILES.ecdsaP256]: () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  [MATERIAL_FILES.hsmChacha20]: () => randomBytes(32),
};
for (const [file, generate] of Object.entries(make)) {
  const path = join(dir, file);
  if (existsSync(path)) {
    console.log(`kept      ${path}`);
    continue;
  }
  writeOwnerOnlyFile(path, generate());
  console.log(`generated ${path}`);
}
