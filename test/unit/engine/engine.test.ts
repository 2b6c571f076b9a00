import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { AccountBusyError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openResourceSession } from '../../../layers/engine/session.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { patiently } from '../../../layers/engine/patience.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, type CredentialStore } from '../../../layers/engine/stores/types.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const log = new Log({ level: 'SILENT' });
const TOKEN = '6f1c2a9e-0b7d-4c11-9a53-2f0e8d4b7a10';

describe('the reset engine with an in-process target', () => {
  let stores: EmbeddedStores;
  let target: MemoryTarget;
  let engine: ResetEngine;
  let config: Configurator;

  beforeEach(async () => {
    // Prepare: a PostgreSQL-typed resource with an admin account and three accounts.
    stores = await openMemoryStores();
    target = new MemoryTarget();
    engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { postgresql: target.adapter('postgresql') }, log });
    config = new Configurator(stores.state, stores.credentials, REGISTRY);
    await config.putResource({ id: 'db1', type: 'postgresql', host: 'db1.example', adminAccount: 'db1/admin' });
    await addAccount('admin', 'admin-start-pw');
    target.adminPassword = 'admin-start-pw';
    for (const u of ['alice', 'bob', 'carol']) await addAccount(u, `${u}-start-pw`);
  });
  afterEach(async () => stores.close());

  async function addAccount(username: string, password: string) {
    target.passwords.set(username, password);
    await config.putAccount({ resourceId: 'db1', username, secretId: `s/${username}` }, { password: new Secret(password) });
  }
  const current = async (u: string) => (await stores.credentials.getValue(`s/${u}`, { stage: AWSCURRENT })).value.reveal();
  const stagesOf = async (u: string) => Object.fromEntries((await stores.credentials.listVersions(`s/${u}`)).map((v) => [v.versionId, [...v.stages].sort()]));

  it('resets every account; AWSCURRENT holds the password the target takes, AWSPREVIOUS the old one', async () => {
    const run = await engine.run({ resourceIds: ['db1'] });

    expect(run.status).toBe('succeeded');
    expect(run.counts).toMatchObject({ total: 4, succeeded: 4 });
    for (const u of ['alice', 'bob', 'carol', 'admin']) {
      const now = await current(u);
      expect(target.passwords.get(u)).toBe(now);
      expect(now).not.toBe(`${u}-start-pw`);
      expect(now.length).toBeGreaterThanOrEqual(24);
      expect((await stores.credentials.getValue(`s/${u}`, { stage: AWSPREVIOUS })).value.reveal()).toBe(`${u}-start-pw`);
    }
    // One connection served the whole group.
    expect(target.connections).toBe(1);
  });

  it('changes the admin login last, so the connection it uses stays valid for the others', async () => {
    const order: string[] = [];
    const run = await engine.run({ resourceIds: ['db1'] }, { onAccountDone: (r) => order.push(r.accountId) });
    expect(run.status).toBe('succeeded');
    expect(order.at(-1)).toBe('db1/admin');
  });

  it('runs each step twice with one token and changes nothing twice', async () => {
    const session = await openResourceSession({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { postgresql: target.adapter('postgresql') }, log, timeoutMs: 1000 }, 'db1');
    const account = (await stores.state.getAccount('db1/alice'))!;
    const ctx = { session, account, token: TOKEN, log, redactor: session.redactor.with() };

    await engine.protocol.create(ctx);
    const pending = (await stores.credentials.getValue('s/alice', { versionId: TOKEN })).value.reveal();
    await engine.protocol.create(ctx);
    expect((await stores.credentials.getValue('s/alice', { versionId: TOKEN })).value.reveal()).toBe(pending);

    await engine.protocol.set(ctx);
    expect(await engine.protocol.set(ctx)).toBe('already set');
    expect(target.changes).toBe(1);

    await engine.protocol.test(ctx);
    await engine.protocol.test(ctx);
    await engine.protocol.finish(ctx);
    await engine.protocol.finish(ctx);
    expect(await current('alice')).toBe(pending);
    expect(await stagesOf('alice')).toMatchObject({ [TOKEN]: [AWSCURRENT, AWSPENDING] });
    expect(target.changes).toBe(1);
    await session.close();
  });

  it('reconciles a change that was applied before the connection dropped: the new password is promoted', async () => {
    target.faults.push('drop-after-applied');
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'succeeded', step: 'reconcile', workingVersion: 'pending', errorClass: 'OutcomeUnknownError' });
    expect(target.passwords.get('alice')).toBe(await current('alice'));
  });

  it('reconciles a change that was lost: the pending version is discarded and AWSCURRENT still works', async () => {
    target.faults.push('drop-after-lost');
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'rolled-back', workingVersion: 'current' });
    expect(await current('alice')).toBe('alice-start-pw');
    expect(target.passwords.get('alice')).toBe('alice-start-pw');
    expect(Object.values(await stagesOf('alice')).flat()).not.toContain(AWSPENDING);
    expect(run.status).toBe('failed');
  });

  it('when no stored password works, the admin login sets the pending one again and it is promoted', async () => {
    target.faults.push('scramble');
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'succeeded', workingVersion: 'pending' });
    expect(target.passwords.get('alice')).toBe(await current('alice'));
  });

  it('records out-of-sync, with the version that works, when only the previous password works', async () => {
    await engine.run({ accountIds: ['db1/alice'] });
    const afterFirst = await current('alice');
    // Someone puts the old password back on the target outside the product.
    target.passwords.set('alice', 'alice-start-pw');
    target.faults.push('drop-after-lost');
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'previous' });
    expect(await current('alice')).toBe(afterFirst);
  });

  it('a change that fails before anything is sent leaves AWSCURRENT as it was and no pending version', async () => {
    target.faults.push('drop-before');
    const run = await engine.run({ accountIds: ['db1/bob'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'failed', step: 'set', errorClass: 'TargetUnchangedError' });
    expect(await current('bob')).toBe('bob-start-pw');
    expect(Object.values(await stagesOf('bob')).flat()).toEqual([AWSCURRENT]);
  });

  it('a wrong admin password fails every account with AuthenticationError and changes nothing', async () => {
    target.adminPassword = 'something-else';
    const run = await engine.run({ resourceIds: ['db1'] });
    expect(run.status).toBe('failed');
    for (const r of await stores.state.listAccountResults(run.runId)) expect(r.errorClass).toBe('AuthenticationError');
    expect(await current('alice')).toBe('alice-start-pw');
    expect(target.passwords.get('alice')).toBe('alice-start-pw');
  });

  it('two concurrent resets of one account: one proceeds, the other gets a lease error', async () => {
    const [a, b] = await Promise.all([engine.run({ accountIds: ['db1/carol'] }), engine.run({ accountIds: ['db1/carol'] })]);
    const results = [...(await stores.state.listAccountResults(a.runId)), ...(await stores.state.listAccountResults(b.runId))];
    expect(results.map((r) => r.outcome).sort()).toEqual(['failed', 'succeeded']);
    const busy = results.find((r) => r.outcome === 'failed')!;
    expect(busy.errorClass).toBe(AccountBusyError.name);
    expect(busy.message).toMatch(/run-/);
    expect(target.changes).toBe(1);
    expect(target.passwords.get('carol')).toBe(await current('carol'));
  });

  it('refuses a type this process serves no adapter for with a clear "not served here", touching nothing', async () => {
    await config.putResource({ id: 'sw1', type: 'sybase-ase', host: 'sw1.example', adminAccount: 'sw1/admin' });
    await config.putAccount({ resourceId: 'sw1', username: 'admin', secretId: 's/sw1-admin' }, { password: new Secret('sw-start-pw1') });
    const run = await engine.run({ resourceIds: ['sw1'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'failed', errorClass: 'NotSupportedError' });
    expect(result!.message).toMatch(/is not served here \(this function serves /);
    expect((await stores.credentials.listVersions('s/sw1-admin')).length).toBe(1);
  });

  it('a group run again for the same run resets no account twice: recorded results stand', async () => {
    const run = await engine.run({ resourceIds: ['db1'] });
    const changes = target.changes;
    const afterFirst = await current('alice');
    const resource = (await stores.state.getResource('db1'))!;
    const accounts = await stores.state.listAccounts({ resourceId: 'db1' });

    const again = await engine.resetGroup(resource, accounts, { runId: run.runId });

    expect(target.changes).toBe(changes);
    expect(await current('alice')).toBe(afterFirst);
    expect(again.results.map((r) => r.outcome)).toEqual(accounts.map(() => 'succeeded'));
    expect(again.unfinished).toEqual([]);
  });

  it('names the field when a selector names something that does not exist', async () => {
    await expect(engine.run({ resourceIds: ['nope'] })).rejects.toMatchObject({ name: 'InvalidConfigurationError', field: 'resourceIds' });
    await expect(engine.run({ accountIds: ['db1/nobody'] })).rejects.toMatchObject({ field: 'accountIds' });
  });

  it('fails an account whose admin account is missing, naming the configuration field', async () => {
    await config.updateResource('db1', { adminAccount: 'db1/ghost' });
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'failed', errorClass: 'InvalidConfigurationError' });
    expect(result!.message).toMatch(/^adminAccount: /);
    expect(target.changes).toBe(0);
  });

  describe('a run whose store keeps throttling', () => {
    /** The vault, but promote answers ThrottlingException until `until` (through the engine's patience, as the AWS stores do). */
    const throttledPromotes = (until: () => number): CredentialStore => {
      const inner = stores.credentials;
      const throttle = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
      return {
        createSecret: (...a) => inner.createSecret(...a),
        getValue: (...a) => inner.getValue(...a),
        listVersions: (...a) => inner.listVersions(...a),
        putPending: (...a) => inner.putPending(...a),
        discardPending: (...a) => inner.discardPending(...a),
        keep: (...a) => inner.keep(...a),
        release: (...a) => inner.release(...a),
        deleteSecret: (...a) => inner.deleteSecret(...a),
        promote: (...a) => patiently(async () => (Date.now() < until() ? Promise.reject(throttle()) : inner.promote(...a))),
      };
    };
    // A lease of 61.5 s leaves each account 1.5 s of patience (the lease's last minute is kept clear).
    const engineWith = (credentials: CredentialStore) => new ResetEngine({ registry: REGISTRY, state: stores.state, credentials, adapters: { postgresql: target.adapter('postgresql') }, log, leaseTtlMs: 61_500 });

    it('gives accounts left unfinished another pass, which resumes them: succeeded, each changed once, throttles counted', async () => {
      const until = Date.now() + 2_000;
      const run = await engineWith(throttledPromotes(() => until)).run({ accountIds: ['db1/alice', 'db1/bob'] });

      expect(run.status).toBe('succeeded');
      expect(run.counts).toMatchObject({ total: 2, succeeded: 2 });
      expect(run.throttling?.accounts).toBe(2);
      expect(target.changesOf.get('alice')).toBe(1);
      expect(target.changesOf.get('bob')).toBe(1);
      expect(target.passwords.get('alice')).toBe(await current('alice'));
      expect(target.passwords.get('bob')).toBe(await current('bob'));
    });

    it('records as failed, with the pending version kept, the accounts a pass could not finish at all; the next reset promotes it', async () => {
      let until = Number.POSITIVE_INFINITY;
      const run = await engineWith(throttledPromotes(() => until)).run({ accountIds: ['db1/carol'] });

      const [result] = await stores.state.listAccountResults(run.runId);
      expect(result).toMatchObject({ outcome: 'failed', errorClass: 'StoreThrottledError' });
      expect(result!.message).toMatch(/pending version, if one was stored, is kept/);
      const pending = (await stores.credentials.listVersions('s/carol')).filter((v) => v.stages.includes(AWSPENDING) && !v.stages.includes(AWSCURRENT));
      expect((await stores.credentials.getValue('s/carol', { versionId: pending[0]!.versionId })).value.reveal()).toBe(target.passwords.get('carol'));

      until = 0;
      const next = await engineWith(throttledPromotes(() => until)).run({ accountIds: ['db1/carol'] });
      expect(next.status).toBe('succeeded');
      expect(target.passwords.get('carol')).toBe(await current('carol'));
      expect(await stagesOf('carol')).toMatchObject({ [pending[0]!.versionId]: [AWSPREVIOUS] });
    });
  });
});

describe('the engine caps a target several resources share, as the workflow plan does', () => {
  it('five LDAP resources on one directory server run at most two groups at once (its groupsAtOnce); resources on another server are not held up by them', async () => {
    const stores = await openMemoryStores();
    try {
      const target = new MemoryTarget();
      const config = new Configurator(stores.state, stores.credentials, REGISTRY);
      const open = new Map<string, number>();
      const most = new Map<string, number>();
      const inner = target.adapter('ldap');
      // Each group's session counts as open on its server from the factory call to close.
      const counted = ((ctx: Parameters<typeof inner>[0]) => {
        const host = (ctx.resource as { host: string }).host;
        open.set(host, (open.get(host) ?? 0) + 1);
        most.set(host, Math.max(most.get(host) ?? 0, open.get(host)!));
        const adapter = inner(ctx);
        return {
          ...adapter,
          change: async (req: Parameters<typeof adapter.change>[0]) => {
            await new Promise((r) => setTimeout(r, 20));
            return adapter.change(req);
          },
          verify: (req: Parameters<typeof adapter.verify>[0]) => adapter.verify(req),
          close: async () => {
            open.set(host, open.get(host)! - 1);
            await adapter.close();
          },
        };
      }) as typeof inner;
      const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { ldap: counted }, log, concurrency: 8 });
      const servers = { 'dc1.example': 5, 'dc2.example': 2 };
      for (const [host, count] of Object.entries(servers)) {
        for (let i = 0; i < count; i++) {
          const id = `${host.split('.')[0]}-${i}`;
          await config.putResource({ id, type: 'ldap', host, serverType: 'openldap' });
          const dn = `uid=u${i},ou=${host},dc=example`;
          target.passwords.set(dn, `start-${id}`);
          await config.putAccount({ resourceId: id, username: dn, secretId: `s/${id}` }, { password: new Secret(`start-${id}`) });
        }
      }

      const run = await engine.run({ types: ['ldap'] });

      expect(run.counts).toMatchObject({ total: 7, succeeded: 7 });
      expect(most.get('dc1.example')).toBe(2);
      expect(most.get('dc2.example')).toBe(2);
    } finally {
      await stores.close();
    }
  });
});
