import { MYSQL } from '../sql-dialects.js';

/** The server errors that prove a password statement changed nothing: the dialect table's (sql-dialects.ts MYSQL.refusals). */
const REFUSALS = MYSQL.refusals;

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
