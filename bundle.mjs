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
 * - Two undici modules require node:http at load (seven built-in modules, ~2 ms) for two things: the default
 *   maxHeaderSize (our agent sets its own, src/api/transport.ts) and a check in `destroy` for an
 *   IncomingMessage (which cannot exist before node:http is loaded). The bundle requires node:http where
 *   they are used instead. The edits are exact: if undici's text changes, the build fails and says where.
 *
 * - The file is ASCII only, so that V8 holds its text in one byte per character (half the memory, and faster
 *   to read, hash and compile, in every provisioner's process). esbuild escapes non-ASCII characters in code
 *   but keeps its comments verbatim; theirs are written as `\u{…}` text, checked to change no code.
 *
 * dist/cli/apply-step.bundle.inputs.json lists the modules inside (not packed: test/cli/provisioner-modules).
 */
import { build, transform } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

/** `[file, from, to]`: in undici's `file`, the text `from` (exactly once) becomes `to`. */
const HTTP_ON_USE = [
  ['lib/core/util.js', "const { IncomingMessage } = require('node:http')\n", ''],
  ['lib/core/util.js', '.constructor === IncomingMessage)', ".constructor === require('node:http').IncomingMessage)"],
  ['lib/dispatcher/client.js', "const http = require('node:http')\n", ''],
  ['lib/dispatcher/client.js',
    "const getDefaultNodeMaxHeaderSize = http &&\n  http.maxHeaderSize &&\n  Number.isInteger(http.maxHeaderSize) &&\n  http.maxHeaderSize > 0\n  ? () => http.maxHeaderSize\n" +
      "  : () => { throw new InvalidArgumentError('http module not available or http.maxHeaderSize invalid') }\n",
    "const getDefaultNodeMaxHeaderSize = () => {\n  const { maxHeaderSize } = require('node:http')\n" +
      "  if (Number.isInteger(maxHeaderSize) && maxHeaderSize > 0) return maxHeaderSize\n" +
      "  throw new InvalidArgumentError('http module not available or http.maxHeaderSize invalid')\n}\n"],
];

const undiciHttpOnUse = {
  name: 'undici-http-on-use',
  setup(b) {
    const applied = new Set();
    b.onLoad({ filter: /[/\\]undici[/\\]lib[/\\](core[/\\]util|dispatcher[/\\]client)\.js$/ }, async (args) => {
      const file = args.path.split(sep).join('/').replace(/^.*\/undici\//, '');
      const fail = (why) => { throw new Error(`bundle.mjs: undici's ${file} ${why}; update HTTP_ON_USE for this undici version.`); };
      let contents = await readFile(args.path, 'utf8');
      for (const [index, [target, from, to]] of HTTP_ON_USE.entries()) {
        if (target !== file) continue;
        const at = contents.indexOf(from);
        if (at < 0 || contents.indexOf(from, at + 1) >= 0) fail(`no longer holds ${JSON.stringify(from)} exactly once`);
        contents = contents.slice(0, at) + to + contents.slice(at + from.length);
        applied.add(index);
      }
      // A use of the removed bindings that the edits do not cover would fail only at run time, on its path.
      const rest = contents.replace(/require\('node:http'\)(\.IncomingMessage)?/g, '').replace(/'[^'\n]*'/g, "''");
      if (/\bhttp\.|\bIncomingMessage\b/.test(rest)) fail('uses node:http in a place the edits do not cover');
      return { contents, loader: 'js' };
    });
    b.onEnd(() => {
      const missing = HTTP_ON_USE.filter((_, index) => !applied.has(index)).map(([file]) => file);
      if (missing.length > 0) throw new Error(`bundle.mjs: undici's ${[...new Set(missing)].join(', ')} did not reach the bundle under that name; update HTTP_ON_USE for this undici version.`);
    });
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
  plugins: [undiciIndexOutside, http2OnFirstUse, undiciHttpOnUse],
  metafile: true,
  legalComments: 'inline',
  logLevel: 'warning',
});
await asciiOnly(out);
const inputs = Object.keys(result.metafile.inputs).map((p) => p.replace(/^on-first-use:/, ''));
writeFileSync(join(dist, 'cli', 'apply-step.bundle.inputs.json'), `${JSON.stringify(inputs, null, 2)}\n`);

/** Rewrites the bundle's non-ASCII characters as `\u{…}` text; fails if that would change its code. */
async function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  if (!/[^\x00-\x7f]/.test(text)) return;
  const ascii = text.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
  // The code without comments (minified whitespace keeps only legal comments, and 'none' drops those) is the
  // same before and after when every character rewritten was in a comment, or in a string or untagged template
  // where `\u{…}` is its escape. esbuild prints regular expressions and tagged templates verbatim, so a
  // character in one of those fails the build. (Not covered: a function's own text, `f.toString()`, which
  // the bundle does not use.)
  const code = async (js) => (await transform(js, { loader: 'js', minifyWhitespace: true, legalComments: 'none', logLevel: 'warning' })).code;
  if (await code(text) !== await code(ascii)) throw new Error('bundle.mjs: the bundle holds a non-ASCII character that cannot be written as \\u{…} (in a regular expression?); escape it in the source.');
  writeFileSync(file, ascii);
}
