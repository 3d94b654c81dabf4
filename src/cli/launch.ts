/**
 * The start of both entry points (main.ts, apply-step.ts): check the Node.js version before anything
 * newer-only is loaded, set the V8 flag below, then load and run the command line.
 */
import { setFlagsFromString } from 'node:v8';
import type { CliIo } from './command';
import { nodeEngineProblem, requiredNodeRange } from './node-engine';

export type CommandLineRunner = (argv: string[], io: CliIo) => Promise<number>;

export function launch(load: () => CommandLineRunner): void {
  const tooOld = nodeEngineProblem(process.version, requiredNodeRange(), process.execPath);
  if (tooOld !== undefined) {
    process.stderr.write(`${tooOld}\n`);
    process.exit(1);
  }
  // undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it quickly (Liftoff) and then, on
  // background threads, again with its optimizing compiler; Node waits for those background jobs before the
  // process exits, which cost a short-lived `thalassa-byok import` about 150 ms of its ~0.3 s on a 2-core
  // machine (see bench/README.md). One process parses a few small HTTP responses: the baseline code is ample.
  // Set before any code is compiled: a code cache records the flags it was made with (compile-cache.ts).
  setFlagsFromString('--liftoff-only');
  load()(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  }).then((code) => {
    process.exitCode = code;
  });
}
