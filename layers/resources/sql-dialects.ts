import type { z } from 'zod';

/**
 * The SQL dialect table: what differs between the SQL engines rpr resets, one row per engine and
 * nothing of it copied into the adapters. Each row says how the password statement is formed
 * (and where the password travels in it), which user names the engine takes, how a driver error
 * is read (the server's own code, or the driver's), which codes mean "the login was refused",
 * "the statement was refused and changed nothing" and "the connection was lost", and the TLS
 * options its driver takes.
 *
 * This module holds data and small pure functions only (and zod rules), never a driver import: every SQL function
 * bundles it, and each bundles only its own driver.
 */

/** The resource fields every SQL engine's TLS options are built from. */
export interface SqlTlsConfig {
  readonly ssl: boolean;
  readonly caCertificate?: string | undefined;
}

/** How a failed driver call reads, by the dialect's own codes. */
export type SqlFailure =
  /** The server refused the login (a wrong password, no such login). */
  | 'authentication'
  /** The server answered that the statement was refused: nothing was changed. */
  | 'refused'
  /** The connection broke (or never opened) rather than the server answering. */
  | 'connection lost'
  /** Anything else: after a password statement was sent, its outcome is unknown. */
  | 'other';

export interface SqlDialect {
  readonly title: string;
  /** The statements the adapter sends, by purpose; the text says where each value travels. */
  readonly statements: Readonly<Record<string, unknown>>;
  /** The user names the engine takes as rpr handles them (each type's descriptor uses it as its `username`). */
  readonly identifier: z.ZodType<string>;
  /**
   * Whether the password statement runs inside a transaction the adapter commits: then any
   * failure before COMMIT changed nothing. False where the engine cannot (DDL commits itself,
   * or the statement is refused inside a transaction).
   */
  readonly transactional: boolean;
  /** The server's own error code on a driver error; undefined when the driver (not the server) raised it. */
  serverCode(e: unknown): number | string | undefined;
  /** Server codes: the login was refused. */
  readonly authFailed: ReadonlySet<number | string>;
  /** Server codes that prove a password statement changed nothing, with what each means to the user. */
  readonly refusals: Readonly<Record<string, string>>;
  /** The driver's own codes and messages for a broken connection, beside Node's socket codes. */
  readonly connectionLost: { readonly codes: readonly string[]; readonly message?: RegExp };
  /** The driver's TLS options for a resource (certificate and name verified, TLS 1.2 or later); undefined without TLS. */
  tls(r: SqlTlsConfig): unknown;
}

/** Node's own codes for a connection that broke or never opened, whatever the driver. */
export const SOCKET_CODES: readonly string[] = [
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND',
  'EAI_AGAIN', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_DESTROYED',
];

/** Each error a failure wraps (drivers wrap each other and Node's), outermost first. */
export function errorChain(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let x: unknown = e; x !== null && x !== undefined && typeof x === 'object' && out.length < 6; ) {
    out.push(x);
    const o = x as { originalError?: unknown; cause?: unknown };
    x = o.originalError ?? o.cause;
  }
  return out;
}

function codesOf(e: unknown): string[] {
  return errorChain(e).flatMap((x) => {
    const c = (x as { code?: unknown }).code;
    return typeof c === 'string' ? [c] : [];
  });
}

/** Reads a driver failure by a dialect's table. */
export function classify(d: SqlDialect, e: unknown): SqlFailure {
  const code = d.serverCode(e);
  if (code !== undefined) {
    if (d.authFailed.has(code)) return 'authentication';
    if (Object.hasOwn(d.refusals, String(code))) return 'refused';
    return 'other';
  }
  const codes = codesOf(e);
  if (codes.some((c) => SOCKET_CODES.includes(c) || d.connectionLost.codes.includes(c))) return 'connection lost';
  const message = errorChain(e).map((x) => (x instanceof Error ? x.message : '')).join(' | ');
  if (d.connectionLost.message?.test(message)) return 'connection lost';
  return 'other';
}

/** The meaning of a refusal code, for the message the user reads. */
export function refusalMeaning(d: SqlDialect, e: unknown): string | undefined {
  const code = d.serverCode(e);
  return code === undefined ? undefined : d.refusals[String(code)];
}

/**
 * The table. Rows are added as each engine's adapter lands: postgresql, mysql (MySQL and
 * MariaDB), mssql, oracle, sybase-ase.
 */
export const SQL_DIALECTS = {} satisfies Record<string, SqlDialect>;
