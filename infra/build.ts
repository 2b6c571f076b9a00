/**
 * How the functions and their shared runtime layer are built (esbuild, on this machine).
 *
 * The runtime layer holds the engine, the workflow handlers, the resource schemas and the
 * packages they use (the AWS SDK clients, zod, Powertools); Lambda extracts it to
 * `/opt/rpr/`. A function's own bundle holds only its entry, its adapter and its driver: every
 * import of a runtime module from the function's code is rewritten to the module's absolute
 * path in the layer, so the engine's classes exist once per process and `instanceof` holds
 * between the adapter's errors and the engine's checks.
 *
 * Which modules are the runtime's is computed, not listed: the modules under `layers/engine/`
 * and `layers/workflow/` that some function reaches, and every project module they import. The
 * layer's entry points are the runtime modules the functions' own code imports (stable names
 * under `/opt/rpr/`); the rest is split into shared chunks.
 *
 * CDK's local bundling is synchronous and esbuild's plugins need its asynchronous API, so the
 * stack runs this file as a child process: `node --import tsx infra/build.ts layer OUTDIR` or
 * `... function ENTRY OUTDIR`, each with the runtime's modules from a file `... runtime OUTFILE`
 * wrote once for the synth (they come from a pass over every entry, the same for every build).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { substitutes } from './substitutes.js';

/** The repository root: function entries are relative to it. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where Lambda puts the layer's files (layers are extracted to /opt). */
export const LAYER_MOUNT = '/opt/rpr';

/** Every function's entry: each file of `functions/` exports `handler`. */
export function functionEntries(): string[] {
  return readdirSync(join(REPO_ROOT, 'functions'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `functions/${f}`)
    .sort();
}

/**
 * The esbuild options every build shares: minified ESM for Node.js 22. Error class names are
 * the state machine's Retry/Catch contract (TargetTimeoutError, …), so names are kept. CommonJS
 * packages (ssh2, pg, mysql2, the SDK's dependencies) call require() for Node built-ins and
 * ssh2 reads __dirname: the banner defines them in every output file. ssh2's optional native
 * pieces (`cpu-features`, `sshcrypto.node`) are left out (it falls back to its JavaScript
 * crypto); `pg-native` is an optional peer of pg that is never used. Fallbacks and features
 * no function runs are cut where a package imports them (infra/substitutes.ts).
 */
export const ESBUILD_OPTIONS = {
  absWorkingDir: REPO_ROOT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  keepNames: true,
  mainFields: ['module', 'main'],
  external: ['cpu-features', '*.node', 'pg-native'],
  plugins: [substitutes()],
  banner: {
    js:
      "import { createRequire as __rprCreateRequire } from 'node:module'; import { fileURLToPath as __rprFileURLToPath } from 'node:url'; import { dirname as __rprDirname } from 'node:path'; " +
      'const require = __rprCreateRequire(import.meta.url); const __filename = __rprFileURLToPath(import.meta.url); const __dirname = __rprDirname(__filename);',
  },
  // Errors reach the caller in the thrown error's message; nothing else is worth printing.
  logLevel: 'silent',
} as const satisfies BuildOptions;

export interface RuntimeModules {
  /** Every project module (relative path) that belongs to the layer. */
  readonly modules: ReadonlySet<string>;
  /** Those the functions' own code imports: the layer's entry points. */
  readonly entries: readonly string[];
  /** The packages the layer bundles; function code importing one of these directly would hold a second copy. */
  readonly packages: ReadonlySet<string>;
}

const RUNTIME_DIRS = ['layers/engine/', 'layers/workflow/'];
const isProjectModule = (path: string) => path.startsWith('layers/') && path.endsWith('.ts');
/** The package a resolved path belongs to, or undefined for the project's own files. */
export const packageOf = (path: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
/** The layer path of a runtime module: `layers/engine/errors.ts` → `engine/errors`. */
const layerName = (module: string) => module.slice('layers/'.length, -'.ts'.length);

/** Which modules are the runtime's, from one esbuild pass over every function entry (nothing written). */
export async function runtimeModules(entries: readonly string[] = functionEntries()): Promise<RuntimeModules> {
  const { metafile } = await build({ ...ESBUILD_OPTIONS, entryPoints: [...entries], outdir: 'out', write: false, metafile: true });
  const imports = (path: string) => (metafile.inputs[path]?.imports ?? []).filter((i) => !i.external).map((i) => i.path);
  // The descriptors load their adapters on first use: those edges keep the drivers out of the layer.
  const staticImports = (path: string) => (metafile.inputs[path]?.imports ?? []).filter((i) => !i.external && i.kind !== 'dynamic-import').map((i) => i.path);

  const reachable = closure(entries, imports);
  const modules = closure([...reachable].filter((p) => RUNTIME_DIRS.some((d) => p.startsWith(d))), (p) => staticImports(p).filter(isProjectModule));
  const functionSide = [...reachable].filter((p) => !modules.has(p) && !packageOf(p));
  const layerEntries = new Set(functionSide.flatMap((p) => imports(p).filter((i) => modules.has(i))));
  const packages = new Set([...closure([...modules], staticImports)].map(packageOf).filter((p): p is string => p !== undefined));
  return { modules, entries: [...layerEntries].sort(), packages };
}

function closure(roots: Iterable<string>, next: (path: string) => string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const path = stack.pop()!;
    if (seen.has(path)) continue;
    seen.add(path);
    stack.push(...next(path));
  }
  return seen;
}

/** The layer: `OUTDIR/rpr/<module>.mjs` for each entry, `OUTDIR/rpr/chunks/` for what they share. */
export async function buildLayer(outdir: string, runtime?: RuntimeModules): Promise<Metafile> {
  const r = runtime ?? (await runtimeModules());
  const { metafile } = await build({
    ...ESBUILD_OPTIONS,
    entryPoints: r.entries.map((m) => ({ in: m, out: layerName(m) })),
    outdir: join(outdir, 'rpr'),
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [...ESBUILD_OPTIONS.plugins, noAdapters()],
    metafile: true,
  });
  return metafile;
}

/**
 * In the layer, a descriptor's `import('./adapter.js')` resolves to a module that fails when
 * loaded: each function carries its own family's adapters (its entry's `adapters`) and never
 * asks the registry for one, and no driver is bundled twice.
 */
function noAdapters(): Plugin {
  return {
    name: 'rpr-no-adapters-in-layer',
    setup(b) {
      b.onResolve({ filter: /\/adapter\.js$/ }, (args) => (args.kind === 'dynamic-import' ? { path: relative(REPO_ROOT, resolve(args.resolveDir, args.path)), namespace: 'rpr-absent' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'rpr-absent' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path} is not in the runtime layer: a function resets only the types of its own family`)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * One function: `OUTDIR/index.mjs`, its imports of runtime modules pointing into the layer.
 * Fails when the function's own code imports a package the layer bundles.
 */
export async function buildFunction(entry: string, outdir: string, runtime?: RuntimeModules): Promise<Metafile> {
  const r = runtime ?? (await runtimeModules());
  const { metafile } = await build({
    ...ESBUILD_OPTIONS,
    entryPoints: [entry],
    outfile: join(outdir, 'index.mjs'),
    plugins: [...ESBUILD_OPTIONS.plugins, toLayer(r)],
    metafile: true,
  });
  return metafile;
}

/** Rewrites imports of runtime modules to their files under /opt/rpr, and refuses second copies of the layer's packages. */
function toLayer(r: RuntimeModules): Plugin {
  const entries = new Set(r.entries);
  return {
    name: 'rpr-runtime-layer',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.importer.includes(`${sep}node_modules${sep}`)) return undefined;
        const module = relative(REPO_ROOT, resolve(args.resolveDir, args.path)).split(sep).join('/').replace(/\.js$/, '.ts');
        if (!r.modules.has(module)) return undefined;
        if (!entries.has(module)) return { errors: [{ text: `${module} is a runtime module but not one of the layer's entries (runtimeModules out of date)` }] };
        return { path: `${LAYER_MOUNT}/${layerName(module)}.mjs`, external: true };
      });
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || args.importer.includes(`${sep}node_modules${sep}`)) return undefined;
        const pkg = packageOf(`node_modules/${args.path}`);
        if (pkg && r.packages.has(pkg)) {
          return { errors: [{ text: `${relative(REPO_ROOT, args.importer)} imports "${args.path}", which the runtime layer also bundles: import it through a runtime module so that one copy exists` }] };
        }
        return undefined;
      });
    },
  };
}

/** RuntimeModules as a file carries them from one build process to the next (infra/bundling.ts). */
export function writeRuntimeModules(file: string, r: RuntimeModules): void {
  writeFileSync(file, JSON.stringify({ modules: [...r.modules], entries: r.entries, packages: [...r.packages] }));
}

export function readRuntimeModules(file: string): RuntimeModules {
  const j = JSON.parse(readFileSync(file, 'utf8')) as { modules: string[]; entries: string[]; packages: string[] };
  return { modules: new Set(j.modules), entries: j.entries, packages: new Set(j.packages) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [what, a, b, c] = process.argv.slice(2);
  if (what === 'runtime' && a) writeRuntimeModules(a, await runtimeModules());
  else if (what === 'layer' && a) await buildLayer(a, b ? readRuntimeModules(b) : undefined);
  else if (what === 'function' && a && b) await buildFunction(a, b, c ? readRuntimeModules(c) : undefined);
  else throw new Error('usage: build.ts runtime OUTFILE | build.ts layer OUTDIR [RUNTIME_FILE] | build.ts function ENTRY OUTDIR [RUNTIME_FILE]');
}
