import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { OutcomeUnknownError, TargetTimeoutError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createMysqlAdapter } from '../../../layers/resources/mysql/adapter.js';
import { mariadbPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { account, context, createAdmin, createUser, credential, dropUser, resource } from './support.js';

// Faults are injected by a TCP proxy, so these connections are plain (the proxy must see the statements).
describeServer('mariadb', 'MySQL adapter on MariaDB when the connection breaks', (info) => {
  const users: string[] = [];
  const adminName = uniqueName('myfadm');
  const adminPassword = 'Fault-admin-1';
  let proxy: FaultProxy;

  async function user(password: string): Promise<string> {
    const name = uniqueName('myfault');
    users.push(name);
    await createUser(name, password);
    return name;
  }

  function adapterThroughProxy(timeoutMs = 5_000, admin = true) {
    const ctx = context(resource(info, { host: proxy.host, port: proxy.port, ssl: false }), admin ? credential(adminName, adminPassword) : undefined);
    return createMysqlAdapter({ ...ctx, timeoutMs });
  }

  beforeAll(async () => {
    users.push(adminName);
    await createAdmin(adminName, adminPassword);
  });
  afterAll(async () => {
    for (const u of users.reverse()) await dropUser(u);
  });
  beforeEach(async () => {
    proxy = await FaultProxy.start({ host: info.host, port: info.port });
  });
  afterEach(async () => {
    await proxy.close();
  });

  it('connection cut before ALTER USER reaches the server: the adapter proves nothing changed (retry is safe)', async () => {
    const name = await user('Cut-old-1');
    const adapter = adapterThroughProxy();
    proxy.cutWhenClientSends(/ALTER USER/, 'before');

    const error = await adapter.change({ account: account(name), newPassword: new Secret('Cut-new-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as Error).message).toMatch(/nothing was changed/);
    expect(await mariadbPasswordWorks(name, 'Cut-old-1')).toBe(true);
    expect(await mariadbPasswordWorks(name, 'Cut-new-1')).toBe(false);
  });

  it('connection cut after ALTER USER was sent, before its answer: OutcomeUnknownError, and exactly one password works', async () => {
    const name = await user('Cut-old-2');
    const adapter = adapterThroughProxy();
    proxy.cutWhenClientSends(/ALTER USER/, 'after');

    const error = await adapter.change({ account: account(name), newPassword: new Secret('Cut-new-2') }).catch((e: unknown) => e);
    await adapter.close();

    const newWorks = await mariadbPasswordWorks(name, 'Cut-new-2');
    expect(await mariadbPasswordWorks(name, 'Cut-old-2')).toBe(!newWorks);
    // Unknown when it landed; when the settle check proved it did not, unchanged is the truth.
    expect(error).toBeInstanceOf(newWorks ? OutcomeUnknownError : TargetUnchangedError);
    expect((error as Error).message).not.toContain('Cut-new-2');
  });

  it('self change cut before SET PASSWORD reaches the server: nothing changed', async () => {
    const name = await user('Self-cut-old-1');
    const adapter = adapterThroughProxy(5_000, false);
    proxy.cutWhenClientSends(/SET PASSWORD/, 'before');

    const error = await adapter.change({ account: account(name), newPassword: new Secret('Self-cut-new-1'), currentPassword: new Secret('Self-cut-old-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect(await mariadbPasswordWorks(name, 'Self-cut-old-1')).toBe(true);
  });

  it('a target that stops answering before the change is a TargetTimeoutError, and nothing changed', async () => {
    const name = await user('Hang-old-1');
    const warm = await user('Hang-warm-1');
    const adapter = adapterThroughProxy(1_000);
    await adapter.change({ account: account(warm), newPassword: new Secret('Hang-warm-2') });
    proxy.blackhole(true);

    await expect(adapter.change({ account: account(name), newPassword: new Secret('Hang-new-1') })).rejects.toBeInstanceOf(TargetTimeoutError);
    proxy.blackhole(false);
    await adapter.close();

    expect(await mariadbPasswordWorks(name, 'Hang-old-1')).toBe(true);
  });

  it('verify throws when the target is unreachable, rather than calling the password wrong', async () => {
    const name = await user('Verify-old-1');
    proxy.refuseNew(true);
    const adapter = adapterThroughProxy();

    await expect(adapter.verify({ account: account(name), password: new Secret('Verify-old-1') })).rejects.toBeInstanceOf(TargetUnchangedError);
    proxy.refuseNew(false);
    expect(await adapter.verify({ account: account(name), password: new Secret('Verify-old-1') })).toMatchObject({ valid: true });
    expect(await adapter.verify({ account: account(name), password: new Secret('Verify-wrong-1') })).toMatchObject({ valid: false });
    await adapter.close();
  });

  it('one admin connection serves every account', async () => {
    const names = [await user('Reuse-old-1'), await user('Reuse-old-2'), await user('Reuse-old-3')];
    const adapter = adapterThroughProxy();
    try {
      for (const [i, name] of names.entries()) await adapter.change({ account: account(name), newPassword: new Secret(`Reuse-new-${i}`) });
    } finally {
      await adapter.close();
    }

    expect(proxy.connections).toBe(1);
    for (const [i, name] of names.entries()) expect(await mariadbPasswordWorks(name, `Reuse-new-${i}`)).toBe(true);
  });
});
