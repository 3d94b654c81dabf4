/**
 * Bundles what Terraform's provisioners run into one file, dist/cli/apply-step.bundle.js (run by
 * `npm run build` after tsc, and by the tests' global setup). A provisioner starts one Node.js process per key;
 * reading and resolving ~50 small modules, and compiling them, was most of what `thalassa-byok import` cost on
 * top of Node's own start-up (bench/README.md). The input is tsc's output (dist/cli/apply-commands.js): the
 * bundler only joins files, TypeScript semantics stay tsc's.
 *
 * Two choices, both for start-up:
 * - undici's index stays outside (`require('undici')` is only reached when a proxy is configured); its
 *   agent and request modules are inside.
 * - undici's client requires its HTTP/2 half eagerly, and with it node:http2, tls and the HTTP server
 *   (~13 ms). The client never negotiates HTTP/2 (allowH2 is off), so the bundle evaluates that half on first
 *   use instead: it is still in the file, and works if it is ever reached.
 *
 * dist/cli/apply-step.bundle.inputs.json lists the modules inside (not packed: test/cli/provisioner-modules).
 */
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
// `node bundle.mjs [DIST]`: tsc's output folder, dist/ unless given (the bench builds its own copy).
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const out = join(dist, 'cli', 'apply-step.bundle.js');

const http2OnFirstUse = {
  name: 'undici-http2-on-first-use',
  setup(b) {
    b.onResolve({ filter: /^\.\/client-h2\.js$/ }, (args) => (/[/\\]undici[/\\]lib[/\\]dispatcher[/\\]client\.js$/.test(args.importer)
      // Named relative to the checkout: the name is printed into the bundle.
      ? { path: relative(root, join(dirname(args.importer), 'client-h2.js')).split(sep).join('/'), namespace: 'on-first-use' }
      : undefined));
    b.onLoad({ filter: /.*/, namespace: 'on-first-use' }, (args) => ({
      contents: `module.exports = function connectH2(...args) { return require(${JSON.stringify(join(root, args.path))})(...args); };\n`,
      resolveDir: root,
      loader: 'js',
    }));
  },
};

const undiciIndexOutside = {
  name: 'undici-index-outside',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici', external: true }));
  },
};

const result = await build({
  entryPoints: [join(dist, 'cli', 'apply-commands.js')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Everything the apply step needs is ours or undici; anything else appearing here is a mistake.
  external: ['pkcs11js', 'cdktf', 'cdktn', 'constructs', '@cdktf/*'],
  plugins: [undiciIndexOutside, http2OnFirstUse],
  metafile: true,
  legalComments: 'inline',
  logLevel: 'warning',
});
const inputs = Object.keys(result.metafile.inputs).map((p) => p.replace(/^on-first-use:/, ''));
writeFileSync(join(dist, 'cli', 'apply-step.bundle.inputs.json'), `${JSON.stringify(inputs, null, 2)}\n`);
