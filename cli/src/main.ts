#!/usr/bin/env -S node --import tsx
import { exitWhenFlushed } from './exit.ts';
import { runCli } from './program.ts';

await exitWhenFlushed(await runCli(process.argv.slice(2)));
