// The directory test servers (slapd, Samba AD DC) answer as the LDAP and Active Directory adapters expect.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Attribute, Change, Client, InsufficientAccessError, InvalidCredentialsError, StrongAuthRequiredError } from 'ldapts';
import { describeServer, type Servers } from '../../harness/servers/index.js';
import { uniqueName } from '../../harness/servers/fixtures.js';

const PASSWORD_MODIFY_OID = '1.3.6.1.4.1.4203.1.11.1';

function berLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length <= 0xff) return Buffer.from([0x81, length]);
  return Buffer.from([0x82, length >> 8, length & 0xff]);
}

function berElement(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), berLength(content.length), content]);
}

/** RFC 3062 PasswdModifyRequestValue ::= SEQUENCE { userIdentity [0] OPTIONAL, oldPasswd [1] OPTIONAL, newPasswd [2] OPTIONAL }. */
function passwordModifyValue(fields: { userDn?: string; oldPassword?: string; newPassword: string }): Buffer {
  const parts: Buffer[] = [];
  if (fields.userDn !== undefined) parts.push(berElement(0x80, Buffer.from(fields.userDn, 'utf8')));
  if (fields.oldPassword !== undefined) parts.push(berElement(0x81, Buffer.from(fields.oldPassword, 'utf8')));
  parts.push(berElement(0x82, Buffer.from(fields.newPassword, 'utf8')));
  return berElement(0x30, Buffer.concat(parts));
}

function replace(type: string, values: string[] | Buffer[]): Change {
  return new Change({ operation: 'replace', modification: new Attribute({ type, values }) });
}

/** A bound client: LDAPS, or StartTLS on the plain port; `ca` is the test CA. */
async function connectTls(
  server: { host: string; port: number; ldapsPort: number },
  ca: Buffer,
  how: 'ldaps' | 'starttls',
  dn: string,
  password: string,
): Promise<Client> {
  const client =
    how === 'ldaps'
      ? new Client({ url: `ldaps://${server.host}:${server.ldapsPort}`, tlsOptions: { ca }, connectTimeout: 5_000, timeout: 10_000 })
      : new Client({ url: `ldap://${server.host}:${server.port}`, connectTimeout: 5_000, timeout: 10_000 });
  try {
    if (how === 'starttls') await client.startTLS({ ca });
    await client.bind(dn, password);
  } catch (err) {
    await client.unbind().catch(() => undefined);
    throw err;
  }
  return client;
}

/** Whether DN binds with PASSWORD over LDAPS (false for invalid credentials; other errors throw). */
async function binds(server: { host: string; port: number; ldapsPort: number }, ca: Buffer, dn: string, password: string): Promise<boolean> {
  try {
    const client = await connectTls(server, ca, 'ldaps', dn, password);
    await client.unbind();
    return true;
  } catch (err) {
    if (err instanceof InvalidCredentialsError) return false;
    throw err;
  }
}

describeServer('ldap', 'the test slapd', (ldap: Servers['ldap']) => {
  const ca = readFileSync(ldap.caFile);
  let admin: Client;
  const created: string[] = [];

  beforeAll(async () => {
    admin = await connectTls(ldap, ca, 'starttls', ldap.adminDn, ldap.adminPassword);
  });
  afterAll(async () => {
    for (const dn of created) await admin.del(dn).catch(() => undefined);
    await admin?.unbind();
  });

  async function addPerson(base: string): Promise<string> {
    const uid = uniqueName('rprldap');
    const dn = `uid=${uid},ou=people,${base}`;
    await admin.add(dn, { objectClass: ['inetOrgPerson'], uid, cn: uid, sn: uid });
    created.push(dn);
    return dn;
  }

  it('serves LDAPS that verifies against caFile only', async () => {
    const client = await connectTls(ldap, ca, 'ldaps', ldap.adminDn, ldap.adminPassword);
    await client.unbind();
    const untrusting = new Client({ url: `ldaps://${ldap.host}:${ldap.ldapsPort}`, connectTimeout: 5_000 });
    await expect(untrusting.bind(ldap.adminDn, ldap.adminPassword)).rejects.toThrow(/certificate|issuer/i);
    await untrusting.unbind().catch(() => undefined);
  });

  it('lets password-admins add a user and set its password with the Password Modify operation', async () => {
    const dn = await addPerson(ldap.baseDn);
    const password = `ünï "cödé" \\ ${randomBytes(6).toString('hex')}`;
    await admin.exop(PASSWORD_MODIFY_OID, passwordModifyValue({ userDn: dn, newPassword: password }));
    expect(await binds(ldap, ca, dn, password)).toBe(true);
    expect(await binds(ldap, ca, dn, `${password}x`)).toBe(false);
  });

  it('takes any password from 1 to 128 characters (the default policy is permissive) and lets users change their own', async () => {
    const dn = await addPerson(ldap.baseDn);
    await admin.exop(PASSWORD_MODIFY_OID, passwordModifyValue({ userDn: dn, newPassword: 'x' }));
    expect(await binds(ldap, ca, dn, 'x')).toBe(true);
    const long = `${'€ü'.repeat(50)}${randomBytes(14).toString('hex')}`;
    expect([...long]).toHaveLength(128);
    const user = await connectTls(ldap, ca, 'starttls', dn, 'x');
    try {
      await user.exop(PASSWORD_MODIFY_OID, passwordModifyValue({ oldPassword: 'x', newPassword: long }));
    } finally {
      await user.unbind();
    }
    expect(await binds(ldap, ca, dn, long)).toBe(true);
    expect(await binds(ldap, ca, dn, 'x')).toBe(false);
  });

  it("does not let an ordinary user set another user's password", async () => {
    const [victim, other] = [await addPerson(ldap.baseDn), await addPerson(ldap.baseDn)];
    const password = `o-${randomBytes(6).toString('hex')}`;
    await admin.exop(PASSWORD_MODIFY_OID, passwordModifyValue({ userDn: other, newPassword: password }));
    const user = await connectTls(ldap, ca, 'ldaps', other, password);
    try {
      await expect(user.exop(PASSWORD_MODIFY_OID, passwordModifyValue({ userDn: victim, newPassword: 'stolen' }))).rejects.toBeInstanceOf(
        InsufficientAccessError,
      );
      await expect(user.modify(victim, replace('userPassword', ['stolen']))).rejects.toBeInstanceOf(InsufficientAccessError);
    } finally {
      await user.unbind();
    }
    expect(await binds(ldap, ca, victim, 'stolen')).toBe(false);
  });

  it('hashes a plain userPassword replace under baseDn but stores it as given under clearBaseDn', async () => {
    const hashedDn = await addPerson(ldap.baseDn);
    const clearDn = await addPerson(ldap.clearBaseDn);
    const password = `plain-${randomBytes(6).toString('hex')}`;
    for (const dn of [hashedDn, clearDn]) await admin.modify(dn, replace('userPassword', [password]));

    const stored = async (dn: string): Promise<string> => {
      const { searchEntries } = await admin.search(dn, { scope: 'base', attributes: ['userPassword'], explicitBufferAttributes: ['userPassword'] });
      const raw = searchEntries[0]?.userPassword as Buffer | Buffer[] | undefined;
      const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
      expect(values).toHaveLength(1);
      return (values[0] ?? Buffer.alloc(0)).toString('utf8');
    };
    expect(await stored(clearDn)).toBe(password);
    expect(await stored(hashedDn)).toMatch(/^\{SSHA\}/);
    expect(await binds(ldap, ca, hashedDn, password)).toBe(true);
    expect(await binds(ldap, ca, clearDn, password)).toBe(true);
  });
});

describeServer('samba', 'the test Samba AD DC', (samba: Servers['samba']) => {
  const ca = readFileSync(samba.caFile);
  const adminUpn = `${samba.adminUser}@${samba.realm}`;
  let admin: Client;
  const created: string[] = [];

  beforeAll(async () => {
    admin = await connectTls(samba, ca, 'ldaps', adminUpn, samba.adminPassword);
  });
  afterAll(async () => {
    for (const dn of created) await admin.del(dn).catch(() => undefined);
    await admin?.unbind();
  });

  it('refuses a simple bind without TLS and accepts it after StartTLS', async () => {
    const plain = new Client({ url: `ldap://${samba.host}:${samba.port}`, connectTimeout: 5_000, timeout: 10_000 });
    await expect(plain.bind(adminUpn, samba.adminPassword)).rejects.toBeInstanceOf(StrongAuthRequiredError);
    await plain.unbind().catch(() => undefined);
    const client = await connectTls(samba, ca, 'starttls', adminUpn, samba.adminPassword);
    await client.unbind();
  });

  it('shows the lockout threshold on the domain object', async () => {
    const { searchEntries } = await admin.search(samba.baseDn, {
      scope: 'base',
      attributes: ['lockoutThreshold', 'minPwdAge', 'pwdProperties'],
    });
    expect(Number(searchEntries[0]?.lockoutThreshold)).toBe(samba.lockoutThreshold);
    expect(samba.lockoutThreshold).toBe(5);
    expect(Number(searchEntries[0]?.minPwdAge)).toBe(0);
    expect(Number(searchEntries[0]?.pwdProperties) & 1).toBe(1); // complexity on
  });

  it('lets the administrator reset a password by replacing unicodePwd, and the user binds', async () => {
    const name = uniqueName('rprad');
    const dn = `CN=${name},CN=Users,${samba.baseDn}`;
    await admin.add(dn, { objectClass: ['top', 'person', 'organizationalPerson', 'user'], sAMAccountName: name, userAccountControl: '514' });
    created.push(dn);
    const password = `Ünï-${randomBytes(6).toString('hex')}-Aa1`;
    await admin.modify(dn, replace('unicodePwd', [Buffer.from(`"${password}"`, 'utf16le')]));
    await admin.modify(dn, replace('userAccountControl', ['512']));
    expect(await binds(samba, ca, dn, password)).toBe(true);
    expect(await binds(samba, ca, dn, `${password}x`)).toBe(false);
  });

  it('locks an account after lockoutThreshold failed binds, even for the right password', async () => {
    const name = uniqueName('rprlock');
    const dn = `CN=${name},CN=Users,${samba.baseDn}`;
    const password = `Lock-${randomBytes(6).toString('hex')}-Aa1`;
    await admin.add(dn, [
      new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
      new Attribute({ type: 'sAMAccountName', values: [name] }),
      new Attribute({ type: 'unicodePwd', values: [Buffer.from(`"${password}"`, 'utf16le')] }),
      new Attribute({ type: 'userAccountControl', values: ['512'] }),
    ]);
    created.push(dn);
    for (let i = 0; i < samba.lockoutThreshold; i++) expect(await binds(samba, ca, dn, `wrong-${i}`)).toBe(false);
    const locked = connectTls(samba, ca, 'ldaps', dn, password);
    await expect(locked).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(locked).rejects.toThrow(/data 775/); // ERROR_ACCOUNT_LOCKED_OUT
  });
});
