/**
 * The SQL engines' differences in one table, one row per engine: the statements a password change
 * is made of, the user name rule, which of the driver's errors mean "authentication failed",
 * "refused, nothing changed" and "connection lost", and the TLS options its driver takes. The
 * adapters hold no copies of these; sql-common.ts holds what is the same for every engine.
 */
import { z } from 'zod';
import { hasControlCharacter } from '../engine/policy.js';

/** What a SQL resource says about TLS (common.ts tlsOptions). */
export interface SqlTlsConfig {
  readonly ssl: boolean;
  readonly caCertificate?: string | undefined;
}

export interface SqlDialect<Statements> {
  readonly engine: string;
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
}

const printableName = (max: number) => z.string().min(1).max(max).refine((u) => !hasControlCharacter(u), 'must not hold control characters');

function codeOf(e: unknown, key: 'code' | 'number' | 'errno'): string | undefined {
  const v = (e as Record<string, unknown> | null)?.[key];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/**
 * SQL Server through tedious. ALTER LOGIN takes its password as a literal only, so the statement
 * is assembled on the server from bound nvarchar parameters, each quoted there by QUOTENAME (the
 * login as an identifier, the password as a string): no password or name is ever part of the text
 * sent. QUOTENAME answers NULL for more than 128 characters, hence the 128 limits.
 */
export const MSSQL = {
  engine: 'mssql',
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
} as const satisfies SqlDialect<Record<string, string>> & Record<string, unknown>;

export const SQL_DIALECTS = { mssql: MSSQL } as const;
