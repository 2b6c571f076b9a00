import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { REPO_ROOT } from '../../infra/bundling.js';
import { entryOf } from '../../infra/reset-functions.js';
import { RprStack } from '../../infra/rpr-stack.js';

/**
 * Where built bundles are put to be loaded outside Lambda: inside the repository (gitignored),
 * so that `@aws-sdk/*`, external in every bundle because the Lambda runtime provides it,
 * resolves from the repository's node_modules.
 */
export const BUNDLES_DIR = join(REPO_ROOT, '.bundles');

export interface FunctionBundle {
  /** The function, named by its entry: `reset-unix`, `reset-postgresql`, `reset-mysql`, `plan`, `summarize`, `api`. */
  readonly name: string;
  /** The entry file, relative to the repository root. */
  readonly entry: string;
  /** `.bundles/<name>/index.mjs`: the bundle exactly as deployed, loadable with its `handler` export. */
  readonly file: string;
  readonly bytes: number;
}

let built: Promise<FunctionBundle[]> | undefined;

/**
 * The real function bundles, built the way the deployment builds them: the stack synthesized
 * with bundling on (each NodejsFunction's esbuild run with BUNDLING), each function's code asset
 * read from the cloud assembly and copied to `.bundles/<name>/index.mjs`. The types of one
 * family share an entry and so a bundle (`reset-unix` serves every Unix type). Built once per process.
 */
export function functionBundles(): Promise<FunctionBundle[]> {
  built ??= Promise.resolve().then(build);
  return built;
}

function build(): FunctionBundle[] {
  const outdir = mkdtempSync(join(tmpdir(), 'rpr-bundles-'));
  try {
    const app = new App({ outdir });
    const stack = new RprStack(app, 'bundles');
    const functions = new Map<string, NodejsFunction>();
    for (const [type, fn] of stack.resetFunctions.functions) {
      const entry = entryOf(type);
      if (!functions.has(entry)) functions.set(entry, fn);
    }
    functions.set('functions/plan.ts', stack.workflow.plan);
    functions.set('functions/summarize.ts', stack.workflow.summarize);
    functions.set('functions/api.ts', stack.api.handler);
    app.synth();

    return [...functions].map(([entry, fn]) => {
      const name = basename(entry, '.ts');
      const asset = fn.node.findChild('Code') as Asset;
      const dir = join(BUNDLES_DIR, name);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'index.mjs');
      copyFileSync(join(outdir, asset.assetPath, 'index.mjs'), file);
      return { name, entry, file, bytes: statSync(file).size };
    });
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
