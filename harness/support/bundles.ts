import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { REPO_ROOT, RuntimeLayer } from '../../infra/bundling.js';
import { entryOf } from '../../infra/reset-functions.js';
import { RprStack } from '../../infra/rpr-stack.js';

/** harness/support/opt-mount.mjs: preloaded into a Node 22 process, it resolves /opt/... under RPR_OPT_ROOT. */
export const OPT_MOUNT = fileURLToPath(new URL('./opt-mount.mjs', import.meta.url));

export interface FunctionBundle {
  /** The function, named by its entry: `reset-unix`, `reset-postgresql`, `reset-mysql`, `plan`, `summarize`, `api`. */
  readonly name: string;
  /** The entry file, relative to the repository root. */
  readonly entry: string;
  /** `<dir>/<name>/index.mjs`: the function's bundle exactly as deployed, loadable with its `handler` export. */
  readonly file: string;
  readonly bytes: number;
}

export interface Bundles {
  readonly functions: FunctionBundle[];
  /** The directory standing for /opt: the runtime layer's files are under `<optRoot>/rpr/`. */
  readonly optRoot: string;
  /** The whole runtime layer's size. */
  readonly layerBytes: number;
  /** The node arguments and environment that load a bundle as Lambda would, with the layer at /opt. */
  readonly nodeArgs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

let built: Promise<Bundles> | undefined;

/**
 * The real function bundles and runtime layer, built the way the deployment builds them: the
 * stack synthesized with bundling on, each function's and the layer's code asset read from the
 * cloud assembly and copied to a temporary directory outside the repository (so nothing
 * resolves from its node_modules). The types of one family share an entry and so a bundle
 * (`reset-unix` serves every Unix type). Built once per process.
 */
export function functionBundles(): Promise<Bundles> {
  built ??= Promise.resolve().then(build);
  return built;
}

const sizeOf = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? sizeOf(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);

function build(): Bundles {
  const outdir = mkdtempSync(join(tmpdir(), 'rpr-synth-'));
  const root = mkdtempSync(join(tmpdir(), 'rpr-bundles-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  try {
    const app = new App({ outdir });
    const stack = new RprStack(app, 'bundles');
    const functions = new Map<string, LambdaFunction>();
    for (const [type, fn] of stack.resetFunctions.functions) {
      const entry = entryOf(type);
      if (!functions.has(entry)) functions.set(entry, fn);
    }
    functions.set('functions/plan.ts', stack.workflow.plan);
    functions.set('functions/summarize.ts', stack.workflow.summarize);
    functions.set('functions/api.ts', stack.api.handler);
    app.synth();

    const assetDir = (construct: Construct) => join(outdir, (construct.node.findChild('Code') as Asset).assetPath);
    const optRoot = join(root, 'opt');
    cpSync(assetDir(RuntimeLayer.of(stack).layer), optRoot, { recursive: true });
    const bundles = [...functions].map(([entry, fn]) => {
      const name = basename(entry, '.ts');
      const dir = join(root, 'task', name);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'index.mjs');
      copyFileSync(join(assetDir(fn), 'index.mjs'), file);
      return { name, entry, file, bytes: statSync(file).size };
    });
    return { functions: bundles, optRoot, layerBytes: sizeOf(optRoot), nodeArgs: ['--import', OPT_MOUNT], env: { RPR_OPT_ROOT: optRoot } };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The Node.js 22 executable (Lambda's nodejs22.x runtime), fetched once by `npx -y node@22`;
 * spawning it directly spares npx's start-up in every cold process. Throws with npx's reason
 * when it cannot be had (no network, no cache).
 */
export function node22(): string {
  const path = execFileSync('npx', ['-y', 'node@22', '-p', 'process.execPath'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }).trim();
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v22.')) throw new Error(`npx -y node@22 gave ${version}`);
  return path;
}

/**
 * Node 22 for a test: in CI it must be had (node22 throws there); elsewhere a machine that
 * cannot fetch it gets `unavailable`, saying why, for the test to skip with.
 */
export function node22ForTests(): { readonly node?: string; readonly unavailable: string } {
  try {
    return { node: node22(), unavailable: '' };
  } catch (e) {
    if (process.env.CI === 'true') throw e;
    return { unavailable: `node@22 cannot be had here (${e instanceof Error ? e.message.split('\n')[0] : String(e)})` };
  }
}
