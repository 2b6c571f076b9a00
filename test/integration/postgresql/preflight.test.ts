import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PreflightFinding } from '../../../layers/engine/adapter.js';
import { AuthenticationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { createPostgresqlAdapter } from '../../../layers/resources/postgresql/adapter.js';
import { pgAdminQuery, pgPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { account, context, countingListener, createRole, credential, dropRole, resource, storedPassword } from './support.js';

const summary = (findings: readonly PreflightFinding[]) => findings.map((f) => ({ ...(f.accountId ? { accountId: f.accountId } : {}), check: f.check, ok: f.ok }));
const find = (findings: readonly PreflightFinding[], check: string, accountId?: string) => findings.find((f) => f.check === check && f.accountId === accountId);

describeServer('postgresql', 'PostgreSQL dry run on a real server (rpr reset --dry-run)', (info) => {
  const made: string[] = [];
  const app = uniqueName('pfapp');
  const admin = uniqueName('pfadm');

  async function role(prefix: string, password: string, options = ''): Promise<string> {
    const name = uniqueName(prefix);
    made.push(name);
    await createRole(name, password, options);
    return name;
  }

  beforeAll(async () => {
    made.push(app, admin);
    await createRole(app, 'Pf-app-1');
    await createRole(admin, 'Pf-admin-1', 'CREATEROLE');
  });
  afterAll(async () => {
    for (const name of made.reverse()) await dropRole(name);
  });

  /** The dry run as `adminName`, then proof that nothing changed: each role's stored verifier is as it was and its password logs in. */
  async function dryRun(adminName: string | undefined, adminPassword: string, names: string[], passwords: Record<string, string>): Promise<readonly PreflightFinding[]> {
    const before = await Promise.all(Object.keys(passwords).map(storedPassword));
    const adapter = createPostgresqlAdapter(context(resource(info, adminName ? { adminAccount: `pg-test/${adminName}` } : {}), adminName ? credential(adminName, adminPassword) : undefined));
    let findings: readonly PreflightFinding[];
    try {
      findings = await adapter.preflight!({ accounts: names.map(account) });
    } finally {
      await adapter.close();
    }
    expect(await Promise.all(Object.keys(passwords).map(storedPassword))).toEqual(before);
    for (const [name, password] of Object.entries(passwords)) {
      expect(await pgPasswordWorks(name, password), name).toBe(true);
      expect(JSON.stringify(findings)).not.toContain(password);
    }
    return findings;
  }

  it('an admin with CREATEROLE may change an ordinary role; a missing role and a superuser are not ok', async () => {
    const superuser = await role('pfsuper', 'Pf-super-1', 'SUPERUSER');
    const findings = await dryRun(admin, 'Pf-admin-1', [app, 'pf_nosuch_x', superuser, admin], { [app]: 'Pf-app-1', [admin]: 'Pf-admin-1', [superuser]: 'Pf-super-1' });
    expect(summary(findings)).toEqual([
      { check: 'admin login', ok: true },
      { check: 'CREATEROLE', ok: true },
      { accountId: account(app).id, check: 'role exists', ok: true },
      { accountId: account(app).id, check: 'may alter', ok: true },
      { accountId: account('pf_nosuch_x').id, check: 'role exists', ok: false },
      { accountId: account(superuser).id, check: 'role exists', ok: true },
      { accountId: account(superuser).id, check: 'may alter', ok: false },
      { accountId: account(admin).id, check: 'self change', ok: true },
    ]);
    expect(find(findings, 'may alter', account(superuser).id)?.detail).toContain('only a superuser');
  });

  it('an admin without CREATEROLE is not ok, naming the attribute to give it', async () => {
    const plain = await role('pfplain', 'Pf-plain-1');
    const findings = await dryRun(plain, 'Pf-plain-1', [app], { [app]: 'Pf-app-1', [plain]: 'Pf-plain-1' });
    expect(find(findings, 'CREATEROLE')).toMatchObject({ ok: false, detail: expect.stringContaining('CREATEROLE') as unknown });
    expect(find(findings, 'may alter', account(app).id)).toBeUndefined();
  });

  it('a NOLOGIN role can be changed but not proven: not ok', async () => {
    const nologin = await role('pfnolog', 'Pf-nologin-1');
    await pgAdminQuery(`ALTER ROLE ${nologin} NOLOGIN`);
    const before = await storedPassword(nologin);
    const findings = await dryRun(admin, 'Pf-admin-1', [nologin], { [app]: 'Pf-app-1' });
    expect(find(findings, 'proof', account(nologin).id)).toMatchObject({ ok: false, detail: expect.stringContaining('NOLOGIN') as unknown });
    expect(await storedPassword(nologin)).toBe(before);
  });

  it('without an admin, each role changes its own password: said, without a login', async () => {
    expect(summary(await dryRun(undefined, '', [app], { [app]: 'Pf-app-1' }))).toEqual([{ accountId: account(app).id, check: 'self change', ok: true }]);
  });

  it('a refused admin login throws AuthenticationError, an unreachable server TargetUnchangedError', async () => {
    const refused = createPostgresqlAdapter(context(resource(info, { adminAccount: `pg-test/${admin}` }), credential(admin, 'Pf-wrong-1')));
    await expect(refused.preflight!({ accounts: [account(app)] })).rejects.toBeInstanceOf(AuthenticationError);
    const listener = await countingListener();
    try {
      const unreachable = createPostgresqlAdapter(context(resource(info, { port: listener.port, adminAccount: `pg-test/${admin}` }), credential(admin, 'Pf-admin-1')));
      await expect(unreachable.preflight!({ accounts: [account(app)] })).rejects.toBeInstanceOf(TargetUnchangedError);
    } finally {
      await listener.close();
    }
    expect(await pgPasswordWorks(admin, 'Pf-admin-1')).toBe(true);
  });
});
