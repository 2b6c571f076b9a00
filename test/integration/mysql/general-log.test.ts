import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Secret } from '../../../layers/engine/secret.js';
import { SYMBOLS } from '../../../layers/engine/policy.js';
import { createMysqlAdapter } from '../../../layers/resources/mysql/adapter.js';
import { ALL_PRINTABLE_ASCII, mariadbAdminQuery, mariadbPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { account, context, createAdmin, createUser, credential, dropUser, pluginOf, resource } from './support.js';

/**
 * What MariaDB's own general query log keeps of the passwords rpr sets: nothing. The log is read
 * as the server writes it (log_output=TABLE, mysql.general_log); each password carries a marker
 * of its own, so that it is found in any escaped or quoted form.
 */
describeServer('mariadb', 'MySQL adapter on MariaDB with the general query log on', (info) => {
  const users: string[] = [];
  let saved: { general: string; output: string };
  let installedEd25519 = false;
  let since: string;
  const adminName = uniqueName('mylogadm');
  const adminPassword = `Log-admin-${marker()}`;
  /** Every password rpr set in this file. */
  const set: string[] = [];

  function marker(): string {
    return `Mk${randomBytes(6).toString('hex')}`;
  }
  /** The gauntlet, each password with its own marker inside. */
  const gauntlet = () =>
    [
      ALL_PRINTABLE_ASCII,
      `single'quote double"quote back\\slash`,
      `x\\', \`y\`@\`%\` ACCOUNT LOCK -- `,
      'Unicode: é ü ß 密码 пароль 🔑',
      SYMBOLS,
    ].map((p) => {
      const m = marker();
      return `${p.slice(0, 120)}${m}`;
    });

  async function user(password: string): Promise<string> {
    const name = uniqueName('mylog');
    users.push(name);
    await createUser(name, password);
    return name;
  }

  beforeAll(async () => {
    users.push(adminName);
    await createAdmin(adminName, adminPassword);
    if ((await mariadbAdminQuery("SELECT 1 FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519' AND PLUGIN_STATUS = 'ACTIVE'")).length === 0) {
      await mariadbAdminQuery("INSTALL SONAME 'auth_ed25519'");
      installedEd25519 = true;
    }
    const [row] = await mariadbAdminQuery<{ general: string | number; output: string }>('SELECT @@GLOBAL.general_log AS general, @@GLOBAL.log_output AS output');
    saved = { general: String(row!.general), output: String(row!.output) };
    const outputs = new Set(saved.output.split(',').filter((o) => o !== 'NONE'));
    outputs.add('TABLE');
    await mariadbAdminQuery('SET GLOBAL log_output = ?', [[...outputs].join(',')]);
    await mariadbAdminQuery('SET GLOBAL general_log = 1');
    const [now] = await mariadbAdminQuery<{ now: string }>("SELECT DATE_FORMAT(NOW(6), '%Y-%m-%d %H:%i:%s.%f') AS now");
    since = now!.now;
  });

  afterAll(async () => {
    if (saved) {
      await mariadbAdminQuery(`SET GLOBAL general_log = ${Number(saved.general) === 1 || saved.general === 'ON' ? 1 : 0}`);
      await mariadbAdminQuery('SET GLOBAL log_output = ?', [saved.output]);
    }
    for (const u of users.reverse()) await dropUser(u);
    if (installedEd25519) await mariadbAdminQuery("UNINSTALL SONAME 'auth_ed25519'");
  });

  async function logText(): Promise<string> {
    const rows = await mariadbAdminQuery<{ argument: Buffer | string }>('SELECT argument FROM mysql.general_log WHERE event_time >= ?', [since]);
    return rows.map((r) => (Buffer.isBuffer(r.argument) ? r.argument.toString('utf8') : String(r.argument))).join('\n');
  }

  it('admin resets (native and ed25519), self changes and the admin changing itself: the log holds none of the passwords, and each logs in', async () => {
    const startAdmin = `Log-start-${marker()}`;
    const byAdmin = await user(startAdmin);
    const startSelf = `Log-self-${marker()}`;
    const bySelf = await user(startSelf);
    const edName = uniqueName('mylog');
    users.push(edName);
    await mariadbAdminQuery('CREATE USER ?@? IDENTIFIED VIA ed25519 USING PASSWORD(?)', [edName, '%', `Log-ed-${marker()}`]);

    const admin = createMysqlAdapter(context(resource(info), credential(adminName, adminPassword)));
    try {
      for (const pw of gauntlet()) {
        set.push(pw);
        await admin.change({ account: account(byAdmin), newPassword: new Secret(pw) });
        expect(await mariadbPasswordWorks(byAdmin, pw), JSON.stringify(pw.slice(0, 30))).toBe(true);
      }
      // ed25519: no login from here (mysql2 has no client_ed25519); the admin attests it instead.
      for (const pw of gauntlet()) {
        set.push(pw);
        await admin.change({ account: account(edName), newPassword: new Secret(pw) });
        expect(await admin.verify({ account: account(edName), password: new Secret(pw) })).toEqual({ valid: true, by: 'attestation' });
      }
      const newAdmin = `Log-admin-2-${marker()}`;
      set.push(newAdmin);
      await admin.change({ account: account(adminName), newPassword: new Secret(newAdmin) });
      expect(await mariadbPasswordWorks(adminName, newAdmin)).toBe(true);
      expect(await mariadbPasswordWorks(adminName, adminPassword)).toBe(false);
    } finally {
      await admin.close();
    }

    let current = startSelf;
    for (const pw of gauntlet()) {
      set.push(pw);
      const self = createMysqlAdapter(context(resource(info)));
      await self.change({ account: account(bySelf), newPassword: new Secret(pw), currentPassword: new Secret(current) }).finally(() => self.close());
      expect(await mariadbPasswordWorks(bySelf, pw), JSON.stringify(pw.slice(0, 30))).toBe(true);
      current = pw;
    }
    expect(await mariadbPasswordWorks(byAdmin, startAdmin)).toBe(false);
    expect(await mariadbPasswordWorks(bySelf, startSelf)).toBe(false);
    // The accounts keep their plugin: a hash does not switch them to another.
    expect(await pluginOf(byAdmin)).toBe('mysql_native_password');
    expect(await pluginOf(bySelf)).toBe('mysql_native_password');
    expect(await pluginOf(edName)).toBe('ed25519');

    const log = await logText();
    // Control: the log was on and saw both the adapter's statements and a clear-text password
    // (the test's own CREATE USER), so an absence below means something.
    expect(log).toMatch(/ALTER USER .* IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'/);
    expect(log).toMatch(/SET PASSWORD = '\*[0-9A-F]{40}'/);
    expect(log).toMatch(/ALTER USER .* IDENTIFIED VIA ed25519 USING '[A-Za-z0-9+/]{43}'/);
    expect(log).toContain(startAdmin);
    for (const pw of set) {
      const m = /Mk[0-9a-f]{12}/.exec(pw)![0];
      expect(log.includes(m), `the marker of ${JSON.stringify(pw.slice(0, 30))} is in the log`).toBe(false);
    }
  });
});
