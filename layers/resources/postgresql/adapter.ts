import pg from 'pg';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, Credential, PreflightFinding, PreflightRequest, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { OutcomeUnknownError, ResetError, TargetTimeoutError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import {
  AdminConnection,
  DeadlineExceeded,
  assertChangeInput,
  currentPasswordForSelfChange,
  connectFailure,
  isConnectionLoss,
  loginProves,
  readOnlyFailure,
  selfChangeFindings,
  withDeadline,
} from '../sql-common.js';
import { POSTGRESQL } from '../sql-dialects.js';
import { postgresqlDefinition, type PostgresqlResource } from './schema.js';
import { scramVerifier } from './scram.js';

const SQL = POSTGRESQL.statements;

function serverMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? `${e.message} (SQLSTATE ${code})` : e.message;
}

/** One open connection and what it was opened as. */
class Session {
  broken = false;
  constructor(
    readonly client: pg.Client,
    readonly username: string,
    private readonly timeoutMs: number,
  ) {
    // A connection that drops between statements emits "error"; the next statement then fails and is classified.
    client.on('error', () => {
      this.broken = true;
    });
  }

  query(what: string, text: string, values?: unknown[]): Promise<pg.QueryResult> {
    return withDeadline(what, this.timeoutMs, this.client.query(text, values), () => this.destroy());
  }

  destroy(): void {
    this.broken = true;
    this.client.connection.stream.destroy();
  }

  async close(): Promise<void> {
    if (this.broken) return this.destroy();
    await withDeadline('closing the connection', this.timeoutMs, this.client.end(), () => this.destroy()).catch(() => this.destroy());
  }
}

class PostgresqlAdapter implements TargetAdapter {
  readonly type = 'postgresql' as const;
  readonly verification = 'login' as const;
  readonly #admin: AdminConnection<Session> | undefined;

  constructor(private readonly ctx: AdapterContext<PostgresqlResource>) {
    const admin = ctx.credentials.admin;
    this.#admin = admin && new AdminConnection(admin, (password) => this.#open(admin.username, password, `logging in as the admin ${admin.username}`));
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    assertChangeInput(this.ctx, postgresqlDefinition.username, req);
    const verifier = await scramVerifier(req.newPassword);
    if (this.#admin) {
      const session = await this.#admin.session();
      if (this.#isAdmin(req, this.#admin.credential)) {
        await this.#apply(session, SQL.alterSelf(verifier), undefined);
        this.#admin.changed(req.newPassword);
        return { method: 'self change (admin account)' };
      }
      await this.#apply(session, SQL.alterRole(req.account.username, verifier), req.account.username);
      return { method: 'admin reset' };
    }
    const session = await this.#open(req.account.username, currentPasswordForSelfChange(req), `logging in as ${req.account.username}`);
    try {
      await this.#apply(session, SQL.alterSelf(verifier), undefined);
    } finally {
      await session.close();
    }
    return { method: 'self change' };
  }

  verify(req: VerifyRequest): Promise<VerifyResult> {
    return loginProves(
      () => this.#open(req.account.username, req.password, `logging in as ${req.account.username}`),
      (cause) => (POSTGRESQL.authFailed(cause) ? serverMessage(cause) : undefined),
    );
  }

  /**
   * With the admin's session, reads what ALTER ROLE will need: the admin's CREATEROLE or SUPERUSER,
   * and for each role that it exists, that the admin may alter it (only a superuser alters a
   * superuser; 16+: ADMIN OPTION on it), and that it may log in, so the new password can be proven.
   */
  async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    if (!this.#admin) return selfChangeFindings(req.accounts);
    const session = await this.#admin.session();
    const read = (what: string, sql: string, values?: unknown[]) => session.query(what, sql, values).catch((e: unknown) => {
      throw readOnlyFailure(new Error(serverMessage(e), { cause: e }), what);
    });
    const me = JSON.stringify(session.username);
    const admin = (await read("reading the admin's attributes", SQL.adminRights)).rows[0] as { rolsuper: boolean; rolcreaterole: boolean; needs_admin_option: boolean };
    const findings: PreflightFinding[] = [
      { check: 'admin login', ok: true, detail: `logged in as ${me}` },
      admin.rolsuper || admin.rolcreaterole
        ? { check: 'CREATEROLE', ok: true, detail: `the admin ${me} has ${admin.rolsuper ? 'SUPERUSER' : 'CREATEROLE'}` }
        : { check: 'CREATEROLE', ok: false, detail: `the admin ${me} has neither CREATEROLE nor SUPERUSER, one of which ALTER ROLE of another role needs; ALTER ROLE ${me} CREATEROLE` },
    ];
    for (const account of req.accounts) {
      const accountId = account.id;
      const role = JSON.stringify(account.username);
      if (this.#isAdmin({ account }, this.#admin.credential)) {
        findings.push({ accountId, check: 'self change', ok: true, detail: 'the admin role changes its own password' });
        continue;
      }
      const facts = (await read('looking up the role', SQL.roleFacts, [account.username])).rows[0] as { rolsuper: boolean; rolcanlogin: boolean; admin_option: boolean } | undefined;
      if (!facts) {
        findings.push({ accountId, check: 'role exists', ok: false, detail: `the server has no role ${role} (pg_roles); a reset of it would fail` });
        continue;
      }
      findings.push({ accountId, check: 'role exists', ok: true, detail: `the server has the role ${role}` });
      if (facts.rolsuper && !admin.rolsuper) {
        findings.push({ accountId, check: 'may alter', ok: false, detail: `${role} is a superuser, whose password only a superuser may change; the admin ${me} is not one` });
      } else if (!admin.rolsuper && admin.needs_admin_option && !facts.admin_option) {
        findings.push({ accountId, check: 'may alter', ok: false, detail: `PostgreSQL 16 and later let a CREATEROLE admin change only roles it holds ADMIN OPTION on; GRANT ${role} TO ${me} WITH ADMIN OPTION` });
      } else if (admin.rolsuper || admin.rolcreaterole) {
        findings.push({ accountId, check: 'may alter', ok: true, detail: `the admin ${me} may change the password of ${role}` });
      }
      if (!facts.rolcanlogin) findings.push({ accountId, check: 'proof', ok: false, detail: `${role} has NOLOGIN: no login can prove its new password` });
    }
    return findings;
  }

  async close(): Promise<void> {
    await this.#admin?.close();
  }

  #isAdmin(req: Pick<ChangeRequest, 'account'>, admin: Credential): boolean {
    return req.account.id === admin.accountId || req.account.username === admin.username;
  }

  async #open(username: string, password: Secret, what: string): Promise<Session> {
    const r = this.ctx.resource;
    const client = new pg.Client({
      host: r.host,
      port: r.port,
      database: r.database,
      user: username,
      password: password.reveal(),
      ssl: POSTGRESQL.tls(r) ?? false,
      connectionTimeoutMillis: this.ctx.timeoutMs,
      application_name: 'remote-password-reset',
    });
    // Errors after connect() are handled by the Session; this one covers the handshake.
    client.on('error', () => undefined);
    try {
      await withDeadline(what, this.ctx.timeoutMs, client.connect(), () => client.connection.stream.destroy());
    } catch (e) {
      client.connection.stream.destroy();
      throw connectFailure(e, what, POSTGRESQL);
    }
    return new Session(client, username, this.ctx.timeoutMs);
  }

  /**
   * Runs the change in a transaction, so that only the COMMIT can leave the outcome open:
   * a connection lost before COMMIT is sent rolls the change back on the server.
   * `role` is checked to exist first (an admin reset); undefined for CURRENT_USER.
   */
  async #apply(session: Session, alter: string, role: string | undefined): Promise<void> {
    let committing = false;
    try {
      await session.query('starting a transaction', 'BEGIN');
      if (role !== undefined) {
        const found = await session.query('looking up the role', SQL.roleExists, [role]);
        if (found.rowCount === 0) throw new TargetUnchangedError(`role ${JSON.stringify(role)} does not exist; nothing was changed`);
      }
      await session.query('changing the password', alter);
      committing = true;
      await session.query('committing the change', 'COMMIT');
    } catch (e) {
      if (!committing && !session.broken && !(e instanceof DeadlineExceeded)) {
        await session.query('rolling back', 'ROLLBACK').catch(() => session.destroy());
      }
      throw this.#classifyApply(e, committing, role);
    }
  }

  #classifyApply(e: unknown, committing: boolean, role: string | undefined): ResetError {
    if (e instanceof ResetError) return e;
    const who = role === undefined ? 'the current role' : `role ${JSON.stringify(role)}`;
    if (committing && isConnectionLoss(e)) {
      return new OutcomeUnknownError(`changing the password of ${who}: the connection was lost after COMMIT was sent and before its answer; the change may or may not have been applied`, { cause: e });
    }
    if (e instanceof DeadlineExceeded) {
      // Before COMMIT, dropping the connection rolls the transaction back.
      return new TargetTimeoutError(`changing the password of ${who}: ${e.message}; the transaction was abandoned uncommitted, nothing was changed`, { cause: e });
    }
    if (isConnectionLoss(e)) {
      return new TargetUnchangedError(`changing the password of ${who}: the connection was lost before COMMIT; the server rolls the change back, nothing was changed`, { cause: e });
    }
    if (committing) {
      return new TargetUnchangedError(`changing the password of ${who}: the server refused COMMIT: ${serverMessage(e)}`, { cause: e });
    }
    return readOnlyFailure(new Error(serverMessage(e), { cause: e }), `changing the password of ${who}`);
  }
}

/** PostgreSQL: admin reset with a role holding CREATEROLE, or each role's self change. */
export const createPostgresqlAdapter: AdapterFactory<PostgresqlResource> = (ctx) => new PostgresqlAdapter(ctx);
