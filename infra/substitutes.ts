/**
 * Modules the bundles never run, replaced where one package imports them: each is a fallback
 * for an older Node or a browser, or a feature of a library the functions do not use, and each
 * costs every cold start its parse and compile time (bench/bundles.ts measures it). A
 * substitute applies only to the importer named, so every other user of the package gets it
 * whole; each entry says why the path it cuts is not taken on Lambda's Node 22.
 */
import { dirname } from 'node:path';
import type { Plugin } from 'esbuild';

interface Substitute {
  /** The specifier as the importer writes it. */
  readonly specifier: string;
  /** The importing module, matched against its resolved path. */
  readonly importer: RegExp;
  /** The module put in the original's place, resolved from the original's directory. */
  readonly contents: string;
}

export const SUBSTITUTES: readonly Substitute[] = [
  {
    // The runtime layer: `z.locales` and `z.core.locales` are namespaces of every translation
    // of zod's messages (260 kB minified, loaded by every function). Nothing here calls
    // `z.config(z.locales.…())`; zod's default English is imported by zod itself from `en.js`.
    specifier: '../locales/index.js',
    importer: /\/node_modules\/zod\/v4\/(classic\/external|core\/index)\.js$/,
    contents: "export { default as en } from './en.js';",
  },
  {
    // jsforce's node-fetch 2 takes `whatwg-url`'s URL only where Node's `url` module has none
    // (`Url.URL || whatwgUrl.URL`, Node < 10); whatwg-url brings tr46's Unicode tables and
    // Node's deprecated `punycode` (DEP0040 warning on every load).
    specifier: 'whatwg-url',
    importer: /\/node_modules\/jsforce\/node_modules\/node-fetch\/lib\/index\.m?js$/,
    contents: 'export default { URL };',
  },
  {
    // jsforce's request helper only asks whether a request body is a FormData (`instanceof`);
    // the one jsforce request the functions send (OAuth2's token request) has a string body,
    // and a class nothing constructs answers that as the real one does. form-data brings
    // mime-db's table of every MIME type.
    specifier: 'form-data',
    importer: /\/node_modules\/jsforce\/lib\/request-helper\.js$/,
    contents: 'module.exports = class FormData {};',
  },
  {
    // fetch-blob (gaxios's node-fetch 3) loads the polyfill only when `globalThis.ReadableStream`
    // is missing and `node:stream/web` fails to load, which Node 22 never does; were it reached,
    // Node's own streams are what the polyfill stands in for.
    specifier: 'web-streams-polyfill/dist/ponyfill.es2018.js',
    importer: /\/node_modules\/fetch-blob\/streams\.cjs$/,
    contents: "module.exports = require('node:stream/web');",
  },
  {
    // The Directory API's module uses only `createAPIRequest` of googleapis-common; the package's
    // index also loads AuthPlus and with it google-auth-library's every credential type (GoogleAuth,
    // Compute and its metadata server client, external accounts), none of which a JWT client needs.
    specifier: 'googleapis-common',
    importer: /\/node_modules\/@googleapis\/admin\/build\/[a-z_0-9]+\.js$/,
    contents: "module.exports = { createAPIRequest: require('./apirequest.js').createAPIRequest };",
  },
  {
    // tedious builds an @azure/identity credential only for its Azure AD authentication types
    // (azure-active-directory-*); the mssql adapter logs in with SQL logins or NTLM, never those.
    // @azure/identity brings MSAL and every Azure credential (about half of the mssql bundle).
    specifier: '@azure/identity',
    importer: /\/node_modules\/tedious\/lib\/connection\.js$/,
    contents:
      "class AzureIdentityNotBundled { constructor() { throw new Error('Azure AD authentication is not bundled: the mssql adapter logs in with SQL logins or NTLM'); } }\n" +
      'module.exports = { UsernamePasswordCredential: AzureIdentityNotBundled, ManagedIdentityCredential: AzureIdentityNotBundled, DefaultAzureCredential: AzureIdentityNotBundled, ClientSecretCredential: AzureIdentityNotBundled };',
  },
  {
    // iconv-lite's double-byte code pages (Shift JIS, GBK/GB18030, Big5, EUC-KR and their Windows
    // forms: 0.4 MB of tables, parsed at every start). Its users here decode text only in UTF-8 and
    // UTF-16: mysql2 sessions are utf8mb4 and the mysql adapter reads only mysql.user's utf8
    // columns; tedious decodes UCS-2 messages and the mssql adapter reads only int results, never
    // varchar in a CJK collation's code page. Were one asked for, iconv-lite answers "Encoding not
    // recognized" rather than misreading it.
    specifier: './dbcs-data',
    importer: /\/node_modules\/iconv-lite\/encodings\/index\.js$/,
    contents: 'module.exports = {};',
  },
];

const NAMESPACE = 'rpr-substitute';
const HTTP_BY_REQUIRE = 'rpr-http-by-require';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Puts each substitute in place of its original, for its importer alone; and gives every ES
 * module that imports `node:http` the module through require() instead. Node 22 builds an ES
 * facade of a built-in by reading each of its exports, and `node:http`'s lazy `WebSocket`,
 * `CloseEvent` and `MessageEvent` getters then load Node's bundled undici (about 20 ms of a cold
 * start) for nothing: node-fetch (gaxios's and jsforce's) and the SDK's HTTP handler use
 * http.request and agents only. require() hands over the same module object, without the facade.
 */
export function substitutes(list: readonly Substitute[] = SUBSTITUTES): Plugin {
  return {
    name: 'rpr-substitutes',
    setup(b) {
      b.onResolve({ filter: /^(node:)?http$/ }, (args) => (args.kind === 'import-statement' ? { path: 'node:http', namespace: HTTP_BY_REQUIRE } : undefined));
      b.onLoad({ filter: /.*/, namespace: HTTP_BY_REQUIRE }, () => ({ contents: "module.exports = require('node:http');", loader: 'js' }));
      const filter = new RegExp(`^(${[...new Set(list.map((s) => escape(s.specifier)))].join('|')})$`);
      b.onResolve({ filter }, async (args) => {
        if ((args.pluginData as { original?: boolean } | undefined)?.original) return undefined;
        const s = list.find((x) => x.specifier === args.path && x.importer.test(args.importer.replaceAll('\\', '/')));
        if (!s) return undefined;
        // The original's path, so that the substitute resolves its own imports from there and a
        // package that moves or disappears fails the build instead of shipping a stale shim.
        const original = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { original: true } });
        if (original.errors.length) return { errors: original.errors };
        return { path: original.path, namespace: NAMESPACE, pluginData: s };
      });
      b.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({ contents: (args.pluginData as Substitute).contents, loader: 'js', resolveDir: dirname(args.path) }));
    },
  };
}
