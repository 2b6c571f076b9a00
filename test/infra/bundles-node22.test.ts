import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/bundling.js';
import { functionFamilies } from '../../layers/workflow/families.js';
import { functionBundles, node22ForTests, type Bundles, type FunctionBundle } from '../../harness/support/bundles.js';

/** Node 22 is Lambda's runtime; outside CI a machine that cannot fetch it skips, saying why. */
const { node, unavailable } = node22ForTests();
if (unavailable) console.warn(`skipping the Node 22 bundle smoke test: ${unavailable}`);

const SECRET = `Smoke Pass-${randomBytes(6).toString('hex')}!`;
const MARK = 'RPR-SMOKE ';

interface Outcome {
  readonly name: string;
  readonly loaded: boolean;
  readonly result?: unknown;
  readonly error?: { name: string; message: string; field?: string; stack?: string; cause?: string };
}

/** The smoke events, each the first thing a function could be handed wrongly. */
function smokeEvent(bundle: FunctionBundle): unknown {
  const family = Object.values(functionFamilies()).find((f) => f.entry === bundle.entry);
  // A valid group task but for one extra field carrying a secret-looking value.
  if (family) return { runId: 'run-smoke', resourceId: 'db1', type: family.types[0], site: 'cloud', accountIds: ['db1/app'], password: SECRET };
  if (bundle.name === 'plan') return { request: { selector: { tags: ['smoke'] }, password: SECRET } };
  if (bundle.name === 'summarize') return { runId: 'run-smoke', password: SECRET };
  if (bundle.name === 'api') return apiEvent('DELETE', '/nothing', null);
  throw new Error(`no smoke event for ${bundle.name}`);
}

function apiEvent(httpMethod: string, resource: string, body: string | null) {
  return { httpMethod, resource, path: resource, body, isBase64Encoded: false, headers: {}, pathParameters: null, queryStringParameters: null, requestContext: {} };
}

/**
 * Runs in a Node 22 process of its own, as a cold Lambda container would: loads one bundle,
 * hands its handler the event, reports what came back. A crash while loading (an uncaught
 * error in module code) fails only that bundle's case.
 */
const CHILD = `
const c = JSON.parse(process.env.RPR_SMOKE_CASE);
let loaded = false;
try {
  const mod = await import(c.file);
  loaded = typeof mod.handler === 'function';
  const result = await mod.handler(c.event, {});
  console.log(${JSON.stringify(MARK)} + JSON.stringify({ name: c.name, loaded, result }));
} catch (e) {
  const error = { name: e?.name, message: e?.message, field: e?.field, stack: e?.stack, cause: e?.cause === undefined ? undefined : String(e.cause?.message ?? e.cause) };
  console.log(${JSON.stringify(MARK)} + JSON.stringify({ name: c.name, loaded, error }));
}
`;

interface SmokeCase {
  readonly name: string;
  readonly file: string;
  readonly event: unknown;
}

async function smoke(c: SmokeCase, built: Bundles): Promise<{ outcome?: Outcome; output: string }> {
  const child = await promisify(execFile)(node!, [...built.nodeArgs, '--input-type=module', '-e', CHILD], {
    cwd: REPO_ROOT,
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024, // an uncaught error prints a line of the minified bundle
    // Nothing of this process's environment (no credentials): the smoke events touch no AWS API.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...built.env, RPR_SMOKE_CASE: JSON.stringify(c) },
  }).catch((e: { stdout?: string; stderr?: string; code?: unknown }) => ({ stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}\n(exit ${String(e.code)})` }));
  const line = child.stdout.split('\n').find((l) => l.startsWith(MARK));
  return { ...(line ? { outcome: JSON.parse(line.slice(MARK.length)) as Outcome } : {}), output: child.stdout + child.stderr };
}

describe.skipIf(!node)(`every built function bundle under Node 22${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let bundles: FunctionBundle[];
  const outcomes = new Map<string, Outcome>();
  let output = '';
  const outputs = new Map<string, string>();
  /** What a bundle's process printed, without the minified source lines an uncaught error quotes. */
  const said = (name: string) =>
    (outputs.get(name) ?? '')
      .split('\n')
      .filter((l) => l.length < 400)
      .join('\n')
      .slice(-3000);

  beforeAll(async () => {
    const built = await functionBundles();
    bundles = built.functions;
    const cases = [
      ...bundles.map((b) => ({ name: b.name, file: b.file, event: smokeEvent(b) })),
      // A POST whose body smuggles a password: 400 naming the field, the value nowhere.
      { name: 'api-post', file: bundles.find((b) => b.name === 'api')!.file, event: apiEvent('POST', '/resets', JSON.stringify({ selector: { tags: ['smoke'] }, password: SECRET })) },
    ];
    for (const [c, run] of await Promise.all(cases.map(async (c) => [c, await smoke(c, built)] as const))) {
      output += run.output;
      outputs.set(c.name, run.output);
      if (run.outcome) outcomes.set(c.name, run.outcome);
    }
  }, 120_000);

  it('are one per function: each reset family, plan, summarize and api', () => {
    const expected = [...Object.values(functionFamilies()).map((f) => basename(f.entry, '.ts')), 'plan', 'summarize', 'api'];
    expect(bundles.map((b) => b.name).sort()).toEqual(expected.sort());
  });

  it.each([...Object.values(functionFamilies()).map((f) => basename(f.entry, '.ts')), 'plan', 'summarize'])('%s loads and rejects a malformed payload with InvalidConfigurationError naming the field', (name) => {
    const o = outcomes.get(name);
    expect(o?.loaded, `${name} loaded with a handler export; its Node 22 process said:\n${said(name)}`).toBe(true);
    // The class name survives minification (keepNames): it is the state machine's Retry/Catch contract.
    expect(o?.error?.name).toBe('InvalidConfigurationError');
    const field = name === 'plan' ? 'request.password' : 'password';
    expect(o?.error?.field).toBe(field);
    expect(o?.error?.message).toContain(field);
  });

  it('api loads and answers an unknown route with 404, a body smuggling a password with 400 naming the field', () => {
    const unknown = outcomes.get('api')?.result as { statusCode: number; body: string } | undefined;
    expect(outcomes.get('api')?.loaded, said('api')).toBe(true);
    expect(unknown?.statusCode).toBe(404);
    const post = outcomes.get('api-post')?.result as { statusCode: number; body: string } | undefined;
    expect(post?.statusCode).toBe(400);
    expect(JSON.parse(post!.body)).toMatchObject({ field: 'password' });
  });

  it('leak the smoke secret nowhere: not in errors, stacks, causes, responses or logs', () => {
    expect(outcomes.size).toBe(bundles.length + 1);
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain(SECRET.slice(6)); // nor its random part alone
  });
});
