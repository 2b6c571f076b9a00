// Preloaded (`node --import`) into the Node 22 processes that load built function bundles: it
// puts the directory RPR_OPT_ROOT where Lambda extracts a function's layers, /opt, for module
// resolution only. A bundle imports the runtime layer by absolute path (/opt/rpr/...), exactly
// as deployed. Synchronous in-thread hooks (Node >= 22.15), so no loader thread skews load times.
import { registerHooks } from 'node:module';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const root = process.env.RPR_OPT_ROOT;
if (!root) throw new Error('opt-mount.mjs: set RPR_OPT_ROOT to the directory that stands for /opt');
registerHooks({
  resolve: (specifier, context, next) => next(specifier.startsWith('/opt/') ? pathToFileURL(root + specifier.slice('/opt'.length)).href : specifier, context),
});
