import { isIP } from 'node:net';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, Credential, PreflightFinding, PreflightRequest, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, ResetError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { AdminConnection, DeadlineExceeded, assertChangeInput, connectFailure, currentPasswordForSelfChange, loginProves, readOnlyFailure, selfChangeFindings, withDeadline } from '../sql-common.js';
import { SYBASE_ASE } from '../sql-dialects.js';
import { sybaseAseDefinition, type SybaseAseResource } from './schema.js';
import { Tds5Connection, Tds5LoginRefused, Tds5NegotiationRequired, type ServerMessage, type Tds5Result } from './tds5.js';

/** A server message that is an error (severity above 10), as the cause of a refusal. */
class AseServerError extends Error {
  readonly number: number;
  constructor(readonly error: ServerMessage) {
    super(`${error.message.trim()} (Msg ${error.number}, severity ${error.severity}${error.procedure ? `, procedure ${error.procedure}` : ''})`);
    this.name = 'AseServerError';
    this.number = error.number;
  }
}

function firstError(result: Tds5Result): ServerMessage | undefined {
  return result.messages.find((m) => m.severity > 10);
}

/** One logged-in session, each request under the adapter's deadline. */
class Session {
  constructor(
    private readonly connection: Tds5Connection,
    readonly username: string,
    private readonly timeoutMs: number,
  ) {}

  get broken(): boolean {
    return this.connection.broken;
  }

  /** A lookup: its first row, or the server's error thrown. */
  async row(what: string, sql: string, params: Readonly<Record<string, string>> = {}): Promise<readonly unknown[]> {
    const result = await withDeadline(what, this.timeoutMs, this.connection.language(sql, params), () => this.connection.destroy());
    const error = firstError(result);
    if (error) throw new AseServerError(error);
    return result.rows[0] ?? [];
  }

  rpc(what: string, proc: string, params: readonly string[]): Promise<Tds5Result> {
    return withDeadline(what, this.timeoutMs, this.connection.rpc(proc, params), () => this.connection.destroy());
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

class SybaseAseAdapter implements TargetAdapter {
  readonly type = 'sybase-ase' as const;
  readonly verification = 'login' as const;
  readonly #admin: AdminConnection<Session> | undefined;

  constructor(private readonly ctx: AdapterContext<SybaseAseResource>) {
    const admin = ctx.credentials.admin;
    this.#admin = admin && new AdminConnection(admin, (password) => this.#open(admin.username, password, `logging in as the admin ${admin.username}`));
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    assertChangeInput(this.ctx, sybaseAseDefinition.username, req);
    const login = req.account.username;
    if (this.#admin) {
      const session = await this.#admin.session();
      // sp_password asks every caller for its own password; the admin's is its caller password.
      const caller = this.#admin.password.reveal();
      if (isAdmin(req, this.#admin.credential)) {
        await this.#spPassword(session, [caller, req.newPassword.reveal()], login, true);
        this.#admin.changed(req.newPassword);
        return { method: 'self change (admin login)' };
      }
      await this.#spPassword(session, [caller, req.newPassword.reveal(), login], login, false);
      return { method: 'admin reset (sp_password with sso_role)' };
    }
    const current = currentPasswordForSelfChange(req);
    const session = await this.#open(login, current, `logging in as ${login}`, 'currentPassword');
    try {
      await this.#spPassword(session, [current.reveal(), req.newPassword.reveal()], login, true);
    } finally {
      await session.close();
    }
    return { method: 'self change (sp_password)' };
  }

  verify(req: VerifyRequest): Promise<VerifyResult> {
    return loginProves(
      () => this.#open(req.account.username, req.password, `logging in as ${req.account.username}`),
      (cause) => (cause instanceof Tds5LoginRefused && cause.number === SYBASE_ASE.wrongPassword ? cause.message : undefined),
    );
  }

  /** With the admin's session: sso_role held, and each login there. */
  async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    if (!this.#admin) return selfChangeFindings(req.accounts);
    const session = await this.#admin.session();
    const read = async (what: string, sql: string, params: Record<string, string> = {}) => {
      try {
        return await session.row(what, sql, params);
      } catch (e) {
        throw readOnlyFailure(e, what);
      }
    };
    const me = JSON.stringify(session.username);
    const [held] = await read('reading the admin\'s roles', SYBASE_ASE.statements.adminRights);
    const findings: PreflightFinding[] = [
      { check: 'admin login', ok: true, detail: `logged in as ${me}` },
      held === 1
        ? { check: 'sso_role', ok: true, detail: `the admin ${me} holds sso_role` }
        : { check: 'sso_role', ok: false, detail: `the admin ${me} does not hold sso_role (active), which sp_password of another login needs: grant role sso_role to ${session.username}` },
    ];
    for (const account of req.accounts) {
      const [id] = await read('looking up the login', SYBASE_ASE.statements.loginId, { login: account.username });
      findings.push(typeof id === 'number'
        ? { accountId: account.id, check: 'login exists', ok: true, detail: `the server has the login ${JSON.stringify(account.username)}` }
        : { accountId: account.id, check: 'login exists', ok: false, detail: `the server has no login ${JSON.stringify(account.username)} (master..syslogins); a reset of it would fail` });
    }
    return findings;
  }

  async close(): Promise<void> {
    await this.#admin?.close();
  }

  /** Opens and logs in: TLS from the first byte unless `ssl` is off, the certificate checked against the CA. */
  async #open(username: string, password: Secret, what: string, field = 'password'): Promise<Session> {
    const r = this.ctx.resource;
    const tls = SYBASE_ASE.tls(r);
    const abort = new AbortController();
    const opening = Tds5Connection.connect(
      {
        host: r.host,
        port: r.port,
        user: username,
        password: checkedPassword(password.reveal(), field),
        // The certificate's name is checked against the host; an IP address is matched without SNI.
        ...(tls ? { tls: { ...tls, ...(isIP(r.host) ? {} : { servername: r.host }) } } : {}),
      },
      abort.signal,
    );
    try {
      const connection = await withDeadline(what, this.ctx.timeoutMs, opening, () => abort.abort());
      return new Session(connection, username, this.ctx.timeoutMs);
    } catch (e) {
      if (e instanceof Tds5NegotiationRequired) {
        throw new TargetUnchangedError(`${what}: ${e.message}; turn it off for this server or use the SSL listener, whose TLS protects the password (ssl: true); nothing was changed`, { cause: e });
      }
      if (e instanceof Tds5LoginRefused) {
        const meaning = SYBASE_ASE.refusals[String(e.number)];
        throw new AuthenticationError(`${what}: the server refused the login: ${e.message}${meaning ? `: ${meaning}` : ''}`, { cause: e });
      }
      throw connectFailure(e, what, SYBASE_ASE);
    }
  }

  /**
   * Calls sp_password, the one request that changes the password. ASE raises its refusals before
   * it writes the new password and answers a nonzero return status, so an error means nothing
   * changed; a connection lost once the request may have been written leaves the outcome open.
   */
  async #spPassword(session: Session, params: readonly string[], login: string, self: boolean): Promise<void> {
    const who = `login ${JSON.stringify(login)}`;
    let result: Tds5Result;
    try {
      result = await session.rpc('changing the password', SYBASE_ASE.statements.changePassword, params);
    } catch (e) {
      if (e instanceof ResetError) throw e;
      if (e instanceof DeadlineExceeded) {
        throw new OutcomeUnknownError(`changing the password of ${who}: ${e.message} after the request was sent; it may or may not have been applied`, { cause: e });
      }
      throw new OutcomeUnknownError(`changing the password of ${who}: the connection was lost after the request was sent and before its answer (${describe(e)}); the change may or may not have been applied`, { cause: e });
    }
    const error = firstError(result);
    if (error || (result.returnStatus ?? 0) !== 0) {
      const cause = error ? new AseServerError(error) : new Error(`sp_password returned status ${result.returnStatus}`);
      const meaning = error ? SYBASE_ASE.refusals[String(error.number)] : undefined;
      const whose = self ? 'its own current password' : 'the admin\'s own password';
      throw new TargetUnchangedError(`changing the password of ${who}: the server refused it: ${cause.message}${meaning ? `: ${meaning}` : ''} (sp_password was given ${whose} as the caller password); nothing was changed`, { cause });
    }
  }
}

/** The login record's password field holds 30 bytes: more is refused before anything is sent. */
function checkedPassword(value: string, field: string): string {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > SYBASE_ASE.maxPasswordBytes) throw new InvalidConfigurationError(field, `is ${bytes} bytes in UTF-8; an ASE login without password encryption takes at most ${SYBASE_ASE.maxPasswordBytes}`);
  return value;
}

function isAdmin(req: Pick<ChangeRequest, 'account'>, admin: Credential): boolean {
  return req.account.id === admin.accountId || req.account.username === admin.username;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** SAP ASE: admin reset by a login with sso_role, or each login's self change, both through sp_password. */
export const createSybaseAseAdapter: AdapterFactory<SybaseAseResource> = (ctx) => new SybaseAseAdapter(ctx);
