import { afterAll, beforeAll, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { readFileSync } from 'node:fs';
import { OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createMysqlAdapter } from '../../../layers/resources/mysql/adapter.js';
import { mariadbAdminQuery, mariadbPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { account, context, createAdmin, createUser, credential, dropUser, resource } from './support.js';

/**
 * After the statement was sent, "unchanged" only for the server's own refusals (refusals.ts),
 * each provoked here on MariaDB where it can be; any other server error is an unknown outcome.
 */
describeServer('mariadb', 'MySQL adapter on MariaDB: which server answers mean nothing changed', (info) => {
  const users: [string, string][] = [];
  const adminName = uniqueName('myradm');
  const adminPassword = 'Refusal-admin-1';

  async function user(password: string, host = '%'): Promise<string> {
    const name = uniqueName('myref');
    users.push([name, host]);
    await createUser(name, password, host);
    return name;
  }
  const adapter = (name = adminName, password = adminPassword) => createMysqlAdapter(context(resource(info), credential(name, password)));

  beforeAll(async () => {
    users.push([adminName, '%']);
    await createAdmin(adminName, adminPassword);
  });
  afterAll(async () => {
    for (const [u, h] of users.reverse()) await dropUser(u, h);
  });

  async function changeError(a: ReturnType<typeof adapter>, name: string, newPassword: string, currentPassword?: string): Promise<unknown> {
    try {
      return await a.change({ account: account(name), newPassword: new Secret(newPassword), ...(currentPassword ? { currentPassword: new Secret(currentPassword) } : {}) }).then(
        () => undefined,
        (e: unknown) => e,
      );
    } finally {
      await a.close();
    }
  }

  it('1227 ER_SPECIFIC_ACCESS_DENIED_ERROR (an admin without CREATE USER): unchanged, and the old password still logs in', async () => {
    const weak = await user('Weak-admin-1');
    await mariadbAdminQuery('GRANT SELECT ON mysql.* TO ?@?', [weak, '%']);
    const name = await user('Denied-old-1');

    const error = await changeError(adapter(weak, 'Weak-admin-1'), name, 'Denied-new-1');

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as Error).message).toContain('(error 1227)');
    expect(await mariadbPasswordWorks(name, 'Denied-old-1')).toBe(true);
    expect(await mariadbPasswordWorks(name, 'Denied-new-1')).toBe(false);
  });

  it('1396 ER_CANNOT_USER (mysql.user lists an account the server does not have): unchanged', async () => {
    // A row written to mysql.global_priv without FLUSH PRIVILEGES: the admin's lookup sees it, ALTER USER does not.
    const name = uniqueName('myghost');
    await mariadbAdminQuery("INSERT INTO mysql.global_priv (Host, User, Priv) VALUES ('%', ?, '{}')", [name]);
    try {
      const error = await changeError(adapter(), name, 'Ghost-new-1');

      expect(error, String(error)).toBeInstanceOf(TargetUnchangedError);
      expect((error as Error).message).toContain('(error 1396)');
    } finally {
      await mariadbAdminQuery("DELETE FROM mysql.global_priv WHERE Host = '%' AND User = ?", [name]);
    }
  });

  it('1133 ER_PASSWORD_NO_MATCH is not a refusal: MariaDB changes the account in memory before it finds no row to write', async () => {
    const name = await user('NoMatch-old-1');
    // The server keeps the account in memory (logins work) while its row is gone from the table.
    const [row] = await mariadbAdminQuery<{ priv: string }>("SELECT CAST(Priv AS CHAR) AS priv FROM mysql.global_priv WHERE Host = '%' AND User = ?", [name]);
    await mariadbAdminQuery("DELETE FROM mysql.global_priv WHERE Host = '%' AND User = ?", [name]);
    let error: unknown;
    try {
      error = await changeError(createMysqlAdapter(context(resource(info))), name, 'NoMatch-new-1', 'NoMatch-old-1');
    } finally {
      await mariadbAdminQuery("INSERT INTO mysql.global_priv (Host, User, Priv) VALUES ('%', ?, ?)", [name, row!.priv]);
    }

    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect((error as Error).message).toContain('(error 1133)');
    // Why it must not be "unchanged": the new password is the one that logs in now.
    expect(await mariadbPasswordWorks(name, 'NoMatch-new-1')).toBe(true);
    expect(await mariadbPasswordWorks(name, 'NoMatch-old-1')).toBe(false);
  });

  it('1226 ER_USER_LIMIT_REACHED (the admin used up MAX_UPDATES_PER_HOUR): unchanged', async () => {
    const limited = uniqueName('mylimit');
    users.push([limited, '%']);
    await createAdmin(limited, 'Limited-admin-1');
    await mariadbAdminQuery('ALTER USER ?@? WITH MAX_UPDATES_PER_HOUR 1', [limited, '%']);
    const first = await user('Limit-old-1');
    const second = await user('Limit-old-2');
    const a = adapter(limited, 'Limited-admin-1');
    await a.change({ account: account(first), newPassword: new Secret('Limit-new-1') });

    const error = await changeError(a, second, 'Limit-new-2');

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as Error).message).toContain('(error 1226)');
    expect(await mariadbPasswordWorks(second, 'Limit-old-2')).toBe(true);
  });

  it('1819 ER_NOT_VALID_PASSWORD (a validation plugin refuses it), after 1290 (strict_password_validation refuses the hash): unchanged', async () => {
    // MariaDB answers ALTER USER's failures with 1396 and gives these reasons as its warnings.
    // simple_password_check with its thresholds at their least (length 4) refuses little more than a password equal to the user name,
    // so other suites sharing the server are not refused anything while it is loaded.
    const name = await user('Plugin-old-1');
    const other = await user('Plugin-old-2');
    const third = await user('Plugin-old-3');
    await mariadbAdminQuery("INSTALL SONAME 'simple_password_check'");
    try {
      for (const v of ['minimal_length', 'digits', 'letters_same_case', 'other_characters']) await mariadbAdminQuery(`SET GLOBAL simple_password_check_${v} = 0`);
      const refused = await changeError(adapter(), name, name);
      const a = adapter();
      const accepted = await a.change({ account: account(other), newPassword: new Secret('Plugin-new-2') }).finally(() => a.close());
      const s = createMysqlAdapter(context(resource(info)));
      const self = await s.change({ account: account(third), newPassword: new Secret('Plugin-new-3'), currentPassword: new Secret('Plugin-old-3') }).finally(() => s.close());

      expect(refused).toBeInstanceOf(TargetUnchangedError);
      expect((refused as Error).message).toContain('(error 1819)');
      // The hash was refused (1290) and the clear text accepted: the result says which was sent.
      expect(accepted.method).toMatch(/clear text/);
      expect(self.method).toMatch(/self change \(clear text/);
    } finally {
      await mariadbAdminQuery("UNINSTALL SONAME 'simple_password_check'");
    }
    expect(await mariadbPasswordWorks(name, 'Plugin-old-1')).toBe(true);
    expect(await mariadbPasswordWorks(other, 'Plugin-new-2')).toBe(true);
    expect(await mariadbPasswordWorks(third, 'Plugin-new-3')).toBe(true);
  });

  it('1317 ER_QUERY_INTERRUPTED (an error not on the list, after the statement was sent): outcome unknown', async () => {
    const name = await user('Killed-old-1');
    // Hold the accounts table for reading (the admin's lookup still reads it; ALTER USER waits), then interrupt the wait.
    const ca = readFileSync(info.caFile, 'utf8');
    const locker = await mysql.createConnection({ host: info.host, port: info.port, user: info.rootUser, password: info.rootPassword, ssl: { ca } });
    const a = adapter();
    let error: unknown;
    try {
      await locker.query('LOCK TABLES mysql.global_priv READ');
      const changing = a.change({ account: account(name), newPassword: new Secret('Killed-new-1') }).then(
        () => undefined,
        (e: unknown) => e,
      );
      let id: number | undefined;
      for (let i = 0; i < 100 && id === undefined; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const rows = await mariadbAdminQuery<{ id: number }>("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND INFO LIKE 'ALTER USER%'", [adminName]);
        id = rows[0]?.id;
      }
      expect(id, 'the ALTER USER waiting for the lock').toBeDefined();
      await mariadbAdminQuery(`KILL QUERY ${Number(id)}`);
      error = await changing;
    } finally {
      await locker.query('UNLOCK TABLES').catch(() => undefined);
      await locker.end();
      await a.close();
    }

    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect((error as Error).message).toContain('(error 1317)');
    expect((error as Error).message).not.toContain('Killed-new-1');
    expect(await mariadbPasswordWorks(name, 'Killed-old-1')).toBe(true);
  });
});
