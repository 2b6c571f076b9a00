import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine, tokenFor } from '../../../layers/engine/engine.js';
import { InvalidConfigurationError, ThrottledError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../../../layers/engine/stores/types.js';
import type { GroupResult, GroupTask } from '../../../layers/workflow/events.js';
import { bounded, parseGroupTask, runGroupTask } from '../../../layers/workflow/group.js';
import { fitted, TASK_BYTES } from '../../../layers/workflow/plan.js';
import { deadlineFromContext } from '../../../layers/workflow/handler.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const log = new Log({ level: 'SILENT' });

/**
 * Group tasks that do not fit in one invocation: what is left comes back as `next`, the
 * workflow runs it, and no account is reset twice. Also what a cut-off attempt leaves behind.
 */
describe('group tasks across invocations', () => {
  let stores: EmbeddedStores;
  let target: MemoryTarget;
  let engine: ResetEngine;
  let config: Configurator;

  beforeEach(async () => {
    stores = await openMemoryStores();
    target = new MemoryTarget();
    engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { postgresql: target.adapter('postgresql') }, log });
    config = new Configurator(stores.state, stores.credentials, REGISTRY);
  });
  afterEach(async () => stores.close());

  /** A resource with an admin (its login) and `n` accounts; returns the task for all of them. */
  const resourceOf = async (id: string, n: number, runId: string): Promise<GroupTask> => {
    await config.putResource({ id, type: 'postgresql', host: `${id}.example`, adminAccount: `${id}/${id}-admin` });
    const ids: string[] = [];
    for (const u of [...Array.from({ length: n }, (_, i) => `${id}-u${i}`), `${id}-admin`]) {
      target.passwords.set(u, `${u}-Start-1`);
      ids.push((await config.putAccount({ resourceId: id, username: u, secretId: `s/${u}` }, { password: new Secret(`${u}-Start-1`) })).id);
    }
    return { runId, resourceId: id, type: 'postgresql', site: 'cloud', accountIds: ids };
  };
  const deps = () => ({ engine, config: stores.state, log });
  const current = async (u: string) => (await stores.credentials.getValue(`s/${u}`, { stage: AWSCURRENT })).value.reveal();
  const outcomesOf = (r: GroupResult) => [r, ...(r.chain ?? [])].flatMap((g) => g.results.map((x) => x.outcome));

  it('hands back what does not fit before the deadline as next, and running next until none is left resets every account once, the admin last', async () => {
    const task = await resourceOf('db1', 24, 'run-big');
    target.changeDelayMs = 25;
    const finished: string[] = [];
    let next: GroupTask | undefined = task;
    let invocations = 0;

    while (next) {
      invocations++;
      const out = await runGroupTask(next, deps(), { deadline: Date.now() + 250 });
      for (const r of out.results) finished.push(r.accountId);
      next = out.next;
      if (next) expect(next.accountIds!.length).toBeLessThan(task.accountIds!.length);
    }

    expect(invocations).toBeGreaterThan(2);
    expect(finished.sort()).toEqual([...task.accountIds!].sort());
    expect([...target.changesOf.values()].every((n) => n === 1)).toBe(true);
    expect(target.changesOf.size).toBe(25);
    const results = await stores.state.listAccountResults('run-big');
    expect(results.every((r) => r.outcome === 'succeeded')).toBe(true);
    const admin = results.find((r) => r.accountId === 'db1/db1-admin')!;
    expect(results.every((r) => r.endedAt <= admin.endedAt)).toBe(true);
    for (const u of target.passwords.keys()) expect(await current(u)).toBe(target.passwords.get(u));
  });

  it('keeps the chain: chained groups not reached come back in next after the rest of the current one', async () => {
    const head = await resourceOf('d1', 12, 'run-chain');
    const second = await resourceOf('d2', 2, 'run-chain');
    const third = await resourceOf('d3', 2, 'run-chain');
    target.changeDelayMs = 30;

    const out = await runGroupTask({ ...head, chain: [second, third] }, deps(), { deadline: Date.now() + 150 });

    expect(out.resourceId).toBe('d1');
    expect(out.results.length).toBeGreaterThan(0);
    expect(out.next).toMatchObject({ resourceId: 'd1', chain: [{ resourceId: 'd2' }, { resourceId: 'd3' }] });
    expect(out.next!.accountIds).toEqual(head.accountIds!.filter((id) => !out.results.some((r) => r.accountId === id)));
    expect(out.chain).toBeUndefined();
  });

  it('a task that could finish no account fails with ThrottledError, for the state machine to retry, and changes nothing', async () => {
    const task = await resourceOf('db2', 3, 'run-late');

    const e = await runGroupTask(task, deps(), { deadline: Date.now() - 1 }).catch((x: unknown) => x);

    expect(e).toBeInstanceOf(ThrottledError);
    expect((e as Error).message).toMatch(/nothing is lost/);
    expect(target.changes).toBe(0);
    expect(await stores.state.listAccountResults('run-late')).toEqual([]);
  });

  it("resumes what a cut-off attempt of the run left: takes the run's lease back, finds the password it set by a login, and does not set it again", async () => {
    const task = await resourceOf('db3', 2, 'run-cut');
    const [changed, stored] = task.accountIds as [string, string];
    // The attempt that was cut off: both leases held by the run, both pending versions stored
    // under the run's tokens; the first account's change reached the target, the second's did not.
    for (const [id, reached] of [[changed, true], [stored, false]] as const) {
      const account = (await stores.state.getAccount(id))!;
      await stores.state.acquire(id, 'run-cut', 15 * 60_000);
      const password = `${account.username}-Set-By-The-Cut-Attempt-1`;
      await stores.credentials.putPending(account.secretId, tokenFor('run-cut', id), new Secret(password));
      if (reached) target.passwords.set(account.username, password);
    }

    const out = await runGroupTask(task, deps(), { deadline: Date.now() + 30_000 });

    expect(outcomesOf(out)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const byId = new Map(out.results.map((r) => [r.accountId, r]));
    expect(byId.get(changed)).toMatchObject({ versionId: tokenFor('run-cut', changed) });
    const changedName = changed.split('/')[1]!;
    const storedName = stored.split('/')[1]!;
    expect(target.changesOf.get(changedName)).toBeUndefined();
    expect(target.changesOf.get(storedName)).toBe(1);
    expect(await current(changedName)).toBe(`${changedName}-Set-By-The-Cut-Attempt-1`);
    expect(await current(storedName)).toBe(`${storedName}-Set-By-The-Cut-Attempt-1`);
    expect(target.passwords.get(storedName)).toBe(`${storedName}-Set-By-The-Cut-Attempt-1`);
    // No lease is left behind for another run to wait on.
    const lease = await stores.state.acquire(changed, 'run-other', 60_000);
    await stores.state.release(lease);
  });

  it('a group named by selection (too large to list) resets what the run selects of the resource; its next is the same task, and nothing is reset twice', async () => {
    const listed = await resourceOf('db4', 20, 'run-sel');
    await resourceOf('db5', 2, 'run-sel');
    await stores.state.createRun({ runId: 'run-sel', status: 'running', selector: { resourceIds: ['db4'] }, startedAt: new Date().toISOString(), counts: { total: 21 } });
    target.changeDelayMs = 25;
    const task: GroupTask = { runId: 'run-sel', resourceId: 'db4', type: 'postgresql', site: 'cloud', selected: true };
    let next: GroupTask | undefined = task;
    let invocations = 0;

    while (next) {
      invocations++;
      const out = await runGroupTask(next, deps(), { deadline: Date.now() + 250 });
      next = out.next;
      if (next) expect(next).toEqual(task);
    }

    expect(invocations).toBeGreaterThan(1);
    expect((await stores.state.listAccountResults('run-sel')).map((r) => r.accountId).sort()).toEqual([...listed.accountIds!].sort());
    expect([...target.changesOf.keys()].every((u) => u.startsWith('db4-'))).toBe(true);
    expect([...target.changesOf.values()].every((n) => n === 1)).toBe(true);
  });

  it('the plan names a task\'s groups by selection when their ids would not fit in a state (a domain of thousands)', () => {
    const ids = (r: string, n: number) => Array.from({ length: n }, (_, i) => `${r}/user-with-a-long-name-${i}`);
    const small: GroupTask = { runId: 'run-p', resourceId: 'ad1', type: 'windows-domain', site: 'cloud', accountIds: ids('ad1', 100) };
    const big: GroupTask = { ...small, accountIds: ids('ad1', 5_000), chain: [{ runId: 'run-p', resourceId: 'ad2', type: 'windows-domain', site: 'cloud', accountIds: ids('ad2', 10) }] };

    expect(fitted(small)).toBe(small);
    const f = fitted(big);
    expect(f).toEqual({ runId: 'run-p', resourceId: 'ad1', type: 'windows-domain', site: 'cloud', selected: true, chain: [{ runId: 'run-p', resourceId: 'ad2', type: 'windows-domain', site: 'cloud', selected: true }] });
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(TASK_BYTES);
  });

  it('a task must name its accounts one way: ids or the selection, not both and not neither, on every group of its chain', () => {
    const base = { runId: 'run-q', resourceId: 'db', type: 'postgresql', site: 'cloud' };
    for (const [task, field] of [
      [{ ...base }, 'accountIds'],
      [{ ...base, accountIds: ['db/a'], selected: true }, 'accountIds'],
      [{ ...base, selected: true, chain: [{ ...base, resourceId: 'db2' }] }, 'chain.0.accountIds'],
    ] as const) {
      const e = (() => {
        try {
          parseGroupTask(JSON.stringify(task));
        } catch (x) {
          return x;
        }
        return undefined;
      })();
      expect(e, JSON.stringify(task)).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe(field);
    }
    expect(parseGroupTask(JSON.stringify({ ...base, selected: true }))).toEqual({ ...base, selected: true });
  });

  it("a task's answer keeps within a state's 256 KB: what did not succeed first, the rest counted as omitted", () => {
    const entry = (i: number, outcome: 'succeeded' | 'failed') => ({ accountId: `db/u${i}`, outcome, step: 'finish', versionId: '6f1c2a9e-0b7d-4c11-9a53-2f0e8d4b7a10', ...(outcome === 'failed' ? { errorClass: 'OutcomeUnknownError', message: 'x'.repeat(1500) } : {}) });
    const results = [...Array.from({ length: 3_000 }, (_, i) => entry(i, 'succeeded')), ...Array.from({ length: 60 }, (_, i) => entry(10_000 + i, 'failed'))];

    const [g] = bounded([{ runId: 'run-b', resourceId: 'db', results }]);

    expect(Buffer.byteLength(JSON.stringify(g))).toBeLessThan(200 * 1024);
    expect(g!.results.slice(0, 60).every((r) => r.outcome === 'failed')).toBe(true);
    expect(g!.omitted).toBe(results.length - g!.results.length);
    expect(g!.omitted).toBeGreaterThan(0);
    const [small] = bounded([{ runId: 'run-b', resourceId: 'db', results: results.slice(0, 10) }]);
    expect(small).toEqual({ runId: 'run-b', resourceId: 'db', results: results.slice(0, 10) });
  });

  it("the invocation's deadline: Lambda's remaining time less a tenth of it, between 1 s and 60 s", () => {
    const at = 1_000_000;
    expect(deadlineFromContext({ getRemainingTimeInMillis: () => 15 * 60_000 }, at)).toBe(at + 15 * 60_000 - 60_000);
    expect(deadlineFromContext({ getRemainingTimeInMillis: () => 100_000 }, at)).toBe(at + 90_000);
    expect(deadlineFromContext({ getRemainingTimeInMillis: () => 3_000 }, at)).toBe(at + 2_000);
    expect(deadlineFromContext(undefined, at)).toBeUndefined();
    expect(deadlineFromContext({}, at)).toBeUndefined();
  });
});
