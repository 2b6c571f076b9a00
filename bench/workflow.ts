/**
 * The local workflow's throughput: the state machine definition CDK synthesizes, run by the ASL
 * interpreter (aws-local-stepfunctions) with each task bound to the real handler, on a bulk run
 * of 1,000 accounts (100 resources of 10) with a fast in-process adapter and the embedded store,
 * at Map MaxConcurrency 10 and 50; and the engine alone (ResetEngine.run, as many resources at
 * once as the Map runs groups) on the same accounts, adapter and store, so the difference is the
 * workflow's: `npm run bench:workflow [-- --resources 100 --per-resource 10]`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { StateMachine } from 'aws-local-stepfunctions';
import { Configurator } from '../layers/engine/configure.js';
import { ResetEngine } from '../layers/engine/engine.js';
import { Log } from '../layers/engine/log.js';
import { Secret } from '../layers/engine/secret.js';
import { openEmbeddedStores } from '../layers/engine/stores/embedded.js';
import type { WorkflowStores } from '../layers/workflow/environment.js';
import { createResetHandler } from '../layers/workflow/handler.js';
import { createPlanStepHandler, type ItemsStore } from '../layers/workflow/plan.js';
import { createSummarizeHandler, type RunSummary } from '../layers/workflow/summarize.js';
import { functionTimeoutMs, lambdaTask, locallyRunnable, readingItems, statesOf, synthesizedDefinition } from '../harness/support/local-state-machine.js';
import { MemoryTarget } from '../harness/support/memory-target.js';
import { REGISTRY } from '../layers/resources/registry.js';
import { numberOption } from './options.js';

const RESOURCES = numberOption('resources', 100);
const PER = numberOption('per-resource', 10);
const N = RESOURCES * PER;
const CONCURRENCIES = [10, 50];

const dir = mkdtempSync(join(tmpdir(), 'rpr-wf-bench-'));
const embedded = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });
const stores: WorkflowStores = {
  state: embedded.state,
  credentials: embedded.credentials,
  describeSecret: async () => {
    throw new Error('the benchmark runs no rotation');
  },
};
const storesFactory = async () => stores;
const log = new Log({ level: 'SILENT' });
// EventBridge and CloudWatch answer at once: the figures are the workflow's, not the network's.
const accepted = { send: async () => ({ FailedEntryCount: 0, Entries: [] }) };

try {
  const target = new MemoryTarget();
  const config = new Configurator(stores.state, stores.credentials, REGISTRY);
  for (let r = 0; r < RESOURCES; r++) {
    const id = `db${r}`;
    // The in-process target keys passwords by user name: names are unique across resources.
    await config.putResource({ id, type: 'postgresql', host: `${id}.example`, adminAccount: `${id}/${id}-admin`, tags: ['wfbench'] });
    await config.putAccount({ resourceId: id, username: `${id}-admin`, secretId: `wfbench/${id}/admin` }, { password: new Secret(`admin-${r}-start`) });
    await Promise.all(
      Array.from({ length: PER - 1 }, (_, i) => {
        const username = `${id}-u${i}`;
        target.passwords.set(username, `${username}-start`);
        return config.putAccount({ resourceId: id, username, secretId: `wfbench/${id}/u${i}` }, { password: new Secret(`${username}-start`) });
      }),
    );
  }
  const adapters = { postgresql: target.adapter('postgresql') };

  // The engine alone, with as many resources at once as the Map runs groups: the same accounts, adapter and store.
  const engineAlone = async (concurrency: number) => {
    const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters, log, concurrency });
    const t0 = performance.now();
    const run = await engine.run({ tags: ['wfbench'] });
    const ms = performance.now() - t0;
    if (run.counts.total !== N || run.status !== 'succeeded') throw new Error(`engine run ${run.status}: ${JSON.stringify(run.counts)}`);
    return ms;
  };

  // The workflow: the synthesized definition with the handlers the deployed tasks invoke.
  const definition = synthesizedDefinition();
  // The plan step writes each run's groups where the Map's item reader reads them: here, memory.
  const written = new Map<string, unknown[]>();
  const items: ItemsStore = {
    put: async (runId, groups) => {
      written.set(runId, [...groups]);
      return { bucket: 'memory', key: runId };
    },
  };
  const plan = readingItems(createPlanStepHandler({ stores: storesFactory, log, items }), async (at) => written.get(at.key)!);
  const reset = createResetHandler({ adapters, stores: storesFactory, log });
  const summarize = createSummarizeHandler({ stores: storesFactory, log, events: accepted as unknown as EventBridgeClient, metrics: accepted as unknown as CloudWatchClient });
  const handlers: Record<string, (input: never) => Promise<unknown>> = {};
  for (const [name, state] of statesOf(definition)) {
    if (state.Type !== 'Task') continue;
    if (name === 'Plan') handlers[name] = lambdaTask(plan, functionTimeoutMs(state));
    else if (name === 'Summarize') handlers[name] = lambdaTask(summarize, functionTimeoutMs(state));
    else if (name.startsWith('Reset ')) handlers[name] = lambdaTask(reset, functionTimeoutMs(state));
    else throw new Error(`no local handler for task state "${name}"`);
  }

  const rows: { concurrency: number; engineMs: number; ms: number }[] = [];
  for (const concurrency of CONCURRENCIES) {
    const engineMs = await engineAlone(concurrency);
    const name = `wfbench-${concurrency}-${randomBytes(3).toString('hex')}`;
    const request = { selector: { tags: ['wfbench'] }, idempotencyKey: name };
    const machine = new StateMachine(locallyRunnable(definition, concurrency) as never, { validationOptions: { checkPaths: false, checkArn: false } });
    const t1 = performance.now();
    const execution = machine.run(request as never, {
      overrides: { taskResourceLocalHandlers: handlers as never },
      context: { Execution: { Name: name, Input: request, StartTime: new Date().toISOString() } } as never,
    });
    const output = (await execution.result) as unknown as RunSummary;
    const ms = performance.now() - t1;
    const run = await stores.state.getRun(output.runId);
    if (run?.counts.total !== N || run.status !== 'succeeded') throw new Error(`workflow run ${run?.status}: ${JSON.stringify(run?.counts)}`);
    rows.push({ concurrency, engineMs, ms });
  }

  const perAccount = (ms: number) => ms / N;
  const perSecond = (ms: number) => (N / (ms / 1000)).toFixed(0);
  process.stdout.write(
    `\nThe local workflow (${new Date().toISOString().slice(0, 10)}, Node ${process.version}): ${N} accounts (${RESOURCES} resources × ${PER}), in-process adapter, embedded store\n\n`,
  );
  process.stdout.write(
    '| Map MaxConcurrency (engine: resources at once) | workflow wall time | workflow accounts/s | engine alone wall time | engine alone accounts/s | workflow overhead ms/account |\n|---|---|---|---|---|---|\n',
  );
  for (const { concurrency, engineMs, ms } of rows) {
    process.stdout.write(
      `| ${concurrency} | ${(ms / 1000).toFixed(1)} s | ${perSecond(ms)} | ${(engineMs / 1000).toFixed(1)} s | ${perSecond(engineMs)} | ${(perAccount(ms) - perAccount(engineMs)).toFixed(2)} |\n`,
    );
  }
} finally {
  await embedded.close();
  rmSync(dir, { recursive: true, force: true });
}
