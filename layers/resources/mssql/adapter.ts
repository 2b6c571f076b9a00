import tedious from 'tedious';
import type { ConnectionAuthentication, ConnectionConfiguration } from 'tedious';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, Credential, PreflightFinding, PreflightRequest, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, ResetError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { AdminConnection, DeadlineExceeded, assertChangeInput, connectFailure, currentPasswordForSelfChange, loginProves, readOnlyFailure, selfChangeFindings, withDeadline } from '../sql-common.js';
import { MSSQL } from '../sql-dialects.js';
import { mssqlDefinition, type MssqlResource } from './schema.js';

const { Connection, Request, TYPES } = tedious;
type TdsConnection = InstanceType<typeof Connection>;

/** A server ERROR token as tedious reports it (RequestError, or the connection's `errorMessage` event). */
interface ServerError {
  readonly number: number;
  readonly message: string;
}

function serverError(e: unknown): ServerError | undefined {
  const n = (e as { number?: unknown } | null)?.number;
  return typeof n === 'number' && e instanceof Error ? { number: n, message: e.message } : undefined;
}

/** One logged-in connection. */
class Session {
  broken = false;

  constructor(
    private readonly connection: TdsConnection,
    readonly username: string,
    private readonly timeoutMs: number,
  ) {
    connection.on('end', () => (this.broken = true));
    connection.on('error', () => (this.broken = true));
  }

  /** Runs `sql` through sp_executesql with its parameters bound (nvarchar), and returns the rows. */
  exec(what: string, sql: string, params: Readonly<Record<string, string>>): Promise<unknown[][]> {
    const work = new Promise<unknown[][]>((resolve, reject) => {
      const rows: unknown[][] = [];
      const request = new Request(sql, (err) => (err ? reject(err) : resolve(rows)));
      for (const [name, value] of Object.entries(params)) request.addParameter(name, TYPES.NVarChar, value, { length: MSSQL.maxNameLength });
      request.on('row', (columns: { value: unknown }[]) => rows.push(columns.map((c) => c.value)));
      this.connection.execSql(request);
    });
    return withDeadline(what, this.timeoutMs, work, () => this.destroy());
  }

  destroy(): void {
    this.broken = true;
    // tedious has no public way to drop the socket without a goodbye; close() does it at once.
    this.connection.close();
  }

  async close(): Promise<void> {
    if (this.broken) return;
    this.broken = true;
    await new Promise<void>((resolve) => {
      this.connection.once('end', () => resolve());
      this.connection.close();
    });
  }
}

class MssqlAdapter implements TargetAdapter {
  readonly type = 'mssql' as const;
  readonly verification = 'login' as const;
  readonly #admin: AdminConnection<Session> | undefined;

  constructor(private readonly ctx: AdapterContext<MssqlResource>) {
    const admin = ctx.credentials.admin;
    this.#admin = admin && new AdminConnection(admin, (password) => this.#open(admin, password, `logging in as the admin ${admin.username}`));
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    assertChangeInput(this.ctx, mssqlDefinition.username, req);
    const password = checkedPassword(req.newPassword, 'newPassword');
    if (this.#admin) {
      const session = await this.#admin.session();
      await this.#alter(session, MSSQL.statements.alterLogin, { login: req.account.username, password }, req.account.username, false);
      if (isAdmin(req, this.#admin.credential)) {
        this.#admin.changed(req.newPassword);
        return { method: 'self change (admin login)' };
      }
      return { method: 'admin reset' };
    }
    const current = currentPasswordForSelfChange(req);
    const old = checkedPassword(current, 'currentPassword');
    const self = { accountId: req.account.id, username: req.account.username };
    const session = await this.#open(self, current, `logging in as ${req.account.username}`);
    try {
      await this.#alter(session, MSSQL.statements.alterOwnLogin, { login: req.account.username, password, old }, req.account.username, true);
    } finally {
      await session.close();
    }
    return { method: 'self change (OLD_PASSWORD)' };
  }

  verify(req: VerifyRequest): Promise<VerifyResult> {
    return loginProves(
      () => this.#open({ accountId: req.account.id, username: req.account.username }, req.password, `logging in as ${req.account.username}`),
      (cause) => {
        const refused = serverError(cause);
        return refused?.number === MSSQL.wrongPassword ? `${refused.message} (error ${refused.number})` : undefined;
      },
    );
  }

  /** With the admin's session: ALTER ANY LOGIN held, and each SQL login there. */
  async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    if (!this.#admin) return selfChangeFindings(req.accounts);
    const session = await this.#admin.session();
    const read = async (what: string, sql: string, params: Record<string, string> = {}) => {
      try {
        return (await session.exec(what, sql, params))[0] ?? [];
      } catch (e) {
        throw readOnlyFailure(e, what);
      }
    };
    const me = JSON.stringify(session.username);
    const [held] = await read('reading the admin\'s permissions', MSSQL.statements.adminRights);
    const findings: PreflightFinding[] = [
      { check: 'admin login', ok: true, detail: `logged in as ${me}` },
      held === 1
        ? { check: 'ALTER ANY LOGIN', ok: true, detail: `the admin ${me} holds ALTER ANY LOGIN` }
        : { check: 'ALTER ANY LOGIN', ok: false, detail: `the admin ${me} lacks ALTER ANY LOGIN, which ALTER LOGIN of another login needs: GRANT ALTER ANY LOGIN TO ${quoteName(session.username)}, or the securityadmin role` },
    ];
    for (const account of req.accounts) {
      const [id] = await read('looking up the login', MSSQL.statements.loginId, { login: account.username });
      findings.push(typeof id === 'number'
        ? { accountId: account.id, check: 'login exists', ok: true, detail: `the server has the SQL login ${JSON.stringify(account.username)}` }
        : { accountId: account.id, check: 'login exists', ok: false, detail: `the server has no SQL login ${JSON.stringify(account.username)} (sys.sql_logins); a reset of it would fail` });
    }
    return findings;
  }

  async close(): Promise<void> {
    await this.#admin?.close();
  }

  /** Opens and logs in: TLS first unless `ssl` is off, the server's certificate checked against the CA. */
  async #open(who: Pick<Credential, 'accountId' | 'username' | 'domain'>, password: Secret, what: string): Promise<Session> {
    const connection = new Connection(connectionConfig(this.ctx.resource, who, password, this.ctx.timeoutMs));
    let refusal: ServerError | undefined;
    // tedious's ELOGIN error carries the server's text alone; the number comes with this event.
    connection.on('errorMessage', (m: ServerError) => (refusal = { number: m.number, message: m.message }));
    connection.on('error', () => undefined);
    const opened = new Promise<void>((resolve, reject) => connection.connect((err) => (err ? reject(err) : resolve())));
    try {
      await withDeadline(what, this.ctx.timeoutMs, opened, () => connection.close());
    } catch (e) {
      connection.close();
      throw this.#connectFailure(e, refusal, what);
    }
    return new Session(connection, who.username, this.ctx.timeoutMs);
  }

  #connectFailure(e: unknown, refusal: ServerError | undefined, what: string): ResetError {
    const code = (e as { code?: unknown } | null)?.code;
    if (code === 'ELOGIN' && refusal) {
      const cause = Object.assign(new Error(refusal.message), refusal);
      return new AuthenticationError(`${what}: the server refused the login: ${refusal.message} (error ${refusal.number}${meaning(refusal.number)})`, { cause });
    }
    if (code === 'EENCRYPT') {
      return new InvalidConfigurationError('ssl', `${what}: the server requires encryption (Force Encryption); set ssl to true and give its CA in caCertificate`, { cause: e });
    }
    if (code === 'EINSTLOOKUP') {
      return new TargetUnchangedError(`${what}: the SQL Server Browser (UDP 1434) on ${this.ctx.resource.host} did not tell the port of instance ${JSON.stringify(this.ctx.resource.instanceName)}; nothing was changed: ${describe(e)}`, { cause: e });
    }
    return connectFailure(e, what, MSSQL);
  }

  /**
   * Sends the one batch that changes the password. SQL Server applies ALTER LOGIN at once and
   * refuses it as a whole, so a server error means nothing changed, and a connection lost once
   * the request may have been written leaves the outcome open.
   */
  async #alter(session: Session, sql: string, params: Record<string, string>, login: string, self: boolean): Promise<void> {
    try {
      await session.exec('changing the password', sql, params);
    } catch (e) {
      const who = `login ${JSON.stringify(login)}`;
      const refused = serverError(e);
      if (refused) {
        const why = refused.number === MSSQL.cannotAlter && self ? ': the current password (OLD_PASSWORD) is wrong, or the login does not exist' : meaning(refused.number);
        throw new TargetUnchangedError(`changing the password of ${who}: the server refused it: ${refused.message} (error ${refused.number}${why}); nothing was changed`, { cause: e });
      }
      if (e instanceof DeadlineExceeded) {
        throw new OutcomeUnknownError(`changing the password of ${who}: ${e.message} after the request was sent; it may or may not have been applied`, { cause: e });
      }
      throw new OutcomeUnknownError(`changing the password of ${who}: the connection was lost after the request was sent and before its answer (${describe(e)}); the change may or may not have been applied`, { cause: e });
    }
  }
}

/** What an error number means for a reset, where SQL Server's own text leaves it unsaid. */
function meaning(number: number): string {
  const m = MSSQL.refusals[String(number)];
  return m ? `: ${m}` : '';
}

/**
 * SQL Server takes at most 128 UTF-16 code units in a SQL login's password, and QUOTENAME answers
 * NULL for more, which would make the statement nothing: refused before anything is sent.
 */
function checkedPassword(p: Secret, field: string): string {
  const value = p.reveal();
  if (value.length > MSSQL.maxNameLength) throw new InvalidConfigurationError(field, `has ${value.length} UTF-16 code units; a SQL Server login's password takes at most ${MSSQL.maxNameLength}`);
  return value;
}

function isAdmin(req: Pick<ChangeRequest, 'account'>, admin: Credential): boolean {
  return req.account.id === admin.accountId || req.account.username.toLowerCase() === admin.username.toLowerCase();
}

function quoteName(name: string): string {
  return `[${name.replaceAll(']', ']]')}]`;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** tedious's configuration for one login to the resource. Exported for the unit tests of its shape. */
export function connectionConfig(r: MssqlResource, who: Pick<Credential, 'username' | 'domain'>, password: Secret, timeoutMs: number): ConnectionConfiguration {
  const authentication: ConnectionAuthentication =
    r.authentication.mode === 'windows' && who.domain !== undefined
      ? { type: 'ntlm', options: { userName: who.username, password: password.reveal(), domain: who.domain } }
      : { type: 'default', options: { userName: who.username, password: password.reveal() } };
  return {
    server: r.host,
    authentication,
    options: {
      ...(r.instanceName === undefined ? { port: r.port } : { instanceName: r.instanceName }),
      database: 'master',
      appName: 'remote-password-reset',
      ...(MSSQL.tls(r) ?? { encrypt: false }),
      connectTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      // A refused login is not retried: one attempt per reset, never a lockout.
      maxRetriesOnTransientErrors: 0,
    },
  };
}

/** SQL Server: admin reset by a login with ALTER ANY LOGIN, or each login's self change with OLD_PASSWORD. */
export const createMssqlAdapter: AdapterFactory<MssqlResource> = (ctx) => {
  if (ctx.resource.authentication.mode === 'windows' && !ctx.credentials.admin?.domain) {
    throw new InvalidConfigurationError('authentication.adminAccount', 'Windows authentication needs a domain account of a windows-domain resource (its domain is the NTLM domain)');
  }
  return new MssqlAdapter(ctx);
};
