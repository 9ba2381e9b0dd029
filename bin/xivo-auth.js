#!/usr/bin/env node
// Entry point of the `xivo-auth` command: runs the compiled CLI (npm run build).
import { run } from '../dist/cli/main.js';

run(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err); process.exit(1); },
);
