import { createResetHandler } from '../layers/workflow/handler.js';
import { createUnixAdapter } from '../layers/resources/unix/adapter.js';
import { UNIX_TYPES } from '../layers/resources/unix/schema.js';

/** Linux, AIX, HP-UX, Solaris, macOS and ESXi over SSH or Telnet: one function, the Unix adapter only. */
export const adapters = Object.fromEntries(UNIX_TYPES.map((t) => [t, createUnixAdapter]));
export const handler = createResetHandler({ adapters });
