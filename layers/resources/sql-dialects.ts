/**
 * The SQL engines' differences in one table, one row per engine: the statements a password change
 * is made of, the user name rule, which of the driver's errors mean "authentication failed",
 * "refused, nothing changed" and "connection lost", and the TLS options its driver takes. The
 * adapters hold no copies of these; sql-common.ts holds what is the same for every engine.
 */
import { z } from 'zod';
import { TargetUnchangedError } from '../engine/errors.js';
import { hasControlCharacter } from '../engine/policy.js';

/** What a SQL resource says about TLS (common.ts tlsOptions). */
export interface SqlTlsConfig {
  readonly ssl: boolean;
  readonly caCertificate?: string | undefined;
}

export interface SqlDialect<Statements> {
  /** The statements sent, with how each keeps the user name and password out of its text. */
  readonly statements: Statements;
  /** The user names the engine's accounts take (the type's `username` rule). */
  readonly identifier: z.ZodType<string>;
  /** Whether a driver error is the server refusing a login (wrong password, no such account). */
  authFailed(e: unknown): boolean;
  /** Server error codes that prove the password statement changed nothing, with what each means for a reset. */
  readonly refusals: Readonly<Record<string, string>>;
  /** Driver error codes, beyond the sockets' own, that mean the connection broke. */
  readonly connectionLost: ReadonlySet<string>;
  /** The driver's TLS options for a resource; undefined with `ssl` off. */
  tls(r: SqlTlsConfig): unknown;
}

const printableName = (max: number) => z.string().min(1).max(max).refine((u) => !hasControlCharacter(u), 'must not hold control characters');

/**
 * Verify the server's certificate (against the resource's CA, else the system's trust store) and
 * that it names the host connected to; never fall back to plain text.
 */
const verified = (r: SqlTlsConfig) => ({ ...(r.caCertificate ? { ca: r.caCertificate } : {}), rejectUnauthorized: true as const, minVersion: 'TLSv1.2' as const });

function codeOf(e: unknown, key: 'code' | 'number' | 'errno' | 'errorNum'): string | undefined {
  const v = (e as Record<string, unknown> | null)?.[key];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** PostgreSQL's quoted identifier: in double quotes, each one inside doubled (pg's escapeIdentifier). */
function pgIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

const SCRAM_VERIFIER = /^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;
/** ALTER ROLE takes no bind parameters: the verifier is checked to be base64 and "$:" only, so it cannot end the literal. */
function checkedVerifier(v: string): string {
  if (!SCRAM_VERIFIER.test(v)) throw new TargetUnchangedError('internal: SCRAM verifier has an unexpected form; nothing was sent');
  return v;
}

/**
 * PostgreSQL through pg. ALTER ROLE takes no bind parameters: the role is quoted as an identifier
 * and the password travels as a SCRAM-SHA-256 verifier computed client-side, never as text.
 */
export const POSTGRESQL = {
  statements: {
    roleExists: 'SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1',
    alterRole: (role: string, verifier: string) => `ALTER ROLE ${pgIdentifier(role)} PASSWORD '${checkedVerifier(verifier)}'`,
    alterSelf: (verifier: string) => `ALTER ROLE CURRENT_USER PASSWORD '${checkedVerifier(verifier)}'`,
    // What a dry run reads. PostgreSQL 16+ also needs ADMIN OPTION on a role to change it with CREATEROLE.
    adminRights: "SELECT rolsuper, rolcreaterole, current_setting('server_version_num')::int >= 160000 AS needs_admin_option FROM pg_catalog.pg_roles WHERE rolname = current_user",
    roleFacts: "SELECT rolsuper, rolcanlogin, pg_catalog.pg_has_role(current_user, oid, 'MEMBER WITH ADMIN OPTION') AS admin_option FROM pg_catalog.pg_roles WHERE rolname = $1",
  },
  // Role names are quoted identifiers, so any text without control characters is safe.
  identifier: printableName(63),
  // 28P01 invalid_password, 28000 invalid_authorization_specification (no such role, pg_hba refusal).
  authFailed: (e: unknown) => ['28P01', '28000'].includes(codeOf(e, 'code') ?? ''),
  // Transactional: any error before COMMIT rolls the change back, so none needs listing.
  refusals: {},
  connectionLost: new Set<string>(),
  // pg checks the certificate's name against the host by itself.
  tls: (r: SqlTlsConfig) => (r.ssl ? verified(r) : undefined),
} as const satisfies SqlDialect<Record<string, unknown>>;

/**
 * MySQL and MariaDB through mysql2. Values are escaped by mysql2's `query()` on the client with
 * backslashes, sound only while the session's sql_mode lacks NO_BACKSLASH_ESCAPES (the adapter pins
 * it); `execute()` (server-side binding) cannot carry ALTER USER's password on either server. The
 * password forms per server are in `statements.forms` (mysql/statements.ts chooses among them).
 */
export const MYSQL = {
  statements: {
    // CURRENT_USER(): the account the server matched this login to; USER(): the client as the server sees it.
    readSession: 'SELECT @@SESSION.sql_mode AS mode, VERSION() AS version, CURRENT_USER() AS me, USER() AS client',
    setSqlMode: 'SET SESSION sql_mode = ?',
    // Every row a login as the user from here might be matched to: its own hosts and the anonymous accounts.
    accountRows:
      "SELECT User AS user, Host AS host, plugin, HEX(authentication_string) AS auth, LOWER(?) LIKE LOWER(Host) AS here FROM mysql.user WHERE User = ? OR User = ''",
    showOwnAccount: 'SHOW CREATE USER CURRENT_USER()',
    showWarnings: 'SHOW WARNINGS',
    // MariaDB keeps it in global_priv only (the mysql.user view has no such column); MySQL in mysql.user.
    passwordLastChanged: {
      mariadb: "SELECT JSON_VALUE(Priv, '$.password_last_changed') AS t FROM mysql.global_priv WHERE User = ? AND Host = ?",
      mysql: 'SELECT UNIX_TIMESTAMP(password_last_changed) AS t FROM mysql.user WHERE User = ? AND Host = ?',
    },
    threadAlive: 'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?',
    kill: (threadId: number) => `KILL CONNECTION ${Math.trunc(threadId)}`,
    adminClearText: 'ALTER USER ?@? IDENTIFIED BY ?',
    /** The password's forms per server: the stored form an admin sends, and a session's own change. */
    forms: {
      mariadb: {
        adminNative: 'ALTER USER ?@? IDENTIFIED BY PASSWORD ?',
        adminCachingSha2: undefined,
        adminEd25519: 'ALTER USER ?@? IDENTIFIED VIA ed25519 USING ?',
        // SET PASSWORD keeps the account's plugin and takes its stored form (native hash, ed25519 key).
        selfHash: 'SET PASSWORD = ?',
        selfChange: (p: string, _current: string) => ({ sql: 'SET PASSWORD = PASSWORD(?)', values: [p] }),
      },
      mysql: {
        adminNative: 'ALTER USER ?@? IDENTIFIED WITH mysql_native_password AS ?',
        adminCachingSha2: 'ALTER USER ?@? IDENTIFIED WITH caching_sha2_password AS ?',
        adminEd25519: undefined,
        selfHash: undefined,
        // REPLACE proves the current password where password_require_current is on (8.0.13+).
        selfChange: (p: string, current: string) => ({ sql: 'ALTER USER CURRENT_USER() IDENTIFIED BY ? REPLACE ?', values: [p, current] }),
      },
      mysqlLegacy: {
        adminNative: 'ALTER USER ?@? IDENTIFIED WITH mysql_native_password AS ?',
        adminCachingSha2: 'ALTER USER ?@? IDENTIFIED WITH caching_sha2_password AS ?',
        adminEd25519: undefined,
        selfHash: undefined,
        selfChange: (p: string, _current: string) => ({ sql: 'ALTER USER CURRENT_USER() IDENTIFIED BY ?', values: [p] }),
      },
    },
  },
  // "name" or "name@host" (split at the last "@"); both parts are bound as values, never spliced.
  identifier: printableName(32 + 1 + 255).refine((u) => (u.lastIndexOf('@') > 0 ? u.slice(0, u.lastIndexOf('@')) : u).length <= 80, 'user part must be at most 80 characters'),
  // 1045 ER_ACCESS_DENIED_ERROR; 1698 "Access denied" without "(using password: ...)", MariaDB's answer when no account matches under some plugins.
  authFailed: (e: unknown) => ['1045', '1698'].includes(codeOf(e, 'errno') ?? ''),
  /**
   * The server errors that prove a password statement (ALTER USER, SET PASSWORD) changed nothing:
   * each is raised while the statement is parsed or checked, before the account is written.
   * Numbers and names from MySQL's server error reference
   * (https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html, the same numbers as
   * mysql2's lib/constants/errors.js) and MariaDB's error codes
   * (https://mariadb.com/kb/en/mariadb-error-codes/), which share every number below.
   * Any other error after the statement was sent is an unknown outcome, never a refusal.
   * Not here: 1133 ER_PASSWORD_NO_MATCH. MariaDB's SET PASSWORD changes the account in memory
   * before it writes the table, and answers 1133 when it then finds no row: the new password works
   * (test/integration/mysql/refusals.test.ts shows it). ALTER USER writes the table first.
   */
  refusals: {
    1044: 'ER_DBACCESS_DENIED_ERROR', // access denied to the mysql database
    1045: 'ER_ACCESS_DENIED_ERROR',
    1064: 'ER_PARSE_ERROR', // a statement that does not parse is not run
    1131: 'ER_PASSWORD_ANONYMOUS_USER', // anonymous users may not change passwords
    1132: 'ER_PASSWORD_NOT_ALLOWED', // changing others' passwords needs privileges on mysql
    1142: 'ER_TABLEACCESS_DENIED_ERROR',
    1226: 'ER_USER_LIMIT_REACHED', // MAX_UPDATES_PER_HOUR and the like, checked before the statement runs
    1227: 'ER_SPECIFIC_ACCESS_DENIED_ERROR', // "you need the CREATE USER privilege"
    1290: 'ER_OPTION_PREVENTS_STATEMENT', // --read-only, --strict-password-validation
    1372: 'ER_PASSWD_LENGTH', // a hash that is not 41 hex digits
    1396: 'ER_CANNOT_USER', // "Operation ALTER USER failed for ...": MariaDB's wrapper, its reason among the warnings
    1410: 'ER_CANT_CREATE_USER_WITH_GRANT', // MariaDB: the account's row is missing from the table
    1470: 'ER_WRONG_STRING_LENGTH', // a user or host name too long
    1524: 'ER_PLUGIN_IS_NOT_LOADED',
    1819: 'ER_NOT_VALID_PASSWORD', // a password validation plugin refused it
    1827: 'ER_PASSWORD_FORMAT', // a hash the plugin does not recognise
    1836: 'ER_READ_ONLY_MODE',
    3638: 'ER_CREDENTIALS_CONTRADICT_TO_HISTORY', // MySQL 8: password history
    3891: 'ER_INCORRECT_CURRENT_PASSWORD', // MySQL 8: REPLACE with a wrong current password
    3892: 'ER_MISSING_CURRENT_PASSWORD',
    3893: 'ER_CURRENT_PASSWORD_NOT_REQUIRED',
    3894: 'ER_PASSWORD_CANNOT_BE_RETAINED_ON_PLUGIN_CHANGE',
    3895: 'ER_CURRENT_PASSWORD_CANNOT_BE_RETAINED',
  } as Readonly<Record<number, string>>,
  connectionLost: new Set(['PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT']),
  // mysql2 checks the certificate's name only with verifyIdentity.
  tls: (r: SqlTlsConfig) => (r.ssl ? { ...verified(r), verifyIdentity: true as const } : undefined),
} as const satisfies SqlDialect<Record<string, unknown>>;

/**
 * SQL Server through tedious. ALTER LOGIN takes its password as a literal only, so the statement
 * is assembled on the server from bound nvarchar parameters, each quoted there by QUOTENAME (the
 * login as an identifier, the password as a string): no password or name is ever part of the text
 * sent. QUOTENAME answers NULL for more than 128 characters, hence the 128 limits.
 */
export const MSSQL = {
  statements: {
    alterLogin: "DECLARE @sql nvarchar(max) = N'ALTER LOGIN ' + QUOTENAME(@login) + N' WITH PASSWORD = ' + QUOTENAME(@password, ''''); EXEC (@sql);",
    alterOwnLogin: "DECLARE @sql nvarchar(max) = N'ALTER LOGIN ' + QUOTENAME(@login) + N' WITH PASSWORD = ' + QUOTENAME(@password, '''') + N' OLD_PASSWORD = ' + QUOTENAME(@old, ''''); EXEC (@sql);",
    adminRights: "SELECT HAS_PERMS_BY_NAME(NULL, NULL, N'ALTER ANY LOGIN')",
    // The login's principal id, NULL when there is none.
    loginId: 'SELECT SUSER_ID(@login)',
  },
  // SQL logins only: a Windows login (DOMAIN\name) has its password in its domain.
  identifier: printableName(128).refine((u) => !u.includes('\\'), 'must be a SQL login name without "\\" (a Windows login\'s password is changed in its domain)'),
  /** The longest sysname, and the longest password QUOTENAME quotes. */
  maxNameLength: 128,
  wrongPassword: 18456,
  cannotAlter: 15151,
  authFailed: (e: unknown) => ['18456', '18470', '18486', '18487', '18488'].includes(codeOf(e, 'number') ?? ''),
  // sys.messages texts' meaning; each is raised before ALTER LOGIN writes anything.
  refusals: {
    '15151': 'no such SQL login, or the admin lacks ALTER ANY LOGIN',
    '15114': 'the password was changed too recently (the Windows policy\'s minimum password age, CHECK_POLICY)',
    '15115': 'the Windows password policy refused it (CHECK_POLICY)',
    '15116': 'too short for the Windows password policy (CHECK_POLICY)',
    '15117': 'too long for the Windows password policy (CHECK_POLICY)',
    '15118': 'not complex enough for the Windows password policy (CHECK_POLICY): it needs 3 of upper case, lower case, digits and symbols, and must not contain the login name',
    '15119': 'a password filter DLL of the Windows policy refused it (CHECK_POLICY)',
    '15128': 'MUST_CHANGE needs CHECK_POLICY and CHECK_EXPIRATION on',
    '15247': 'the admin lacks the permission',
    '18470': 'the login is disabled',
    '18486': 'the login is locked out by the Windows policy',
    '18487': 'the login\'s password has expired',
    '18488': 'the login\'s password must be changed first (MUST_CHANGE)',
  } as Readonly<Record<string, string>>,
  connectionLost: new Set(['ESOCKET', 'ECLOSE', 'ECONNCLOSED', 'ETIMEOUT']),
  // tedious's `encrypt`: TLS from PRELOGIN on, for the whole session; the host name checked by Node.
  tls: (r: SqlTlsConfig) => (r.ssl ? { encrypt: true as const, trustServerCertificate: false as const, cryptoCredentialsDetails: verified(r) } : undefined),
} as const satisfies SqlDialect<Record<string, string>> & Record<string, unknown>;

/**
 * Oracle Database through node-oracledb in Thin mode. A self change (and the admin's own) is the
 * driver's password change (`connection.changePassword`), which sends the new password in O5LOGON's
 * authentication message encrypted with the session key, never as SQL. Another user's password can
 * only be set with ALTER USER, which takes no bind variable for it: the user name is an unquoted
 * identifier by its rule, sent quoted and upper-cased (as Oracle folds unquoted names), and the
 * password a quoted identifier, which holds anything but `"` and NUL ("Database Object Names and
 * Qualifiers", SQL Language Reference): one that holds either is refused before sending.
 */
export const ORACLE = {
  statements: {
    alterUser: (user: string, password: string) => `ALTER USER "${user.toUpperCase()}" IDENTIFIED BY "${password}"`,
  },
  // Unquoted identifiers only (C## for common users): nothing SQL could read as more.
  identifier: z.string().regex(/^(C##|c##)?[A-Za-z][A-Za-z0-9_$#]{0,127}$/, 'must be an Oracle user name: optional "C##", a letter, then letters, digits, "_", "$" or "#" (at most 128)'),
  /** What a quoted identifier cannot hold: the password is refused before sending when it holds one. */
  unquotable: /["\0]/,
  wrongPassword: 1017,
  // ORA-01017 invalid username/password; ORA-01005 null password; ORA-28000 the account is locked; ORA-28001 the password has expired.
  authFailed: (e: unknown) => ['1017', '1005', '28000', '28001'].includes(codeOf(e, 'errorNum') ?? ''),
  // What each ORA- error means for a reset (Oracle's Database Error Messages); ALTER USER and the
  // driver's password change are refused whole, before the password is stored.
  refusals: {
    '988': 'missing or invalid password (ORA-00988)',
    '1017': 'invalid user name or password (ORA-01017)',
    '1031': 'the admin lacks the ALTER USER system privilege (ORA-01031)',
    '1918': 'no such user (ORA-01918)',
    '28000': 'the account is locked (ORA-28000)',
    '28001': 'the password has expired (ORA-28001)',
    '28003': "the profile's password verify function refused it (ORA-28003)",
    '28007': "the password was used before and the profile's PASSWORD_REUSE_TIME or PASSWORD_REUSE_MAX forbids it again (ORA-28007)",
    '28008': 'the old password is wrong (ORA-28008)',
    '28221': 'the profile has a verify function, so the old password must be given (ORA-28221)',
  } as Readonly<Record<string, string>>,
  // node-oracledb's Oracle Net errors: closed, lost contact, incomplete, timed out, refused, EOF.
  connectionLost: new Set(['NJS-500', 'NJS-501', 'NJS-503', 'NJS-510', 'NJS-511', 'NJS-521']),
  /** ORA- numbers that are the connection failing, not the server refusing: end-of-file on the channel, not connected, lost contact, TNS transport errors. */
  lostConnection: new Set([3113, 3114, 3135, 12537, 12547, 12570, 12571]),
  // TCPS in the connect descriptor; Thin mode checks the certificate against the system's roots
  // (a PEM wallet would also have to hold a client key) and its name against the host.
  tls: (r: SqlTlsConfig) => (r.ssl ? { protocol: 'TCPS' as const, sslServerDNMatch: true as const } : undefined),
} as const satisfies SqlDialect<Record<string, unknown>> & Record<string, unknown>;

/**
 * SAP ASE through this project's TDS 5.0 client (sybase-ase/tds5.ts). A password is changed by
 * `sp_password`, called as an RPC whose parameters travel bound, never in SQL text: the caller's
 * own password first (ASE asks every caller for it, an admin with sso_role as much as a login
 * changing its own), the new one, and for another login its name ("sp_password", Reference
 * Manual: Procedures). Lookups are language requests with bound parameters.
 */
export const SYBASE_ASE = {
  statements: {
    changePassword: 'sp_password',
    // 1 when the session holds sso_role, which a change of another login's password needs.
    adminRights: "select proc_role('sso_role')",
    // The login's server user id, NULL when there is none.
    loginId: 'select suser_id(@login)',
  },
  identifier: z.string().regex(/^[A-Za-z_][A-Za-z0-9_@#$]{0,29}$/, 'must be an ASE login name: a letter or "_", then letters, digits, "_", "@", "#" or "$" (at most 30)'),
  /** What the login record's password field holds (TDS_MAXNAME), without password encryption. */
  maxPasswordBytes: 30,
  wrongPassword: 4002,
  // Msg 4002 "Login failed." is ASE's one answer to a wrong password, an unknown or a locked login.
  authFailed: (e: unknown) => codeOf(e, 'number') === '4002',
  // What each message means for a reset; sp_password raises each before it writes the new
  // password. 4002, 10315, 17720 and 17231 as real ASE servers print them (test/simulators/tds5
  // README gives the sources); 10353 and 10317 from ASE's sysmessages, unchecked against SAP's text.
  refusals: {
    '4002': 'wrong password, no such login, or the login is locked',
    '10315': "the caller's own password is wrong, or the new password is the current one",
    '17720': 'the password was not set',
    '17231': 'no such login',
    '10353': "the caller lacks sso_role, which changing another login's password needs",
    '10317': "shorter than the server's minimum password length (sp_configure 'minimum password length')",
  } as Readonly<Record<string, string>>,
  connectionLost: new Set(['TDS5_CONNECTION_LOST']),
  // TLS from the first byte (ASE's SSL listener); the certificate checked, and its name against the host.
  tls: (r: SqlTlsConfig) => (r.ssl ? verified(r) : undefined),
} as const satisfies SqlDialect<Record<string, string>> & Record<string, unknown>;

/** Every row, by the engine's resource type. */
export const SQL_DIALECTS = { postgresql: POSTGRESQL, mysql: MYSQL, mssql: MSSQL, oracle: ORACLE, 'sybase-ase': SYBASE_ASE } as const;
export type SqlEngine = keyof typeof SQL_DIALECTS;
