import { afterAll, expect, it } from 'vitest';
import type { PreflightFinding } from '../../../layers/engine/adapter.js';
import { AuthenticationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { createLdapAdapter } from '../../../layers/resources/ldap/adapter.js';
import { uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { People, account, adminCredential, binds, context, credential, resource, storedUserPasswords } from './support.js';

const summary = (findings: readonly PreflightFinding[]) => findings.map((f) => ({ ...(f.accountId ? { accountId: f.accountId } : {}), check: f.check, ok: f.ok }));

describeServer('ldap', 'LDAP dry run on OpenLDAP (rpr reset --dry-run)', (info) => {
  const people = new People(info);
  afterAll(() => people.cleanup());

  it('binds as the admin, names the change method, and finds each entry; a missing one is not ok; nothing changes', async () => {
    const password = `Pf-${uniqueName('p')}`;
    const dn = await people.add(password);
    const missing = `uid=pf_nosuch_x,ou=people,${info.baseDn}`;
    const before = await storedUserPasswords(info, dn);
    const adapter = createLdapAdapter(context(resource(info, { adminAccount: adminCredential(info).accountId }), adminCredential(info)));
    const findings = await adapter.preflight!({ accounts: [account(dn), account(missing), account('not a dn')] });
    await adapter.close();
    expect(summary(findings)).toEqual([
      { check: 'admin login', ok: true },
      { check: 'change method', ok: true },
      { accountId: account(dn).id, check: 'account exists', ok: true },
      { accountId: account(missing).id, check: 'account exists', ok: false },
      { accountId: account('not a dn').id, check: 'account name', ok: false },
    ]);
    expect(findings[1]!.detail).toContain('Password Modify extended operation');
    expect(await storedUserPasswords(info, dn)).toEqual(before);
    expect(await binds(info, dn, password)).toBe(true);
    expect(JSON.stringify(findings)).not.toContain(info.adminPassword);
  });

  it('a refused admin bind throws AuthenticationError, an unreachable server TargetUnchangedError', async () => {
    const wrong = credential(info.adminDn, 'Pf-wrong-1', adminCredential(info).accountId);
    await expect(createLdapAdapter(context(resource(info, { adminAccount: wrong.accountId }), wrong)).preflight!({ accounts: [] })).rejects.toBeInstanceOf(AuthenticationError);
    const unreachable = createLdapAdapter(context(resource(info, { port: 1, adminAccount: adminCredential(info).accountId }), adminCredential(info)));
    await expect(unreachable.preflight!({ accounts: [] })).rejects.toBeInstanceOf(TargetUnchangedError);
  });
});
