import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PreflightFinding } from '../../../layers/engine/adapter.js';
import { AuthenticationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { createMysqlAdapter } from '../../../layers/resources/mysql/adapter.js';
import { mariadbAdminQuery, mariadbPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { account, accountState, context, countingListener, createAdmin, createUser, credential, dropUser, resource } from './support.js';

const find = (findings: readonly PreflightFinding[], check: string, accountId?: string) => findings.find((f) => f.check === check && f.accountId === accountId);

describeServer('mariadb', 'MySQL dry run on a real MariaDB server (rpr reset --dry-run)', (info) => {
  const made: string[] = [];
  const app = uniqueName('pfapp');
  const admin = uniqueName('pfadm');

  async function user(prefix: string, password: string, grants: string[] = []): Promise<string> {
    const name = uniqueName(prefix);
    made.push(name);
    await createUser(name, password);
    for (const grant of grants) await mariadbAdminQuery(`GRANT ${grant} TO ?@?`, [name, '%']);
    return name;
  }

  beforeAll(async () => {
    made.push(app, admin);
    await createUser(app, 'Pf-app-1');
    await createAdmin(admin, 'Pf-admin-1');
  });
  afterAll(async () => {
    for (const name of made) await dropUser(name);
  });

  /** Runs the dry run as `adminName`, then shows nothing changed: every account's row is as it was and its password still logs in. */
  async function dryRun(adminName: string | undefined, adminPassword: string, names: string[], passwords: Record<string, string>): Promise<readonly PreflightFinding[]> {
    const before = await Promise.all(Object.keys(passwords).map((n) => accountState(n)));
    const adapter = createMysqlAdapter(context(resource(info, adminName ? { adminAccount: `my-test/${adminName}` } : {}), adminName ? credential(adminName, adminPassword) : undefined));
    let findings: readonly PreflightFinding[];
    try {
      findings = await adapter.preflight!({ accounts: names.map(account) });
    } finally {
      await adapter.close();
    }
    expect(await Promise.all(Object.keys(passwords).map((n) => accountState(n)))).toEqual(before);
    for (const [name, password] of Object.entries(passwords)) {
      expect(await mariadbPasswordWorks(name, password), name).toBe(true);
      expect(JSON.stringify(findings)).not.toContain(password);
    }
    return findings;
  }

  it('an admin with CREATE USER: ok, each account found with its plugin and proof; a missing account is not ok', async () => {
    const findings = await dryRun(admin, 'Pf-admin-1', [app, 'pf_nosuch_x'], { [app]: 'Pf-app-1', [admin]: 'Pf-admin-1' });
    expect(findings.map((f) => ({ accountId: f.accountId, check: f.check, ok: f.ok }))).toEqual([
      { accountId: undefined, check: 'admin login', ok: true },
      { accountId: undefined, check: 'CREATE USER', ok: true },
      { accountId: account(app).id, check: 'account exists', ok: true },
      { accountId: account(app).id, check: 'change form', ok: true },
      { accountId: account(app).id, check: 'proof', ok: true },
      { accountId: account('pf_nosuch_x').id, check: 'account exists', ok: false },
    ]);
    expect(find(findings, 'CREATE USER')?.detail).toContain('CREATE USER (global)');
    expect(find(findings, 'change form', account(app).id)?.detail).toContain('mysql_native_password');
    expect(find(findings, 'account exists', account('pf_nosuch_x').id)?.detail).toContain('"pf_nosuch_x@%"');
  });

  it('an admin without CREATE USER is not ok, naming the privilege to grant; UPDATE on mysql.* is enough', async () => {
    const reader = await user('pfread', 'Pf-read-1', ['SELECT ON mysql.*']);
    const missing = find(await dryRun(reader, 'Pf-read-1', [app], { [app]: 'Pf-app-1', [reader]: 'Pf-read-1' }), 'CREATE USER');
    expect(missing?.ok).toBe(false);
    expect(missing?.detail).toContain('GRANT CREATE USER ON *.*');
    const updater = await user('pfupd', 'Pf-upd-1', ['SELECT, UPDATE ON mysql.*']);
    expect(find(await dryRun(updater, 'Pf-upd-1', [app], { [app]: 'Pf-app-1' }), 'CREATE USER')).toMatchObject({ ok: true, detail: expect.stringContaining('UPDATE on mysql.*') as unknown });
  });

  it('an admin that may not read mysql.user is not ok: rpr cannot look the accounts up', async () => {
    const blind = await user('pfblind', 'Pf-blind-1', ['CREATE USER ON *.*']);
    const findings = await dryRun(blind, 'Pf-blind-1', [app], { [app]: 'Pf-app-1' });
    expect(find(findings, 'CREATE USER')?.ok).toBe(true);
    expect(find(findings, 'read mysql.user')).toMatchObject({ ok: false, detail: expect.stringContaining('GRANT SELECT ON mysql.user') as unknown });
  });

  it('an account that authenticates with unix_socket has no password to change: not ok', async () => {
    const socket = uniqueName('pfsock');
    made.push(socket);
    await mariadbAdminQuery('CREATE USER ?@? IDENTIFIED VIA unix_socket', [socket, '%']);
    const before = await accountState(socket);
    const findings = await dryRun(admin, 'Pf-admin-1', [socket], { [app]: 'Pf-app-1' });
    expect(find(findings, 'change form', account(socket).id)).toMatchObject({ ok: false, detail: expect.stringContaining('unix_socket') as unknown });
    expect(await accountState(socket)).toEqual(before);
  });

  it('without an admin, each account changes its own password: said, without a login', async () => {
    const findings = await dryRun(undefined, '', [app], { [app]: 'Pf-app-1' });
    expect(findings).toEqual([{ accountId: account(app).id, check: 'self change', ok: true, detail: expect.stringContaining('current password') as unknown }]);
  });

  it('a refused admin login throws AuthenticationError, an unreachable server TargetUnchangedError', async () => {
    const adapter = createMysqlAdapter(context(resource(info, { adminAccount: `my-test/${admin}` }), credential(admin, 'Pf-wrong-1')));
    await expect(adapter.preflight!({ accounts: [account(app)] })).rejects.toBeInstanceOf(AuthenticationError);
    const listener = await countingListener();
    try {
      const unreachable = createMysqlAdapter(context(resource(info, { port: listener.port, adminAccount: `my-test/${admin}` }), credential(admin, 'Pf-admin-1')));
      await expect(unreachable.preflight!({ accounts: [account(app)] })).rejects.toBeInstanceOf(TargetUnchangedError);
    } finally {
      await listener.close();
    }
    expect(await mariadbPasswordWorks(admin, 'Pf-admin-1')).toBe(true);
  });
});
