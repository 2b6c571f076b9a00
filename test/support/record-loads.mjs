// `node --import ./test/support/record-loads.mjs ...`: appends the URL of every module the
// process loads (ESM imports and CommonJS requires) to the file $RPR_RECORD_LOADS, so a test can
// tell which packages a command loaded.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = globalThis.process.env.RPR_RECORD_LOADS;
if (file) {
  const hooks = `
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      appendFileSync(${JSON.stringify(file)}, r.url + '\\n');
      return r;
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, pathToFileURL('./'));
  const load = Module._load;
  Module._load = function (request, parent, ...rest) {
    const loaded = load.call(this, request, parent, ...rest);
    try {
      appendFileSync(file, `${Module._resolveFilename(request, parent)}\n`);
    } catch {
      // a built-in module
    }
    return loaded;
  };
}
