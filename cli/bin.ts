#!/usr/bin/env -S node --import tsx
import { runCli } from './program.js';

// Lambda runs Node 22; operators may run the CLI on Node 20, where the SDK's upgrade notice is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await runCli(process.argv.slice(2));
