/**
 * Every function's bundle as deployed: its size and its module load time under Node 22 (Lambda's
 * runtime), the median of several cold processes each importing the bundle once:
 * `npm run bench:bundles [-- --runs 7]`.
 * Budget: 1.5 MB minified (MiB, 1,572,864 bytes) and 150 ms median load. A bundle over budget
 * is attributed to its driver: the packages only that function carries (those the plan
 * function, which is the engine alone, does not), the largest of them bundled alone and measured
 * the same way.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { BUNDLING, REPO_ROOT } from '../infra/bundling.js';
import { BUNDLES_DIR, functionBundles, node22, type FunctionBundle } from '../test/support/bundles.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = Math.max(arg('runs', 7), 1);
const SIZE_BUDGET = 1.5 * 1024 * 1024;
const LOAD_BUDGET_MS = 150;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const node = node22();
const CHILD = `
const t0 = performance.now();
await import(process.env.RPR_BUNDLE);
const t1 = performance.now();
// A crash after the import (an async error in module code) must fail the run, so report on exit.
process.on('exit', (code) => { if (code === 0) console.log('RPR-LOAD ' + (t1 - t0)); });
`;

type Load = { ms: number } | { error: string };

/** The median import time of a bundle over RUNS cold Node 22 processes, or why it does not load. */
async function loadTime(file: string): Promise<Load> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    try {
      const { stdout } = await promisify(execFile)(node, ['--input-type=module', '-e', CHILD], {
        cwd: REPO_ROOT,
        timeout: 30_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', RPR_BUNDLE: file },
      });
      const line = stdout.split('\n').find((l) => l.startsWith('RPR-LOAD '));
      if (!line) return { error: 'no timing printed' };
      times.push(Number(line.slice('RPR-LOAD '.length)));
    } catch (e) {
      const stderr = String((e as { stderr?: string }).stderr ?? e);
      return { error: stderr.split('\n').find((l) => /^\w*Error\b/.test(l)) ?? stderr.split('\n')[0] ?? 'failed' };
    }
  }
  return { ms: median(times) };
}

/** esbuild with the deployment's options (BUNDLING), for its metafile: which package put how many bytes in. */
async function esbuildLike(entry: { file: string } | { contents: string }, outfile?: string): Promise<Metafile> {
  const result = await build({
    ...('file' in entry ? { entryPoints: [entry.file] } : { stdin: { contents: entry.contents, resolveDir: REPO_ROOT, loader: 'ts' } }),
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLING.target ?? 'node22',
    minify: BUNDLING.minify ?? false,
    keepNames: BUNDLING.keepNames ?? false,
    mainFields: BUNDLING.mainFields ?? ['module', 'main'],
    external: [...(BUNDLING.externalModules ?? [])],
    banner: BUNDLING.banner ? { js: BUNDLING.banner } : {},
    metafile: true,
    logLevel: 'silent',
    ...(outfile ? { outfile } : { write: false, outdir: join(BUNDLES_DIR, 'metafile') }),
  });
  if (!result.metafile) throw new Error('esbuild gave no metafile');
  return result.metafile;
}

const packageOf = (path: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];

/** Bytes in the output by package (the project's own code as "(rpr)"), and the packages the project's code imports directly, by specifier. */
function byPackage(meta: Metafile) {
  const bytes = new Map<string, number>();
  const direct = new Map<string, string>(); // package -> the specifier the project imports it by
  for (const output of Object.values(meta.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = packageOf(path) ?? '(rpr)';
      bytes.set(pkg, (bytes.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  for (const [path, input] of Object.entries(meta.inputs)) {
    if (packageOf(path)) continue;
    for (const i of input.imports) {
      const pkg = packageOf(i.path);
      if (pkg && i.original && !i.external) direct.set(pkg, i.original);
    }
  }
  const sdk = new Set<string>(); // the external @aws-sdk/* modules the bundle imports (Lambda's runtime has them)
  for (const output of Object.values(meta.outputs)) for (const i of output.imports) if (i.external && i.path.startsWith('@aws-sdk/')) sdk.add(i.path);
  return { bytes, direct, sdk };
}

/** The load time of the bundle's external AWS SDK clients alone: the share of its load that is not in the bundle. */
async function sdkLoad(name: string, modules: Set<string>): Promise<Load> {
  const dir = join(BUNDLES_DIR, `sdk-${name}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'index.mjs');
  writeFileSync(file, [...modules].map((m) => `import ${JSON.stringify(m)};`).join('\n'));
  return loadTime(file);
}

const bundles = await functionBundles();
const entries = new Map(await Promise.all(bundles.map(async (b) => [b.name, byPackage(await esbuildLike({ file: b.entry }))] as const)));
const baseline = new Set(entries.get('plan')?.bytes.keys());

interface Row {
  readonly bundle: FunctionBundle;
  readonly load: Load;
  readonly sdk: Load;
  readonly over: string;
}

const rows: Row[] = [];
for (const bundle of bundles) {
  const load = await loadTime(bundle.file);
  const sdk = await sdkLoad(bundle.name, entries.get(bundle.name)!.sdk);
  const overSize = bundle.bytes > SIZE_BUDGET;
  const overLoad = 'ms' in load && load.ms > LOAD_BUDGET_MS;
  let over = '';
  if (overSize || overLoad || 'error' in load) {
    // The function's own packages, largest first; the largest the adapter imports directly is its driver.
    const { bytes, direct } = entries.get(bundle.name)!;
    const own = [...bytes].filter(([pkg]) => !baseline.has(pkg)).sort((a, b) => b[1] - a[1]);
    const driver = own.find(([pkg]) => direct.has(pkg))?.[0];
    const parts: string[] = [];
    if ('error' in load) parts.push(`does not load: ${load.error}`);
    if (overSize) parts.push(`size over by ${mb(bundle.bytes - SIZE_BUDGET)} MB`);
    if (overLoad) parts.push(`load over by ${(load.ms - LOAD_BUDGET_MS).toFixed(0)} ms`);
    if (driver) {
      const dir = join(BUNDLES_DIR, `driver-${driver.replace('/', '+')}`);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'index.mjs');
      await esbuildLike({ contents: `import ${JSON.stringify(direct.get(driver))};` }, file);
      const alone = await loadTime(file);
      const ownBytes = own.reduce((n, [, b]) => n + b, 0);
      parts.push(
        `driver \`${direct.get(driver)}\` alone: ${mb(statSync(file).size)} MB, ${'ms' in alone ? `${alone.ms.toFixed(0)} ms` : `does not load (${alone.error})`}; ` +
          `packages only this function carries: ${mb(ownBytes)} MB (${own.slice(0, 4).map(([p, b]) => `${p} ${mb(b)}`).join(', ')})`,
      );
    }
    over = parts.join('; ');
    if (overLoad && !driver) over += ' (no driver: the engine, zod and the AWS SDK clients it loads)';
  }
  rows.push({ bundle, load, sdk, over });
  process.stderr.write(`${bundle.name} done\n`);
}

process.stdout.write(`\nFunction bundles under Node 22 (${new Date().toISOString().slice(0, 10)}, node ${(await promisify(execFile)(node, ['--version'])).stdout.trim()}, median of ${RUNS} cold processes)\n\n`);
process.stdout.write(`| function | bytes | MB | median load (ms) | of which @aws-sdk (external) | budget 1.5 MB / ${LOAD_BUDGET_MS} ms | over budget: by what |\n|---|---|---|---|---|---|---|\n`);
for (const { bundle, load, sdk, over } of rows) {
  const ms = 'ms' in load ? load.ms.toFixed(0) : 'fails';
  const sdkMs = 'ms' in sdk ? sdk.ms.toFixed(0) : 'fails';
  process.stdout.write(`| ${bundle.name} | ${bundle.bytes} | ${mb(bundle.bytes)} | ${ms} | ${sdkMs} | ${over ? 'over' : 'within'} | ${over || '—'} |\n`);
}
