/**
 * Every function as deployed: its own bundle's size, the share of the runtime layer it loads at
 * start, and its module load time under Node 22 (Lambda's runtime) with the layer where Lambda
 * puts it, the median of several cold processes each importing the bundle once:
 * `npm run bench:bundles [-- --runs 7]`.
 * Budget: 1.5 MB minified (MiB, 1,572,864 bytes) for a function's bundle and 150 ms median load.
 * A bundle over budget is attributed to its driver: the largest package the function's own code
 * imports, bundled alone and measured the same way.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { buildFunction, ESBUILD_OPTIONS, LAYER_MOUNT, packageOf, REPO_ROOT, runtimeModules } from '../infra/build.js';
import { functionBundles, node22, type Bundles } from '../harness/support/bundles.js';
import { numberOption } from './options.js';

const RUNS = Math.max(numberOption('runs', 7), 1);
const SIZE_BUDGET = 1.5 * 1024 * 1024;
const LOAD_BUDGET_MS = 150;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const node = node22();
const built = await functionBundles();
const scratch = mkdtempSync(join(tmpdir(), 'rpr-bench-bundles-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));

const CHILD = `
const t0 = performance.now();
await import(process.env.RPR_BUNDLE);
const t1 = performance.now();
// A crash after the import (an async error in module code) must fail the run, so report on exit.
process.on('exit', (code) => { if (code === 0) console.log('RPR-LOAD ' + (t1 - t0)); });
`;

type Load = { ms: number } | { error: string };

/** The median import time of a bundle over RUNS cold Node 22 processes with the layer mounted, or why it does not load. */
async function loadTime(file: string, b: Bundles): Promise<Load> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    try {
      const { stdout } = await promisify(execFile)(node, [...b.nodeArgs, '--input-type=module', '-e', CHILD], {
        cwd: scratch,
        timeout: 30_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...b.env, RPR_BUNDLE: file },
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

/** The layer files a bundle loads at start: its static imports into /opt/rpr, followed through the layer's own static imports (dynamic ones load later, if ever). */
function layerFilesLoaded(file: string, b: Bundles): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string, isLayer: boolean) => {
    for (const [, spec] of readFileSync(f, 'utf8').matchAll(/(?:\bfrom|\bimport)\s*"([^"]+\.mjs)"/g)) {
      const target = spec!.startsWith(`${LAYER_MOUNT}/`) ? join(b.optRoot, spec!.slice('/opt'.length)) : isLayer && spec!.startsWith('.') ? resolve(dirname(f), spec!) : undefined;
      if (target && !seen.has(target)) {
        seen.add(target);
        visit(target, true);
      }
    }
  };
  visit(file, false);
  return seen;
}

/** A package alone, bundled with the deployment's options. */
async function packageAlone(specifier: string): Promise<string> {
  const outfile = join(scratch, `driver-${specifier.replace(/\W/g, '+')}`, 'index.mjs');
  await build({ ...ESBUILD_OPTIONS, stdin: { contents: `import ${JSON.stringify(specifier)};`, resolveDir: REPO_ROOT, loader: 'ts' }, outfile, logLevel: 'silent' });
  return outfile;
}

/** The packages the function's own code imports directly, by the specifier it uses, with the bytes each put in the bundle. */
function ownPackages(meta: Metafile): { pkg: string; specifier: string; bytes: number }[] {
  const bytes = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = packageOf(path);
      if (pkg) bytes.set(pkg, (bytes.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  const direct = new Map<string, string>();
  for (const [path, input] of Object.entries(meta.inputs)) {
    if (packageOf(path)) continue;
    for (const i of input.imports) {
      const pkg = packageOf(i.path);
      if (pkg && i.original && !i.external) direct.set(pkg, i.original);
    }
  }
  return [...direct].map(([pkg, specifier]) => ({ pkg, specifier, bytes: bytes.get(pkg) ?? 0 })).sort((a, b) => b.bytes - a.bytes);
}

const runtime = await runtimeModules();
const rows: string[] = [];
for (const bundle of built.functions) {
  const load = await loadTime(bundle.file, built);
  const layerFiles = layerFilesLoaded(bundle.file, built);
  const layerBytes = [...layerFiles].reduce((n, f) => n + statSync(f).size, 0);
  const overSize = bundle.bytes > SIZE_BUDGET;
  const overLoad = 'ms' in load && load.ms > LOAD_BUDGET_MS;
  const parts: string[] = [];
  if ('error' in load) parts.push(`does not load: ${load.error}`);
  if (overSize) parts.push(`size over by ${mb(bundle.bytes - SIZE_BUDGET)} MB`);
  if (overLoad) parts.push(`load over by ${(load.ms - LOAD_BUDGET_MS).toFixed(0)} ms`);
  if (parts.length) {
    const own = ownPackages(await buildFunction(bundle.entry, join(scratch, bundle.name), runtime));
    const driver = own[0];
    if (driver) {
      const file = await packageAlone(driver.specifier);
      const alone = await loadTime(file, built);
      parts.push(`driver \`${driver.specifier}\` alone: ${mb(statSync(file).size)} MB, ${'ms' in alone ? `${alone.ms.toFixed(0)} ms` : `does not load (${alone.error})`}`);
    } else parts.push('no driver: the runtime layer itself');
  }
  const ms = 'ms' in load ? load.ms.toFixed(0) : 'fails';
  rows.push(`| ${bundle.name} | ${bundle.bytes} | ${mb(bundle.bytes)} | ${mb(layerBytes)} (${layerFiles.size} files) | ${ms} | ${parts.length ? 'over' : 'within'} | ${parts.join('; ') || '—'} |`);
  process.stderr.write(`${bundle.name} done\n`);
}

const version = (await promisify(execFile)(node, ['--version'])).stdout.trim();
process.stdout.write(`\nFunctions under Node 22 (${new Date().toISOString().slice(0, 10)}, node ${version}, median of ${RUNS} cold processes)\n`);
process.stdout.write(`runtime layer: ${mb(built.layerBytes)} MB (${built.layerBytes} bytes), ${runtime.entries.length} entry modules\n\n`);
process.stdout.write(`| function | bundle bytes | bundle MB | runtime layer loaded at start, MB | median load (ms) | budget 1.5 MB / ${LOAD_BUDGET_MS} ms | over budget: by what |\n|---|---|---|---|---|---|---|\n`);
process.stdout.write(`${rows.join('\n')}\n`);
