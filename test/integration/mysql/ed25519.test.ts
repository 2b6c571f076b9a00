import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { SYMBOLS } from '../../../layers/engine/policy.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createMysqlAdapter } from '../../../layers/resources/mysql/adapter.js';
import { ed25519PasswordKey } from '../../../layers/resources/mysql/ed25519.js';
import { ALL_PRINTABLE_ASCII, mariadbAdminQuery, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { account, accountState, context, createAdmin, credential, dropUser, pluginOf, resource } from './support.js';

/**
 * MariaDB's ed25519 plugin: rpr computes the key the server stores and sends it (never the
 * password), keeps the account's plugin, and attests passwords by comparing keys (mysql2 cannot
 * log in with client_ed25519).
 */
describeServer('mariadb', 'MySQL adapter on MariaDB: ed25519 accounts', (info) => {
  const users: string[] = [];
  const adminName = uniqueName('myedadm');
  const adminPassword = 'Ed-admin-1';
  let installed = false;

  /** The key the server itself computes for `password` (through a scratch account). */
  async function serverKey(password: string): Promise<string> {
    const scratch = uniqueName('myedtmp');
    await mariadbAdminQuery('CREATE USER ?@? IDENTIFIED VIA ed25519 USING PASSWORD(?)', [scratch, '%', password]);
    try {
      const [row] = await mariadbAdminQuery<{ auth: string }>("SELECT authentication_string AS auth FROM mysql.user WHERE User = ? AND Host = '%'", [scratch]);
      return row!.auth;
    } finally {
      await dropUser(scratch);
    }
  }

  async function edUser(password: string): Promise<string> {
    const name = uniqueName('myed');
    users.push(name);
    await mariadbAdminQuery('CREATE USER ?@? IDENTIFIED VIA ed25519 USING PASSWORD(?)', [name, '%', password]);
    return name;
  }

  beforeAll(async () => {
    const rows = await mariadbAdminQuery("SELECT 1 FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519' AND PLUGIN_STATUS = 'ACTIVE'");
    if (rows.length === 0) {
      await mariadbAdminQuery("INSTALL SONAME 'auth_ed25519'");
      installed = true;
    }
    users.push(adminName);
    await createAdmin(adminName, adminPassword);
  });
  afterAll(async () => {
    for (const u of users.reverse()) await dropUser(u);
    if (installed) await mariadbAdminQuery("UNINSTALL SONAME 'auth_ed25519'");
  });

  it("computes the server's own key for every printable character, Unicode, quotes and long passwords", async () => {
    const passwords = [ALL_PRINTABLE_ASCII, 'Unicode: é ü ß 密码 пароль 🔑', `q'uo"te\\`, SYMBOLS, 'z'.repeat(256), 'a', 'secret', ...Array.from({ length: 8 }, (_, i) => `Ed-vector-${i}`)];
    for (const pw of passwords) expect(ed25519PasswordKey(new Secret(pw)), JSON.stringify(pw.slice(0, 30))).toBe(await serverKey(pw));
  });

  it('admin reset sends the key and keeps the plugin; verify attests the new password and refuses the old', async () => {
    const name = await edUser('Ed-old-1');
    const adapter = createMysqlAdapter(context(resource(info), credential(adminName, adminPassword)));
    try {
      const result = await adapter.change({ account: account(name), newPassword: new Secret('Ed-new-1') });

      expect(result.method).toBe('admin reset');
      expect(await adapter.verify({ account: account(name), password: new Secret('Ed-new-1') })).toEqual({ valid: true, by: 'attestation' });
      expect(await adapter.verify({ account: account(name), password: new Secret('Ed-old-1') })).toMatchObject({ valid: false, by: 'attestation' });
    } finally {
      await adapter.close();
    }
    expect(await pluginOf(name)).toBe('ed25519');
    const [row] = await mariadbAdminQuery<{ auth: string }>("SELECT authentication_string AS auth FROM mysql.user WHERE User = ? AND Host = '%'", [name]);
    expect(row!.auth).toBe(await serverKey('Ed-new-1'));
  });

  it('1524 ER_PLUGIN_IS_NOT_LOADED (an ed25519 account while the plugin is unloaded): unchanged, and the account keeps its key', async () => {
    const name = await edUser('Ed-unloaded-1');
    const before = await accountState(name);
    await mariadbAdminQuery("UNINSTALL SONAME 'auth_ed25519'");
    let error: unknown;
    try {
      const adapter = createMysqlAdapter(context(resource(info), credential(adminName, adminPassword)));
      error = await adapter.change({ account: account(name), newPassword: new Secret('Ed-unloaded-2') }).catch((e: unknown) => e);
      await adapter.close();
    } finally {
      await mariadbAdminQuery("INSTALL SONAME 'auth_ed25519'");
    }

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as Error).message).toContain('(error 1524)');
    expect(await accountState(name)).toBe(before);
  });

  it('without an admin, an ed25519 account is refused naming adminAccount (rpr cannot log in with it), and nothing is changed', async () => {
    const name = await edUser('Ed-self-1');
    const before = await accountState(name);
    const adapter = createMysqlAdapter(context(resource(info)));

    const error = await adapter.change({ account: account(name), newPassword: new Secret('Ed-self-2'), currentPassword: new Secret('Ed-self-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe('adminAccount');
    expect(await accountState(name)).toBe(before);
  });
});
