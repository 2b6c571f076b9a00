import mysql from 'mysql2/promise';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, Credential, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { OutcomeUnknownError, ResetError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import {
  AdminConnection,
  DeadlineExceeded,
  assertChangeInput,
  currentPasswordForSelfChange,
  connectFailure,
  isConnectionLoss,
  readOnlyFailure,
  redacted,
  tlsOptions,
  withDeadline,
} from '../sql-common.js';
import { mysqlDefinition, type MysqlResource } from './schema.js';

/**
 * How the password travels. mysql2's `query()` escapes values on the client with
 * backslashes, which is only safe while the session's sql_mode lacks NO_BACKSLASH_ESCAPES
 * (with it, `\'` no longer escapes the quote and a crafted password could end the literal).
 * So every session removes NO_BACKSLASH_ESCAPES from its own sql_mode when it opens, reads
 * it back, and refuses to continue if it is still there. We pin the mode rather than send a
 * hash (`IDENTIFIED BY PASSWORD '*…'`) because a hash fixes the account's authentication
 * plugin to mysql_native_password: MySQL 8 accounts use caching_sha2_password (and 8.4
 * disables native passwords), while `IDENTIFIED BY` keeps each server's own plugin. Pinning
 * works the same on MariaDB 10.11 and MySQL 8. `execute()` (server-side binding) cannot
 * carry ALTER USER's password on either server.
 */
const DIALECTS = {
  mariadb: {
    selfChange: (p: string, _current: string) => ({ sql: 'SET PASSWORD = PASSWORD(?)', values: [p] }),
  },
  mysql: {
    // REPLACE proves the current password where password_require_current is on (8.0.13+).
    selfChange: (p: string, current: string) => ({ sql: 'ALTER USER CURRENT_USER() IDENTIFIED BY ? REPLACE ?', values: [p, current] }),
  },
  mysqlLegacy: {
    selfChange: (p: string, _current: string) => ({ sql: 'ALTER USER CURRENT_USER() IDENTIFIED BY ?', values: [p] }),
  },
} as const;
type Dialect = keyof typeof DIALECTS;

const SQL = {
  readSession: 'SELECT @@SESSION.sql_mode AS mode, VERSION() AS version',
  setSqlMode: 'SET SESSION sql_mode = ?',
  accountExists: 'SELECT 1 AS found FROM mysql.user WHERE User = ? AND Host = ?',
  adminReset: 'ALTER USER ?@? IDENTIFIED BY ?',
  threadAlive: 'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?',
  kill: (threadId: number) => `KILL CONNECTION ${Math.trunc(threadId)}`,
};

const ER_ACCESS_DENIED_ERROR = 1045;
const ER_NO_SUCH_THREAD = 1094;

function dialectOf(version: string): Dialect {
  if (/mariadb/i.test(version)) return 'mariadb';
  const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).map((n) => parseInt(n, 10) || 0);
  return major > 8 || (major === 8 && (minor > 0 || patch >= 13)) ? 'mysql' : 'mysqlLegacy';
}

function isAuthFailure(e: unknown): boolean {
  return (e as { errno?: unknown } | null)?.errno === ER_ACCESS_DENIED_ERROR;
}

/**
 * mysql2 keeps the statement it sent (with the escaped password) on its errors as `sql`, and
 * the server quotes statement text after "near": in escaped form a redactor may not recognise it.
 */
function scrubbed(e: unknown): unknown {
  if (e !== null && typeof e === 'object') {
    delete (e as { sql?: unknown }).sql;
    delete (e as { sqlMessage?: unknown }).sqlMessage;
  }
  if (e instanceof Error && / near '/.test(e.message)) e.message = `${e.message.slice(0, e.message.indexOf(" near '"))} near [statement text withheld]`;
  return e;
}

function serverMessage(e: unknown): string {
  const m = (scrubbed(e) as Error | undefined)?.message ?? String(e);
  const errno = (e as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' ? `${m} (error ${errno})` : m;
}

/** "name" or "name@host", split at the last "@" as the type's schema does; the host defaults to "%". */
export function splitAccount(username: string): { user: string; host: string } {
  const at = username.lastIndexOf('@');
  return at > 0 ? { user: username.slice(0, at), host: username.slice(at + 1) } : { user: username, host: '%' };
}

type Rows = Record<string, unknown>[];

/** A login that may open a session, with the passwords to try in order. */
interface Login {
  readonly user: string;
  readonly passwords: readonly Secret[];
}

class Session {
  broken = false;
  constructor(
    readonly conn: mysql.Connection,
    readonly dialect: Dialect,
    private readonly timeoutMs: number,
  ) {
    conn.on('error', () => {
      this.broken = true;
    });
  }

  get threadId(): number {
    return this.conn.threadId;
  }

  async query(what: string, sql: string, values?: unknown[]): Promise<Rows> {
    const [rows] = await withDeadline(what, this.timeoutMs, this.conn.query(sql, values), () => this.destroy());
    return rows as Rows;
  }

  /** Server-side binding, for statements that allow it. */
  async execute(what: string, sql: string, values: (string | number)[]): Promise<Rows> {
    const [rows] = await withDeadline(what, this.timeoutMs, this.conn.execute(sql, values), () => this.destroy());
    return rows as Rows;
  }

  destroy(): void {
    this.broken = true;
    this.conn.destroy();
  }

  async close(): Promise<void> {
    if (this.broken) return this.destroy();
    await withDeadline('closing the connection', this.timeoutMs, this.conn.end(), () => this.destroy()).catch(() => this.destroy());
  }
}

class MysqlAdapter implements TargetAdapter {
  readonly type = 'mysql' as const;
  readonly verification = 'login' as const;
  readonly #admin: AdminConnection<Session> | undefined;

  constructor(private readonly ctx: AdapterContext<MysqlResource>) {
    const admin = ctx.credentials.admin;
    const user = admin && splitAccount(admin.username).user;
    this.#admin = admin && new AdminConnection(admin, (password) => this.#open(user!, password, `logging in as the admin ${user}`));
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    try {
      assertChangeInput(this.ctx, mysqlDefinition.username, req);
      const target = splitAccount(req.account.username);
      if (this.#admin) {
        const admin = this.#admin;
        const adminUser = splitAccount(admin.credential.username).user;
        const session = await admin.session();
        if (this.#isAdmin(req, admin.credential)) {
          const current = admin.password;
          const stmt = DIALECTS[session.dialect].selfChange(req.newPassword.reveal(), current.reveal());
          await this.#alter(session, stmt, req, { user: adminUser, passwords: [current, req.newPassword] });
          admin.changed(req.newPassword);
          return { method: 'self change (admin account)' };
        }
        let found: Rows;
        try {
          found = await session.execute('looking up the account', SQL.accountExists, [target.user, target.host]);
        } catch (e) {
          throw readOnlyFailure(e, 'looking up the account in mysql.user');
        }
        if (found.length === 0) {
          throw new TargetUnchangedError(`account ${JSON.stringify(`${target.user}@${target.host}`)} does not exist; nothing was changed`);
        }
        const stmt = { sql: SQL.adminReset, values: [target.user, target.host, req.newPassword.reveal()] };
        await this.#alter(session, stmt, req, { user: adminUser, passwords: [admin.password] });
        return { method: 'admin reset' };
      }
      const current = currentPasswordForSelfChange(req);
      const session = await this.#open(target.user, current, `logging in as ${target.user}`);
      try {
        const stmt = DIALECTS[session.dialect].selfChange(req.newPassword.reveal(), current.reveal());
        await this.#alter(session, stmt, req, { user: target.user, passwords: [current, req.newPassword] });
      } finally {
        await session.close();
      }
      return { method: 'self change' };
    } catch (e) {
      throw redacted(this.ctx, e, req.newPassword, req.currentPassword);
    }
  }

  async verify(req: VerifyRequest): Promise<VerifyResult> {
    const { user } = splitAccount(req.account.username);
    try {
      const ok = await this.#tryLogin(user, req.password);
      return ok ? { valid: true } : { valid: false, detail: 'the server refused the password' };
    } catch (e) {
      throw redacted(this.ctx, e, req.password);
    }
  }

  async close(): Promise<void> {
    await this.#admin?.close();
  }

  #isAdmin(req: ChangeRequest, admin: Credential): boolean {
    if (req.account.id === admin.accountId) return true;
    const a = splitAccount(admin.username);
    const t = splitAccount(req.account.username);
    return a.user === t.user && a.host === t.host;
  }

  /** A fresh login: true if accepted, false if the password is refused; throws when unreachable. */
  async #tryLogin(user: string, password: Secret): Promise<boolean> {
    let s: Session;
    try {
      s = await this.#open(user, password, `logging in as ${user}`);
    } catch (e) {
      if (e instanceof ResetError && isAuthFailure(e.cause)) return false;
      throw e;
    }
    await s.close();
    return true;
  }

  /** Opens a connection and pins its sql_mode so that client-side escaping is sound. */
  async #open(user: string, password: Secret, what: string): Promise<Session> {
    const r = this.ctx.resource;
    const ssl = tlsOptions(r);
    let conn: mysql.Connection;
    const connecting = mysql.createConnection({
          host: r.host,
          port: r.port,
          user,
          password: password.reveal(),
          ...(ssl ? { ssl } : {}),
          connectTimeout: this.ctx.timeoutMs,
          charset: 'utf8mb4',
          multipleStatements: false,
    });
    try {
      // A handshake that completes after the deadline is closed at once.
      conn = await withDeadline(what, this.ctx.timeoutMs, connecting, () => void connecting.then((c) => c.destroy(), () => undefined));
    } catch (e) {
      throw connectFailure(e, what, isAuthFailure);
    }
    const probe = new Session(conn, 'mariadb', this.ctx.timeoutMs);
    try {
      let [info] = await probe.query('reading the session', SQL.readSession);
      const modes = String(info?.mode ?? '').split(',');
      if (modes.includes('NO_BACKSLASH_ESCAPES')) {
        await probe.query('setting sql_mode', SQL.setSqlMode, [modes.filter((m) => m !== 'NO_BACKSLASH_ESCAPES').join(',')]);
        [info] = await probe.query('reading the session', SQL.readSession);
        if (String(info?.mode ?? '').split(',').includes('NO_BACKSLASH_ESCAPES')) {
          throw new TargetUnchangedError('could not clear NO_BACKSLASH_ESCAPES from the session sql_mode; refusing to send a password');
        }
      }
      return new Session(conn, dialectOf(String(info?.version ?? '')), this.ctx.timeoutMs);
    } catch (e) {
      probe.destroy();
      throw readOnlyFailure(e, `${what}: preparing the session`);
    }
  }

  /**
   * Sends the statement that changes the password. A server error means nothing changed.
   * A lost connection leaves the outcome open, so the old session is killed and waited
   * for on a fresh connection, then the new password is tried: still refused proves nothing
   * changed; anything else is reported as unknown for the engine to reconcile.
   */
  async #alter(session: Session, stmt: { sql: string; values: string[] }, req: ChangeRequest, owner: Login): Promise<void> {
    const threadId = session.threadId;
    try {
      await session.query('changing the password', stmt.sql, stmt.values);
    } catch (e) {
      const who = JSON.stringify(req.account.username);
      if (!isConnectionLoss(e)) {
        throw new TargetUnchangedError(`changing the password of ${who}: the server refused it; nothing was changed: ${serverMessage(e)}`, { cause: scrubbed(e) });
      }
      session.destroy();
      const outcome = await this.#settle(threadId, req, owner).catch(() => 'unknown' as const);
      scrubbed(e);
      const lost = e instanceof DeadlineExceeded ? e.message : 'the connection was lost before the answer';
      if (outcome === 'not-applied') {
        throw new TargetUnchangedError(`changing the password of ${who}: ${lost}; afterwards the old session was gone and the new password was refused, so nothing was changed`, { cause: e });
      }
      throw new OutcomeUnknownError(`changing the password of ${who}: ${lost}; the change may have been applied${outcome === 'applied' ? ' (the new password now logs in)' : ''}`, { cause: e });
    }
  }

  /** Ends the lost session (as the login that owned it: anyone may kill their own threads), then tries the new password. */
  async #settle(threadId: number, req: ChangeRequest, owner: Login): Promise<'applied' | 'not-applied' | 'unknown'> {
    const target = splitAccount(req.account.username).user;
    // The login that owned the lost session (it may kill its own threads without privileges).
    let probe: Session | undefined;
    for (const p of owner.passwords) {
      try {
        probe = await this.#open(owner.user, p, 'checking the lost change');
        break;
      } catch (e) {
        if (!(e instanceof ResetError && isAuthFailure(e.cause))) return 'unknown';
      }
    }
    if (!probe) return 'unknown';
    try {
      try {
        await probe.query('ending the lost session', SQL.kill(threadId));
      } catch (e) {
        if ((e as { errno?: unknown }).errno !== ER_NO_SUCH_THREAD) throw e;
      }
      const deadline = Date.now() + this.ctx.timeoutMs;
      for (;;) {
        const [row] = await probe.execute('waiting for the lost session to end', SQL.threadAlive, [threadId]);
        if (Number(row?.n ?? 1) === 0) break;
        if (Date.now() > deadline) return 'unknown';
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await probe.close();
    }
    return (await this.#tryLogin(target, req.newPassword)) ? 'applied' : 'not-applied';
  }
}

/** MySQL and MariaDB: admin reset with an account holding CREATE USER, or each account's self change. */
export const createMysqlAdapter: AdapterFactory<MysqlResource> = (ctx) => new MysqlAdapter(ctx);
