import { SFNClient } from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activityClientConfig, AGENT_STOPPING, runAgent, type AgentOptions } from '../../../layers/agent/agent.js';
import type { AdapterFactory } from '../../../layers/engine/adapter.js';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../../../layers/engine/stores/types.js';
import { groupResultSchema } from '../../../layers/workflow/events.js';
import { ActivityStandIn } from '../../support/activity-standin.js';
import { findLeaks, recordingStore } from '../../support/leaks.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const log = new Log({ level: 'SILENT' });
const task = (over: Record<string, unknown> = {}) => ({ runId: 'run-agent-1', resourceId: 'db1', type: 'postgresql', site: 'dmz1', accountIds: ['db1/alice', 'db1/bob'], ...over });

/** The target's adapter, each change taking `delayMs`: a slow device, for heartbeats and stops. */
function slow(factory: AdapterFactory<unknown>, delayMs: () => number): AdapterFactory<unknown> {
  return (ctx) => {
    const adapter = factory(ctx);
    return {
      ...adapter,
      change: async (req) => {
        await new Promise((r) => setTimeout(r, delayMs()));
        return adapter.change(req);
      },
    } as typeof adapter;
  };
}

describe('the agent against a local stand-in for the activity API', () => {
  let standIn: ActivityStandIn;
  let sfn: SFNClient;
  let stores: EmbeddedStores;
  let target: MemoryTarget;
  let written: Set<string>;
  let engineFactory: AgentOptions['engineFactory'];
  let delay = 0;
  const stop = new Set<AbortController>();

  beforeEach(async () => {
    // Prepare: a PostgreSQL-typed resource at site dmz1 served by an in-process target.
    standIn = await ActivityStandIn.start({ pollMs: 2_000 });
    sfn = new SFNClient(activityClientConfig({ endpoint: standIn.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'standin', secretAccessKey: 'standin' } }));
    stores = await openMemoryStores();
    const recorded = recordingStore(stores.credentials);
    written = recorded.written;
    target = new MemoryTarget();
    delay = 0;
    const adapters = { postgresql: slow(target.adapter('postgresql'), () => delay) };
    engineFactory = () => ({ engine: new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: recorded.store, adapters, log }), config: stores.state });
    const config = new Configurator(stores.state, recorded.store, REGISTRY);
    await config.putResource({ id: 'db1', type: 'postgresql', host: 'db1.example', site: 'dmz1' });
    for (const u of ['alice', 'bob']) {
      target.passwords.set(u, `${u}-Start-pw-1`);
      await config.putAccount({ resourceId: 'db1', username: u, secretId: `s/${u}` }, { password: new Secret(`${u}-Start-pw-1`) });
    }
  });
  afterEach(async () => {
    for (const c of stop) c.abort();
    stop.clear();
    sfn.destroy();
    await standIn.close();
    await stores.close();
  });

  function start(over: Partial<AgentOptions> = {}) {
    const controller = new AbortController();
    stop.add(controller);
    const done = runAgent({ sfn, activityArn: standIn.activityArn, workerName: 'dmz1@test', engineFactory, log, signal: controller.signal, heartbeatIntervalMs: 1_000, stopGraceMs: 5_000, ...over });
    return { controller, done };
  }
  const current = async (u: string) => (await stores.credentials.getValue(`s/${u}`, { stage: AWSCURRENT })).value.reveal();

  it('serves a group task: every account is reset and the output is a GroupResult with ids only', async () => {
    const { controller, done } = start();

    const outcome = await standIn.enqueue(task());

    expect('output' in outcome, JSON.stringify(outcome)).toBe(true);
    const result = groupResultSchema.parse((outcome as { output: unknown }).output);
    expect(result).toMatchObject({ runId: 'run-agent-1', resourceId: 'db1' });
    expect(result.results.map((r) => [r.accountId, r.outcome]).sort()).toEqual([
      ['db1/alice', 'succeeded'],
      ['db1/bob', 'succeeded'],
    ]);
    for (const u of ['alice', 'bob']) expect(target.passwords.get(u)).toBe(await current(u));
    expect(target.connections).toBe(1);
    controller.abort();
    expect(await done).toMatchObject({ tasks: 1, succeeded: 1, failed: 0 });
    expect(findLeaks(written, { 'requests to the activity API': standIn.received.join('\n'), 'responses': standIn.sent.join('\n') })).toEqual([]);
  });

  it('sends heartbeats while a slow task runs', async () => {
    delay = 400;
    const { controller, done } = start({ heartbeatIntervalMs: 100 });

    const outcome = await standIn.enqueue(task());

    expect('output' in outcome).toBe(true);
    // Two changes of 400 ms at one heartbeat per 100 ms.
    expect(standIn.heartbeats).toBeGreaterThanOrEqual(5);
    const beats = standIn.calls.filter((c) => c === 'SendTaskHeartbeat').length;
    controller.abort();
    await done;
    // None after the task was reported.
    expect(standIn.calls.lastIndexOf('SendTaskHeartbeat')).toBeLessThan(standIn.calls.indexOf('SendTaskSuccess'));
    expect(standIn.calls.filter((c) => c === 'SendTaskHeartbeat').length).toBe(beats);
  });

  it.each([
    ['a missing field', task({ accountIds: undefined }), 'accountIds'],
    ['an unknown type', task({ type: 'vax' }), 'type'],
    ['an unknown field holding a password', { ...task(), password: 'Leaked-Pw-123456' }, 'password'],
    ['input that is not JSON', '{"runId": "run-1", "password": "Leaked-Pw-123456"', 'input'],
    ['a resource that does not exist', task({ resourceId: 'db404' }), 'resourceId'],
    ['a task routed to the wrong site', task({ site: 'dmz2' }), 'site'],
  ])('refuses %s: SendTaskFailure with the error class and the field; nothing changes', async (_what, input, field) => {
    const { controller, done } = start();

    const outcome = await standIn.enqueue(input);

    expect(outcome).toMatchObject({ error: field === 'resourceId' ? 'NotFoundError' : 'InvalidConfigurationError' });
    const cause = JSON.parse((outcome as { cause: string }).cause) as { field: string; errorMessage: string };
    expect(cause.field).toBe(field);
    expect(cause.errorMessage.startsWith(field)).toBe(true);
    expect((outcome as { cause: string }).cause).not.toContain('Leaked-Pw');
    expect(target.changes).toBe(0);
    expect(await current('alice')).toBe('alice-Start-pw-1');
    controller.abort();
    expect(await done).toMatchObject({ tasks: 1, failed: 1 });
  });

  it('skips an account that is no longer configured on the resource (as the reset functions do), and resets the rest', async () => {
    const { controller, done } = start();

    const outcome = await standIn.enqueue(task({ accountIds: ['db1/alice', 'db2/alice'] }));

    const result = groupResultSchema.parse((outcome as { output: unknown }).output);
    expect(result.results.map((r) => [r.accountId, r.outcome])).toEqual([
      ['db1/alice', 'succeeded'],
      ['db2/alice', 'skipped'],
    ]);
    expect((await stores.state.listAccountResults('run-agent-1')).map((r) => r.outcome).sort()).toEqual(['skipped', 'succeeded']);
    controller.abort();
    await done;
  });

  it('reports per-account failures in a successful task output, with redacted messages', async () => {
    target.faults = ['drop-before'];
    const { controller, done } = start();

    const outcome = await standIn.enqueue(task({ accountIds: ['db1/alice'] }));

    const result = groupResultSchema.parse((outcome as { output: unknown }).output);
    expect(result.results[0]).toMatchObject({ accountId: 'db1/alice', outcome: 'failed', step: 'set', errorClass: 'TargetUnchangedError' });
    controller.abort();
    await done;
    expect(findLeaks(written, { 'requests to the activity API': standIn.received.join('\n') })).toEqual([]);
  });

  it('stops polling when aborted while idle, and resolves at once', async () => {
    const { controller, done } = start();
    await standIn.untilPolling();

    const t0 = Date.now();
    controller.abort();
    const stats = await done;

    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(stats.tasks).toBe(0);
    // The held poll's connection was dropped (the stand-in sees it close a moment later).
    for (let i = 0; i < 50 && standIn.waitingPolls > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(standIn.waitingPolls).toBe(0);
  });

  it('stopped mid-task: a task that ends within the grace period is still reported as done, and no new poll starts', async () => {
    delay = 300;
    const { controller, done } = start({ stopGraceMs: 5_000 });
    const outcome = standIn.enqueue(task());
    while (target.changes === 0 && standIn.heartbeats === 0) await new Promise((r) => setTimeout(r, 20));

    controller.abort();
    const stats = await done;

    expect(stats).toMatchObject({ tasks: 1, succeeded: 1, stopped: 0 });
    expect('output' in (await outcome)).toBe(true);
    expect(standIn.calls.filter((c) => c === 'GetActivityTask').length).toBe(1);
  });

  it('stopped mid-task: a task that outlives the grace period is handed back with AgentStopping, so the workflow retries it elsewhere', async () => {
    delay = 5_000;
    const { controller, done } = start({ stopGraceMs: 200 });
    const outcome = standIn.enqueue(task());
    await new Promise((r) => setTimeout(r, 100));

    const t0 = Date.now();
    controller.abort();
    const stats = await done;

    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(stats).toMatchObject({ tasks: 1, stopped: 1 });
    expect(await outcome).toMatchObject({ error: AGENT_STOPPING });
  });

  it('keeps polling after a failed poll (the activity does not exist yet), waiting between attempts', async () => {
    const { controller, done } = start({ activityArn: `${standIn.activityArn}-missing`, pollRetryMs: 50 });
    await new Promise((r) => setTimeout(r, 400));
    controller.abort();
    await done;
    const polls = standIn.calls.filter((c) => c === 'GetActivityTask').length;
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(polls).toBeLessThan(20);
  });

  it('works on several tasks at once with concurrency', async () => {
    delay = 200;
    await new Configurator(stores.state, stores.credentials, REGISTRY).putResource({ id: 'db2', type: 'postgresql', host: 'db2.example', site: 'dmz1' });
    target.passwords.set('carol', 'carol-Start-pw-1');
    await new Configurator(stores.state, stores.credentials, REGISTRY).putAccount({ resourceId: 'db2', username: 'carol', secretId: 's/carol' }, { password: new Secret('carol-Start-pw-1') });
    const { controller, done } = start({ concurrency: 2 });
    await standIn.untilPolling(2);

    const t0 = Date.now();
    const outcomes = await Promise.all([standIn.enqueue(task({ accountIds: ['db1/alice'] })), standIn.enqueue(task({ resourceId: 'db2', accountIds: ['db2/carol'] }))]);

    expect(outcomes.every((o) => 'output' in o)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2 * 200 + 300);
    controller.abort();
    expect(await done).toMatchObject({ tasks: 2, succeeded: 2 });
  });
});
