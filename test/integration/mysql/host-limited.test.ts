import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createMysqlAdapter } from '../../../layers/resources/mysql/adapter.js';
import { mariadbAdminQuery, mariadbPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { stillPending } from '../../support/labels.js';
import { captureOutput, findLeaks, scanTable } from '../../support/leaks.js';
import { engineOnMoto, type EngineHarness } from '../engine/support.js';
import { account, accountState, context, createAdmin, createUser, credential, dropUser, resource, serverHoldsPassword } from './support.js';

/**
 * Accounts limited to a host (`app@10.0.0.7`) cannot be logged in to from where rpr runs: their
 * passwords are proven by attestation (the admin compares the stored hash with one computed
 * here), never by a login whose refusal would say nothing. The test client is 127.0.0.1.
 */
describeServer('mariadb', 'MySQL adapter on MariaDB: accounts limited to a host', (info) => {
  const users: [string, string][] = [];
  const adminName = uniqueName('myhadm');
  const adminPassword = 'Host-admin-1';

  async function user(password: string, host: string, name = uniqueName('myhost')): Promise<string> {
    users.push([name, host]);
    await createUser(name, password, host);
    return name;
  }
  const adminAdapter = () => createMysqlAdapter(context(resource(info), credential(adminName, adminPassword)));

  beforeAll(async () => {
    users.push([adminName, '%']);
    await createAdmin(adminName, adminPassword);
  });
  afterAll(async () => {
    for (const [u, h] of users.reverse()) await dropUser(u, h);
  });

  it('app@10.0.0.7: admin reset, then verify by attestation: the new password is valid, the old and a wrong one are not', async () => {
    const name = await user('Remote-old-1', '10.0.0.7');
    const adapter = adminAdapter();
    try {
      await adapter.change({ account: account(`${name}@10.0.0.7`), newPassword: new Secret('Remote-new-1') });

      expect(await adapter.verify({ account: account(`${name}@10.0.0.7`), password: new Secret('Remote-new-1') })).toEqual({ valid: true, by: 'attestation' });
      expect(await adapter.verify({ account: account(`${name}@10.0.0.7`), password: new Secret('Remote-old-1') })).toMatchObject({ valid: false, by: 'attestation' });
      expect(await adapter.verify({ account: account(`${name}@10.0.0.7`), password: new Secret('Remote-wrong-1') })).toMatchObject({ valid: false, by: 'attestation' });
    } finally {
      await adapter.close();
    }
    // The server's own PASSWORD() agrees; a login from here reaches no account of that name.
    expect(await serverHoldsPassword(name, '10.0.0.7', 'Remote-new-1')).toBe(true);
    expect(await mariadbPasswordWorks(name, 'Remote-new-1')).toBe(false);
  });

  it('app@127.0.0.% (a wildcard matching this client) logs in normally: verify is a login', async () => {
    const name = await user('Near-old-1', '127.0.0.%');
    const adapter = adminAdapter();
    try {
      await adapter.change({ account: account(`${name}@127.0.0.%`), newPassword: new Secret('Near-new-1') });

      const valid = await adapter.verify({ account: account(`${name}@127.0.0.%`), password: new Secret('Near-new-1') });
      expect(valid).toEqual({ valid: true });
      expect(await adapter.verify({ account: account(`${name}@127.0.0.%`), password: new Secret('Near-old-1') })).toMatchObject({ valid: false });
    } finally {
      await adapter.close();
    }
    expect(await mariadbPasswordWorks(name, 'Near-new-1')).toBe(true);
    expect(await mariadbPasswordWorks(name, 'Near-old-1')).toBe(false);
  });

  it('app@% shadowed by app@127.0.0.1 (a login from here reaches the other one): attested, not logged in to', async () => {
    const name = uniqueName('myshadow');
    await user('Shadow-any-1', '%', name);
    await user('Shadow-near-1', '127.0.0.1', name);
    const adapter = adminAdapter();
    try {
      await adapter.change({ account: account(`${name}@%`), newPassword: new Secret('Shadow-any-2') });

      expect(await adapter.verify({ account: account(`${name}@%`), password: new Secret('Shadow-any-2') })).toEqual({ valid: true, by: 'attestation' });
    } finally {
      await adapter.close();
    }
    expect(await serverHoldsPassword(name, '%', 'Shadow-any-2')).toBe(true);
    // What a login would have said: refused, though the password is right.
    expect(await mariadbPasswordWorks(name, 'Shadow-any-2')).toBe(false);
    expect(await mariadbPasswordWorks(name, 'Shadow-near-1')).toBe(true);
  });

  it('without an admin, app@10.0.0.7 is refused naming adminAccount, and nothing is changed', async () => {
    const name = await user('Lonely-old-1', '10.0.0.7');
    const before = await accountState(name, '10.0.0.7');
    const adapter = createMysqlAdapter(context(resource(info)));

    const error = await adapter
      .change({ account: account(`${name}@10.0.0.7`), newPassword: new Secret('Lonely-new-1'), currentPassword: new Secret('Lonely-old-1') })
      .catch((e: unknown) => e);
    const verifying = await adapter.verify({ account: account(`${name}@10.0.0.7`), password: new Secret('Lonely-old-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error, String(error) + String((error as Error).cause)).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe('adminAccount');
    // Nor does verify call a password it cannot prove wrong.
    expect(verifying).toBeInstanceOf(InvalidConfigurationError);
    expect(await accountState(name, '10.0.0.7')).toBe(before);
  });

  it('app@10.0.0.7 with a plugin that stores nothing comparable (unix_socket) is refused naming username, before anything is sent', async () => {
    const name = uniqueName('mysock');
    users.push([name, '10.0.0.7']);
    await mariadbAdminQuery('CREATE USER ?@? IDENTIFIED VIA unix_socket', [name, '10.0.0.7']);
    const before = await accountState(name, '10.0.0.7');
    const adapter = adminAdapter();

    const error = await adapter.change({ account: account(`${name}@10.0.0.7`), newPassword: new Secret('Socket-new-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe('username');
    expect(await accountState(name, '10.0.0.7')).toBe(before);
  });
});

describeServer('moto', 'reset engine with a MariaDB account limited to a host', (moto) => {
  describeServer('mariadb', 'on MariaDB', (db) => {
    let h: EngineHarness;
    const cleanups: (() => Promise<unknown>)[] = [];
    beforeAll(async () => {
      h = await engineOnMoto(moto.endpoint);
    });
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    });
    afterAll(async () => {
      await h?.close();
    });

    const logs: string[] = [];
    const results: unknown[] = [];
    /** Runs the engine with its logs captured for the leak search. */
    async function run(accountId: string) {
      const out = captureOutput();
      try {
        const record = await h.engine.run({ accountIds: [accountId] });
        const r = await h.results(record.runId);
        results.push(...r);
        return r;
      } finally {
        out.restore();
        logs.push(out.text());
      }
    }

    async function setUp(id: string, proxied: boolean) {
      const admin = uniqueName('myeadm');
      const u = uniqueName('myeng');
      await createAdmin(admin, `${id}-Adm-1`);
      await createUser(u, `${id}-Start-1`, '10.0.0.7');
      cleanups.push(() => dropUser(admin), () => dropUser(u, '10.0.0.7'));
      let target = { host: db.host, port: db.port };
      let proxy: FaultProxy | undefined;
      if (proxied) {
        proxy = await FaultProxy.start(target);
        cleanups.push(() => proxy!.close());
        target = { host: proxy.host, port: proxy.port };
      }
      await h.config.putResource({ id, type: 'mysql', ...target, adminAccount: `${id}/${admin}` });
      await h.config.putAccount({ resourceId: id, username: admin, secretId: h.secretName(`${id}/${admin}`) }, { password: new Secret(`${id}-Adm-1`) });
      const secretId = h.secretName(`${id}/${u}`);
      await h.config.putAccount({ resourceId: id, username: `${u}@10.0.0.7`, secretId }, { password: new Secret(`${id}-Start-1`) });
      return { u, secretId, accountId: `${id}/${u}@10.0.0.7`, proxy };
    }

    it('a reset succeeds: the test step proves the new password by attestation', async () => {
      const { u, secretId, accountId } = await setUp('my-att', false);

      const [result] = await run(accountId);

      expect(result, JSON.stringify(result)).toMatchObject({ outcome: 'succeeded' });
      const current = await h.current(secretId);
      expect(current).not.toBe('my-att-Start-1');
      expect(await serverHoldsPassword(u, '10.0.0.7', current)).toBe(true);
    });

    it('a TCP cut right after ALTER USER: reconcile finds the new password by attestation and promotes it', async () => {
      const { u, secretId, accountId, proxy } = await setUp('my-attcut', true);
      proxy!.cutWhenClientSends('ALTER USER', 'after');

      const [result] = await run(accountId);

      // The server ran the statement it had received in full; the answer was lost, and reconcile settled it.
      expect(result, JSON.stringify(result)).toMatchObject({ outcome: 'succeeded', step: 'reconcile', errorClass: 'OutcomeUnknownError' });
      expect(result!.message).toMatch(/reconciled: the change had been applied/);
      const current = await h.current(secretId);
      expect(current).not.toBe('my-attcut-Start-1');
      expect(await h.previous(secretId)).toBe('my-attcut-Start-1');
      expect(await serverHoldsPassword(u, '10.0.0.7', current)).toBe(true);
      expect(stillPending(await h.credentials.listVersions(secretId))).toEqual([]);
      expect(proxy!.connections).toBeGreaterThan(1);
    });

    it('(last) no password written to Secrets Manager appears in the logs, the DynamoDB table or the results', async () => {
      expect(h.written.size).toBeGreaterThan(4);
      const table = await scanTable(moto.endpoint, h.tableName);
      expect(findLeaks(h.written, { logs: logs.join('\n'), 'DynamoDB items': table, results: JSON.stringify(results) })).toEqual([]);
    });
  });
});
