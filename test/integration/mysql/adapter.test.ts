import mysql from 'mysql2/promise';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { SYMBOLS } from '../../../layers/engine/policy.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createMysqlAdapter } from '../../../layers/resources/mysql/adapter.js';
import { mariadbAdminQuery, mariadbPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { account, accountState, context, isLocked, countingListener, createAdmin, createUser, credential, dropUser, resource, unrelatedCa } from './support.js';

/**
 * Under NO_BACKSLASH_ESCAPES, client-side escaping turns the quote into \' which then ends the
 * literal: the rest (backticks are not escaped) becomes part of the statement and locks `victim`.
 */
const crafted = (victim: string) => `x\\', \`${victim}\`@\`%\` ACCOUNT LOCK -- `;

const PRINTABLE_ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

describeServer('mariadb', 'MySQL adapter on a real MariaDB server', (info) => {
  const users: [string, string][] = [];
  const adminName = uniqueName('myadm');
  const adminPassword = 'Adm1n-p@ss-0';

  async function user(prefix: string, password: string, host = '%'): Promise<string> {
    const name = uniqueName(prefix);
    users.push([name, host]);
    await createUser(name, password, host);
    return name;
  }

  beforeAll(async () => {
    users.push([adminName, '%']);
    await createAdmin(adminName, adminPassword);
  });

  afterAll(async () => {
    for (const [u, h] of users.reverse()) await dropUser(u, h);
  });

  function adminAdapter(over: Record<string, unknown> = {}, password = adminPassword, secrets: string[] = []) {
    return createMysqlAdapter(context(resource(info, over), credential(adminName, password), secrets));
  }

  /** Gauntlet of passwords MariaDB must take exactly as given (its limit here is the type's 256 characters). */
  const gauntlet = (victim: string) => [
    PRINTABLE_ASCII,
    'with space inside',
    `single'quote`,
    `double"quote`,
    'back\\slash\\',
    `\\'; DROP USER '${victim}'@'%'; -- `,
    crafted(victim),
    `x' ACCOUNT LOCK -- `,
    "back`tick`",
    'Unicode: é ü ß 密码 пароль 🔑',
    'z'.repeat(256),
    SYMBOLS,
  ];

  it('admin reset: the new password logs in on a fresh connection and the old one is refused', async () => {
    const name = await user('myreset', 'old-Pass-1');
    const adapter = adminAdapter();
    try {
      const result = await adapter.change({ account: account(name), newPassword: new Secret('new-Pass-1') });

      expect(result.method).toBe('admin reset');
      expect(await mariadbPasswordWorks(name, 'new-Pass-1')).toBe(true);
      expect(await mariadbPasswordWorks(name, 'old-Pass-1')).toBe(false);
      expect(await adapter.verify({ account: account(name), password: new Secret('new-Pass-1') })).toMatchObject({ valid: true });
      expect(await adapter.verify({ account: account(name), password: new Secret('old-Pass-1') })).toMatchObject({ valid: false });
    } finally {
      await adapter.close();
    }
  });

  it('self change without an admin account: the account changes its own password with its current one', async () => {
    const name = await user('myself', 'old-Self-1');
    const adapter = createMysqlAdapter(context(resource(info)));

    const result = await adapter.change({ account: account(name), newPassword: new Secret('new-Self-é-1'), currentPassword: new Secret('old-Self-1') });
    await adapter.close();

    expect(result.method).toBe('self change');
    expect(await mariadbPasswordWorks(name, 'new-Self-é-1')).toBe(true);
    expect(await mariadbPasswordWorks(name, 'old-Self-1')).toBe(false);
  });

  it('"name@host" changes only that account, not the same name on another host', async () => {
    const name = uniqueName('myhost');
    users.push([name, '%'], [name, '10.9.8.7']);
    await createUser(name, 'Host-any-1', '%');
    await createUser(name, 'Host-other-1', '10.9.8.7');
    const other = await accountState(name, '10.9.8.7');
    const adapter = adminAdapter();

    await adapter.change({ account: account(`${name}@%`), newPassword: new Secret('Host-any-2') });
    await adapter.close();

    expect(await mariadbPasswordWorks(name, 'Host-any-2')).toBe(true);
    expect(await accountState(name, '10.9.8.7')).toBe(other);
  });

  it('over TLS, a CA that did not sign the server is refused before login, and nothing changes', async () => {
    const name = await user('myca', 'old-Ca-1');
    const adapter = adminAdapter({ caCertificate: unrelatedCa() });

    const error = await adapter.change({ account: account(name), newPassword: new Secret('new-Ca-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe('caCertificate');
    expect(await mariadbPasswordWorks(name, 'old-Ca-1')).toBe(true);
  });

  it('the password gauntlet: each hostile or unusual password is set exactly and logs in; no other account is touched', async () => {
    const victim = await user('myvictim', 'Victim-pass-1');
    const victimBefore = await accountState(victim);
    const first = 'Gauntlet-start-1';
    const name = await user('mygaunt', first);
    const adapter = adminAdapter();
    try {
      for (const pw of gauntlet(victim)) {
        await adapter.change({ account: account(name), newPassword: new Secret(pw) });
        expect(await mariadbPasswordWorks(name, pw), JSON.stringify(pw.slice(0, 40))).toBe(true);
      }
      expect(await mariadbPasswordWorks(name, first)).toBe(false);
    } finally {
      await adapter.close();
    }
    expect(await accountState(victim)).toBe(victimBefore);
  });

  it('refuses a NUL, a newline or an over-long password, and a user name with a control character, before connecting', async () => {
    const listener = await countingListener();
    const adapter = createMysqlAdapter(context(resource(info, { port: listener.port, ssl: false }), credential(adminName, adminPassword)));
    try {
      for (const pw of ['nul\0inside', 'new\nline', 'carriage\rreturn', 'y'.repeat(257), '']) {
        await expect(adapter.change({ account: account('anyuser'), newPassword: new Secret(pw) })).rejects.toBeInstanceOf(InvalidConfigurationError);
      }
      await expect(adapter.change({ account: account('bad\nuser'), newPassword: new Secret('Fine-pass-1') })).rejects.toMatchObject({ field: 'account.username' });
      expect(listener.connections()).toBe(0);
    } finally {
      await adapter.close();
      await listener.close();
    }
  });

  it('user names holding SQL are bound as values: the named account changes and no other account is touched', async () => {
    const victim = await user('myvictim', 'Victim-pass-2');
    const before = await accountState(victim);
    const names = [`${uniqueName('q')}'; DROP USER '${victim}'@'%'; --`, `${uniqueName('q')}' OR '1'='1`, `${uniqueName('q')}\`tick\``, `${uniqueName('q')}\\'`];
    const adapter = adminAdapter();
    try {
      for (const name of names) {
        users.push([name, '%']);
        await createUser(name, 'Odd-old-1');
        // A name holding "@" is "name@host" to this type, so the host is given explicitly.
        await adapter.change({ account: account(`${name}@%`), newPassword: new Secret('Odd-new-1') });
        expect(await mariadbPasswordWorks(name, 'Odd-new-1')).toBe(true);
      }
    } finally {
      await adapter.close();
    }
    expect(await accountState(victim)).toBe(before);
  });

  it('a wrong admin password is an AuthenticationError, and the account is unchanged', async () => {
    const name = await user('myauth', 'old-Auth-1');
    const adapter = adminAdapter({}, 'not-the-admin-password');

    const error = await adapter.change({ account: account(name), newPassword: new Secret('new-Auth-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).not.toContain('not-the-admin-password');
    expect(await mariadbPasswordWorks(name, 'old-Auth-1')).toBe(true);
  });

  it('an account that does not exist is a TargetUnchangedError that says so', async () => {
    const adapter = adminAdapter();
    const error = await adapter.change({ account: account(uniqueName('mynone')), newPassword: new Secret('Nobody-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as Error).message).toMatch(/does not exist/);
  });

  it('a statement the server refuses (no CREATE USER privilege) is a TargetUnchangedError without the password', async () => {
    const weakAdmin = await user('myweak', 'Weak-admin-1');
    await mariadbAdminQuery('GRANT SELECT ON mysql.* TO ?@?', [weakAdmin, '%']);
    const name = await user('mytarget', 'old-Target-1');
    const secret = 'Refused-secret-1';
    const adapter = createMysqlAdapter(context(resource(info), credential(weakAdmin, 'Weak-admin-1'), [secret]));

    const error = await adapter.change({ account: account(name), newPassword: new Secret(secret) }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as Error).message).toMatch(/denied/i);
    expect((error as Error).message).not.toContain(secret);
    expect(await mariadbPasswordWorks(name, 'old-Target-1')).toBe(true);
  });

  it('a refused change carries neither the password nor the statement, in any form, on the error or its cause', async () => {
    const weakAdmin = await user('myweak', 'Weak-admin-2');
    await mariadbAdminQuery('GRANT SELECT ON mysql.* TO ?@?', [weakAdmin, '%']);
    const name = await user('mytarget', 'old-Target-2');
    const secret = `Quote'd\\secret-2`;
    const adapter = createMysqlAdapter(context(resource(info), credential(weakAdmin, 'Weak-admin-2'), [secret]));

    const error = await adapter.change({ account: account(name), newPassword: new Secret(secret) }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(TargetUnchangedError);
    const everything = inspect(error, { depth: 5, showHidden: true });
    expect(everything).not.toContain('secret-2');
    expect(everything).not.toContain('IDENTIFIED BY');
  });

  it('the admin account resetting itself changes its own password, and later logins use the new one', async () => {
    const selfAdmin = uniqueName('myselfadm');
    users.push([selfAdmin, '%']);
    await createAdmin(selfAdmin, 'Self-admin-1');
    const other = await user('myother', 'Other-old-1');
    const adapter = createMysqlAdapter(context(resource(info), credential(selfAdmin, 'Self-admin-1')));
    try {
      const result = await adapter.change({ account: account(selfAdmin), newPassword: new Secret('Self-admin-2') });
      expect(result.method).toMatch(/self change/);
      expect(await mariadbPasswordWorks(selfAdmin, 'Self-admin-2')).toBe(true);
      expect(await mariadbPasswordWorks(selfAdmin, 'Self-admin-1')).toBe(false);
      // End the admin's session: the adapter must log in again, with the new password.
      const [row] = await mariadbAdminQuery<{ id: number }>('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?', [selfAdmin]);
      await mariadbAdminQuery(`KILL CONNECTION ${Number(row!.id)}`);
      await new Promise((r) => setTimeout(r, 100));
      await adapter.change({ account: account(other), newPassword: new Secret('Other-new-1') });
      expect(await mariadbPasswordWorks(other, 'Other-new-1')).toBe(true);
    } finally {
      await adapter.close();
    }
  });

  it('passwordLastSet: the admin reads when the server last set the password; a change made outside rpr shows as later', async () => {
    const name = await user('mylast', 'Last-old-1');
    const adapter = adminAdapter();
    try {
      const before = Date.now();
      await adapter.change({ account: account(name), newPassword: new Secret('Last-new-1') });
      const byRpr = await adapter.passwordLastSet!(account(name));
      expect(byRpr!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
      expect(byRpr!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);

      await new Promise((r) => setTimeout(r, 1100));
      await mariadbAdminQuery('ALTER USER ?@? IDENTIFIED BY ?', [name, '%', 'Outside-rpr-1']);
      expect((await adapter.passwordLastSet!(account(name)))!.getTime()).toBeGreaterThan(byRpr!.getTime());
    } finally {
      await adapter.close();
    }
    // Without an admin there is no one to ask; an admin that may read mysql.user but not mysql.global_priv cannot tell on MariaDB.
    expect(await createMysqlAdapter(context(resource(info))).passwordLastSet!(account(name))).toBeUndefined();
    const narrow = await user('mynarrow', 'Narrow-admin-1');
    await mariadbAdminQuery('GRANT CREATE USER ON *.* TO ?@?', [narrow, '%']);
    await mariadbAdminQuery('GRANT SELECT ON mysql.user TO ?@?', [narrow, '%']);
    const narrowAdapter = createMysqlAdapter(context(resource(info), credential(narrow, 'Narrow-admin-1')));
    expect(await narrowAdapter.passwordLastSet!(account(name)).finally(() => narrowAdapter.close())).toBeUndefined();
  });

  describe('with NO_BACKSLASH_ESCAPES in the server sql_mode and forced on the admin session', () => {
    let savedMode = '';
    let savedInit = '';

    beforeAll(async () => {
      const [row] = await mariadbAdminQuery<{ mode: string; init: string }>('SELECT @@GLOBAL.sql_mode AS mode, @@GLOBAL.init_connect AS init');
      savedMode = row!.mode;
      savedInit = row!.init;
      await mariadbAdminQuery('SET GLOBAL sql_mode = ?', [[...savedMode.split(',').filter(Boolean), 'NO_BACKSLASH_ESCAPES'].join(',')]);
      // init_connect runs for every non-SUPER login, so the adapter's admin session starts with the mode too.
      await mariadbAdminQuery("SET GLOBAL init_connect = 'SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, '',NO_BACKSLASH_ESCAPES'')'");
    });

    afterAll(async () => {
      await mariadbAdminQuery('SET GLOBAL sql_mode = ?', [savedMode]);
      await mariadbAdminQuery('SET GLOBAL init_connect = ?', [savedInit]);
    });

    it('control: a session left in that mode takes the crafted password as an injection (it locks another account)', async () => {
      const victim = await user('mynbevic', 'Nbe-victim-1');
      const target = await user('mynbetgt', 'Nbe-target-1');
      const conn = await mysql.createConnection({ host: info.host, port: info.port, user: adminName, password: adminPassword, ssl: { ca: readFileSync(info.caFile, 'utf8') } });
      try {
        const [[mode]] = (await conn.query('SELECT @@SESSION.sql_mode AS m')) as unknown as [[{ m: string }]];
        expect(mode.m).toContain('NO_BACKSLASH_ESCAPES');
        await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [target, '%', crafted(victim)]);
      } finally {
        await conn.end();
      }
      expect(await isLocked(victim)).toBe(true);
      expect(await isLocked(target)).toBe(true);
    });

    it('the gauntlet again: every password is set exactly, and nothing else ran', async () => {
      const victim = await user('mynbevic', 'Nbe-victim-2');
      const victimBefore = await accountState(victim);
      const adminBefore = await accountState(adminName);
      const name = await user('mynbe', 'Nbe-start-1');
      const adapter = adminAdapter();
      try {
        for (const pw of gauntlet(victim)) {
          await adapter.change({ account: account(name), newPassword: new Secret(pw) });
          expect(await mariadbPasswordWorks(name, pw), JSON.stringify(pw.slice(0, 40))).toBe(true);
        }
        // The crafted password is what logs in, not the prefix an injection would have set.
        await adapter.change({ account: account(name), newPassword: new Secret(crafted(victim)) });
        expect(await mariadbPasswordWorks(name, crafted(victim))).toBe(true);
        expect(await mariadbPasswordWorks(name, 'x\\')).toBe(false);
        expect(await isLocked(name)).toBe(false);
      } finally {
        await adapter.close();
      }
      expect(await accountState(victim)).toBe(victimBefore);
      expect(await accountState(adminName)).toBe(adminBefore);
      expect(await mariadbPasswordWorks(victim, 'Nbe-victim-2')).toBe(true);
    });

    it('self change in that mode sets the password exactly', async () => {
      const name = await user('mynbeself', 'Nbe-self-1');
      const pw = `x\\'; SET PASSWORD = PASSWORD('short'); -- '`;
      const adapter = createMysqlAdapter(context(resource(info)));

      await adapter.change({ account: account(name), newPassword: new Secret(pw), currentPassword: new Secret('Nbe-self-1') });
      await adapter.close();

      expect(await mariadbPasswordWorks(name, pw)).toBe(true);
      expect(await mariadbPasswordWorks(name, 'short')).toBe(false);
    });
  });
});
