#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
// First: on a Node.js older than `engines`, say so before anything newer-only is loaded.
import { nodeEngineProblem, requiredNodeRange } from './node-engine';

const tooOld = nodeEngineProblem(process.version, requiredNodeRange(), process.execPath);
if (tooOld !== undefined) {
  process.stderr.write(`${tooOld}\n`);
  process.exit(1);
}

// undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it quickly (Liftoff) and then, on
// background threads, again with its optimizing compiler; Node waits for those background jobs before the
// process exits, which cost a short-lived `thalassa-byok import` about 150 ms of its ~0.3 s on a 2-core
// machine (see bench/README.md). One process parses a few small HTTP responses: the baseline code is ample.
setFlagsFromString('--liftoff-only');

// Loaded only now, after the version check (a static import would be hoisted above it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runCli } = require('./run') as typeof import('./run');

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
}).then((code) => {
  process.exitCode = code;
});
