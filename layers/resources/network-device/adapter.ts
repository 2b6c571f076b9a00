import type { Account } from '../../engine/account.js';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, Credential, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { AuthenticationError, OutcomeUnknownError, TargetUnchangedError } from '../../engine/errors.js';
import { assertPasswordAcceptable } from '../../engine/policy.js';
import type { Redactor } from '../../engine/redact.js';
import type { Secret } from '../../engine/secret.js';
import { DeviceSession } from '../../expect/device.js';
import { openDeviceStream } from '../../expect/device-stream.js';
import { asResetError } from '../../expect/outcome.js';
import { hostKeyCheck } from '../../expect/ssh.js';
import type { DeviceDriver, DeviceLoginPlan, DeviceResource } from './driver.js';

/**
 * Every network device and service processor, through its vendor's driver (driver.ts): one
 * session per login (the admin's, opened on the first change and reused for the group; an
 * account that changes its own password gets its own, closed after its change), and a fresh
 * login for every proof.
 *
 * Safety, whatever the driver: the password is checked against the policy before anything is
 * sent; the configuration is saved only after a change the device confirmed, never after a
 * refused or unknown one; a session whose change ended unknown is closed, never reused; every
 * session is left out of configuration mode and logged out (DeviceSession.close) on every path.
 * The logins the session itself uses (the admin, the enable secret) are changed last by the
 * engine (they are the type's references), and a new one replaces the old for the sessions that
 * follow.
 */
export function createDeviceAdapter<R extends DeviceResource>(driver: DeviceDriver<R>): AdapterFactory<R> {
  // One factory per driver: the descriptor's lazy loader and the reset function each call this,
  // and the registry holds them to be the same adapter (test/unit/workflow/families.test.ts).
  let factory = FACTORIES.get(driver) as AdapterFactory<R> | undefined;
  if (!factory) {
    factory = (ctx) => new DeviceAdapter(driver, ctx);
    FACTORIES.set(driver, factory);
  }
  return factory;
}

const FACTORIES = new WeakMap<object, unknown>();

interface OpenSession {
  readonly session: DeviceSession;
  readonly close: () => Promise<void>;
}

class DeviceAdapter<R extends DeviceResource> implements TargetAdapter {
  readonly type: string;
  readonly verification = 'login' as const;
  readonly #driver: DeviceDriver<R>;
  readonly #ctx: AdapterContext<R>;
  /** The resource's logins as they are now: a change of one replaces its password here. */
  #credentials: Record<string, Credential>;
  readonly #sessions = new Map<string, OpenSession>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(driver: DeviceDriver<R>, ctx: AdapterContext<R>) {
    this.#driver = driver;
    this.#ctx = ctx;
    this.type = ctx.resource.type;
    this.#credentials = { ...ctx.credentials };
  }

  change(req: ChangeRequest): Promise<ChangeResult> {
    return this.#serial(async () => {
      try {
        assertPasswordAcceptable(this.#ctx.policy, req.newPassword, 'newPassword');
        const redactor = this.#redactor(req.newPassword, req.currentPassword);
        const plan = this.#driver.sessionFor(this.#ctx.resource, req.account, this.#credentials, req.currentPassword);
        const result = await this.#changeOn(plan, req, redactor);
        this.#changed(req.account, req.newPassword);
        return result;
      } catch (e) {
        throw asResetError(e);
      }
    });
  }

  async verify(req: VerifyRequest): Promise<VerifyResult> {
    let opened: OpenSession | undefined;
    try {
      const plan = this.#driver.proof(this.#ctx.resource, req.account, req.password, this.#credentials);
      opened = await this.#open(plan, this.#redactor(req.password));
      return { valid: true };
    } catch (e) {
      if (e instanceof AuthenticationError) return { valid: false, detail: e.message };
      throw asResetError(e);
    } finally {
      await opened?.close();
    }
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      const open = [...this.#sessions.values()];
      this.#sessions.clear();
      await Promise.all(open.map((s) => s.close()));
    });
  }

  // ------------------------------------------------------------------ the change

  async #changeOn(plan: DeviceLoginPlan, req: ChangeRequest, redactor: Redactor): Promise<ChangeResult> {
    const reused = this.#sessions.has(plan.key);
    const attempt = (session: DeviceSession) =>
      this.#driver.change({
        resource: this.#ctx.resource,
        account: req.account,
        newPassword: req.newPassword,
        currentPassword: req.currentPassword,
        session,
        credentials: this.#credentials,
        log: this.#ctx.log,
      });
    let session = await this.#session(plan, redactor);
    let result: ChangeResult;
    try {
      result = await attempt(session);
    } catch (e) {
      const error = asResetError(e);
      const dead = session.closed;
      // A session in an unknown state is never reused; one the device closed is gone.
      if (dead || error instanceof OutcomeUnknownError) await this.#drop(plan.key);
      // A reused session the device logged out while idle failed before anything was sent: log in again, once.
      if (!(reused && dead && error instanceof TargetUnchangedError)) throw error;
      this.#ctx.log.debug(`${this.type}: the reused session was closed; logging in again`, { account: req.account.id });
      session = await this.#session(plan, redactor);
      result = await attempt(session);
    }
    try {
      if (this.#ctx.resource.copyToStartup === true && this.#driver.saves) await this.#save(session, req.account, plan.key);
    } finally {
      if (plan.key !== 'admin') await this.#drop(plan.key);
    }
    return result;
  }

  async #save(session: DeviceSession, account: Account, key: string): Promise<void> {
    try {
      await session.save();
    } catch (e) {
      await this.#drop(key);
      // The device took the new password (it answered the change); only its saved copy is in doubt.
      throw new OutcomeUnknownError(
        `${this.#where()}: the password of ${JSON.stringify(account.username)} was changed in the running configuration, but saving it failed (a reload would bring the old one back): ${asResetError(e).message}`,
        { cause: e },
      );
    }
  }

  /** A changed account's new password replaces the old in every login that uses it. */
  #changed(account: Account, password: Secret): void {
    for (const [role, credential] of Object.entries(this.#credentials)) {
      if (credential.accountId === account.id) this.#credentials[role] = { ...credential, password };
    }
  }

  // ------------------------------------------------------------------ sessions

  async #session(plan: DeviceLoginPlan, redactor: Redactor): Promise<DeviceSession> {
    const cached = this.#sessions.get(plan.key);
    if (cached && !cached.session.closed) return cached.session;
    if (cached) await this.#drop(plan.key);
    const started = Date.now();
    const opened = await this.#open(plan, redactor);
    this.#sessions.set(plan.key, opened);
    this.#ctx.log.debug(`${this.type}: logged in`, { host: this.#where(), session: plan.key, ms: Date.now() - started });
    return opened.session;
  }

  async #drop(key: string): Promise<void> {
    const s = this.#sessions.get(key);
    this.#sessions.delete(key);
    await s?.close();
  }

  /** A logged-in session (enabled when the plan says so); closed again if any step fails. */
  async #open(plan: DeviceLoginPlan, redactor: Redactor): Promise<OpenSession> {
    const r = this.#ctx.resource;
    const stream = await openDeviceStream({
      protocol: r.protocol,
      host: r.host,
      port: r.port,
      username: plan.sshUsername,
      password: plan.password,
      hostKey: hostKeyCheck(this.#ctx),
      ...(r.sshAlgorithms ? { legacyAlgorithms: r.sshAlgorithms } : {}),
      timeoutMs: this.#ctx.timeoutMs,
      log: this.#ctx.log,
    });
    let session: DeviceSession | undefined;
    try {
      session = await DeviceSession.open(stream.stream, this.#driver.dialect(r), {
        redactor: redactor.with(plan.password, plan.enable ?? undefined),
        log: this.#ctx.log,
        timeoutMs: this.#ctx.timeoutMs,
        name: `${this.type} ${r.protocol === 'ssh' ? 'SSH' : 'Telnet'} session`,
        login: { ...(plan.username === undefined ? {} : { username: plan.username }), password: plan.password },
      });
      if (plan.enable !== undefined) await session.enable(plan.enable ?? undefined);
    } catch (e) {
      await session?.close();
      await stream.close();
      throw e;
    }
    const opened = session;
    return {
      session: opened,
      close: async () => {
        await opened.close();
        await stream.close();
      },
    };
  }

  #where(): string {
    return `${this.#ctx.resource.host}:${this.#ctx.resource.port}`;
  }

  #redactor(...secrets: (Secret | undefined)[]): Redactor {
    return this.#ctx.redactor.with(...secrets, ...Object.values(this.#credentials).map((c) => c.password));
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
