#!/usr/bin/env node
import { launch } from './launch';

// Loaded only after launch's version check (static imports would be hoisted above it).
/* eslint-disable @typescript-eslint/no-require-imports */
launch(() => {
  const { runCli } = require('./run') as typeof import('./run');
  const { ALL_COMMANDS } = require('./all-commands') as typeof import('./all-commands');
  return (argv, io) => runCli(argv, io, ALL_COMMANDS);
});
