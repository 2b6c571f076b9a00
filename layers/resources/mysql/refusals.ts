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
export const REFUSALS: Readonly<Record<number, string>> = {
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
};

/**
 * Whether a reason MariaDB gives behind ALTER USER's 1396 (among the warnings) is a refusal:
 * the listed ones, and 1133, which ALTER USER (unlike SET PASSWORD) raises when it finds no
 * account in memory, before it has written anything.
 */
export function isRefusalReason(code: number): boolean {
  return Object.hasOwn(REFUSALS, code) || code === 1133;
}

/** The error number the server answered with, if the error is a server answer. */
export function serverErrno(e: unknown): number | undefined {
  const errno = (e as { errno?: unknown } | null)?.errno;
  const sqlState = (e as { sqlState?: unknown } | null)?.sqlState;
  // mysql2 sets sqlState only on errors the server sent (ERR packets), not on its own.
  return typeof errno === 'number' && typeof sqlState === 'string' ? errno : undefined;
}

/** Whether the server's answer proves the statement changed nothing. */
export function isRefusal(e: unknown): boolean {
  const errno = serverErrno(e);
  return errno !== undefined && Object.hasOwn(REFUSALS, errno);
}

/**
 * MariaDB refuses a hash while a password validation plugin is loaded and strict_password_validation
 * is on (1290, given as the error itself or, for ALTER USER, as the reason behind its 1396).
 */
export function refusesHashes(reason: { code: number; message: string }): boolean {
  return reason.code === 1290 && /strict.password.validation/i.test(reason.message);
}

export function isStrictPasswordValidation(e: unknown): boolean {
  const code = serverErrno(e);
  return code !== undefined && refusesHashes({ code, message: e instanceof Error ? e.message : '' });
}
