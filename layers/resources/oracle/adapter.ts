import oracledb from 'oracledb';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, Credential, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, ResetError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { AdminConnection, DeadlineExceeded, assertChangeInput, connectFailure, currentPasswordForSelfChange, isConnectionLoss, loginProves, withDeadline } from '../sql-common.js';
import { ORACLE } from '../sql-dialects.js';
import { oracleDefinition, type OracleResource } from './schema.js';

/** What the adapter calls of node-oracledb (Thin mode, its default): a seam the driver-boundary tests fill with a recording fake. */
export interface OracleDriver {
  getConnection(attributes: OracleConnectAttributes): Promise<OracleConnection>;
}

export interface OracleConnectAttributes {
  readonly user: string;
  readonly password: string;
  readonly connectString: string;
  /** Seconds. */
  readonly connectTimeout: number;
  readonly transportConnectTimeout: number;
}

export interface OracleConnection {
  execute(sql: string): Promise<unknown>;
  changePassword(user: string, oldPassword: string, newPassword: string): Promise<void>;
  close(): Promise<void>;
}

/** The server's ORA- answer (node-oracledb's `errorNum`); undefined for the driver's own NJS- errors and the ORA- numbers of a lost connection. */
function oraError(e: unknown): { number: number; message: string } | undefined {
  const n = (e as { errorNum?: unknown } | null)?.errorNum;
  return typeof n === 'number' && n > 0 && !ORACLE.lostConnection.has(n) && e instanceof Error ? { number: n, message: e.message } : undefined;
}

function meaning(number: number): string {
  return ORACLE.refusals[String(number)] ?? `ORA-${String(number).padStart(5, '0')}`;
}

/**
 * The connect descriptor (Oracle Net's syntax: "Local Naming Parameters in the tnsnames.ora File"):
 * host and service or SID come from the schema's rules, which leave nothing that could close a
 * parenthesis; TCPS with the server's certificate name checked against the host.
 */
export function connectDescriptor(r: OracleResource): string {
  const tls = ORACLE.tls(r);
  const host = r.host.replace(/^\[(.*)\]$/, '$1');
  const service = r.sid === undefined ? `(SERVICE_NAME=${r.serviceName})` : `(SID=${r.sid})`;
  const security = tls ? `(SECURITY=(SSL_SERVER_DN_MATCH=${tls.sslServerDNMatch ? 'TRUE' : 'FALSE'}))` : '';
  return `(DESCRIPTION=(ADDRESS=(PROTOCOL=${tls?.protocol ?? 'TCP'})(HOST=${host})(PORT=${r.port}))(CONNECT_DATA=${service})${security})`;
}

class Session {
  broken = false;
  constructor(
    readonly connection: OracleConnection,
    readonly username: string,
    private readonly timeoutMs: number,
  ) {}

  run<T>(what: string, work: Promise<T>): Promise<T> {
    return withDeadline(what, this.timeoutMs, work, () => this.destroy());
  }

  destroy(): void {
    this.broken = true;
    this.connection.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.broken) return;
    this.broken = true;
    await withDeadline('closing the connection', this.timeoutMs, this.connection.close(), () => undefined).catch(() => undefined);
  }
}

class OracleAdapter implements TargetAdapter {
  readonly type = 'oracle' as const;
  readonly verification = 'login' as const;
  readonly #admin: AdminConnection<Session> | undefined;

  constructor(
    private readonly ctx: AdapterContext<OracleResource>,
    private readonly driver: OracleDriver,
  ) {
    const admin = ctx.credentials.admin;
    this.#admin = admin && new AdminConnection(admin, (password) => this.#open(admin.username, password, `logging in as the admin ${admin.username}`));
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    assertChangeInput(this.ctx, oracleDefinition.username, req);
    const password = quotable(req.newPassword);
    const user = req.account.username;
    if (this.#admin && !isAdmin(req, this.#admin.credential)) {
      const session = await this.#admin.session();
      await this.#apply(session, user, 'ALTER USER', () => session.connection.execute(ORACLE.statements.alterUser(user, password)));
      return { method: 'admin reset (ALTER USER)' };
    }
    // The account's own change, and the admin's: the driver's password change, with the current password.
    const current = this.#admin ? this.#admin.password : currentPasswordForSelfChange(req);
    const session = this.#admin ? await this.#admin.session() : await this.#open(user, current, `logging in as ${user}`);
    try {
      await this.#apply(session, user, 'the password change', () => session.connection.changePassword(session.username, current.reveal(), password));
    } finally {
      if (!this.#admin) await session.close();
    }
    if (this.#admin) {
      this.#admin.changed(req.newPassword);
      return { method: 'self change (admin, driver password change)' };
    }
    return { method: 'self change (driver password change)' };
  }

  verify(req: VerifyRequest): Promise<VerifyResult> {
    return loginProves(
      () => this.#open(req.account.username, req.password, `logging in as ${req.account.username}`),
      (cause) => {
        const refused = oraError(cause);
        return refused?.number === ORACLE.wrongPassword ? refused.message : undefined;
      },
    );
  }

  async close(): Promise<void> {
    await this.#admin?.close();
  }

  async #open(user: string, password: Secret, what: string): Promise<Session> {
    const seconds = Math.max(1, Math.ceil(this.ctx.timeoutMs / 1000));
    const connecting = this.driver.getConnection({ user, password: password.reveal(), connectString: connectDescriptor(this.ctx.resource), connectTimeout: seconds, transportConnectTimeout: seconds });
    try {
      // A connection that opens after the deadline is closed at once.
      const connection = await withDeadline(what, this.ctx.timeoutMs, connecting, () => void connecting.then((c) => c.close(), () => undefined));
      return new Session(connection, user, this.ctx.timeoutMs);
    } catch (e) {
      const ora = oraError(e);
      if (ora && ORACLE.authFailed(e)) throw new AuthenticationError(`${what}: the server refused the login: ${ora.message} (${meaning(ora.number)})`, { cause: e });
      if (/^NJS-50[5-8]$/.test(String((e as { code?: unknown }).code))) {
        throw new InvalidConfigurationError('ssl', `${what}: the listener's TLS certificate was refused (${describe(e)}); nothing was sent`, { cause: e });
      }
      throw connectFailure(e, what, ORACLE);
    }
  }

  /** ALTER USER and the driver's password change are refused whole; a connection lost once sent leaves the outcome open. */
  async #apply(session: Session, user: string, what: string, send: () => Promise<unknown>): Promise<void> {
    try {
      await session.run(`changing the password of ${user}`, send());
    } catch (e) {
      const ora = oraError(e);
      if (ora) throw new TargetUnchangedError(`changing the password of ${JSON.stringify(user)}: the server refused ${what}: ${meaning(ora.number)}: ${ora.message}; nothing was changed`, { cause: e });
      if (e instanceof DeadlineExceeded || isConnectionLoss(e, ORACLE)) {
        session.destroy();
        throw new OutcomeUnknownError(`changing the password of ${JSON.stringify(user)}: the connection was lost after ${what} was sent and before its answer (${describe(e)}); it may or may not have been applied`, { cause: e });
      }
      throw e instanceof ResetError ? e : new OutcomeUnknownError(`changing the password of ${JSON.stringify(user)}: ${what} failed after it was sent (${describe(e)}); it may or may not have been applied`, { cause: e });
    }
  }
}

/** The password as a quoted identifier takes it; refused before anything is sent otherwise. */
function quotable(p: Secret): string {
  const value = p.reveal();
  if (ORACLE.unquotable.test(value)) throw new InvalidConfigurationError('newPassword', 'holds a double quote or NUL, which an Oracle password (a quoted identifier in ALTER USER) cannot hold');
  return value;
}

function isAdmin(req: Pick<ChangeRequest, 'account'>, admin: Credential): boolean {
  return req.account.id === admin.accountId || req.account.username.toUpperCase() === admin.username.toUpperCase();
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Oracle: admin reset by a user with ALTER USER, or each user's own change through the driver. `driver` is node-oracledb unless a test gives its fake. */
export function oracleAdapterFactory(driver: OracleDriver = oracledb as unknown as OracleDriver): AdapterFactory<OracleResource> {
  return (ctx) => new OracleAdapter(ctx, driver);
}

export const createOracleAdapter: AdapterFactory<OracleResource> = oracleAdapterFactory();
