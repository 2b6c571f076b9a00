import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { TargetTimeoutError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createMysqlAdapter } from '../../../layers/resources/mysql/adapter.js';
import { mariadbPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { account, context, createAdmin, createUser, credential, dropUser, resource } from './support.js';

/**
 * A logged-in MariaDB that stops answering: the case the adapter contract (test/contracts/adapter.ts:
 * cuts before and after the change in both modes, an unreachable target, one connection per
 * group) does not cover. The fault is injected by a TCP proxy, so the connection is plain.
 */
describeServer('mariadb', 'MySQL adapter on MariaDB when a logged-in server stops answering', (info) => {
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

  function adapterThroughProxy(timeoutMs: number) {
    const ctx = context(resource(info, { host: proxy.host, port: proxy.port, ssl: false }), credential(adminName, adminPassword));
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

  it('a logged-in target that stops answering before the change is a TargetTimeoutError, and nothing changed', async () => {
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

});
