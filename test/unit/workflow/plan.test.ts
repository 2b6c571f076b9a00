import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { InvalidConfigurationError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import type { GroupTask } from '../../../layers/workflow/events.js';
import { chainBySharedTarget, createPlanHandler, createPlanStepHandler } from '../../../layers/workflow/plan.js';
import { findLeaks } from '../../support/leaks.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const log = new Log({ level: 'SILENT' });

describe('the plan step', () => {
  let stores: EmbeddedStores;
  let plan: ReturnType<typeof createPlanHandler>;
  const passwords = new Set<string>();
  const outputs: unknown[] = [];

  beforeEach(async () => {
    // Prepare: two PostgreSQL resources (one in agent site dmz1), a Linux one, and one of a type this build does not know (stored by another version).
    stores = await openMemoryStores();
    const s = { state: stores.state, credentials: stores.credentials, describeSecret: async (id: string) => ({ arn: id, name: id }) };
    plan = createPlanHandler({ stores: async () => s, log });
    const config = new Configurator(stores.state, stores.credentials, REGISTRY);
    await config.putResource({ id: 'db1', type: 'postgresql', host: 'db1.example', tags: ['prod'] });
    await config.putResource({ id: 'db2', type: 'postgresql', host: 'db2.example', site: 'dmz1' });
    await config.putResource({ id: 'web1', type: 'linux', host: 'web1.example', login: { account: 'web1/ops' }, privilege: { mode: 'sudo' }, tags: ['prod'] });
    await config.putResource({ id: 'sw1', type: 'sybase-ase', host: 'sw1.example', adminAccount: 'sw1/admin' });
    for (const [r, u] of [['db1', 'alice'], ['db1', 'bob'], ['db2', 'carol'], ['web1', 'ops'], ['web1', 'app'], ['sw1', 'admin']] as const) {
      const pw = `${r}-${u}-Start-pw1`;
      passwords.add(pw);
      await config.putAccount({ resourceId: r, username: u, secretId: `s/${r}/${u}` }, { password: new Secret(pw) });
    }
    await stores.state.putResource({ ...(await stores.state.getResource('sw1'))!, type: 'newer-type' });
  });
  afterEach(async () => stores.close());

  const run = async (event: unknown) => {
    const out = await plan(event);
    outputs.push(out);
    return out;
  };

  it('expands the selector into groups by resource with type and site, records the run as running', async () => {
    const p = await run({ selector: { tags: ['prod'] } });

    expect(p.total).toBe(4);
    expect(p.groups.map((g) => [g.resourceId, g.type, g.site, [...g.accountIds!].sort()]).sort()).toEqual([
      ['db1', 'postgresql', 'cloud', ['db1/alice', 'db1/bob']],
      ['web1', 'linux', 'cloud', ['web1/app', 'web1/ops']],
    ]);
    expect(p.groups.every((g) => g.runId === p.runId)).toBe(true);
    expect(await stores.state.getRun(p.runId)).toMatchObject({ status: 'running', counts: { total: 4 }, selector: { tags: ['prod'] } });
  });

  it('gives an agent-site resource its site', async () => {
    const p = await run({ selector: { sites: ['dmz1'] } });
    expect(p.groups).toEqual([{ runId: p.runId, resourceId: 'db2', type: 'postgresql', site: 'dmz1', accountIds: ['db2/carol'] }]);
  });

  it('derives the run id from the execution name, else the idempotency key; a repeat yields the same run and records nothing twice', async () => {
    const a = await run({ request: { selector: { resourceIds: ['db1'] }, idempotencyKey: 'k-1' }, executionName: 'k-1' });
    const b = await run({ selector: { resourceIds: ['db1'] }, idempotencyKey: 'k-1' });
    expect(a.runId).toBe('run-k-1');
    expect(b).toEqual(a);
    expect((await stores.state.listRuns()).filter((r) => r.runId === 'run-k-1')).toHaveLength(1);
    const c = await run({ selector: { resourceIds: ['db1'] } });
    const d = await run({ selector: { resourceIds: ['db1'] } });
    expect(c.runId).not.toBe(d.runId);
  });

  it('refuses an idempotency key reused for a different request, naming the field', async () => {
    await run({ selector: { resourceIds: ['db1'] }, idempotencyKey: 'k-2' });
    await expect(plan({ selector: { resourceIds: ['db2'] }, idempotencyKey: 'k-2' })).rejects.toMatchObject({ name: 'InvalidConfigurationError', field: 'idempotencyKey' });
  });

  it('records accounts of a type this build does not know as failed (NotSupportedError) and leaves them out of the groups', async () => {
    const p = await run({ selector: { resourceIds: ['sw1', 'db1'] } });
    expect(p.total).toBe(3);
    expect(p.groups.map((g) => g.resourceId)).toEqual(['db1']);
    expect(await stores.state.listAccountResults(p.runId)).toMatchObject([{ accountId: 'sw1/admin', outcome: 'failed', errorClass: 'NotSupportedError', step: 'plan' }]);
  });

  it.each([
    [{}, 'selector'],
    [{ selector: {} }, 'selector'],
    [{ selector: { types: ['nosuch'] } }, 'selector.types.0'],
    [{ selector: { resourceIds: ['db1'] }, idempotencyKey: 'has space' }, 'idempotencyKey'],
    [{ selector: { resourceIds: ['db1'] }, password: 'x' }, 'password'],
    [{ selector: { resourceIds: ['nosuch'] } }, 'resourceIds'],
    [{ selector: { accountIds: ['db1/nobody'] } }, 'accountIds'],
    [{ request: { selector: { resourceIds: ['db1'] } }, executionName: 'a b' }, 'executionName'],
    [{ request: { selector: { tags: [''] } } }, 'request.selector.tags.0'],
  ])('refuses a bad request %j with InvalidConfigurationError naming %s, and records no run', async (event, field) => {
    const before = (await stores.state.listRuns()).length;
    const e = await plan(event).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe(field);
    expect((await stores.state.listRuns()).length).toBe(before);
  });

  it('as deployed, writes the groups to the items store and returns only where they are, with counts', async () => {
    const written = new Map<string, unknown>();
    const step = createPlanStepHandler({
      stores: async () => ({ state: stores.state, credentials: stores.credentials, describeSecret: async (id: string) => ({ arn: id, name: id }) }),
      log,
      items: { put: async (runId, groups) => (written.set(runId, groups), { bucket: 'results', key: `plans/${runId}.json` }) },
    });
    const planned = await step({ request: { selector: { tags: ['prod'] } }, executionName: 'step1' });
    outputs.push(planned);
    expect(planned).toEqual({ runId: 'run-step1', total: 4, taskCount: 2, items: { bucket: 'results', key: 'plans/run-step1.json' } });
    expect((written.get('run-step1') as { resourceId: string }[]).map((g) => g.resourceId).sort()).toEqual(['db1', 'web1']);
    expect(findLeaks(passwords, { items: JSON.stringify([...written.values()]) })).toEqual([]);
  });

  it('as deployed, without RPR_RESULTS_BUCKET it names the setting', async () => {
    const saved = process.env.RPR_RESULTS_BUCKET;
    delete process.env.RPR_RESULTS_BUCKET;
    try {
      const step = createPlanStepHandler({ stores: async () => ({ state: stores.state, credentials: stores.credentials, describeSecret: async (id: string) => ({ arn: id, name: id }) }), log });
      await expect(step({ selector: { tags: ['prod'] } })).rejects.toMatchObject({ name: 'InvalidConfigurationError', field: 'RPR_RESULTS_BUCKET' });
    } finally {
      if (saved !== undefined) process.env.RPR_RESULTS_BUCKET = saved;
    }
  });

  it('deals the groups of resources on one directory server into at most two chained tasks; other groups stay alone', () => {
    const task = (resourceId: string, type: GroupTask['type']): GroupTask => ({ runId: 'run-x', resourceId, type, site: 'cloud', accountIds: [`${resourceId}/u`] });
    const hosts: Record<string, { host: string; port: number }> = {
      ad1: { host: 'DC1.corp.example', port: 636 },
      ad2: { host: 'dc1.corp.example', port: 636 },
      ad3: { host: 'dc1.corp.example', port: 636 },
      ad4: { host: 'dc1.corp.example', port: 636 },
      ad5: { host: 'dc1.corp.example', port: 636 },
      other: { host: 'dc2.corp.example', port: 636 },
      pg1: { host: 'db.example', port: 5432 },
      pg2: { host: 'db.example', port: 5432 },
    };
    const tasks = [...['ad1', 'ad2', 'ad3', 'ad4', 'ad5', 'other'].map((id) => task(id, 'windows-domain')), task('pg1', 'postgresql'), task('pg2', 'postgresql')];

    const items = chainBySharedTarget(tasks, (id) => hosts[id]);

    const lanes = items.map((t) => [t.resourceId, ...(t.chain ?? []).map((c) => c.resourceId)]);
    expect(lanes.filter((l) => l[0]!.startsWith('ad'))).toEqual([
      ['ad1', 'ad3', 'ad5'],
      ['ad2', 'ad4'],
    ]);
    expect(lanes.filter((l) => !l[0]!.startsWith('ad')).sort()).toEqual([['other'], ['pg1'], ['pg2']]);
    // Every group is run exactly once.
    expect(lanes.flat().sort()).toEqual(Object.keys(hosts).sort());
  });

  it('a type whose descriptor names a shared target (a provider tenant) gets its own cap; a type without one is never chained', () => {
    const task = (resourceId: string, type: GroupTask['type']): GroupTask => ({ runId: 'run-x', resourceId, type, site: 'cloud', accountIds: [`${resourceId}/u`] });
    const tenants: Record<string, { tenantId: string }> = { t1: { tenantId: 'A' }, t2: { tenantId: 'a' }, t3: { tenantId: 'A' }, t4: { tenantId: 'B' } };
    const definitions = { 'entra-id': { sharedTarget: { key: (r: { tenantId: string }) => r.tenantId.toLowerCase(), groupsAtOnce: 1 } }, postgresql: {} };
    const items = chainBySharedTarget([...Object.keys(tenants).map((id) => task(id, 'entra-id')), task('pg', 'postgresql')], (id) => tenants[id] ?? { host: 'db' }, definitions);
    const lanes = items.map((t) => [t.resourceId, ...(t.chain ?? []).map((c) => c.resourceId)]);
    expect(lanes.sort()).toEqual([['pg'], ['t1', 't2', 't3'], ['t4']]);
  });

  it('no plan output carries a password', () => {
    expect(outputs.length).toBeGreaterThan(0);
    expect(findLeaks(passwords, { outputs: JSON.stringify(outputs) })).toEqual([]);
  });
});
