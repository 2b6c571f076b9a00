import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine, tokenFor } from '../../../layers/engine/engine.js';
import { holderGone, processStartOf, thisProcess } from '../../../layers/engine/holder.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT, AWSPREVIOUS, type Holder } from '../../../layers/engine/stores/types.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const log = new Log({ level: 'SILENT' });
const me = thisProcess('test');
/** A process of this machine that has ended: its pid runs nothing now. */
const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());

describe('telling a dead holder from a live one', () => {
  const now = Date.now();

  it('on this machine: gone at once when its pid runs nothing, or runs a process started at another time; alive while it runs', () => {
    const dead = { ...me, pid: deadPid() };
    expect(holderGone({ holder: dead, heartbeatAt: now }, { me, now })).toMatch(/process \d+ on .* is not running/);
    expect(holderGone({ holder: { ...me, processStart: '1' }, heartbeatAt: now }, { me, now })).toMatch(/another process's now/);
    // The parent of this process runs: alive, however old its heartbeat.
    const parent = { ...me, pid: process.ppid, processStart: processStartOf(process.ppid)! };
    expect(holderGone({ holder: parent, heartbeatAt: now - 3_600_000 }, { me, now })).toBeUndefined();
    expect(holderGone({ holder: me, heartbeatAt: now - 3_600_000 }, { me, now })).toBeUndefined();
  });

  it('elsewhere (another host, another boot or pid namespace, a Lambda): only a heartbeat older than the limit', () => {
    const elsewhere: Holder[] = [
      { host: 'other-host', bootId: me.bootId, pid: deadPid() },
      { ...me, bootId: 'another-boot pid:[1]', pid: deadPid() },
      { host: '169.254.0.1', pid: 8, kind: 'lambda' },
    ];
    for (const holder of elsewhere) {
      expect(holderGone({ holder, heartbeatAt: now - 30_000 }, { me, now, staleAfterMs: 60_000 }), JSON.stringify(holder)).toBeUndefined();
      expect(holderGone({ holder, heartbeatAt: now - 61_000 }, { me, now, staleAfterMs: 60_000 })).toMatch(/heartbeat stopped 61 s ago/);
    }
  });

  it('never judges a lease recorded without a heartbeat (taken before holders were recorded): it waits for its expiry', () => {
    expect(holderGone({}, { me, now })).toBeUndefined();
    expect(holderGone({ holder: { host: 'other-host', pid: 1 } }, { me, now })).toBeUndefined();
  });

  it("reads a process's start time after its command name, whatever the name holds", () => {
    expect(processStartOf('self')).toMatch(/^\d+$/);
    expect(processStartOf(process.pid)).toBe(processStartOf('self'));
    expect(processStartOf(deadPid())).toBeUndefined();
  });
});

describe('the engine taking over the leases of a run whose process died', () => {
  let stores: EmbeddedStores;
  let target: MemoryTarget;
  let config: Configurator;
  let storeClock = Date.now;
  const engine = (extra: Partial<ConstructorParameters<typeof ResetEngine>[0]> = {}) =>
    new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { postgresql: target.adapter('postgresql') }, log, ...extra });
  const current = async (u: string) => (await stores.credentials.getValue(`s/${u}`, { stage: AWSCURRENT })).value.reveal();

  beforeEach(async () => {
    storeClock = Date.now;
    stores = await openMemoryStores({ clock: () => storeClock() });
    target = new MemoryTarget();
    config = new Configurator(stores.state, stores.credentials, REGISTRY);
    await config.putResource({ id: 'db1', type: 'postgresql', host: 'db1.example', adminAccount: 'db1/admin' });
    for (const u of ['admin', 'alice', 'bob']) {
      target.passwords.set(u, `${u}-start-pw`);
      await config.putAccount({ resourceId: 'db1', username: u, secretId: `s/${u}` }, { password: new Secret(`${u}-start-pw`) });
    }
    target.adminPassword = 'admin-start-pw';
  });
  afterEach(async () => stores.close());

  /** What a run killed after its change reached the target leaves: its lease, its pending version, the target holding that version. */
  async function killedAfterSet(username: string, holder: Holder) {
    const accountId = `db1/${username}`;
    await stores.state.acquire(accountId, 'run-killed', 15 * 60_000, { holder });
    await stores.credentials.putPending(`s/${username}`, tokenFor('run-killed', accountId), new Secret(`${username}-killed-run-pw`));
    await stores.state.markSetAttempt(accountId, tokenFor('run-killed', accountId));
    target.passwords.set(username, `${username}-killed-run-pw`);
  }

  it('a dead process of this machine: the next run takes its leases at once and leaves every account with a stored password that works', async () => {
    const dead = { ...me, pid: deadPid(), kind: 'cli' };
    await killedAfterSet('alice', dead);
    await stores.state.acquire('db1/bob', 'run-killed', 15 * 60_000, { holder: dead });

    const run = await engine().run({ resourceIds: ['db1'] });

    expect(run.counts).toMatchObject({ total: 3, succeeded: 3 });
    for (const u of ['admin', 'alice', 'bob']) expect(target.passwords.get(u)).toBe(await current(u));
    // The killed run's password reached alice's target, so create promoted it before this run's change.
    expect((await stores.credentials.getValue('s/alice', { stage: AWSPREVIOUS })).value.reveal()).toBe('alice-killed-run-pw');
  });

  it('a live holder keeps its lease: the account is refused as busy, naming its run, and nothing is changed', async () => {
    await stores.state.acquire('db1/alice', 'run-alive', 15 * 60_000, { holder: { ...me, pid: process.ppid, processStart: processStartOf(process.ppid)! } });

    const run = await engine().run({ accountIds: ['db1/alice'] });

    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'failed', errorClass: 'AccountBusyError' });
    expect(result!.message).toContain('run-alive');
    expect(target.passwords.get('alice')).toBe('alice-start-pw');
    expect(target.changes).toBe(0);
  });

  it('a holder on another host: taken over once its heartbeat is older than the limit, not before', async () => {
    const remote: Holder = { host: `${hostname()}-not`, pid: 8, kind: 'lambda' };
    storeClock = () => Date.now() - 30_000;
    await killedAfterSet('alice', remote);
    storeClock = Date.now;

    const early = await engine({ staleAfterMs: 60_000 }).run({ accountIds: ['db1/alice'] });
    expect(early.counts).toMatchObject({ total: 1, failed: 1 });

    const late = await engine({ staleAfterMs: 20_000 }).run({ accountIds: ['db1/alice'] });
    expect(late.counts).toMatchObject({ total: 1, succeeded: 1 });
    expect(target.passwords.get('alice')).toBe(await current('alice'));
  });

  it('renews the leases it holds and its run record every heartbeat, recording the accounts in flight and their steps', async () => {
    target.changeDelayMs = 400;
    const seen: { heartbeatAt?: number; inFlight?: readonly { accountId: string; step: string }[] }[] = [];
    const poll = setInterval(async () => {
      const held = await stores.state.acquire('db1/alice', 'run-peek', 1).catch((e: { lease?: { heartbeatAt?: number } }) => e.lease);
      const runs = await stores.state.listRuns(1);
      seen.push({ heartbeatAt: held && 'heartbeatAt' in held ? held.heartbeatAt : undefined, inFlight: runs[0]?.inFlight });
    }, 50);

    const run = await engine({ heartbeatMs: 100 }).run({ accountIds: ['db1/alice'] });
    clearInterval(poll);

    expect(run.status).toBe('succeeded');
    const beats = new Set(seen.map((s) => s.heartbeatAt).filter((t) => t !== undefined));
    expect(beats.size).toBeGreaterThanOrEqual(3);
    expect(seen.some((s) => s.inFlight?.some((f) => f.accountId === 'db1/alice' && f.step === 'set'))).toBe(true);
    const final = (await stores.state.getRun(run.runId))!;
    expect(final.owner).toEqual(expect.objectContaining({ host: me.host, pid: process.pid }));
    expect(final.inFlight).toBeUndefined();
  });

  it('stops an account before its change when a heartbeat finds its lease taken by another run', async () => {
    target.changeDelayMs = 0;
    const e = engine({ heartbeatMs: 30 });
    // create is slowed so the heartbeat finds the lease gone before set.
    const original = stores.credentials.putPending.bind(stores.credentials);
    stores.credentials.putPending = async (...args) => {
      const r = await original(...args);
      const [held] = await Promise.all([stores.state.acquire('db1/alice', 'x', 1).catch((x: { lease: never }) => x.lease)]);
      await stores.state.takeOver(held, 'run-thief', 15 * 60_000);
      await new Promise((res) => setTimeout(res, 120));
      return r;
    };

    const run = await e.run({ accountIds: ['db1/alice'] });

    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'failed', errorClass: 'AccountBusyError' });
    expect(target.changes).toBe(0);
    expect(target.passwords.get('alice')).toBe('alice-start-pw');
  });
});
