import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, Credential, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, NotSupportedError, OutcomeUnknownError, TargetUnchangedError, type ResetError } from '../../engine/errors.js';
import { assertPasswordAcceptable } from '../../engine/policy.js';
import type { Redactor } from '../../engine/redact.js';
import type { Secret } from '../../engine/secret.js';
import { ExpectSession, expectFailureReason } from '../../expect/session.js';
import { hostKeyCheck, SshConnection } from '../../expect/ssh.js';
import type { ResourceType } from '../common.js';
import {
  errorIdName,
  NET_USER,
  netUserCommand,
  NOT_RECOGNIZED,
  parseResult,
  powershellCommand,
  PROBE_PREFIX,
  PROBE_SCRIPT,
  READY_LINE,
  RESULT_PREFIX,
  setLocalUserScript,
  type ScriptResult,
} from './commands.js';
import type { WindowsResource } from './schema.js';
import { domainUsername, windowsLocalUsername } from './username.js';
import { asResetError, said } from '../../expect/outcome.js';

/**
 * Local accounts of Windows hosts, over OpenSSH for Windows (built into Windows Server 2019 and
 * later). One SSH login as the admin per resource, opened on the first change and reused for
 * every account; `verify` always logs in afresh as the account.
 *
 * The change is one SSH exec per account of a fixed command line (commands.ts): PowerShell's
 * Set-LocalUser with the password read from standard input, or, where the host has no PowerShell
 * or no Set-LocalUser, `net user "NAME" *` answering its prompts on a terminal. Which one is
 * decided by a probe on the adapter's first login (an exec of a PowerShell script that only asks
 * whether Set-LocalUser exists); the answer is kept for the adapter's life, since the host is the same.
 *
 * The admin is a local administrator of the host, or a domain account of a windows-domain
 * resource: given as a user principal name it logs in as "user@domain"; given as a
 * sAMAccountName it logs in as "user@<domain>" when the credential carries the domain, else by
 * the bare name (which Windows resolves to a local account first, then the domain).
 */
export const createWindowsAdapter: AdapterFactory<WindowsResource> = (ctx) => new WindowsAdapter(ctx);

type Method = 'powershell' | 'net-user';

class WindowsAdapter implements TargetAdapter {
  readonly type: ResourceType = 'windows';
  readonly verification = 'login' as const;
  readonly #ctx: AdapterContext<WindowsResource>;
  #adminPassword: Secret | undefined;
  #connection: SshConnection | undefined;
  #method: Method | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: AdapterContext<WindowsResource>) {
    this.#ctx = ctx;
    this.#adminPassword = ctx.credentials.admin?.password;
  }

  change(req: ChangeRequest): Promise<ChangeResult> {
    const redactor = this.#redactor(req.newPassword, req.currentPassword);
    return this.#serial(async () => {
      try {
        this.#assertTransport();
        const name = checkUsername(req.account.username);
        assertPasswordAcceptable(this.#ctx.policy, req.newPassword, 'newPassword');
        const started = Date.now();
        const reused = this.#connection !== undefined && !this.#connection.closed;
        let result: ChangeResult;
        try {
          result = await this.#reset(name, req.newPassword, redactor);
        } catch (e) {
          // A reused login the host or the network dropped while idle fails before anything was
          // sent (TargetUnchangedError on a now closed connection): log in again, once.
          if (!(reused && e instanceof TargetUnchangedError && this.#connection?.closed)) throw e;
          this.#ctx.log.debug('windows: the reused login was closed; logging in again', { account: req.account.id });
          result = await this.#reset(name, req.newPassword, redactor);
        }
        // The admin's own password: the open login keeps working, a new one needs the new password.
        if (req.account.id === this.#ctx.credentials.admin?.accountId) this.#adminPassword = req.newPassword;
        this.#ctx.log.debug('windows: password changed', { account: req.account.id, method: result.method, ms: Date.now() - started });
        return result;
      } catch (e) {
        throw asResetError(e);
      }
    });
  }

  async verify(req: VerifyRequest): Promise<VerifyResult> {
    try {
      this.#assertTransport();
      const name = checkUsername(req.account.username);
      const conn = await this.#open(name, req.password);
      await conn.close();
      return { valid: true };
    } catch (e) {
      if (e instanceof AuthenticationError) return { valid: false, detail: e.message };
      throw asResetError(e);
    }
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      const conn = this.#connection;
      this.#connection = undefined;
      await conn?.close();
    });
  }

  // ------------------------------------------------------------------ the change

  async #reset(name: string, newPassword: Secret, redactor: Redactor): Promise<ChangeResult> {
    const conn = await this.#conn();
    const method = (this.#method ??= await this.#probe(conn, redactor));
    if (method === 'powershell') {
      await this.#setLocalUser(conn, name, newPassword, redactor);
      return { method: 'admin reset (PowerShell Set-LocalUser)' };
    }
    await this.#netUser(conn, name, newPassword, redactor);
    return { method: 'admin reset (net user)' };
  }

  /** Whether the host has PowerShell with Set-LocalUser. Nothing is changed, so every failure is TargetUnchangedError. */
  async #probe(conn: SshConnection, redactor: Redactor): Promise<Method> {
    const session = this.#session(await conn.exec(powershellCommand(PROBE_SCRIPT)), redactor, 'PowerShell probe');
    try {
      const { info, output } = await session.expectClose();
      const host = this.#where();
      if (output.includes(`${PROBE_PREFIX}Set-LocalUser`)) return this.#chose('powershell', 'PowerShell with Set-LocalUser');
      if (output.includes(`${PROBE_PREFIX}none`)) return this.#chose('net-user', 'PowerShell without Set-LocalUser (LocalAccounts module missing)');
      if (NOT_RECOGNIZED.test(output)) return this.#chose('net-user', 'no powershell.exe');
      if (info.exitCode === undefined && info.signal === undefined) throw session.failure('closed', 'the connection was lost during the PowerShell probe');
      throw new TargetUnchangedError(`${host}: could not tell whether PowerShell is available (exit status ${String(info.exitCode ?? info.signal)}): ${said(output)}`);
    } finally {
      session.close();
    }
  }

  #chose(method: Method, why: string): Method {
    this.#ctx.log.info('windows: change method chosen', { host: this.#where(), method, why });
    return method;
  }

  async #setLocalUser(conn: SshConnection, name: string, newPassword: Secret, redactor: Redactor): Promise<void> {
    const session = this.#session(await conn.exec(powershellCommand(setLocalUserScript(name))), redactor, 'PowerShell Set-LocalUser');
    try {
      // The script says it is reading before the password goes: a failure before that changed nothing.
      const ready = new RegExp(`${READY_LINE}\\r?\\n`);
      const early = new RegExp(`${RESULT_PREFIX}[^\\r\\n]*\\r?\\n`);
      let m;
      try {
        m = await session.expect([ready, early]);
      } catch (e) {
        if (expectFailureReason(e) !== 'closed') throw e;
        const { info, output } = await session.expectClose();
        throw new TargetUnchangedError(`${this.#where()}: PowerShell ended (exit status ${String(info.exitCode ?? info.signal ?? 'none')}) before reading the password: ${said(output)}`);
      }
      if (m.index === 1) {
        const early = parseResult(m.match[0]);
        throw early && !early.ok ? this.#scriptError(early, name, false) : new TargetUnchangedError(`${this.#where()}: unexpected PowerShell output: ${said(m.match[0])}`);
      }
      session.markChangeSent();
      session.sendSecret(newPassword, '\n');
      session.end();
      const { info, output } = await session.expectClose();
      const result = parseResult(output);
      if (result?.ok) return;
      if (result) throw this.#scriptError(result, name, true);
      // A channel that closes without an exit status was cut with its connection.
      if (info.exitCode === undefined && info.signal === undefined) throw session.failure('closed', 'the connection was lost before Set-LocalUser reported its result');
      throw new OutcomeUnknownError(`${this.#where()}: Set-LocalUser ended (exit status ${String(info.exitCode ?? info.signal)}) without reporting a result: ${said(output)}`);
    } finally {
      session.close();
    }
  }

  /** What a failed script means. `passwordSent`: whether Set-LocalUser may have run. */
  #scriptError(r: Extract<ScriptResult, { ok: false }>, name: string, passwordSent: boolean): ResetError {
    const host = this.#where();
    const id = errorIdName(r.errorId);
    const detail = `${r.errorId} (${r.category}, ${r.exceptionType}): ${said(r.message)}`;
    if (id === 'UserNotFound' || r.exceptionType.endsWith('.UserNotFoundException')) {
      return new InvalidConfigurationError('username', `${host} has no local account ${JSON.stringify(name)}: ${detail}`);
    }
    if (id === 'InvalidPassword' || r.exceptionType.endsWith('.InvalidPasswordException')) {
      return new TargetUnchangedError(
        `${host} refused the new password of ${JSON.stringify(name)}: it does not meet the host's password policy (minimum length, complexity or history); nothing was changed: ${detail}`,
      );
    }
    if (id === 'AccessDenied' || r.exceptionType.endsWith('.AccessDeniedException') || r.category === 'PermissionDenied') {
      return new AuthenticationError(
        `${host}: the admin login may not reset ${JSON.stringify(name)} (access denied; it must be an administrator of the host, and a local one other than the built-in Administrator also needs remote UAC filtering off): ${detail}`,
      );
    }
    // ConvertTo-SecureString, or anything before Set-LocalUser ran, left the account as it was.
    if (!passwordSent || r.errorId.endsWith('ConvertToSecureStringCommand') || r.exceptionType.endsWith('CommandNotFoundException')) {
      return new TargetUnchangedError(`${host}: the PowerShell script failed before Set-LocalUser ran: ${detail}`);
    }
    return new OutcomeUnknownError(`${host}: Set-LocalUser failed in a way that does not say whether the password changed: ${detail}`);
  }

  async #netUser(conn: SshConnection, name: string, newPassword: Secret, redactor: Redactor): Promise<void> {
    const command = netUserCommand(name);
    if (!command) throw new InvalidConfigurationError('username', 'holds a typographic double quote, which cannot be quoted for net user on every Windows shell');
    const session = this.#session(await conn.exec(command, { pty: true }), redactor, 'net user');
    try {
      let sent = 0;
      for (;;) {
        let m;
        try {
          m = await session.expect([NET_USER.firstPrompt, NET_USER.secondPrompt, NET_USER.longPasswordPrompt]);
        } catch (e) {
          if (expectFailureReason(e) === 'closed' && session.closed) break;
          throw e;
        }
        if (m.index === 0 && sent === 0) {
          session.sendSecret(newPassword, '\r');
          sent = 1;
        } else if (m.index === 1 && sent === 1) {
          session.markChangeSent();
          session.sendSecret(newPassword, '\r');
          sent = 2;
        } else if (m.index === 2 && sent === 2) {
          session.send('Y\r');
        } else {
          throw new (sent === 2 ? OutcomeUnknownError : TargetUnchangedError)(`${this.#where()}: net user prompted out of turn: ${said(m.before + m.match[0])}`);
        }
      }
      const { info, output } = await session.expectClose();
      const host = this.#where();
      if (NET_USER.success.test(output) && info.exitCode === 0) return;
      if (NET_USER.userNotFound.test(output)) throw new InvalidConfigurationError('username', `${host} has no local account ${JSON.stringify(name)}: ${said(output)}`);
      if (NET_USER.policy.test(output)) {
        throw new TargetUnchangedError(
          `${host} refused the new password of ${JSON.stringify(name)}: it does not meet the host's password policy (minimum length, complexity or history); nothing was changed: ${said(output)}`,
        );
      }
      if (NET_USER.accessDenied.test(output)) throw new AuthenticationError(`${host}: the admin login may not reset ${JSON.stringify(name)} (access denied): ${said(output)}`);
      if (NET_USER.mismatch.test(output)) throw new TargetUnchangedError(`${host}: net user read two different passwords: ${said(output)}`);
      if (info.exitCode === undefined && info.signal === undefined) throw session.failure('closed', 'the connection was lost before net user reported its result');
      if (sent < 2) throw new TargetUnchangedError(`${host}: net user ended (exit status ${String(info.exitCode ?? info.signal)}) before taking the password: ${said(output)}`);
      throw new OutcomeUnknownError(`${host}: net user ended (exit status ${String(info.exitCode ?? info.signal)}) without saying whether the password changed: ${said(output)}`);
    } finally {
      session.close();
    }
  }

  // ------------------------------------------------------------------ connection

  async #conn(): Promise<SshConnection> {
    if (this.#connection && !this.#connection.closed) return this.#connection;
    const stale = this.#connection;
    this.#connection = undefined;
    await stale?.close().catch(() => undefined);
    const admin = this.#admin();
    if (!this.#adminPassword) throw new InvalidConfigurationError('adminAccount', 'has no password');
    const started = Date.now();
    this.#connection = await this.#open(loginName(admin, this.#isDomainAdmin(admin)), this.#adminPassword);
    this.#ctx.log.debug('windows: logged in', { host: this.#where(), ms: Date.now() - started });
    return this.#connection;
  }

  #open(username: string, password: Secret): Promise<SshConnection> {
    const r = this.#ctx.resource;
    return SshConnection.connect({
      host: r.host,
      port: r.port,
      username,
      password,
      hostKey: hostKeyCheck(this.#ctx),
      timeoutMs: this.#ctx.timeoutMs,
      log: this.#ctx.log,
    });
  }

  #session(stream: Awaited<ReturnType<SshConnection['exec']>>, redactor: Redactor, name: string): ExpectSession {
    return new ExpectSession(stream, { redactor, log: this.#ctx.log, timeoutMs: this.#ctx.timeoutMs, name });
  }

  #admin(): Credential {
    const admin = this.#ctx.credentials.admin;
    if (!admin) throw new InvalidConfigurationError('adminAccount', 'has no credential');
    const parsed = (this.#isDomainAdmin(admin) ? domainUsername : windowsLocalUsername).safeParse(admin.username);
    if (!parsed.success) throw new InvalidConfigurationError('adminAccount', `user name: ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
    return admin;
  }

  /** An admin account of another resource is a domain account (the definition takes only windows-domain ones). */
  #isDomainAdmin(admin: Credential): boolean {
    return admin.accountId.slice(0, admin.accountId.indexOf('/')) !== this.#ctx.resource.id;
  }

  #assertTransport(): void {
    if (this.#ctx.resource.transport !== 'ssh') {
      throw new NotSupportedError('transport', `is ${JSON.stringify(this.#ctx.resource.transport)}, which is not built yet; use "ssh" (OpenSSH for Windows)`);
    }
  }

  #where(): string {
    return `${this.#ctx.resource.host}:${this.#ctx.resource.port}`;
  }

  #redactor(...secrets: (Secret | undefined)[]): Redactor {
    return this.#ctx.redactor.with(...secrets, this.#adminPassword, this.#ctx.credentials.admin?.password);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * The name OpenSSH for Windows takes for the admin: a local account by its name; a domain account
 * as "user@domain" (its UPN as given, or its sAMAccountName with the domain the credential carries).
 */
export function loginName(admin: Credential, domainAccount: boolean): string {
  if (!domainAccount || admin.username.includes('@') || !admin.domain) return admin.username;
  return `${admin.username}@${admin.domain}`;
}

function checkUsername(name: string): string {
  const parsed = windowsLocalUsername.safeParse(name);
  if (!parsed.success) throw new InvalidConfigurationError('username', parsed.error.issues[0]?.message ?? 'is not a valid Windows account name');
  return parsed.data;
}
