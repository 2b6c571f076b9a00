import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import type { WorkflowStores } from '../../../layers/workflow/environment.js';
import { createResetHandler } from '../../../layers/workflow/handler.js';
import { DETAIL_TYPES, OUT_OF_SYNC_METRIC } from '../../../layers/workflow/outcome-events.js';
import { createPlanHandler } from '../../../layers/workflow/plan.js';
import { createSummarizeHandler } from '../../../layers/workflow/summarize.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const log = new Log({ level: 'SILENT' });
const USERS = ['admin', 'alice', 'bob', 'carol'];

/**
 * A scheduled or API verify run through the workflow's own steps (plan → the reset function's
 * group task → summarize) on the embedded stores with an in-process target: it reports like a
 * reset run (run record, per-account results, events, the out-of-sync metric) and changes nothing.
 */
describe('mode "verify" through plan, group task and summarize', () => {
  let stores: EmbeddedStores;
  let target: MemoryTarget;
  let workflowStores: WorkflowStores;
  const published: { constructor: { name: string }; input: Record<string, unknown> }[] = [];
  const publishing = { send: async (command: unknown) => (published.push(command as (typeof published)[number]), {}) } as never;

  beforeEach(async () => {
    stores = await openMemoryStores();
    target = new MemoryTarget();
    target.adminPassword = 'admin-start-pw';
    workflowStores = { state: stores.state, credentials: stores.credentials, describeSecret: async (name) => ({ arn: name, name }) };
    published.length = 0;
    const config = new Configurator(stores.state, stores.credentials, REGISTRY);
    await config.putResource({ id: 'db1', type: 'postgresql', host: 'db1.example', adminAccount: 'db1/admin' });
    for (const u of USERS) {
      target.passwords.set(u, `${u}-start-pw`);
      await config.putAccount({ resourceId: 'db1', username: u, secretId: `s/${u}` }, { password: new Secret(`${u}-start-pw`) });
    }
  });
  afterEach(async () => stores.close());

  async function versions() {
    return Promise.all(USERS.map(async (u) => (await stores.credentials.listVersions(`s/${u}`)).map((v) => `${v.versionId}:${[...v.stages].sort().join(',')}`)));
  }

  async function workflow(request: Record<string, unknown>) {
    const plan = await createPlanHandler({ stores: async () => workflowStores, log })({ request, executionName: 'verify-1' });
    const handler = createResetHandler({ adapters: { postgresql: target.adapter('postgresql') }, stores: async () => workflowStores, log });
    const groups = [];
    for (const task of plan.groups) groups.push(await handler(task));
    const summary = await createSummarizeHandler({ stores: async () => workflowStores, events: publishing, metrics: publishing, eventBusName: 'rpr-bus', log })({ runId: plan.runId });
    return { plan, groups, summary };
  }

  it('the plan carries the mode to every task; the tasks verify; summarize reports in-sync, drifted and out-of-sync with the same event and metric path as a reset', async () => {
    // bob was changed by hand (no version rpr holds works); carol holds a pending version that was never promoted.
    target.passwords.set('bob', 'set-by-hand');
    await stores.credentials.putPending('s/carol', 'c0ffee00-0000-4000-8000-000000000001', new Secret('carol-pending-pw'));
    target.passwords.set('carol', 'carol-pending-pw');
    const before = await versions();

    const { plan, groups, summary } = await workflow({ selector: { resourceIds: ['db1'] }, mode: 'verify', requestedBy: 'schedule/rpr/nightly' });

    expect(plan.groups.map((g) => g.mode)).toEqual(['verify']);
    expect(groups[0]!.results.map((r) => [r.accountId, r.outcome]).sort()).toEqual([
      ['db1/admin', 'in-sync'],
      ['db1/alice', 'in-sync'],
      ['db1/bob', 'drifted'],
      ['db1/carol', 'out-of-sync'],
    ]);
    expect(groups[0]!.results.find((r) => r.accountId === 'db1/carol')).toMatchObject({ workingVersion: 'pending' });
    expect(summary).toMatchObject({ runId: 'run-verify-1', mode: 'verify', status: 'partial', counts: { total: 4, 'in-sync': 2, drifted: 1, 'out-of-sync': 1 } });
    expect(await stores.state.getRun('run-verify-1')).toMatchObject({ mode: 'verify', status: 'partial' });

    // Nothing changed: no change sent, every version and label as before.
    expect(target.changes).toBe(0);
    expect(await versions()).toEqual(before);

    // The events: drifted and out-of-sync take the out-of-sync event (which the reset path's consumers watch), in sync its own; all say mode verify.
    const entries = published.filter((c) => c.constructor.name === 'PutEventsCommand').flatMap((c) => c.input.Entries as { DetailType: string; Detail: string }[]);
    const byAccount = Object.fromEntries(entries.map((e) => [(JSON.parse(e.Detail) as { accountId: string }).accountId, { type: e.DetailType, detail: JSON.parse(e.Detail) as Record<string, unknown> }]));
    expect(byAccount['db1/alice']!.type).toBe(DETAIL_TYPES.inSync);
    expect(byAccount['db1/bob']).toMatchObject({ type: DETAIL_TYPES.outOfSync, detail: { outcome: 'drifted', mode: 'verify', workingVersion: 'none' } });
    expect(byAccount['db1/carol']).toMatchObject({ type: DETAIL_TYPES.outOfSync, detail: { outcome: 'out-of-sync', mode: 'verify', workingVersion: 'pending' } });
    expect(entries.map((e) => e.DetailType)).not.toContain(DETAIL_TYPES.succeeded);
    const metric = published.find((c) => c.constructor.name === 'PutMetricDataCommand')!;
    expect(metric.input).toMatchObject({ MetricData: [{ MetricName: OUT_OF_SYNC_METRIC, Value: 2 }] });
  });

  it('a verify run of accounts all in sync succeeds and sends an out-of-sync metric of 0', async () => {
    const { summary } = await workflow({ selector: { accountIds: ['db1/alice'] }, mode: 'verify' });
    expect(summary).toMatchObject({ status: 'succeeded', counts: { total: 1, 'in-sync': 1 } });
    expect(published.find((c) => c.constructor.name === 'PutMetricDataCommand')!.input).toMatchObject({ MetricData: [{ Value: 0 }] });
    expect(target.changes).toBe(0);
  });

  it('a request with an unknown mode is refused naming the field; a repeated execution name with another mode is refused too', async () => {
    const plan = createPlanHandler({ stores: async () => workflowStores, log });
    await expect(plan({ request: { selector: { resourceIds: ['db1'] }, mode: 'rotate' }, executionName: 'x1' })).rejects.toMatchObject({ name: 'InvalidConfigurationError', field: 'request.mode' });
    await plan({ request: { selector: { resourceIds: ['db1'] }, mode: 'verify' }, executionName: 'x2' });
    await expect(plan({ request: { selector: { resourceIds: ['db1'] } }, executionName: 'x2' })).rejects.toMatchObject({ name: 'InvalidConfigurationError', field: 'idempotencyKey' });
    expect(target.changes).toBe(0);
  });
});
