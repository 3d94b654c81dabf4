#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { runCli } from './run';

// undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it quickly (Liftoff) and then, on
// background threads, again with its optimizing compiler; Node waits for those background jobs before the
// process exits, which cost a short-lived `thalassa-byok import` about 150 ms of its ~0.3 s on a 2-core
// machine (see bench/README.md). One process parses a few small HTTP responses: the baseline code is ample.
setFlagsFromString('--liftoff-only');

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
}).then((code) => {
  process.exitCode = code;
});
