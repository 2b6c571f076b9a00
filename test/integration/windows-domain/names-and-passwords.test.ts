import { inspect } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createWindowsDomainAdapter } from '../../../layers/resources/windows-domain/adapter.js';
import { describeServer } from '../../../harness/servers/index.js';
import { countingListener } from '../postgresql/support.js';
import { account, bindWorks, context, createUser, credential, deleteUser, escapeDnValue, freshPassword, makeDomainAdmin, readUser, resource, usersContainer, type TestUser } from './support.js';

const PRINTABLE_ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

describeServer('samba', 'windows-domain passwords and account names on a real Samba AD DC', (info) => {
  const created: TestUser[] = [];
  let admin: TestUser;
  let adminPassword: string;
  const errors: unknown[] = [];
  const passwords: string[] = [];

  async function user(password: string, options: Parameters<typeof createUser>[2] = {}): Promise<TestUser> {
    const u = await createUser(info, password, options);
    created.push(u);
    return u;
  }

  beforeAll(async () => {
    adminPassword = freshPassword();
    admin = await user(adminPassword);
    await makeDomainAdmin(info, admin);
  });

  afterAll(async () => {
    for (const u of created.reverse()) await deleteUser(info, u.dn);
  });

  const adminAdapter = () => createWindowsDomainAdapter(context(resource(info), credential(admin.sam, adminPassword)));

  it('the password gauntlet: each hostile or unusual password that meets the domain policy is set exactly and binds', async () => {
    // Each is made unique (history 24) and complex by a fresh part; the domain's rule needs 3 categories.
    const fresh = () => `Q7-${freshPassword().slice(3, 12)}`;
    const gauntlet = [
      PRINTABLE_ASCII, // every printable ASCII character, space included
      `with space inside ${fresh()}`,
      ` leading and trailing spaces ${fresh()} `,
      `single'quote ${fresh()}`,
      `"${fresh()}"`, // wrapped in the very quotes unicodePwd adds
      `double"quote""${fresh()}`,
      `back\\slash\\${fresh()}\\`,
      `\\"${fresh()}\\"`,
      `)(cn=*)(${fresh()}`,
      `Unicode: é ü ß 密码 пароль 🔑 ${fresh()}`,
      `Ünïcödé-Größe-${fresh()}`,
      `x${fresh()}`.padEnd(256, 'Yz9-'), // the maximum: 256 UTF-16 code units
    ];
    const u = await user(freshPassword());
    const adapter = adminAdapter();
    try {
      for (const pw of gauntlet) {
        passwords.push(pw);
        expect(await adapter.change({ account: account(u.sam), newPassword: new Secret(pw) }), JSON.stringify(pw.slice(0, 40))).toEqual({ method: 'admin reset' });
        expect(await bindWorks(info, u.dn, pw), JSON.stringify(pw.slice(0, 40))).toBe(true);
        expect(await adapter.verify({ account: account(u.sam), password: new Secret(pw) })).toEqual({ valid: true });
      }
    } finally {
      await adapter.close();
    }
    expect(await bindWorks(info, u.upn, gauntlet[gauntlet.length - 2]!)).toBe(false);
  });

  it('refuses before connecting: NUL, newline, empty, over 256 UTF-16 units (an emoji counts twice), and names that are not account names', async () => {
    const listener = await countingListener();
    const adapter = createWindowsDomainAdapter(context(resource(info, { host: '127.0.0.1', port: listener.port }), credential(admin.sam, adminPassword)));
    try {
      for (const pw of ['nul\0Inside-1', 'new\nLine-1', '', 'Aa1-'.repeat(64) + 'x', 'Aa1-🔑'.repeat(43)]) {
        const e = await adapter.change({ account: account('jdoe'), newPassword: new Secret(pw) }).catch((x: unknown) => x);
        errors.push(e);
        expect(e).toBeInstanceOf(InvalidConfigurationError);
        expect((e as InvalidConfigurationError).field).toMatch(/newPassword/);
      }
      for (const name of ['vic*', 'a)(sAMAccountName=*', 'x\0y', 'CN=x\\00y,DC=rpr,DC=test', 'CN=a,b,DC=rpr,DC=test', 'CN=x,OU=NoDomain', '*@rpr.test', 'jdoe\nCN=x']) {
        const e = await adapter.change({ account: account(name), newPassword: new Secret(freshPassword()) }).catch((x: unknown) => x);
        errors.push(e);
        expect(e, JSON.stringify(name)).toMatchObject({ field: 'account.username' });
        const v = await adapter.verify({ account: account(name), password: new Secret(freshPassword()) }).catch((x: unknown) => x);
        expect(v, JSON.stringify(name)).toMatchObject({ field: 'account.username' });
      }
      expect(listener.connections()).toBe(0);
    } finally {
      await adapter.close();
      await listener.close();
    }
  });

  it('DNs with LDAP-special characters are quoted and reach exactly their entry; a look-alike victim is never touched', async () => {
    const victimPassword = freshPassword();
    const victim = await user(victimPassword, { cn: `victim ${freshPassword().slice(3, 9)}` });
    const victimBefore = await readUser(info, victim.sam, ['pwdLastSet']);
    const specials = [',', '+', '"', '\\', '<', '>', ';', '=', '*', '(', ')', '#', ' '];
    const odd: TestUser[] = [];
    for (const c of specials) odd.push(await user(freshPassword(), { cn: `${victim.dn.slice(3, victim.dn.indexOf(','))}${c}x${c}` }));
    odd.push(await user(freshPassword(), { cn: `#lead ${victim.sam}` }));
    odd.push(await user(freshPassword(), { cn: `${victim.sam}*` }));
    const adapter = adminAdapter();
    try {
      for (const u of odd) {
        const next = freshPassword();
        passwords.push(next);
        expect((await adapter.change({ account: account(u.dn), newPassword: new Secret(next) })).method, u.dn).toBe('admin reset');
        expect(await bindWorks(info, u.upn, next), u.dn).toBe(true);
      }
      // A DN whose value is a wildcard, or the victim's DN with a filter tail, names no entry: nothing is changed.
      for (const dn of [`CN=*,${usersContainer(info)}`, `CN=${escapeDnValue(`victim*)(cn=*`)},${usersContainer(info)}`]) {
        const e = await adapter.change({ account: account(dn), newPassword: new Secret(freshPassword()) }).catch((x: unknown) => x);
        errors.push(e);
        expect(e, dn).toBeInstanceOf(InvalidConfigurationError);
        expect((e as Error).message).toMatch(/no user account/);
      }
    } finally {
      await adapter.close();
    }
    expect(await readUser(info, victim.sam, ['pwdLastSet'])).toEqual(victimBefore);
    expect(await bindWorks(info, victim.upn, victimPassword)).toBe(true);
  });

  it('sAMAccountNames and UPNs are matched exactly: a leading "#" or inner spaces are fine, and a base DN confines the search', async () => {
    const hash = await user(freshPassword(), { sam: `#${freshPassword().slice(3, 12).replace(/[^A-Za-z0-9]/g, 'q')}` });
    const spaced = await user(freshPassword(), { sam: `sp ${freshPassword().slice(3, 10).replace(/[^A-Za-z0-9]/g, 'q')}` });
    const adapter = adminAdapter();
    try {
      for (const name of [hash.sam, spaced.upn]) {
        const next = freshPassword();
        passwords.push(next);
        await adapter.change({ account: account(name), newPassword: new Secret(next) });
        expect(await bindWorks(info, name === hash.sam ? hash.upn : spaced.upn, next)).toBe(true);
      }
    } finally {
      await adapter.close();
    }
    // The admin itself lives under CN=Users; a resource confined to CN=Computers cannot reach it.
    const confined = createWindowsDomainAdapter(context(resource(info, { baseDn: `CN=Computers,${info.baseDn}` }), credential(admin.sam, adminPassword)));
    const e = await confined.change({ account: account(hash.dn), newPassword: new Secret(freshPassword()) }).catch((x: unknown) => x);
    await confined.close();
    errors.push(e);
    expect(e).toBeInstanceOf(InvalidConfigurationError);
  });

  it('a password the adapter knows the domain refuses (it holds the sAMAccountName) is refused before sending, naming the rule', async () => {
    const u = await user(freshPassword());
    const before = await readUser(info, u.sam, ['pwdLastSet']);
    const adapter = adminAdapter();
    const pw = `Xx1-${u.sam.toUpperCase()}-9`;
    passwords.push(pw);
    const e = await adapter.change({ account: account(u.sam), newPassword: new Secret(pw) }).catch((x: unknown) => x);
    await adapter.close();
    errors.push(e);

    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toMatch(/sAMAccountName.*complexity rule/);
    expect(await readUser(info, u.sam, ['pwdLastSet'])).toEqual(before);
  });

  it('no error of this suite holds a password', () => {
    expect(errors.length).toBeGreaterThan(10);
    const text = errors.map((e) => inspect(e, { depth: 8, showHidden: true })).join('\n');
    for (const pw of [...passwords, adminPassword]) if (pw.length >= 4) expect(text.includes(pw)).toBe(false);
  });
});
