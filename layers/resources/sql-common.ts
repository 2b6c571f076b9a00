import type { z } from 'zod';
import type { AdapterContext, ChangeRequest, Credential, PreflightFinding, VerifyResult } from '../engine/adapter.js';
import {
  AuthenticationError,
  InvalidConfigurationError,
  ResetError,
  TargetTimeoutError,
  TargetUnchangedError,
} from '../engine/errors.js';
import { assertPasswordAcceptable } from '../engine/policy.js';
import type { Secret } from '../engine/secret.js';
import type { SqlDialect } from './sql-dialects.js';

/**
 * What the SQL adapters share: input checks, deadlines, error classification and the admin
 * connection. What differs by engine is in the dialect table (sql-dialects.ts).
 */

/** Refuses, before anything is sent, a password the type cannot take or a user name its schema refuses. */
export function assertChangeInput(ctx: AdapterContext<unknown>, username: z.ZodType<string>, req: ChangeRequest): void {
  const name = username.safeParse(req.account.username);
  if (!name.success) {
    throw new InvalidConfigurationError('account.username', name.error.issues[0]?.message ?? 'is not a valid user name for this type');
  }
  assertPasswordAcceptable(ctx.policy, req.newPassword, 'newPassword');
}

/** Raised by `withDeadline`; classified by the caller according to what had been sent. */
export class DeadlineExceeded extends Error {
  constructor(what: string, ms: number) {
    super(`${what} got no answer within ${ms} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/** Races a driver call against a deadline; on expiry, `abort` tears the connection down. */
export async function withDeadline<T>(what: string, ms: number, work: Promise<T>, abort: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort();
      reject(new DeadlineExceeded(what, ms));
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    // The loser must not become an unhandled rejection.
    work.catch(() => undefined);
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND',
  'EAI_AGAIN', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_DESTROYED',
]);

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED',
]);

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The connection broke (or never opened) rather than the server answering with an error; `dialect` adds its driver's codes. */
export function isConnectionLoss(e: unknown, dialect?: Pick<SqlDialect<unknown>, 'connectionLost'>): boolean {
  if (e instanceof DeadlineExceeded) return true;
  const code = codeOf(e);
  if (code && (NETWORK_CODES.has(code) || dialect?.connectionLost.has(code))) return true;
  const msg = e instanceof Error ? e.message : '';
  // pg reports a dropped connection without a code.
  return /Connection terminated|not queryable|connection (is )?closed|socket (hang up|closed)|Connection lost/i.test(msg);
}

export function isTlsTrustFailure(e: unknown, depth = 0): boolean {
  // tedious wraps Node's TLS error in its ESOCKET error, as the cause.
  const cause = (e as { cause?: unknown } | null)?.cause;
  if (cause !== undefined && depth < 3 && isTlsTrustFailure(cause, depth + 1)) return true;
  const code = codeOf(e);
  if (code !== undefined && TLS_TRUST_CODES.has(code)) return true;
  // mysql2 wraps Node's TLS errors in its own code and keeps only the message.
  return code === 'HANDSHAKE_SSL_ERROR' && /certificate|unable to verify|altname|does not match/i.test(describe(e));
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Classifies a failure to open a connection (nothing was sent that could change the account);
 * the dialect recognises its driver's "password refused" errors.
 */
export function connectFailure(e: unknown, what: string, dialect: Pick<SqlDialect<unknown>, 'authFailed'>): ResetError {
  if (e instanceof ResetError) return e;
  if (dialect.authFailed(e)) return new AuthenticationError(`${what}: the server refused the login: ${describe(e)}`, { cause: e });
  if (isTlsTrustFailure(e)) {
    return new InvalidConfigurationError('caCertificate', `${what}: the server's TLS certificate is not trusted (${describe(e)})`, { cause: e });
  }
  if (/does not support (SSL|secure)/i.test(describe(e))) {
    return new InvalidConfigurationError('ssl', `${what}: the server does not offer TLS; refusing to continue in plain text`, { cause: e });
  }
  const code = codeOf(e);
  // ETIMEOUT: tedious's "Failed to connect … in N ms".
  if (e instanceof DeadlineExceeded || code === 'ETIMEDOUT' || code === 'ETIMEOUT' || /timeout/i.test(describe(e))) {
    return new TargetTimeoutError(`${what}: the server did not answer in time; nothing was changed`, { cause: e });
  }
  return new TargetUnchangedError(`${what}: could not connect; nothing was changed: ${describe(e)}`, { cause: e });
}

/** Classifies a failure of a statement that cannot change the account (a lookup, a session setting). */
export function readOnlyFailure(e: unknown, what: string): ResetError {
  if (e instanceof ResetError) return e;
  if (e instanceof DeadlineExceeded) return new TargetTimeoutError(`${what}: no answer in time; nothing was changed`, { cause: e });
  if (isConnectionLoss(e)) return new TargetUnchangedError(`${what}: the connection was lost; nothing was changed: ${describe(e)}`, { cause: e });
  return new TargetUnchangedError(`${what}: the server refused it; nothing was changed: ${describe(e)}`, { cause: e });
}

/**
 * The admin connection a SQL adapter keeps for its resource: opened on first use, reused for
 * every account, reopened when it broke, and logging in with the admin's new password once the
 * admin account itself has been reset.
 */
export class AdminConnection<S extends { readonly broken: boolean; close(): Promise<void> }> {
  #session: S | undefined;
  #password: Secret | undefined;

  constructor(
    readonly credential: Credential,
    private readonly open: (password: Secret) => Promise<S>,
  ) {
    this.#password = credential.password;
  }

  /** The password the admin logs in with now. */
  get password(): Secret {
    if (!this.#password) throw new InvalidConfigurationError('adminAccount', 'the admin credential has no password');
    return this.#password;
  }

  /** The admin account's own password was changed: later logins use the new one. */
  changed(password: Secret): void {
    this.#password = password;
  }

  async session(): Promise<S> {
    if (this.#session && !this.#session.broken) return this.#session;
    await this.close();
    this.#session = await this.open(this.password);
    return this.#session;
  }

  async close(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    await s?.close();
  }
}

/**
 * Verification by a fresh login: it opened, valid; the server refused it as a wrong password
 * (`wrongPassword` gives the server's words for the cause of such a refusal), invalid; anything
 * else (unreachable, locked, a TLS refusal) throws, since it proves nothing either way.
 */
export async function loginProves(open: () => Promise<{ close(): Promise<void> }>, wrongPassword: (cause: unknown) => string | undefined): Promise<VerifyResult> {
  let session: { close(): Promise<void> };
  try {
    session = await open();
  } catch (e) {
    const detail = e instanceof ResetError ? wrongPassword(e.cause) : undefined;
    if (detail !== undefined) return { valid: false, detail };
    throw e;
  }
  await session.close();
  return { valid: true };
}

/** Without an admin, an account can only change its own password, which needs its current one. */
export function currentPasswordForSelfChange(req: ChangeRequest): Secret {
  if (!req.currentPassword) throw new InvalidConfigurationError('adminAccount', 'is not set and no current password was given for a self change');
  return req.currentPassword;
}

/**
 * A dry run without an admin: each account will log in with its current password and change its
 * own. The adapter holds no account's password, so it cannot try that login; `rpr verify` does.
 */
export function selfChangeFindings(accounts: readonly { id: string; username: string }[]): PreflightFinding[] {
  return accounts.map((a) => ({
    accountId: a.id,
    check: 'self change',
    ok: true,
    detail: `no adminAccount: a reset logs in as ${JSON.stringify(a.username)} with its current password and changes its own; the dry run does not try that login (rpr verify does)`,
  }));
}
