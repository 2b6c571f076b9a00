/**
 * What the libraries cost before any of the product's code runs: each package a reset function
 * loads at start, bundled alone whole with the deployment's options, and the sets of them each
 * function needs, imported in cold Node 22 processes (median of `--runs`, default 7):
 * `npm run bench:load-floor`. Read beside `npm run bench:bundles`: a function cannot load faster
 * than its libraries. zod and the drivers load whole in a function too (zod's `z` namespace and
 * CommonJS drivers are not tree-shaken); the SDK clients are tree-shaken there, so their figure
 * here is an upper bound.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { ESBUILD_OPTIONS, REPO_ROOT } from '../infra/build.js';
import { node22 } from '../harness/support/bundles.js';
import { median, numberOption } from './options.js';

const RUNS = Math.max(numberOption('runs', 7), 1);
const SDK = ['@aws-sdk/client-secrets-manager', '@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-eventbridge'];
const RUNTIME = ['zod', ...SDK, '@aws-lambda-powertools/logger'];
const SETS: Record<string, string[]> = {
  zod: ['zod'],
  'the SDK clients of a reset (Secrets Manager, DynamoDB, EventBridge)': SDK,
  '@aws-lambda-powertools/logger': ['@aws-lambda-powertools/logger'],
  'every reset function: zod, the SDK clients, the logger': RUNTIME,
  'reset-mssql: those and tedious': [...RUNTIME, 'tedious'],
  'reset-mysql: those and mysql2': [...RUNTIME, 'mysql2/promise'],
  'reset-oracle: those and oracledb': [...RUNTIME, 'oracledb'],
  'reset-unix: those and ssh2': [...RUNTIME, 'ssh2'],
};

const node = node22();
const scratch = mkdtempSync(join(tmpdir(), 'rpr-bench-floor-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
const CHILD = `const t0 = performance.now(); await import(process.env.RPR_BUNDLE); console.log('RPR-LOAD ' + (performance.now() - t0));`;

process.stdout.write(`\nLibraries alone under Node 22 (${new Date().toISOString().slice(0, 10)}, median of ${RUNS} cold processes)\n\n| libraries | bundle MB | median load (ms) | range |\n|---|---|---|---|\n`);
for (const [name, packages] of Object.entries(SETS)) {
  const outfile = join(scratch, `${name.replace(/\W+/g, '-')}.mjs`);
  // Each package's whole namespace kept, so nothing is shaken away that a function might use.
  const contents = packages.map((p, i) => `import * as m${i} from ${JSON.stringify(p)}; globalThis.__m${i} = m${i};`).join('\n');
  await build({ ...ESBUILD_OPTIONS, stdin: { contents, resolveDir: REPO_ROOT, loader: 'js' }, outfile, logLevel: 'silent' });
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { stdout } = await promisify(execFile)(node, ['--input-type=module', '-e', CHILD], {
      cwd: scratch,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', RPR_BUNDLE: outfile },
    });
    times.push(Number(stdout.split('RPR-LOAD ')[1]));
  }
  const s = [...times].sort((a, b) => a - b);
  process.stdout.write(`| ${name} | ${(statSync(outfile).size / 1024 / 1024).toFixed(2)} | ${median(times).toFixed(0)} | ${s[0]!.toFixed(0)}–${s.at(-1)!.toFixed(0)} |\n`);
}
