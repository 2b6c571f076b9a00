import type { PreflightFinding } from '../../engine/adapter.js';
import { storedFormOf, type Dialect } from './statements.js';

/**
 * What a dry run reads on MySQL and MariaDB, with the admin's session; nothing here writes.
 * ALTER USER of another account needs "the global CREATE USER privilege, or the UPDATE privilege
 * for the mysql system schema" (MySQL 8.0 and MariaDB 10.11 reference manuals, ALTER USER).
 */
export const PREFLIGHT_SQL = {
  // The session's own grants, as information_schema lists them (an admin who may read mysql.* sees every grantee's).
  rights:
    "SELECT PRIVILEGE_TYPE AS privilege, 'global' AS level FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? AND PRIVILEGE_TYPE IN ('CREATE USER', 'UPDATE') " +
    "UNION ALL SELECT PRIVILEGE_TYPE, 'mysql' FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = 'mysql' AND PRIVILEGE_TYPE = 'UPDATE'",
};

/** CURRENT_USER() ("name@host") as information_schema's GRANTEE spells it: 'name'@'host'. */
export function granteeOf(me: string): string {
  const at = me.lastIndexOf('@');
  return `'${me.slice(0, at)}'@'${me.slice(at + 1)}'`;
}

/** The admin may change other accounts' passwords: CREATE USER, or UPDATE on *.* or on mysql.*. */
export function rightsFinding(me: string, rows: readonly Record<string, unknown>[]): PreflightFinding {
  const held = rows.map((r) => `${String(r.privilege)}${r.level === 'mysql' ? ' on mysql.*' : ' (global)'}`);
  if (held.length > 0) return { check: 'CREATE USER', ok: true, detail: `the admin ${JSON.stringify(me)} holds ${held.join(', ')}, which ALTER USER needs` };
  return {
    check: 'CREATE USER',
    ok: false,
    detail: `the admin ${JSON.stringify(me)} holds neither the global CREATE USER privilege nor UPDATE on the mysql schema, which ALTER USER of another account needs (privileges through a role are not seen); GRANT CREATE USER ON *.* TO the admin`,
  };
}

/** Plugins that authenticate without a password the server stores: ALTER USER … IDENTIFIED would replace them. */
const PASSWORDLESS = new Set(['unix_socket', 'auth_socket', 'pam', 'auth_pam', 'authentication_pam', 'gssapi', 'authentication_ldap_sasl', 'authentication_ldap_simple', 'authentication_kerberos', 'named_pipe', 'auth_named_pipe']);

/** Whether the account's plugin takes the change rpr would send, and in which form. */
export function changeFormFinding(accountId: string, dialect: Dialect, plugin: string): PreflightFinding {
  if (PASSWORDLESS.has(plugin)) {
    return { accountId, check: 'change form', ok: false, detail: `the account authenticates with ${plugin}, which has no password to change; a reset would replace its plugin, so rpr should not manage it` };
  }
  if (storedFormOf(dialect, plugin)) return { accountId, check: 'change form', ok: true, detail: `plugin ${plugin}: rpr sends the stored form, so no server log holds the password` };
  return { accountId, check: 'change form', ok: true, detail: `plugin ${plugin || '(none)'}: rpr sends the clear text, which the server's general and slow query logs hold when they are on` };
}
