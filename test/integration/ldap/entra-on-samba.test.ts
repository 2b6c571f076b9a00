import { readFileSync } from 'node:fs';
import { Attribute, Client, InvalidCredentialsError } from 'ldapts';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Credential, TargetAdapter } from '../../../layers/engine/adapter.js';
import { AuthenticationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { createLdapAdapter } from '../../../layers/resources/ldap/adapter.js';
import { ldapSchema } from '../../../layers/resources/ldap/schema.js';
import { unicodePwdValue } from '../../../layers/resources/ldap/unicode-pwd.js';
import { uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer, stateDir } from '../../../harness/servers/index.js';
import { findLeaks } from '../../support/leaks.js';

/**
 * The `entra-id` server type changes passwords through unicodePwd over LDAPS, as Active Directory does
 * ([MS-ADTS] 3.1.1.3.1.5.1); Entra Domain Services is a managed AD DS. No Entra tenant is available here,
 * so the method itself runs against the Samba AD DC: an admin replace, a user's delete+add, each proven
 * by binds. (What Entra DS adds on top, such as which accounts may be written, is not tested.)
 */
describeServer('samba', 'LDAP adapter, Entra ID method (unicodePwd over LDAPS), on the Samba AD DC as a stand-in', (samba) => {
  const ca = readFileSync(samba.caFile, 'utf8');
  const adminUpn = `${samba.adminUser}@${samba.realm}`;
  const adminDn = `CN=${samba.adminUser},CN=Users,${samba.baseDn}`;
  const created: string[] = [];
  const adapters: TargetAdapter[] = [];
  const passwords = new Set<string>([samba.adminPassword]);
  const seen: string[] = [];
  let root: Client;

  /**
   * Samba keeps accepting the previous password for 60 minutes unless "old password allowed period = 0"
   * (TEST-SERVERS.md); setup.sh passes it at provision, but a DC provisioned before that keeps the default.
   * The old-password refusal is asserted when the running DC has it; the write itself is always proven
   * by the new password binding and pwdLastSet moving.
   */
  const oldPasswordRefused = (() => {
    try {
      return /^\s*old password allowed period\s*=\s*0\s*$/im.test(readFileSync(`${stateDir}samba/etc/smb.conf`, 'utf8'));
    } catch {
      return false;
    }
  })();
  async function pwdLastSet(dn: string): Promise<bigint> {
    const { searchEntries } = await root.search(dn, { scope: 'base', attributes: ['pwdLastSet'] });
    return BigInt(String(searchEntries[0]?.pwdLastSet ?? '0'));
  }
  async function expectOldRefused(dn: string, old: string): Promise<void> {
    if (oldPasswordRefused) expect(await binds(dn, old)).toBe(false);
  }

  function pw(label: string): string {
    // Complexity: upper, lower, digit, symbol; unique so that history never interferes.
    const p = `${label}-Aa1!${uniqueName('p')}`;
    passwords.add(p);
    return p;
  }
  function resource(over: Record<string, unknown> = {}) {
    return ldapSchema.parse({ id: 'entra', type: 'ldap', serverType: 'entra-id', host: samba.host, port: samba.ldapsPort, ssl: true, caCertificate: ca, baseDn: samba.baseDn, ...over });
  }
  function adapterFor(admin: boolean): TargetAdapter {
    const credentials: Record<string, Credential> = admin ? { admin: { accountId: `entra/${adminDn}`, username: adminDn, password: new Secret(samba.adminPassword) } } : {};
    const a = createLdapAdapter(adapterContext(resource(), credentials, { timeoutMs: 10_000 }));
    adapters.push(a);
    return a;
  }
  function account(dn: string) {
    return { id: `entra/${dn}`, resourceId: 'entra', username: dn, secretId: 'unused', tags: [] };
  }
  async function binds(dn: string, password: string): Promise<boolean> {
    const c = new Client({ url: `ldaps://${samba.host}:${samba.ldapsPort}`, tlsOptions: { ca }, connectTimeout: 5_000, timeout: 10_000 });
    try {
      await c.bind(dn, password);
      return true;
    } catch (e) {
      if (e instanceof InvalidCredentialsError) return false;
      throw e;
    } finally {
      await c.unbind().catch(() => undefined);
    }
  }
  async function addUser(password: string): Promise<string> {
    const name = uniqueName('rpre');
    const dn = `CN=${name},CN=Users,${samba.baseDn}`;
    await root.add(dn, [
      new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
      new Attribute({ type: 'sAMAccountName', values: [name] }),
      new Attribute({ type: 'unicodePwd', values: [unicodePwdValue(new Secret(password))] }),
      new Attribute({ type: 'userAccountControl', values: ['512'] }),
    ]);
    created.push(dn);
    return dn;
  }

  beforeAll(async () => {
    root = new Client({ url: `ldaps://${samba.host}:${samba.ldapsPort}`, tlsOptions: { ca }, connectTimeout: 5_000, timeout: 10_000 });
    await root.bind(adminUpn, samba.adminPassword);
  });
  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.close();
  });
  afterAll(async () => {
    for (const dn of created) await root.del(dn).catch(() => undefined);
    await root?.unbind();
  });

  it('admin reset replaces unicodePwd: the new password binds, pwdLastSet moves (and the old one is refused where the DC closes its old-password window)', async () => {
    const old = pw('Old');
    const next = pw('New "q" \\ ü');
    const dn = await addUser(old);
    const before = await pwdLastSet(dn);
    expect(await binds(dn, next)).toBe(false);

    const adapter = adapterFor(true);
    const startedAt = Date.now();
    const result = await adapter.change({ account: account(dn), newPassword: new Secret(next) });

    expect(result.method).toBe('admin reset: unicodePwd modify');
    // Drift detection reads pwdLastSet (FILETIME) with the admin login: the reset just now.
    const lastSet = await adapter.passwordLastSet!(account(dn));
    expect(Math.abs(lastSet!.getTime() - startedAt)).toBeLessThan(5_000);
    expect(await binds(dn, next)).toBe(true);
    expect(await pwdLastSet(dn)).toBeGreaterThan(before);
    await expectOldRefused(dn, old);
  });

  it('self change deletes the old value and adds the new in one modify; a wrong old password is refused at the bind and changes nothing', async () => {
    const old = pw('Old');
    const next = pw('New');
    const dn = await addUser(old);
    const before = await pwdLastSet(dn);
    const adapter = adapterFor(false);

    const wrong = await adapter.change({ account: account(dn), newPassword: new Secret(next), currentPassword: new Secret(pw('Wrong')) }).catch((e: Error) => e);
    seen.push(String(wrong), (wrong as Error).stack ?? '');
    expect(wrong).toBeInstanceOf(AuthenticationError);

    const result = await adapter.change({ account: account(dn), newPassword: new Secret(next), currentPassword: new Secret(old) });
    expect(result.method).toBe('self change: unicodePwd modify');
    expect(await binds(dn, next)).toBe(true);
    expect(await pwdLastSet(dn)).toBeGreaterThan(before);
    await expectOldRefused(dn, old);
    expect(await adapter.verify({ account: account(dn), password: new Secret(next) })).toEqual({ valid: true });
  });

  it('a password the domain policy refuses (too short) is TargetUnchangedError with the server\'s reason; nothing changed', async () => {
    const old = pw('Old');
    const dn = await addUser(old);
    const before = await pwdLastSet(dn);
    const e = await adapterFor(true)
      .change({ account: account(dn), newPassword: new Secret('Aa1!') })
      .catch((err: Error) => err);
    seen.push(String(e), (e as Error).stack ?? '');
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toMatch(/LDAP result 19|0000052D/);
    expect(await binds(dn, old)).toBe(true);
    expect(await pwdLastSet(dn)).toBe(before);
  });

  it('(last) no password appears in the errors of this suite', () => {
    expect(seen.length).toBeGreaterThan(2);
    expect(findLeaks(passwords, { errors: seen.join('\n') })).toEqual([]);
  });
});
