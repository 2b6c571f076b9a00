import mysql from 'mysql2/promise';
import { connect, isIP, type Socket } from 'node:net';
import type { Account } from '../common.js';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, Credential, PreflightFinding, PreflightRequest, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { InvalidConfigurationError, OutcomeUnknownError, ResetError, TargetUnchangedError } from '../../engine/errors.js';
import { Secret } from '../../engine/secret.js';
import {
  AdminConnection,
  DeadlineExceeded,
  assertChangeInput,
  currentPasswordForSelfChange,
  connectFailure,
  isConnectionLoss,
  readOnlyFailure,
  selfChangeFindings,
  withDeadline,
} from '../sql-common.js';
import { MYSQL } from '../sql-dialects.js';
import { attest, comparable } from './hashes.js';
import { changeFormFinding, granteeOf, PREFLIGHT_SQL, rightsFinding } from './preflight.js';
import { isRefusal, isRefusalReason, isStrictPasswordValidation, refusesHashes, serverErrno } from './refusals.js';
import { mysqlDefinition, type MysqlResource } from './schema.js';
import { adminClearText, adminStatement, dialectOf, pluginOfCreateUser, selfStatement, takesSelfHash, type Dialect, type Statement } from './statements.js';

const SQL = MYSQL.statements;

const ER_NO_SUCH_THREAD = 1094;
const ER_TABLEACCESS_DENIED_ERROR = 1142;

/**
 * mysql2 keeps the statement it sent (with the escaped password or hash) on its errors as `sql`,
 * and the server quotes statement text after "near": in escaped form a redactor may not recognise it.
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

const accountName = (a: { user: string; host: string }) => `${a.user}@${a.host}`;

type Rows = Record<string, unknown>[];

/** A login that may open a session, with the passwords to try in order. */
interface Login {
  readonly user: string;
  readonly passwords: readonly Secret[];
}

/** What the admin reads of an account: how it authenticates, and whether a login from here reaches it. */
interface AccountInfo {
  readonly plugin: string;
  readonly stored: Buffer;
  /**
   * A login from here lands on this account: its host pattern matches the client address the
   * server sees, and no other row (the same name on another host, an anonymous account) does,
   * so the server cannot match the login to another account.
   */
  readonly logsInFromHere: boolean;
}

/** How a password of an account is proven: a fresh login, or the admin comparing the stored form. */
type Proof = { by: 'login' } | { by: 'attestation' } | { by: 'none'; why: string };

/** Plugins mysql2 cannot log in with (it has no client_ed25519). */
const NO_LOGIN_PLUGINS = new Set(['ed25519']);

function proofFor(info: AccountInfo, name: string): Proof {
  if (info.logsInFromHere && !NO_LOGIN_PLUGINS.has(info.plugin)) return { by: 'login' };
  if (comparable(info.plugin, info.stored)) return { by: 'attestation' };
  return {
    by: 'none',
    why: `a login as ${JSON.stringify(name)} from here cannot prove its password (its host part does not match this client, another account would take the login, or rpr cannot log in with its plugin), and its plugin ${info.plugin || '(none)'} stores nothing rpr can compare; nothing was changed`,
  };
}

class Session {
  broken = false;
  constructor(
    readonly conn: mysql.Connection,
    readonly dialect: Dialect,
    private readonly timeoutMs: number,
    /** CURRENT_USER(): the account this session is, as "user@host". */
    readonly me = '',
    /** The client host as the server sees it (from USER()). */
    readonly clientHost = '',
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

/** The server refused the change (nothing changed), with the reasons it gave. */
class RefusedChange extends TargetUnchangedError {
  constructor(
    message: string,
    readonly reasons: readonly { code: number; message: string }[],
    options: { cause: unknown },
  ) {
    super(message, options);
  }

  /** MariaDB with a password validation plugin and strict_password_validation: only the clear text can be checked. */
  get refusesHashes(): boolean {
    return isStrictPasswordValidation(this.cause) || this.reasons.some(refusesHashes);
  }
}

class MysqlAdapter implements TargetAdapter {
  readonly type = 'mysql' as const;
  readonly verification = 'login' as const;
  readonly #admin: AdminConnection<Session> | undefined;
  /** Accounts a login from here was seen to reach (as CURRENT_USER()), so a refused login means a wrong password. */
  readonly #reachable = new Set<string>();

  constructor(private readonly ctx: AdapterContext<MysqlResource>) {
    const admin = ctx.credentials.admin;
    const user = admin && splitAccount(admin.username).user;
    this.#admin = admin && new AdminConnection(admin, (password) => this.#open(user!, password, `logging in as the admin ${user}`));
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    const sent: Secret[] = [];
    try {
      assertChangeInput(this.ctx, mysqlDefinition.username, req);
      const target = splitAccount(req.account.username);
      if (this.#admin) {
        const admin = this.#admin;
        const adminUser = splitAccount(admin.credential.username).user;
        const session = await admin.session();
        if (this.#isAdmin(req, admin.credential)) {
          const current = admin.password;
          const stmt = await this.#selfStatement(session, req.newPassword, current);
          if (stmt.hash) sent.push(stmt.hash);
          const clear = selfStatement(session.dialect, undefined, req.newPassword, current);
          const form = await this.#send(() => admin.session(), stmt, clear, req, { user: adminUser, passwords: [current, req.newPassword] });
          admin.changed(req.newPassword);
          return { method: `self change (admin account${form === 'clear text' ? '; clear text: the server validates passwords' : ''})` };
        }
        const info = await this.#lookup(session, target);
        if (!info) throw new TargetUnchangedError(`account ${JSON.stringify(accountName(target))} does not exist; nothing was changed`);
        const proof = proofFor(info, accountName(target));
        if (proof.by === 'none') throw new InvalidConfigurationError('username', proof.why);
        const stmt = adminStatement(session.dialect, target, info.plugin, req.newPassword);
        if (stmt.hash) sent.push(stmt.hash);
        const form = await this.#send(() => admin.session(), stmt, adminClearText(target, req.newPassword), req, { user: adminUser, passwords: [admin.password] });
        return { method: form === 'clear text' ? 'admin reset (clear text: the server validates passwords)' : 'admin reset' };
      }
      const current = currentPasswordForSelfChange(req);
      const session = await this.#openAs(target, current);
      try {
        const stmt = await this.#selfStatement(session, req.newPassword, current);
        if (stmt.hash) sent.push(stmt.hash);
        const clear = selfStatement(session.dialect, undefined, req.newPassword, current);
        const form = await this.#send(async () => session, stmt, clear, req, { user: target.user, passwords: [current, req.newPassword] });
        return { method: form === 'clear text' ? 'self change (clear text: the server validates passwords)' : 'self change' };
      } finally {
        await session.close();
      }
    } catch (e) {
      // The stored forms sent instead of the password are secrets only this adapter knows;
      // guarded() redacts the passwords themselves.
      throw this.ctx.redactor.with(...sent).redactedCopy(e);
    }
  }

  /**
   * A fresh login as the account where one from here reaches it; otherwise, with an admin, the
   * stored form compared with the one computed here (`by: 'attestation'`). Refuses, naming the
   * field, an account neither can prove, rather than calling its password wrong.
   */
  async verify(req: VerifyRequest): Promise<VerifyResult> {
    const target = splitAccount(req.account.username);
    if (this.#admin && !this.#isAdmin(req, this.#admin.credential) && !this.#reachable.has(accountName(target))) {
      const session = await this.#admin.session();
      const info = await this.#lookup(session, target);
      if (!info) return { valid: false, detail: 'the account does not exist' };
      const proof = proofFor(info, accountName(target));
      if (proof.by === 'none') throw new InvalidConfigurationError('username', proof.why);
      if (proof.by === 'attestation') return this.#attested(info, req.password);
    }
    return await this.#verifyByLogin(target, req.password);
  }

  /**
   * When the server says the password was last set, read by the admin (for drift detection):
   * undefined without an admin, without the right to read it (MariaDB: SELECT on
   * mysql.global_priv), or when the server kept no time.
   */
  async passwordLastSet(acct: Account): Promise<Date | undefined> {
    if (!this.#admin) return undefined;
    const session = await this.#admin.session();
    const t = splitAccount(acct.username);
    let rows: Rows;
    try {
      rows = await session.execute('reading when the password was set', SQL.passwordLastChanged[session.dialect === 'mariadb' ? 'mariadb' : 'mysql'], [t.user, t.host]);
    } catch (e) {
      if (serverErrno(e) === ER_TABLEACCESS_DENIED_ERROR) return undefined;
      throw readOnlyFailure(scrubbed(e), 'reading when the password was set');
    }
    const seconds = Number(rows[0]?.t ?? 0);
    return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : undefined;
  }

  /**
   * With the admin's session, reads what ALTER USER will need: the admin's CREATE USER (or UPDATE
   * on mysql.*), each account's row and plugin, and whether its password can be proven afterwards.
   */
  async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    if (!this.#admin) return selfChangeFindings(req.accounts);
    const session = await this.#admin.session();
    const findings: PreflightFinding[] = [{ check: 'admin login', ok: true, detail: `logged in as ${JSON.stringify(session.me)}` }];
    let rights: Rows;
    try {
      rights = await session.query("reading the admin's privileges", PREFLIGHT_SQL.rights, [granteeOf(session.me), granteeOf(session.me)]);
    } catch (e) {
      throw readOnlyFailure(scrubbed(e), "reading the admin's privileges from information_schema");
    }
    findings.push(rightsFinding(session.me, rights));
    for (const account of req.accounts) {
      const name = mysqlDefinition.username.safeParse(account.username);
      if (!name.success) {
        findings.push({ accountId: account.id, check: 'user name', ok: false, detail: name.error.issues[0]?.message ?? 'is not a valid account name' });
        continue;
      }
      if (this.#isAdmin({ account }, this.#admin.credential)) {
        findings.push({ accountId: account.id, check: 'self change', ok: true, detail: 'the admin account changes its own password, with SET PASSWORD' });
        continue;
      }
      const target = splitAccount(name.data);
      let info: AccountInfo | undefined;
      try {
        info = await this.#lookup(session, target);
      } catch (e) {
        if (serverErrno((e as Error).cause) !== ER_TABLEACCESS_DENIED_ERROR) throw e;
        return [...findings, { check: 'read mysql.user', ok: false, detail: `the admin ${JSON.stringify(session.me)} may not read mysql.user, where rpr looks up each account and its plugin; GRANT SELECT ON mysql.user TO the admin` }];
      }
      if (!info) {
        findings.push({ accountId: account.id, check: 'account exists', ok: false, detail: `the server has no account ${JSON.stringify(accountName(target))} (mysql.user); a reset of it would fail` });
        continue;
      }
      findings.push({ accountId: account.id, check: 'account exists', ok: true, detail: `the server has the account ${JSON.stringify(accountName(target))}` });
      findings.push(changeFormFinding(account.id, session.dialect, info.plugin));
      const proof = proofFor(info, accountName(target));
      findings.push({ accountId: account.id, check: 'proof', ok: proof.by !== 'none', detail: proof.by === 'none' ? proof.why : `the new password will be proven by ${proof.by === 'login' ? 'a fresh login' : 'comparing the stored hash'}` });
    }
    return findings;
  }

  async close(): Promise<void> {
    await this.#admin?.close();
  }

  #isAdmin(req: { account: { id: string; username: string } }, admin: Credential): boolean {
    if (req.account.id === admin.accountId) return true;
    const a = splitAccount(admin.username);
    const t = splitAccount(req.account.username);
    return a.user === t.user && a.host === t.host;
  }

  #attested(info: AccountInfo, password: Secret): VerifyResult {
    const valid = attest(info.plugin, info.stored, password) === true;
    return valid ? { valid, by: 'attestation' } : { valid, by: 'attestation', detail: 'the stored password hash does not match' };
  }

  async #verifyByLogin(target: { user: string; host: string }, password: Secret): Promise<VerifyResult> {
    const name = accountName(target);
    let s: Session;
    try {
      s = await this.#open(target.user, password, `logging in as ${target.user}`);
    } catch (e) {
      if (!(e instanceof ResetError && MYSQL.authFailed(e.cause))) throw e;
      // A refused login means a wrong password only where a login from here reaches the account.
      if (target.host === '%' || this.#reachable.has(name)) return { valid: false, detail: 'the server refused the password' };
      throw new InvalidConfigurationError(
        'adminAccount',
        `the server refused a login as ${JSON.stringify(name)} from here, which proves nothing for an account limited to a host: set an admin account so that rpr can compare the stored password hash`,
      );
    }
    const me = s.me;
    await s.close();
    if (me !== name) {
      throw new InvalidConfigurationError('username', `a login as ${JSON.stringify(target.user)} from here is the account ${JSON.stringify(me)}, not ${JSON.stringify(name)}: it cannot prove this account's password`);
    }
    this.#reachable.add(name);
    return { valid: true };
  }

  /** The account's row as the admin reads it, and whether a login from here would reach it; undefined when it does not exist. */
  async #lookup(session: Session, target: { user: string; host: string }): Promise<AccountInfo | undefined> {
    let rows: Rows;
    try {
      rows = await session.query('looking up the account', SQL.accountRows, [session.clientHost, target.user]);
    } catch (e) {
      throw readOnlyFailure(scrubbed(e), 'looking up the account in mysql.user');
    }
    const own = rows.find((r) => r.user === target.user && r.host === target.host);
    if (!own) return undefined;
    const here = rows.filter((r) => Number(r.here) === 1);
    const info = { plugin: String(own.plugin ?? ''), stored: Buffer.from(String(own.auth ?? ''), 'hex'), logsInFromHere: Number(own.here) === 1 && here.length === 1 };
    if (proofFor(info, '').by === 'login') this.#reachable.add(accountName(target));
    return info;
  }

  /** The session's own account: the stored form where the server takes one for a self change (its plugin from SHOW CREATE USER). */
  async #selfStatement(session: Session, password: Secret, current: Secret): Promise<Statement> {
    const plugin = takesSelfHash(session.dialect) ? await this.#ownPlugin(session) : undefined;
    return selfStatement(session.dialect, plugin, password, current);
  }

  /** The plugin of the session's own account, from SHOW CREATE USER (allowed for one's own account); undefined when unreadable. */
  async #ownPlugin(session: Session): Promise<string | undefined> {
    let rows: Rows;
    try {
      rows = await session.query('reading the account', SQL.showOwnAccount);
    } catch (e) {
      throw readOnlyFailure(scrubbed(e), 'reading the account with SHOW CREATE USER');
    }
    return pluginOfCreateUser(String(Object.values(rows[0] ?? {})[0] ?? ''));
  }

  /** Opens a session as the account itself, refusing before anything is sent when the server takes the login as another account. */
  async #openAs(target: { user: string; host: string }, password: Secret): Promise<Session> {
    const name = accountName(target);
    let s: Session;
    try {
      s = await this.#open(target.user, password, `logging in as ${target.user}`);
    } catch (e) {
      if (target.host !== '%' && e instanceof ResetError && MYSQL.authFailed(e.cause)) {
        throw new InvalidConfigurationError(
          'adminAccount',
          `the server refused a login as ${JSON.stringify(name)} from here: either its current password is wrong or the account is limited to another host; an account limited to a host that is not this one needs an admin account; nothing was changed`,
          { cause: e },
        );
      }
      throw e;
    }
    if (s.me !== name) {
      await s.close();
      throw new InvalidConfigurationError('username', `a login as ${JSON.stringify(target.user)} from here is the account ${JSON.stringify(s.me)}, not ${JSON.stringify(name)}; nothing was changed`);
    }
    this.#reachable.add(name);
    return s;
  }

  /** Opens a connection (TLS checked against the host, name or address) and pins its sql_mode so that client-side escaping is sound. */
  async #open(user: string, password: Secret, what: string): Promise<Session> {
    const r = this.ctx.resource;
    const ssl = MYSQL.tls(r);
    let conn: mysql.Connection;
    const connecting = mysql.createConnection({
      host: r.host,
      port: r.port,
      user,
      password: password.reveal(),
      ...(ssl ? { ssl } : {}),
      ...(ssl && isIP(r.host) ? { stream: () => socketNamed(r.host, r.port) } : {}),
      connectTimeout: this.ctx.timeoutMs,
      charset: 'utf8mb4',
      multipleStatements: false,
    });
    try {
      // A handshake that completes after the deadline is closed at once.
      conn = await withDeadline(what, this.ctx.timeoutMs, connecting, () => void connecting.then((c) => c.destroy(), () => undefined));
    } catch (e) {
      if ((e as { code?: unknown } | null)?.code === 'AUTH_SWITCH_PLUGIN_ERROR') {
        throw new InvalidConfigurationError('adminAccount', `${what}: the account's authentication plugin is one rpr cannot log in with (${(e as Error).message}); an admin account can change and attest it; nothing was changed`, { cause: e });
      }
      throw connectFailure(e, what, MYSQL);
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
      const client = String(info?.client ?? '');
      return new Session(conn, dialectOf(String(info?.version ?? '')), this.ctx.timeoutMs, String(info?.me ?? ''), client.slice(client.lastIndexOf('@') + 1));
    } catch (e) {
      probe.destroy();
      throw readOnlyFailure(e, `${what}: preparing the session`);
    }
  }

  /**
   * Sends the stored form; if the server refuses hashes because a validation plugin must see the
   * password (nothing changed), sends the clear text instead, which its logs will then hold.
   */
  async #send(session: () => Promise<Session>, stmt: Statement, clearText: Statement, req: ChangeRequest, owner: Login): Promise<'stored form' | 'clear text'> {
    try {
      await this.#alter(await session(), stmt, req, owner);
      return stmt.hash ? 'stored form' : 'clear text';
    } catch (e) {
      if (!(stmt.hash && e instanceof RefusedChange && e.refusesHashes)) throw e;
      this.ctx.log.warn('the server refuses hashed passwords (strict_password_validation with a validation plugin); sending the clear text, which its logs will hold', {
        account: req.account.id,
      });
      await this.#alter(await session(), clearText, req, owner);
      return 'clear text';
    }
  }

  /**
   * Sends the statement that changes the password. Only the server's own refusals on the list
   * of refusals.ts mean nothing changed; any other error is an unknown outcome. A lost
   * connection leaves the outcome open, so the old session is killed and waited for on a fresh
   * connection, then the new password is proven (login or attestation): not taken proves nothing
   * changed; anything else is reported as unknown for the engine to reconcile.
   */
  async #alter(session: Session, stmt: Statement, req: ChangeRequest, owner: Login): Promise<void> {
    const threadId = session.threadId;
    const who = JSON.stringify(req.account.username);
    try {
      await session.query('changing the password', stmt.sql, stmt.values);
    } catch (e) {
      if (!isConnectionLoss(e, MYSQL)) {
        const reasons = isRefusal(e) ? await this.#reasons(session, e) : [];
        const because = reasons.length ? `, because: ${reasons.map((r) => `${r.message} (error ${r.code})`).join('; ')}` : '';
        // A wrapped 1396 is a refusal only if every reason behind it is one too.
        if (isRefusal(e) && reasons.every((r) => isRefusalReason(r.code))) {
          throw new RefusedChange(`changing the password of ${who}: the server refused it; nothing was changed: ${serverMessage(e)}${because}`, reasons, { cause: scrubbed(e) });
        }
        const answer = serverErrno(e) === undefined ? 'failed' : 'got an error that is not a known refusal';
        throw new OutcomeUnknownError(`changing the password of ${who} ${answer}, so the change may have been applied: ${serverMessage(e)}${because}`, { cause: scrubbed(e) });
      }
      session.destroy();
      const outcome = await this.#settle(threadId, req, owner).catch(() => 'unknown' as const);
      scrubbed(e);
      const lost = e instanceof DeadlineExceeded ? e.message : 'the connection was lost before the answer';
      if (outcome === 'not-applied') {
        throw new TargetUnchangedError(`changing the password of ${who}: ${lost}; afterwards the old session was gone and the new password was not taken, so nothing was changed`, { cause: e });
      }
      throw new OutcomeUnknownError(`changing the password of ${who}: ${lost}; the change may have been applied${outcome === 'applied' ? ' (the new password is now taken)' : ''}`, { cause: e });
    }
  }

  /**
   * MariaDB reports a failed ALTER USER as ER_CANNOT_USER (1396) whatever the reason, and the
   * reason (a validation plugin's 1819, strict_password_validation's 1290) among the warnings.
   */
  async #reasons(session: Session, e: unknown): Promise<{ code: number; message: string }[]> {
    if (serverErrno(e) !== 1396) return [];
    try {
      const rows = await session.query('reading why the change was refused', SQL.showWarnings);
      return rows.filter((r) => Number(r.Code) !== 1396 && r.Level === 'Error').map((r) => ({ code: Number(r.Code), message: String(r.Message) }));
    } catch {
      return [];
    }
  }

  /** Ends the lost session (as the login that owned it: anyone may kill their own threads), then proves the new password. */
  async #settle(threadId: number, req: ChangeRequest, owner: Login): Promise<'applied' | 'not-applied' | 'unknown'> {
    let probe: Session | undefined;
    for (const p of owner.passwords) {
      try {
        probe = await this.#open(owner.user, p, 'checking the lost change');
        break;
      } catch (e) {
        if (!(e instanceof ResetError && MYSQL.authFailed(e.cause))) return 'unknown';
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
      return (await this.#provesNew(probe, req)) ? 'applied' : 'not-applied';
    } finally {
      await probe.close();
    }
  }

  /** After the lost session ended: is the new password the account's? Attested with the admin's probe session where a login cannot tell. */
  async #provesNew(probe: Session, req: ChangeRequest): Promise<boolean> {
    const target = splitAccount(req.account.username);
    if (this.#admin && !this.#isAdmin(req, this.#admin.credential)) {
      const info = await this.#lookup(probe, target);
      if (!info) throw new TargetUnchangedError('the account is gone');
      const proof = proofFor(info, accountName(target));
      if (proof.by === 'attestation') return this.#attested(info, req.newPassword).valid;
      if (proof.by === 'none') throw new InvalidConfigurationError('username', proof.why);
    }
    return (await this.#verifyByLogin(target, req.newPassword)).valid;
  }
}

/** MySQL and MariaDB: admin reset with an account holding CREATE USER, or each account's self change. */
export const createMysqlAdapter: AdapterFactory<MysqlResource> = (ctx) => new MysqlAdapter(ctx);

/**
 * A socket to `host` that Node's TLS will check the certificate against. mysql2 gives Node no
 * host name to check when it connected to an IP address, and Node then checks "localhost"
 * (it reads the name from the socket, which records only names it looked up): told the address,
 * it checks the certificate's IP addresses.
 */
function socketNamed(host: string, port: number): Socket {
  return Object.assign(connect({ host, port }), { _host: host });
}
