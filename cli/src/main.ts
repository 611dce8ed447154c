#!/usr/bin/env -S node --import tsx
import { runCli } from './program.ts';

const code = await runCli(process.argv.slice(2));
// kafkajs can leave a timer behind after disconnecting; the command is over either way.
process.exit(code);
