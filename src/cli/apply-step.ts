#!/usr/bin/env node
/**
 * What Terraform's provisioners run: `node …/dist/cli/apply-step.js import|set-rotation|sweep|delete …`, one
 * process per step. It runs one bundled file, apply-step.bundle.js (bundle.mjs, from apply-commands.ts),
 * through a code cache (compile-cache.ts), so that Node reads, resolves and compiles as little as possible.
 * A build without the bundle (the demo's, a test's tsc-only build) runs the same commands from their modules.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './launch';

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after launch's version check */
launch(() => {
  const bundle = join(__dirname, 'apply-step.bundle.js');
  if (!existsSync(bundle)) return (require('./apply-commands') as typeof import('./apply-commands')).runApplyStep;
  const { requireWithCodeCache } = require('./compile-cache') as typeof import('./compile-cache');
  // A help or usage run compiles almost nothing: its cache would be kept, and be of little use, for good.
  const args = process.argv.slice(3);
  const label = args.includes('--help') || args.includes('-h') ? '' : process.argv[2] ?? '';
  // This module's require resolves from dist/cli/, the bundle's folder.
  const loaded = requireWithCodeCache(bundle, label, process.env, require) as typeof import('./apply-commands');
  return loaded.runApplyStep;
});
