import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, Credential, PreflightFinding, PreflightRequest, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, TargetUnchangedError, type ResetError } from '../../engine/errors.js';
import { assertPasswordAcceptable } from '../../engine/policy.js';
import type { Redactor } from '../../engine/redact.js';
import { Secret } from '../../engine/secret.js';
import { marker, newToken, shellQuote } from '../../expect/shell.js';
import { hostKeyCheck } from '../../expect/ssh.js';
import { isAscii } from '../../expect/login.js';
import type { ResourceType } from '../common.js';
import {
  adminChangeRefusals,
  adminCommand,
  CURRENT_PASSWORD_PROMPT,
  PASSWORD_PROMPT,
  PRIVILEGE_REFUSED,
  refusalIn,
  SELF_CHANGE_COMMAND,
  selfChangeRefusals,
  SUDO_NOT_ALLOWED,
  type AdminCommand,
  type Refusal,
} from './commands.js';
import { openConnection, type RunningCommand, type UnixConnection } from './connection.js';
import { accountsExist, commandFinding, commandFound, lastLine, programOf, sudoRights } from './preflight.js';
import { unixUsername, type UnixResource } from './schema.js';
import { asResetError, said } from '../../expect/outcome.js';

/**
 * Unix hosts over SSH or Telnet. One login per resource, opened on the first change and
 * reused for every account; `verify` always logs in afresh as the account.
 *
 * - privilege sudo: `sudo -S` with the login's password and "user:password" on a pipe
 *   (after `sudo -S true` proves the password, since a refused one makes sudo read the next line);
 * - privilege su: `su - root -c` on a terminal, the root password at su's prompt, then the input
 *   once the root shell has printed a marker (su flushes what was typed ahead);
 * - privilege none: `passwd` as the login account itself.
 * Passwords go to stdin or a terminal prompt only: never argv, never a shell string.
 */
export const createUnixAdapter: AdapterFactory<UnixResource> = (ctx) => new UnixAdapter(ctx);

const SU_PROMPT = /password\s*:\s*$/i;

class UnixAdapter implements TargetAdapter {
  readonly type: ResourceType;
  readonly verification = 'login' as const;
  readonly #ctx: AdapterContext<UnixResource>;
  #loginPassword: Secret | undefined;
  #connection: UnixConnection | undefined;
  /** The connection and login password sudo last accepted. */
  #sudoProven: { conn: UnixConnection; password: Secret } | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: AdapterContext<UnixResource>) {
    this.#ctx = ctx;
    this.type = ctx.resource.type;
    this.#loginPassword = ctx.credentials.login?.password;
  }

  change(req: ChangeRequest): Promise<ChangeResult> {
    return this.#serial(async () => {
      try {
        const user = checkUsername(req.account.username);
        assertPasswordAcceptable(this.#ctx.policy, req.newPassword, 'newPassword');
        const started = Date.now();
        const attempt = () => (this.#ctx.resource.privilege.mode === 'none' ? this.#selfChange(user, req) : this.#adminReset(user, req.newPassword));
        const reused = this.#connection !== undefined && !this.#connection.closed;
        let result: ChangeResult;
        try {
          result = await attempt();
        } catch (e) {
          // A reused login the target or the network dropped while idle fails before anything
          // was sent (TargetUnchangedError on a now closed connection): log in again, once.
          if (!(reused && e instanceof TargetUnchangedError && this.#connection?.closed)) throw e;
          this.#ctx.log.debug('unix: the reused login was closed; logging in again', { account: req.account.id });
          result = await attempt();
        }
        this.#ctx.log.debug('unix: password changed', { account: req.account.id, method: result.method, ms: Date.now() - started });
        return result;
      } catch (e) {
        throw asResetError(e);
      }
    });
  }

  async verify(req: VerifyRequest): Promise<VerifyResult> {
    const redactor = this.#redactor(req.password);
    try {
      const user = checkUsername(req.account.username);
      // Over Telnet the password is typed at a terminal: a control character would be read as more input.
      if (this.#ctx.resource.protocol === 'telnet' && hasControlCharacter(req.password.reveal())) {
        throw new InvalidConfigurationError('password', 'contains a control character, which cannot be typed at a Telnet login');
      }
      const conn = await this.#open({ username: user, password: req.password }, redactor);
      await conn.close();
      return { valid: true };
    } catch (e) {
      if (e instanceof AuthenticationError) return { valid: false, detail: e.message };
      throw asResetError(e);
    }
  }

  /**
   * Logs in as `change` would, then asks the host what a change needs: sudo's answer for the change
   * command (`sudo -l`), su's acceptance of the root password, the change command, and each account.
   * Runs no change command.
   */
  preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    return this.#serial(async () => {
      const conn = await this.#conn();
      const login = this.#login().username;
      const r = this.#ctx.resource;
      const findings: PreflightFinding[] = [{ check: 'login', ok: true, detail: `logged in as ${JSON.stringify(login)} over ${r.protocol}` }];
      const users: { accountId: string; user: string }[] = [];
      for (const account of req.accounts) {
        const name = unixUsername.safeParse(account.username);
        if (!name.success) findings.push({ accountId: account.id, check: 'user name', ok: false, detail: name.error.issues[0]?.message ?? 'is not a valid Unix user name' });
        else if (r.privilege.mode === 'none' && name.data !== login) {
          findings.push({ accountId: account.id, check: 'self change', ok: false, detail: `privilege is "none", so only the login account ${JSON.stringify(login)} can change its own password; use "su" or "sudo" to reset ${JSON.stringify(name.data)}` });
        } else users.push({ accountId: account.id, user: name.data });
      }
      if (r.privilege.mode === 'none') return [...findings, await commandFound(conn, SELF_CHANGE_COMMAND, JSON.stringify(login))];
      // One check for the resource: the built-in commands differ between accounts only in the user name.
      const cmd = adminCommand(r, users[0]?.user ?? login);
      if (r.privilege.mode === 'sudo') {
        if (!this.#loginPassword) throw new InvalidConfigurationError('login.account', 'has no password, which sudo needs');
        findings.push(...(await sudoRights(conn, login, this.#loginPassword, cmd)));
      } else {
        const root = this.#ctx.credentials.root?.password;
        if (!root) throw new InvalidConfigurationError('privilege.rootAccount', 'has no password for su');
        assertTypeable(conn, { 'privilege.rootAccount': root });
        const running = await this.#su(conn, root, `sh -c ${shellQuote(`command -v ${shellQuote(programOf(cmd))}`)}`);
        findings.push({ check: 'su to root', ok: true, detail: 'su accepted the root password' }, commandFinding(await running.finish(), programOf(cmd), 'root'));
      }
      return [...findings, ...(await accountsExist(conn, users))];
    });
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      const conn = this.#connection;
      this.#connection = undefined;
      await conn?.close();
    });
  }

  // ------------------------------------------------------------------ change methods

  async #selfChange(user: string, req: ChangeRequest): Promise<ChangeResult> {
    const login = this.#login();
    if (user !== login.username) {
      throw new InvalidConfigurationError(
        'privilege',
        `is "none", so only the login account (${JSON.stringify(login.username)}) can change its own password; use "su" or "sudo" to reset ${JSON.stringify(user)}`,
      );
    }
    const current = req.currentPassword ?? this.#loginPassword;
    if (!current) throw new InvalidConfigurationError('currentPassword', 'is needed for a self change with passwd');
    const conn = await this.#conn();
    assertTypeable(conn, { newPassword: req.newPassword, currentPassword: current });
    const refusals = selfChangeRefusals(this.#ctx.resource.type);
    const running = await conn.run(`LC_ALL=C ${SELF_CHANGE_COMMAND}`);
    let currentSent = false;
    let newSent = 0;
    for (;;) {
      const m = await running.next([PASSWORD_PROMPT]);
      if ('ended' in m) break;
      if (isCurrentPasswordPrompt(lastLine(m.before + m.match[0]), user)) {
        if (currentSent || newSent > 0) {
          await running.abort();
          // Asked again for the current password: refused, unless a new password went out already.
          if (newSent > 0) throw new OutcomeUnknownError(`passwd asked for the current password again after the new one was sent: ${said(m.before)}`);
          throw new AuthenticationError(`passwd refused the current password of ${JSON.stringify(user)}: ${said(m.before)}`);
        }
        running.session.sendSecret(current, '\n');
        currentSent = true;
      } else {
        if (newSent === 2) {
          await running.abort();
          throw askedAgain('passwd', m.before, refusals);
        }
        // From the first new password on, a passwd that asks only once may have taken it.
        running.session.markChangeSent();
        running.session.sendSecret(req.newPassword, '\n');
        newSent++;
      }
    }
    const r = await running.finish();
    if (newSent === 0) {
      if (r.exitCode !== 0 && refusalIn(r.output, refusals)?.meaning === 'too-soon') throw new TargetUnchangedError(`passwd may not change the password of ${JSON.stringify(user)} yet: ${said(r.output)}`);
      if (r.exitCode !== 0 && currentSent) throw new AuthenticationError(`passwd refused the current password of ${JSON.stringify(user)}: ${said(r.output)}`);
      if (r.exitCode === 0) throw new TargetUnchangedError(`passwd ended without asking for the new password: ${said(r.output)}`);
    }
    if (r.exitCode === 0 && newSent === 1) throw new OutcomeUnknownError(`passwd ended after asking for the new password once: ${said(r.output)}`);
    interpret(r, 'passwd', refusals);
    this.#loginPassword = req.newPassword;
    return { method: 'self change (passwd)' };
  }

  async #adminReset(user: string, newPassword: Secret): Promise<ChangeResult> {
    const cmd = adminCommand(this.#ctx.resource, user);
    const refusals = adminChangeRefusals(this.#ctx.resource);
    const privilege = this.#ctx.resource.privilege;
    const conn = await this.#conn();
    assertTypeable(conn, { newPassword, 'privilege.rootAccount': privilege.mode === 'su' ? this.#ctx.credentials.root?.password : undefined });
    if (privilege.mode === 'sudo') {
      const sudoPassword = this.#loginPassword;
      if (!sudoPassword) throw new InvalidConfigurationError('login.account', 'has no password, which sudo needs');
      if (cmd.input === 'chpasswd') {
        await this.#checkSudo(conn, sudoPassword);
        const r = await (
          await conn.runWithInput(`LC_ALL=C sudo -S -k -p '' ${cmd.command}`, [sudoPassword, chpasswdLine(user, newPassword)], { changes: true })
        ).finish();
        interpret(r, cmd.command, refusals);
        return { method: `admin reset (sudo ${commandName(cmd)})` };
      }
      const token = newToken();
      const sudoPrompt = new RegExp(`RPR-PW-${token}: $`);
      const running = await conn.run(`LC_ALL=C sudo -k -p 'RPR''-PW-${token}: ' ${cmd.command}`);
      const m = await running.next([sudoPrompt, SUDO_NOT_ALLOWED]);
      if ('ended' in m) throw sudoRefusal((await running.finish()).output);
      if (m.index === 1) {
        await running.abort();
        throw sudoRefusal(m.match[0]);
      }
      running.session.sendSecret(sudoPassword, '\n');
      await typePasswordTwice(running, user, newPassword, refusals, [sudoPrompt, PRIVILEGE_REFUSED, SUDO_NOT_ALLOWED], (text) => sudoRefusal(text));
      return { method: `admin reset (sudo ${commandName(cmd)})` };
    }

    const root = this.#ctx.credentials.root?.password;
    if (!root) throw new InvalidConfigurationError('privilege.rootAccount', 'has no password for su');
    const running = await this.#su(conn, root, cmd.command);
    if (cmd.input === 'chpasswd') {
      running.session.markChangeSent();
      running.session.sendSecret(chpasswdLine(user, newPassword), '\n');
      running.endInput();
      interpret(await running.finish(), cmd.command, refusals);
    } else {
      await typePasswordTwice(running, user, newPassword, refusals, [], () => new AuthenticationError('su refused the root password'));
    }
    return { method: `admin reset (su ${commandName(cmd)})` };
  }

  /**
   * `sudo -S -k -p '' true`: a refused password is found here, where sudo reading a second line
   * changes nothing. Once per connection and password: sudo's PAM run is most of a change's cost.
   */
  async #checkSudo(conn: UnixConnection, password: Secret): Promise<void> {
    if (this.#sudoProven?.conn === conn && this.#sudoProven.password === password) return;
    const r = await (await conn.runWithInput(`LC_ALL=C sudo -S -k -p '' true`, [password], { changes: false })).finish();
    if (r.exitCode !== 0) throw sudoRefusal(r.output);
    this.#sudoProven = { conn, password };
  }

  /** Starts `command` as root through su on a terminal; returns once the root shell has said it runs it. */
  async #su(conn: UnixConnection, rootPassword: Secret, command: string): Promise<RunningCommand> {
    const ready = marker('ROOT', newToken());
    const inner = `stty -echo; export LC_ALL=C; ${ready.command}; exec ${command}`;
    const running = await conn.run(`LC_ALL=C su - root -c ${shellQuote(inner)}`);
    let passwordSent = false;
    for (;;) {
      const m = await running.next([ready.pattern, SU_PROMPT, PRIVILEGE_REFUSED]);
      if ('ended' in m) throw new AuthenticationError(`su refused the root password: ${said((await running.finish()).output)}`);
      if (m.index === 0) return running;
      if (m.index === 1 && !passwordSent) {
        running.session.sendSecret(rootPassword, '\n');
        passwordSent = true;
        continue;
      }
      await running.abort();
      throw new AuthenticationError(`su refused the root password: ${said(m.before + m.match[0])}`);
    }
  }

  // ------------------------------------------------------------------ connection

  async #conn(): Promise<UnixConnection> {
    if (this.#connection && !this.#connection.closed) return this.#connection;
    const stale = this.#connection;
    this.#connection = undefined;
    await stale?.close().catch(() => undefined);
    const login = this.#login();
    const r = this.#ctx.resource;
    if (r.auth === 'key' && !login.privateKey) throw new InvalidConfigurationError('privateKeySecret', 'holds no private key');
    if (r.auth === 'password' && !this.#loginPassword) throw new InvalidConfigurationError('login.account', 'has no password');
    const started = Date.now();
    this.#connection = await this.#open(
      { username: login.username, ...(r.auth === 'key' ? { privateKey: login.privateKey } : { password: this.#loginPassword }) },
      this.#redactor(),
    );
    this.#ctx.log.debug('unix: logged in', { host: r.host, port: r.port, protocol: r.protocol, ms: Date.now() - started });
    return this.#connection;
  }

  #open(login: { username: string; password?: Secret; privateKey?: Secret }, redactor: Redactor): Promise<UnixConnection> {
    const r = this.#ctx.resource;
    return openConnection({
      protocol: r.protocol,
      host: r.host,
      port: r.port,
      username: login.username,
      ...(login.password ? { password: login.password } : {}),
      ...(login.privateKey ? { privateKey: login.privateKey } : {}),
      hostKey: hostKeyCheck(this.#ctx),
      timeoutMs: this.#ctx.timeoutMs,
      redactor,
      log: this.#ctx.log,
    });
  }

  #login(): Credential {
    const login = this.#ctx.credentials.login;
    if (!login) throw new InvalidConfigurationError('login.account', 'has no credential');
    checkUsername(login.username, 'login.account');
    for (const [field, secret] of [['login.account', this.#loginPassword], ['privilege.rootAccount', this.#ctx.credentials.root?.password]] as const) {
      // These are typed at prompts or piped line by line: a line break would be read as the next answer.
      if (secret && /[\n\r\0]/.test(secret.reveal())) throw new InvalidConfigurationError(field, 'has a password with a line break or NUL, which cannot be typed at a prompt');
    }
    return login;
  }

  #redactor(...secrets: (Secret | undefined)[]): Redactor {
    const c = this.#ctx.credentials;
    return this.#ctx.redactor.with(...secrets, this.#loginPassword, c.login?.password, c.login?.privateKey, c.root?.password);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * Answers passwd-style prompts with the new password twice. `before` are patterns that mean
 * the privilege step (sudo) refused before any new password was sent. A prompt for the
 * account's current password is refused before anything is typed at it: the command set
 * does not suit an admin reset.
 */
async function typePasswordTwice(
  running: RunningCommand,
  user: string,
  newPassword: Secret,
  refusals: readonly Refusal[],
  before: readonly RegExp[],
  refused: (text: string) => ResetError,
): Promise<void> {
  let sent = 0;
  for (;;) {
    const m = await running.next([...before, PASSWORD_PROMPT]);
    if ('ended' in m) break;
    if (m.index < before.length) {
      await running.abort();
      if (sent === 0) throw refused(m.before + m.match[0]);
      throw new OutcomeUnknownError(`unexpected output after the new password was sent: ${said(m.before + m.match[0])}`);
    }
    if (sent === 0 && isCurrentPasswordPrompt(lastLine(m.before + m.match[0]), user)) {
      await running.abort();
      throw new InvalidConfigurationError('commandSet', `the change command asks for the current password of ${JSON.stringify(user)}, which an admin reset does not have: ${said(m.before + m.match[0])}`);
    }
    if (sent === 2) {
      await running.abort();
      throw askedAgain('the change command', m.before, refusals);
    }
    running.session.markChangeSent();
    running.session.sendSecret(newPassword, '\n');
    sent++;
  }
  const r = await running.finish();
  if (r.exitCode === 0 && sent === 0) throw new TargetUnchangedError(`the command ended without asking for the new password: ${said(r.output)}`);
  if (r.exitCode === 0 && sent === 1) throw new OutcomeUnknownError(`the command ended after asking for the new password once: ${said(r.output)}`);
  interpret(r, 'passwd', refusals);
}

/**
 * passwd asking for the new password a third time: it did not take the two answers. Only a
 * documented refusal before the prompt says it changed nothing (it asks again after a quality
 * refusal or a mismatch); any other text leaves the outcome unknown.
 */
function askedAgain(what: string, before: string, refusals: readonly Refusal[]): ResetError {
  const refusal = refusalIn(before, refusals);
  if (refusal?.meaning === 'unchanged') return new TargetUnchangedError(`${what} refused the new password (${refusal.program}): ${said(before)}`);
  return new OutcomeUnknownError(`${what} asked for the new password again without a documented refusal: ${said(before)}`);
}

function isCurrentPasswordPrompt(prompt: string, user: string): boolean {
  return CURRENT_PASSWORD_PROMPT.test(prompt.split(user).join(' '));
}

/** Over a 7-bit Telnet link, a secret typed at the target must be ASCII: refused before it is sent. */
function assertTypeable(conn: UnixConnection, secrets: Record<string, Secret | undefined>): void {
  if (conn.eightBitClean) return;
  for (const [field, secret] of Object.entries(secrets)) {
    if (secret && !isAscii(secret.reveal())) {
      throw new InvalidConfigurationError(field, 'has characters outside ASCII, and the Telnet server did not agree to binary mode, which they need');
    }
  }
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function checkUsername(name: string, field = 'username'): string {
  const parsed = unixUsername.safeParse(name);
  if (!parsed.success) throw new InvalidConfigurationError(field, parsed.error.issues[0]?.message ?? 'is not a valid Unix user name');
  return parsed.data;
}

function chpasswdLine(user: string, password: Secret): Secret {
  return new Secret(`${user}:${password.reveal()}`);
}

/**
 * Exit status 0 is success. A failure is classified only by a documented refusal in the
 * output (whole lines with the program's own prefix); anything else — a profile that prints
 * "error", a PAM notice, output cut short — leaves the outcome unknown, and the engine reconciles.
 */
function interpret(r: { exitCode: number; output: string }, what: string, refusals: readonly Refusal[]): void {
  if (r.exitCode === 0) return;
  const refusal = refusalIn(r.output, refusals);
  const status = `exit status ${r.exitCode}`;
  switch (refusal?.meaning) {
    case 'unchanged':
    case 'too-soon':
      throw new TargetUnchangedError(`${what} refused the change (${status}): ${said(r.output)}`);
    case 'authentication':
      throw new AuthenticationError(`${refusal.program} refused the password it was given (${status}): ${said(r.output)}`);
    case 'not-allowed':
      throw new InvalidConfigurationError('privilege', `${refusal.program === 'sudo' ? 'sudo does not let the login account run the change command' : 'sudo is not installed'} (${status}): ${said(r.output)}`);
    default:
      throw new OutcomeUnknownError(`${what} exited with ${status} without a documented refusal: ${said(r.output)}`);
  }
}

function sudoRefusal(output: string): ResetError {
  if (SUDO_NOT_ALLOWED.test(output)) return new InvalidConfigurationError('privilege', `sudo does not let the login account run the change command, or is not installed: ${said(output)}`);
  return new AuthenticationError(`sudo refused the login account's password: ${said(output)}`);
}

function commandName(cmd: AdminCommand): string {
  return cmd.command.split(/\s+/)[0]!.split('/').pop()!;
}
