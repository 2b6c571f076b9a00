#!/usr/bin/env -S node --import tsx
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2));
