import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../layers/engine/secret.js';
import {
  createUnixUser,
  deleteUnixUser,
  mariadbAdminQuery,
  mariadbCreateUser,
  mariadbDropUser,
  mariadbPasswordWorks,
  pgCreateRole,
  pgDropRole,
  pgPasswordWorks,
  uniqueName,
  unixPasswordWorks,
  withRootPassword,
} from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { captureOutput, findLeaks, scanTable } from '../../support/leaks.js';
import { engineOnMoto, type EngineHarness } from './support.js';

/**
 * The whole product path on real servers: configuration validated and stored in DynamoDB,
 * passwords in Secrets Manager (both served by moto), the engine's four steps and the real
 * adapters. Outcomes are proven outside the engine with fresh logins. Cuts and reconcile on each
 * type are the adapter contract's (test/integration/contract.test.ts).
 */
describeServer('moto', 'reset engine on real servers, with DynamoDB and Secrets Manager on moto', (moto) => {
  let h: EngineHarness;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    h = await engineOnMoto(moto.endpoint);
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await h?.close();
  });

  const logs: string[] = [];
  /** Runs the engine with its logs captured for the leak search. */
  async function run(selector: Parameters<EngineHarness['engine']['run']>[0]) {
    const out = captureOutput();
    try {
      const record = await h.engine.run(selector);
      return { record, results: await h.results(record.runId) };
    } finally {
      out.restore();
      logs.push(out.text());
    }
  }

  async function addAccount(resourceId: string, username: string, password: string) {
    const secretId = h.secretName(`${resourceId}/${username}`);
    await h.config.putAccount({ resourceId, username, secretId }, { password: new Secret(password) });
    return { id: `${resourceId}/${username}`, secretId };
  }

  describeServer('ssh', 'Linux over SSH', (ssh) => {
    it('sudo: resets three users and the login itself; new passwords log in, old ones are refused, labels moved', async () => {
      const ops = uniqueName('ops');
      const users = [uniqueName('u'), uniqueName('u'), uniqueName('u')];
      await createUnixUser(ops, 'Ops-start-1', { sudo: true });
      for (const u of users) await createUnixUser(u, `${u}-Start-1`);
      cleanups.push(() => deleteUnixUser(ops), ...users.map((u) => () => deleteUnixUser(u)));
      await h.config.putResource({ id: 'lnx-sudo', type: 'linux', host: ssh.host, port: ssh.port, login: { account: `lnx-sudo/${ops}` }, privilege: { mode: 'sudo' } });
      const opsAccount = await addAccount('lnx-sudo', ops, 'Ops-start-1');
      const accounts = [];
      for (const u of users) accounts.push(await addAccount('lnx-sudo', u, `${u}-Start-1`));

      const { record, results } = await run({ resourceIds: ['lnx-sudo'] });

      expect(record.status, JSON.stringify(results)).toBe('succeeded');
      expect(results.find((r) => r.accountId === opsAccount.id)?.method).toMatch(/self|sudo/);
      for (const [i, a] of accounts.entries()) {
        const now = await h.current(a.secretId);
        expect(await h.previous(a.secretId)).toBe(`${users[i]}-Start-1`);
        expect(await unixPasswordWorks(users[i]!, now)).toBe(true);
      }
      expect(await unixPasswordWorks(users[0]!, `${users[0]}-Start-1`)).toBe(false);
      expect(await unixPasswordWorks(ops, await h.current(opsAccount.secretId))).toBe(true);
      expect(await unixPasswordWorks(ops, 'Ops-start-1')).toBe(false);
    });

    it('su: resets a user with the root account, leaving root as it was', async () => {
      const ops = uniqueName('ops');
      const user = uniqueName('u');
      await createUnixUser(ops, 'Ops-start-2');
      await createUnixUser(user, 'User-start-2');
      cleanups.push(() => deleteUnixUser(ops), () => deleteUnixUser(user));
      await withRootPassword('Root-pw-for-su-1', async () => {
        await h.config.putResource({ id: 'lnx-su', type: 'linux', host: ssh.host, port: ssh.port, login: { account: `lnx-su/${ops}` }, privilege: { mode: 'su', rootAccount: 'lnx-su/root' } });
        await addAccount('lnx-su', ops, 'Ops-start-2');
        await addAccount('lnx-su', 'root', 'Root-pw-for-su-1');
        const a = await addAccount('lnx-su', user, 'User-start-2');

        const { record, results } = await run({ accountIds: [a.id] });

        expect(record.status, JSON.stringify(results)).toBe('succeeded');
        expect(await unixPasswordWorks(user, await h.current(a.secretId))).toBe(true);
        expect(await unixPasswordWorks(user, 'User-start-2')).toBe(false);
      });
    });

    it('no privilege: the account changes its own password with passwd', async () => {
      const user = uniqueName('u');
      await createUnixUser(user, 'Self-start-3');
      cleanups.push(() => deleteUnixUser(user));
      await h.config.putResource({ id: 'lnx-self', type: 'linux', host: ssh.host, port: ssh.port, login: { account: `lnx-self/${user}` } });
      const a = await addAccount('lnx-self', user, 'Self-start-3');

      const { record, results } = await run({ resourceIds: ['lnx-self'] });

      expect(record.status, JSON.stringify(results)).toBe('succeeded');
      expect(await unixPasswordWorks(user, await h.current(a.secretId))).toBe(true);
      expect(await unixPasswordWorks(user, 'Self-start-3')).toBe(false);
    });
  });

  describeServer('telnet', 'Linux over Telnet', (telnet) => {
    it('sudo over Telnet: the new password logs in over SSH too, the old one is refused', async () => {
      const ops = uniqueName('ops');
      const user = uniqueName('u');
      await createUnixUser(ops, 'Ops-start-4', { sudo: true });
      await createUnixUser(user, 'User-start-4');
      cleanups.push(() => deleteUnixUser(ops), () => deleteUnixUser(user));
      await h.config.putResource({ id: 'lnx-telnet', type: 'linux', protocol: 'telnet', host: telnet.host, port: telnet.port, login: { account: `lnx-telnet/${ops}` }, privilege: { mode: 'sudo' } });
      await addAccount('lnx-telnet', ops, 'Ops-start-4');
      const a = await addAccount('lnx-telnet', user, 'User-start-4');

      const { record, results } = await run({ accountIds: [a.id] });

      expect(record.status, JSON.stringify(results)).toBe('succeeded');
      expect(await unixPasswordWorks(user, await h.current(a.secretId))).toBe(true);
      expect(await unixPasswordWorks(user, 'User-start-4')).toBe(false);
    });
  });

  describeServer('postgresql', 'PostgreSQL', (pg) => {
    const ca = () => readFileSync(pg.caFile, 'utf8');

    it('admin reset over SSL with the CA: every role gets a password that logs in; the old ones are refused', async () => {
      const admin = uniqueName('pgadm');
      const roles = [uniqueName('r'), uniqueName('r'), uniqueName('r')];
      await pgCreateRole(admin, 'Adm-start-5', 'CREATEROLE');
      for (const r of roles) await pgCreateRole(r, `${r}-Start-5`);
      cleanups.push(...[admin, ...roles].map((r) => () => pgDropRole(r)));
      await h.config.putResource({ id: 'pg-admin', type: 'postgresql', host: pg.host, port: pg.port, ssl: true, caCertificate: ca(), adminAccount: `pg-admin/${admin}` });
      await addAccount('pg-admin', admin, 'Adm-start-5');
      const accounts = [];
      for (const r of roles) accounts.push(await addAccount('pg-admin', r, `${r}-Start-5`));

      const { record, results } = await run({ resourceIds: ['pg-admin'] });

      expect(record.status, JSON.stringify(results)).toBe('succeeded');
      for (const [i, a] of accounts.entries()) {
        expect(await pgPasswordWorks(roles[i]!, await h.current(a.secretId))).toBe(true);
        expect(await pgPasswordWorks(roles[i]!, `${roles[i]}-Start-5`)).toBe(false);
        expect(await h.previous(a.secretId)).toBe(`${roles[i]}-Start-5`);
      }
      expect(await pgPasswordWorks(admin, await h.current(h.secretName(`pg-admin/${admin}`)))).toBe(true);
    });

    it('self change: a role without an admin changes its own password', async () => {
      const r = uniqueName('r');
      await pgCreateRole(r, 'Self-start-6');
      cleanups.push(() => pgDropRole(r));
      await h.config.putResource({ id: 'pg-self', type: 'postgresql', host: pg.host, port: pg.port, ssl: true, caCertificate: ca() });
      const a = await addAccount('pg-self', r, 'Self-start-6');

      const { record } = await run({ resourceIds: ['pg-self'] });

      expect(record.status).toBe('succeeded');
      expect(await pgPasswordWorks(r, await h.current(a.secretId))).toBe(true);
      expect(await pgPasswordWorks(r, 'Self-start-6')).toBe(false);
    });

  });

  describeServer('mariadb', 'MariaDB', (db) => {
    it('admin reset over TLS: new passwords log in, old ones are refused, labels moved', async () => {
      const admin = uniqueName('myadm');
      const users = [uniqueName('m'), uniqueName('m')];
      await mariadbCreateUser(admin, 'Adm-start-9');
      // The adapter's documented grants: CREATE USER to change others, SELECT on mysql.user to check they exist.
      await mariadbAdminQuery('GRANT CREATE USER ON *.* TO ?@?', [admin, '%']);
      await mariadbAdminQuery('GRANT SELECT ON mysql.user TO ?@?', [admin, '%']);
      for (const u of users) await mariadbCreateUser(u, `${u}-Start-9`);
      cleanups.push(() => mariadbDropUser(admin), ...users.map((u) => () => mariadbDropUser(u)));
      await h.config.putResource({ id: 'my-admin', type: 'mysql', host: db.host, port: db.port, ssl: true, caCertificate: readFileSync(db.caFile, 'utf8'), adminAccount: `my-admin/${admin}` });
      await addAccount('my-admin', admin, 'Adm-start-9');
      const accounts = [];
      for (const u of users) accounts.push(await addAccount('my-admin', u, `${u}-Start-9`));

      const { record, results } = await run({ resourceIds: ['my-admin'] });

      expect(record.status, JSON.stringify(results)).toBe('succeeded');
      for (const [i, a] of accounts.entries()) {
        expect(await mariadbPasswordWorks(users[i]!, await h.current(a.secretId))).toBe(true);
        expect(await mariadbPasswordWorks(users[i]!, `${users[i]}-Start-9`)).toBe(false);
        expect(await h.previous(a.secretId)).toBe(`${users[i]}-Start-9`);
      }
    });

    it('self change without an admin', async () => {
      const u = uniqueName('m');
      await mariadbCreateUser(u, 'Self-start-10');
      cleanups.push(() => mariadbDropUser(u));
      await h.config.putResource({ id: 'my-self', type: 'mysql', host: db.host, port: db.port });
      const a = await addAccount('my-self', u, 'Self-start-10');

      const { record } = await run({ resourceIds: ['my-self'] });

      expect(record.status).toBe('succeeded');
      expect(await mariadbPasswordWorks(u, await h.current(a.secretId))).toBe(true);
      expect(await mariadbPasswordWorks(u, 'Self-start-10')).toBe(false);
    });
  });

  describe('an unreachable resource', () => {
    it('fails only its own accounts, saying why, and changes no stored password', async () => {
      await h.config.putResource({ id: 'gone', type: 'postgresql', host: '127.0.0.1', port: 9, adminAccount: 'gone/admin' });
      await addAccount('gone', 'admin', 'Gone-start-11');
      const a = await addAccount('gone', 'app', 'Gone-app-11');

      const { record, results } = await run({ resourceIds: ['gone'] });

      expect(record.status).toBe('failed');
      expect(results.find((r) => r.accountId === a.id)).toMatchObject({ outcome: 'failed', step: 'set' });
      expect(results[0]!.message).toMatch(/127\.0\.0\.1:9|refused|connect/i);
      expect(await h.current(a.secretId)).toBe('Gone-app-11');
    });
  });

  it('(last) no password written to Secrets Manager appears in the logs, the DynamoDB table, the results or the audit trail', async () => {
    expect(h.written.size).toBeGreaterThan(10);
    const table = await scanTable(moto.endpoint, h.tableName);
    const runs = await h.stores.state.listRuns(100);
    const results = (await Promise.all(runs.map((r) => h.results(r.runId)))).flat();
    const audit = await h.stores.state.listAudit({ limit: 1000 });
    expect(logs.join('').length).toBeGreaterThan(1000);
    expect(findLeaks(h.written, { logs: logs.join('\n'), 'DynamoDB items': table, results: JSON.stringify(results), audit: JSON.stringify(audit) })).toEqual([]);
  });
});

