import { describe, expect, it } from 'vitest';
import { Secret } from '../../../../layers/engine/secret.js';
import { adminStatement, pluginOfCreateUser, selfStatement } from '../../../../layers/resources/mysql/statements.js';

const target = { user: 'app', host: '10.0.0.7' };
const pw = new Secret(`Pw'with\\quote-1`);
const current = new Secret('Current-1');

describe('what the MySQL adapter sends, by server and plugin', () => {
  it('mysql_native_password: the hash, never the password, on MariaDB and MySQL', () => {
    const maria = adminStatement('mariadb', target, 'mysql_native_password', pw);
    const mysql = adminStatement('mysql', target, 'mysql_native_password', pw);

    expect(maria.sql).toBe('ALTER USER ?@? IDENTIFIED BY PASSWORD ?');
    expect(mysql.sql).toBe('ALTER USER ?@? IDENTIFIED WITH mysql_native_password AS ?');
    for (const s of [maria, mysql]) {
      expect(s.values.slice(0, 2)).toEqual(['app', '10.0.0.7']);
      expect(s.values[2]).toMatch(/^\*[0-9A-F]{40}$/);
      expect(s.values.join()).not.toContain(pw.reveal());
      expect(s.hash?.reveal()).toBe(s.values[2]);
    }
  });

  it("caching_sha2_password on MySQL: IDENTIFIED WITH ... AS its 70-byte stored form (untested against a MySQL server)", () => {
    const s = adminStatement('mysql', target, 'caching_sha2_password', pw);

    expect(s.sql).toBe('ALTER USER ?@? IDENTIFIED WITH caching_sha2_password AS ?');
    expect(s.values[2]).toMatch(/^\$A\$005\$[\s\S]{20}[./0-9A-Za-z]{43}$/);
    expect(s.values.join()).not.toContain(pw.reveal());
  });

  it('ed25519 on MariaDB: IDENTIFIED VIA ed25519 USING the key; a plugin rpr cannot compute gets the clear text', () => {
    expect(adminStatement('mariadb', target, 'ed25519', pw)).toMatchObject({ sql: 'ALTER USER ?@? IDENTIFIED VIA ed25519 USING ?', values: ['app', '10.0.0.7', expect.stringMatching(/^[A-Za-z0-9+/]{43}$/)] });
    expect(adminStatement('mysql', target, 'sha256_password', pw)).toEqual({ sql: 'ALTER USER ?@? IDENTIFIED BY ?', values: ['app', '10.0.0.7', pw.reveal()] });
    expect(adminStatement('mariadb', target, 'caching_sha2_password', pw).sql).toBe('ALTER USER ?@? IDENTIFIED BY ?');
  });

  it('self changes: MariaDB sends the stored form with SET PASSWORD; MySQL keeps ALTER USER ... REPLACE (it takes no hash without CREATE USER)', () => {
    expect(selfStatement('mariadb', 'mysql_native_password', pw, current)).toMatchObject({ sql: 'SET PASSWORD = ?', values: [expect.stringMatching(/^\*[0-9A-F]{40}$/)] });
    expect(selfStatement('mariadb', 'ed25519', pw, current)).toMatchObject({ sql: 'SET PASSWORD = ?', values: [expect.stringMatching(/^[A-Za-z0-9+/]{43}$/)] });
    expect(selfStatement('mariadb', undefined, pw, current)).toEqual({ sql: 'SET PASSWORD = PASSWORD(?)', values: [pw.reveal()] });
    expect(selfStatement('mysql', 'caching_sha2_password', pw, current)).toEqual({ sql: 'ALTER USER CURRENT_USER() IDENTIFIED BY ? REPLACE ?', values: [pw.reveal(), current.reveal()] });
  });

  it("reads the plugin from SHOW CREATE USER as MariaDB and MySQL print it", () => {
    expect(pluginOfCreateUser("CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '*6C8989366EAF75BB670AD8EA7A7FC1176A95CEF4'")).toBe('mysql_native_password');
    expect(pluginOfCreateUser("CREATE USER `app`@`%` IDENTIFIED VIA ed25519 USING 'ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY'")).toBe('ed25519');
    expect(pluginOfCreateUser("CREATE USER `app`@`%` IDENTIFIED VIA unix_socket")).toBe('unix_socket');
    expect(pluginOfCreateUser("CREATE USER `app`@`%` IDENTIFIED WITH 'caching_sha2_password' AS '$A$005$...' REQUIRE NONE")).toBe('caching_sha2_password');
    expect(pluginOfCreateUser('CREATE USER `app`@`%`')).toBeUndefined();
  });
});
