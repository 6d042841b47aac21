#!/usr/bin/env node
// The `dstore` executable (package.json "bin"): runs the command line given.
import { runCli } from './main.ts';

await runCli(process.argv.slice(2), process.argv[1]!);
