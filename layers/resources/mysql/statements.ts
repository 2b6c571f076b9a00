import { Secret } from '../../engine/secret.js';
import { MYSQL } from '../sql-dialects.js';
import { cachingSha2Hash, ed25519PasswordKey, nativePasswordHash } from './hashes.js';

/**
 * How the password travels. The server is sent what it stores, not the clear text, wherever the
 * account's plugin has a stored form rpr can compute (hashes.ts): a general query log, slow log,
 * binary log or audit plugin then holds the hash. mysql_native_password: MariaDB's
 * `IDENTIFIED BY PASSWORD` and `SET PASSWORD = '<hash>'`, MySQL's `IDENTIFIED WITH
 * mysql_native_password AS`; MariaDB's ed25519: `IDENTIFIED VIA ed25519 USING '<key>'` and `SET
 * PASSWORD = '<key>'`; caching_sha2_password (MySQL 8): `IDENTIFIED WITH caching_sha2_password AS`.
 * The account keeps its plugin (MariaDB's `IDENTIFIED BY` would switch it to mysql_native_password).
 * Other plugins (sha256_password, PAM, ...) and MySQL self changes, which have no hashed form
 * without CREATE USER, get the clear text: MySQL rewrites it out of its logs itself (unless
 * log_raw is on); MariaDB does not.
 *
 * The statements themselves are the dialect table's (sql-dialects.ts MYSQL.statements.forms).
 */
const DIALECTS = MYSQL.statements.forms;
export type Dialect = keyof typeof DIALECTS;

export function dialectOf(version: string): Dialect {
  if (/mariadb/i.test(version)) return 'mariadb';
  const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).map((n) => parseInt(n, 10) || 0);
  return major > 8 || (major === 8 && (minor > 0 || patch >= 13)) ? 'mysql' : 'mysqlLegacy';
}

export interface Statement {
  readonly sql: string;
  readonly values: string[];
  /** The stored form sent instead of the password, redacted like it. */
  readonly hash?: Secret;
}

/** The clear text, for plugins with no stored form rpr computes (the server's logs will hold it). */
export function adminClearText(target: { user: string; host: string }, password: Secret): Statement {
  return { sql: MYSQL.statements.adminClearText, values: [target.user, target.host, password.reveal()] };
}

/** The stored form an admin sends for the account's plugin on this server; undefined: the clear text. */
export function storedFormOf(dialect: Dialect, plugin: string): 'native' | 'caching_sha2' | 'ed25519' | undefined {
  const d = DIALECTS[dialect];
  if (plugin === 'mysql_native_password') return 'native';
  if (plugin === 'caching_sha2_password' && d.adminCachingSha2) return 'caching_sha2';
  if (plugin === 'ed25519' && d.adminEd25519) return 'ed25519';
  return undefined;
}

/** An admin's change of another account, in the form the account's plugin stores where rpr can compute it. */
export function adminStatement(dialect: Dialect, target: { user: string; host: string }, plugin: string, password: Secret): Statement {
  const d = DIALECTS[dialect];
  switch (storedFormOf(dialect, plugin)) {
    case 'native': {
      const hash = nativePasswordHash(password);
      return { sql: d.adminNative, values: [target.user, target.host, hash], hash: new Secret(hash) };
    }
    case 'caching_sha2': {
      // Its salt holds any 7-bit byte but NUL and "$": escaped like any value on the pinned session.
      const hash = cachingSha2Hash(password).toString('latin1');
      return { sql: d.adminCachingSha2!, values: [target.user, target.host, hash], hash: new Secret(hash) };
    }
    case 'ed25519': {
      const key = ed25519PasswordKey(password);
      return { sql: d.adminEd25519!, values: [target.user, target.host, key], hash: new Secret(key) };
    }
    case undefined:
      return adminClearText(target, password);
  }
}

/** Whether a self change on this server can send a stored form (and so needs the account's plugin). */
export function takesSelfHash(dialect: Dialect): boolean {
  return DIALECTS[dialect].selfHash !== undefined;
}

/** A session's change of its own account: the stored form where the server takes one, else the clear-text statement. */
export function selfStatement(dialect: Dialect, plugin: string | undefined, password: Secret, current: Secret): Statement {
  const d = DIALECTS[dialect];
  if (d.selfHash && (plugin === 'mysql_native_password' || plugin === 'ed25519')) {
    const hash = plugin === 'ed25519' ? ed25519PasswordKey(password) : nativePasswordHash(password);
    return { sql: d.selfHash, values: [hash], hash: new Secret(hash) };
  }
  return d.selfChange(password.reveal(), current.reveal());
}

/** The plugin named by a SHOW CREATE USER line (MariaDB's `IDENTIFIED BY PASSWORD '*…'` is mysql_native_password). */
export function pluginOfCreateUser(text: string): string | undefined {
  if (/ IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'/i.test(text)) return 'mysql_native_password';
  return / IDENTIFIED (?:VIA|WITH) '?([a-z0-9_]+)'?/i.exec(text)?.[1]?.toLowerCase();
}
