import { AccountBusyError, errorClassOf, NotFoundError, OutcomeUnknownError, ResetError, TargetUnchangedError } from '../engine/errors.js';
import type { Log } from '../engine/log.js';
import { ResetProtocol, type StepContext } from '../engine/protocol.js';
import type { Secret } from '../engine/secret.js';
import { openResourceSession, type AdapterRegistry, type ResourceSession, type SessionDeps } from '../engine/session.js';
import type { Account, TypeRegistry } from '../engine/types.js';
import { AWSCURRENT, AWSPENDING, type AccountOutcome, type AccountResult, type CredentialStore, type Lease, type SecretVersionInfo, type StoredResource } from '../engine/stores/types.js';
import type { SecretIdentity, WorkflowStores } from './environment.js';
import { rotationEventSchema } from './events.js';
import { parsePayload } from './parse.js';

export type RotationStep = 'create' | 'set' | 'test' | 'finish';

/** One Secrets Manager rotation call, in the engine's words. */
export interface RotationRequest {
  readonly step: RotationStep;
  readonly secretId: string;
  readonly token: string;
}

const STEPS: Record<string, RotationStep> = {
  createSecret: 'create',
  setSecret: 'set',
  testSecret: 'test',
  finishSecret: 'finish',
  create_secret: 'create',
  set_secret: 'set',
  test_secret: 'test',
  finish_secret: 'finish',
};

/** Whether a payload is meant as a rotation event (then it is parsed as one, and refused if malformed). */
export function looksLikeRotationEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && ('Step' in event || 'step' in event || 'SecretId' in event || 'secret_id' in event);
}

export function parseRotationEvent(event: unknown): RotationRequest {
  // Parsed with the form it resembles, so that an error names the field (Step, not the union).
  const snake = typeof event === 'object' && event !== null && ('step' in event || 'secret_id' in event);
  const e = parsePayload(rotationEventSchema.options[snake ? 1 : 0], event, 'event') as Record<string, string>;
  return 'Step' in e
    ? { step: STEPS[e.Step!]!, secretId: e.SecretId!, token: e.ClientRequestToken! }
    : { step: STEPS[e.step!]!, secretId: e.secret_id!, token: e.client_request_token! };
}

export interface RotationDeps {
  readonly stores: WorkflowStores;
  readonly registry: TypeRegistry;
  /** Only these adapters (the function's own); default: the registry's. */
  readonly adapters?: AdapterRegistry;
  readonly log: Log;
  readonly leaseTtlMs: number;
  readonly timeoutMs: number;
  readonly now: () => Date;
  /**
   * Publishes the result of a rotation that ended out of sync as a workflow run's summary does
   * (its event and the OutOfSyncAccounts metric), so the same alarm fires. Default: not published.
   */
  readonly publishOutOfSync?: (result: AccountResult) => Promise<void>;
}

/**
 * A lease with less time left than this is renewed in the store before a step relies on it:
 * test and finish make one target login or one label move (each within the 30 s operation
 * deadline); set may change, probe, wait for reconcile's settling and probe again.
 */
const LEASE_MARGIN_MS: Readonly<Record<Exclude<RotationStep, 'create'>, number>> = { set: 5 * 60_000, test: 60_000, finish: 60_000 };
/** Secret identities a container keeps (ARN, name, account); past this many it starts again. */
const IDENTITIES_KEPT = 10_000;

/** What a container remembers of a rotation between its steps (the same token, the same secret). */
interface HeldRotation {
  /** The secret as the events name it. */
  readonly secretId: string;
  readonly account: Account;
  /** Where the rotation's sessions are opened from: the configuration as first read for this rotation. */
  readonly config: Pick<SessionDeps, 'state' | 'credentials'>;
  /** The lease as this container last took or renewed it. */
  lease?: Lease;
  /**
   * The token's version as setSecret read it (its stored value and labels), for testSecret: the
   * lease has been ours since, so no one else has moved its labels, and finishSecret reads them
   * again before it promotes.
   */
  pending?: Awaited<ReturnType<CredentialStore['getValue']>>;
}

/**
 * Secrets Manager rotation: each call runs one step of the reset protocol on its own (no
 * `known`, so set marks its attempt first and a retried set probes the pending password).
 *
 * The account's lease, owned by `rotation:<token>`, is taken by createSecret and held until
 * finishSecret releases it (or it expires), so a workflow reset cannot slip in between two steps
 * and have its version overwritten by this rotation's finish. The later steps go on the lease
 * this container took while it has time left for the step (setSecret, which touches the target,
 * asks for five minutes), and renew it in the store otherwise. A held lease makes a step fail
 * with AccountBusyError, and Secrets Manager tries the rotation again later. A failed create releases the lease; a failed
 * set, test or finish keeps it for Secrets Manager's retry of the step (same token), until it expires.
 *
 * What a step needs is read once: the secret's labels once per step, the account and the
 * resource's configuration (its logins and their passwords) once per rotation in a container,
 * kept from createSecret to finishSecret and forgotten when a step fails, so a retried step
 * reads them afresh; a secret's identity (ARN, name, account) once per container.
 */
export class RotationRunner {
  readonly #d: RotationDeps;
  /** Secret id (as the events name it) → its identity, from DescribeSecret. */
  readonly #identities = new Map<string, SecretIdentity>();
  /** Secret ARN → account id, for secrets found by scanning (no `rpr:account` tag). */
  readonly #accountBySecret = new Map<string, string>();
  /** Token → the rotation in progress, between its steps. */
  readonly #held = new Map<string, HeldRotation>();

  constructor(deps: RotationDeps) {
    this.#d = deps;
  }

  async run(req: RotationRequest): Promise<void> {
    const { state } = this.#d.stores;
    this.#forgetExpired();
    const remembered = this.#held.get(req.token);
    // Remembered again only if this step succeeds: a retried step reads everything afresh.
    this.#held.delete(req.token);
    const owner = `rotation:${req.token}`;
    const begun = remembered?.secretId === req.secretId ? undefined : await this.#begin(req, owner);
    const held = begun?.held ?? remembered!;
    const { account } = held;
    const log = this.#d.log.child({ runId: owner, accountId: account.id, resourceId: account.resourceId, versionId: req.token, step: req.step });
    const startedAt = this.#d.now().toISOString();
    let session: ResourceSession | undefined;
    let redactor = log.redactor;
    const record = (outcome: AccountOutcome, extra: Partial<AccountResult> = {}) =>
      this.#record({ runId: owner, accountId: account.id, resourceId: account.resourceId, outcome, versionId: req.token, step: req.step, startedAt, endedAt: this.#d.now().toISOString(), ...extra });
    // Secrets Manager's RotateSecret labels the token AWSPENDING, with no value yet, before it
    // calls createSecret: create sees the secret without it until it has stored the password.
    const credentials = new StepCredentials(this.#d.stores.credentials, account.secretId, req.token, { hideToken: req.step === 'create' });
    // set reads the token's version and the current password while the lease is renewed; read
    // again if the lease had to be taken anew (another reset may have held it in between).
    if (req.step === 'set') credentials.prefetch([{ versionId: req.token }, { stage: AWSCURRENT }]);
    if (req.step === 'test' && held.pending) credentials.seed({ versionId: req.token }, held.pending);
    // A lease another reset holds fails the step before anything is changed or recorded.
    if (!begun?.leased && (await this.#holdLease(held, req.step, owner)) === 'taken') credentials.forget();
    const protocol = new ResetProtocol(state, credentials);
    try {
      // create reads the secret's labels (under the lease) while the session opens.
      if (req.step === 'create') credentials.prefetch([]);
      session = await openResourceSession({ ...held.config, registry: this.#d.registry, ...(this.#d.adapters ? { adapters: this.#d.adapters } : {}), log, timeoutMs: this.#d.timeoutMs }, account.resourceId);
      redactor = session.redactor.with();
      const ctx: StepContext = { session, account, token: req.token, log: log.child({}, redactor), redactor };

      switch (req.step) {
        case 'create':
          await protocol.create(ctx);
          break;
        case 'set':
          await this.#set(protocol, ctx, record);
          break;
        case 'test':
          // Tests only a version still pending (or already promoted): one another reset settled is refused.
          await protocol.test(ctx);
          break;
        case 'finish': {
          await assertStillOurs(credentials, account, req.token);
          const retired = await protocol.finish(ctx);
          await Promise.all([record('succeeded', { method: 'rotation', ...(retired ? { message: retired } : {}) }), this.#release(held, log)]);
          log.info('rotation finished: the new password is AWSCURRENT');
          return;
        }
      }
      if (req.step === 'set') held.pending = await credentials.seen({ versionId: req.token });
      this.#held.set(req.token, held);
    } catch (e) {
      const err = redactor.redactError(e);
      const recorded = err instanceof RecordedError;
      if (!recorded) {
        await record('failed', { errorClass: errorClassOf(err), message: err instanceof Error ? err.message : String(err) }).catch((re: unknown) =>
          log.warn('recording the failed rotation step failed', { errorClass: errorClassOf(re) }),
        );
      }
      // A recorded outcome ends the rotation; a create that failed has not touched the target.
      // Otherwise the lease stays for Secrets Manager's retry of the step, or until it expires.
      if (recorded || req.step === 'create') await this.#release(held, log);
      log.warn('rotation step failed', { errorClass: errorClassOf(err), error: err instanceof Error ? err.message : String(err) });
      throw recorded ? redactor.redactError(err.error) : err;
    } finally {
      await session?.close();
    }
  }

  /** set; when its outcome is unknown, reconcile, and fail the rotation unless the new password works and was promoted. */
  async #set(protocol: ResetProtocol, ctx: StepContext, record: (outcome: AccountOutcome, extra?: Partial<AccountResult>) => Promise<AccountResult>): Promise<void> {
    try {
      await protocol.set(ctx);
    } catch (e) {
      if (!(e instanceof ResetError) || !e.targetMayHaveChanged) throw e;
      const message = ctx.redactor.redact(e.message);
      ctx.log.warn('set: outcome unknown; reconciling', { errorClass: errorClassOf(e), error: message });
      const r = await protocol.reconcile(ctx);
      ctx.log.info('set: reconciled', { outcome: r.outcome, workingVersion: r.workingVersion });
      // The pending password works and is AWSCURRENT now: test and finish find it so and pass.
      if (r.outcome === 'succeeded') return;
      const detail = `${message}; reconciled: ${r.detail}`;
      const result = await record(r.outcome, { step: 'reconcile', workingVersion: r.workingVersion, ...(r.kept ? { keptVersion: r.kept } : {}), errorClass: errorClassOf(e), message: detail });
      if (r.outcome === 'out-of-sync') {
        await this.#d.publishOutOfSync?.(result).catch((pe: unknown) => ctx.log.warn('publishing the out-of-sync event and metric failed', { errorClass: errorClassOf(pe) }));
      }
      throw new RecordedError(
        r.outcome === 'rolled-back'
          ? new TargetUnchangedError(`set was not applied and the pending version was discarded: ${r.detail}`, { cause: e })
          : new OutcomeUnknownError(`the account is out of sync: ${detail}`, { cause: e }),
      );
    }
  }

  /**
   * createSecret takes the lease (again, if Secrets Manager repeats it); set, test and finish go
   * on the lease this container holds while it has their margin left, and renew it otherwise (a
   * step run in another container, a long pause). Only its owner releases a lease, and no one
   * else can take it before it expires, so a lease held with time left needs no store call.
   */
  async #holdLease(held: HeldRotation, step: RotationStep, owner: string): Promise<'kept' | 'renewed' | 'taken'> {
    const { state } = this.#d.stores;
    const ttl = this.#d.leaseTtlMs;
    if (step === 'create') {
      held.lease = await state.acquire(held.account.id, owner, ttl, { reentrant: true });
      return 'taken';
    }
    if (held.lease && held.lease.expiresAt - this.#d.now().getTime() >= LEASE_MARGIN_MS[step]) return 'kept';
    try {
      held.lease = await state.renew({ accountId: held.account.id, owner, expiresAt: 0 }, ttl);
      return 'renewed';
    } catch (e) {
      if (!(e instanceof AccountBusyError)) throw e;
      // Not held by anyone (it expired and was removed): take it, unless another reset has.
      held.lease = await state.acquire(held.account.id, owner, ttl);
      return 'taken';
    }
  }

  async #release(held: HeldRotation, log: Log): Promise<void> {
    const lease = held.lease;
    held.lease = undefined;
    if (lease) await this.#d.stores.state.release(lease).catch((e: unknown) => log.warn('releasing the lease failed', { errorClass: errorClassOf(e) }));
  }

  /**
   * A rotation this container has not seen a step of: its account and its configuration, read
   * afresh; for createSecret also the lease of the account the secret's tag names, taken while
   * the account is read (`leased`).
   */
  async #begin(req: RotationRequest, owner: string): Promise<{ held: HeldRotation; leased: boolean }> {
    const { state } = this.#d.stores;
    const known = this.#identities.get(req.secretId);
    const identity = known ?? (await this.#d.stores.describeSecret(req.secretId));
    const named = identity.taggedAccountId ?? this.#accountBySecret.get(identity.arn);
    const early = req.step === 'create' && named !== undefined ? settled(state.acquire(named, owner, this.#d.leaseTtlMs, { reentrant: true })) : undefined;
    const { account, resource } = await this.#findAccount(req.secretId, identity, known !== undefined).catch(async (e: unknown) => {
      const got = await early;
      if (got && 'value' in got) await state.release(got.value).catch(() => undefined);
      throw e;
    });
    const held: HeldRotation = { secretId: req.secretId, account, config: configOnce(this.#d.stores, account, resource) };
    const got = await early;
    if (!got) return { held, leased: false };
    if (named !== account.id) {
      // The tag named another account than the one that names this secret: not that one's lease.
      if ('value' in got) await state.release(got.value).catch(() => undefined);
      return { held, leased: false };
    }
    if ('error' in got) throw got.error;
    held.lease = got.value;
    return { held, leased: true };
  }

  /** Forgets rotations whose lease has expired (abandoned ones: Secrets Manager gave up, or went elsewhere). */
  #forgetExpired(): void {
    const now = this.#d.now().getTime();
    for (const [token, held] of this.#held) if (!held.lease || held.lease.expiresAt <= now) this.#held.delete(token);
  }

  /**
   * The account whose secret this is. The event names the secret by ARN, the account may name
   * it by name (or the other way round): DescribeSecret gives both, and the `rpr:account` tag
   * the Configurator sets gives the account in one read. A secret's ARN and name never change,
   * so its identity is kept for the container's life; the account is read each time, and must
   * still name the secret. Untagged secrets are found by a scan of the accounts.
   */
  async #findAccount(secretId: string, identity: SecretIdentity, remembered: boolean): Promise<{ account: Account; resource?: StoredResource }> {
    let found = await this.#accountOf(identity);
    if (!found && remembered) {
      // The account the remembered identity named no longer names the secret: ask again.
      identity = await this.#d.stores.describeSecret(secretId);
      found = await this.#accountOf(identity);
    }
    found ??= { account: await this.#scanFor(identity) };
    if (this.#identities.size >= IDENTITIES_KEPT) this.#identities.clear();
    this.#identities.set(secretId, identity);
    return found;
  }

  /**
   * The account the tag (or an earlier scan) names, if it still names this secret; with its
   * resource, when the store reads the two in one request.
   */
  async #accountOf(identity: SecretIdentity): Promise<{ account: Account; resource?: StoredResource } | undefined> {
    const { state } = this.#d.stores;
    for (const id of [identity.taggedAccountId, this.#accountBySecret.get(identity.arn)]) {
      if (id === undefined) continue;
      const { account, resource } = state.getAccountAndResource ? await state.getAccountAndResource(id) : { account: await state.getAccount(id), resource: undefined };
      if (account && namesSecret(account, identity)) return { account, ...(resource?.id === account.resourceId ? { resource } : {}) };
    }
    return undefined;
  }

  async #scanFor(identity: SecretIdentity): Promise<Account> {
    this.#d.log.warn('rotation: the secret has no rpr:account tag naming its account; scanning the accounts', { secretArn: identity.arn });
    for (const account of await this.#d.stores.state.listAccounts()) {
      if (namesSecret(account, identity)) {
        this.#accountBySecret.set(identity.arn, account.id);
        return account;
      }
    }
    throw new NotFoundError('SecretId', `no account uses secret ${identity.arn}`);
  }

  async #record(result: AccountResult): Promise<AccountResult> {
    const detail = [result.method, result.workingVersion ? `working version: ${result.workingVersion}` : undefined, result.errorClass, result.message].filter(Boolean).join('; ');
    await this.#d.stores.state.recordAccountResult(result, {
      at: result.endedAt,
      accountId: result.accountId,
      resourceId: result.resourceId,
      runId: result.runId,
      event: 'password-rotation',
      outcome: result.outcome,
      ...(result.versionId ? { versionId: result.versionId } : {}),
      detail,
    });
    return result;
  }
}

function namesSecret(account: Account, identity: SecretIdentity): boolean {
  return account.secretId === identity.arn || account.secretId === identity.name;
}

/**
 * finish acts only on a version still pending (or already promoted by this rotation).
 * A version another reset settled must never be promoted over that reset's own.
 */
async function assertStillOurs(credentials: CredentialStore, account: Account, token: string): Promise<void> {
  const stages = (await credentials.listVersions(account.secretId)).find((v) => v.versionId === token)?.stages ?? [];
  if (!stages.includes(AWSPENDING) && !stages.includes(AWSCURRENT)) {
    throw new TargetUnchangedError(`version ${token} is neither pending nor current: another reset settled it; start a new rotation`);
  }
}

/** An error whose result was recorded already; thrown on as `error`. */
class RecordedError extends Error {
  constructor(readonly error: Error) {
    super(error.message);
  }
}

/**
 * The stores a rotation's sessions are opened from, each read made once for the rotation: the
 * resource (given, when it was read with the account), the accounts its logins name, and their passwords (AWSCURRENT of secrets other
 * than the rotated account's own, which its steps always read afresh).
 */
function configOnce(stores: Pick<SessionDeps, 'state' | 'credentials'>, account: Account, resource?: StoredResource): Pick<SessionDeps, 'state' | 'credentials'> {
  const reads = new Map<string, Promise<unknown>>();
  // Read with the account already, when the store reads both at once.
  if (resource) reads.set(`resource ${resource.id}`, Promise.resolve(resource));
  const once = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    let p = reads.get(key) as Promise<T> | undefined;
    if (!p) {
      p = read();
      reads.set(key, p);
      p.catch(() => reads.delete(key));
    }
    return p;
  };
  const state = new Proxy(stores.state, {
    get(target, prop, receiver) {
      if (prop === 'getResource') return (id: string) => once(`resource ${id}`, () => target.getResource(id));
      if (prop === 'getAccount') return (id: string) => once(`account ${id}`, () => target.getAccount(id));
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const credentials = new Proxy(stores.credentials, {
    get(target, prop, receiver) {
      if (prop === 'getValue') {
        return (id: string, selector: { versionId?: string; stage?: string } = {}) =>
          id === account.secretId ? target.getValue(id, selector) : once(`secret ${id} ${selector.versionId ?? ''} ${selector.stage ?? ''}`, () => target.getValue(id, selector));
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { state, credentials };
}

/**
 * The credential store as one step sees the rotated secret: its labels and each version read once (the promote
 * is told which version they showed current, sparing it a read; a stale view costs that read
 * after all), and read again after the step changes them. With `hideToken`, the token's version
 * is left out until the step has stored its password: Secrets Manager's RotateSecret lists it,
 * labelled AWSPENDING with no value, before it calls createSecret; once putPending has tried
 * (storing the password, or finding one an earlier attempt stored), it is shown as it is.
 */
class StepCredentials implements CredentialStore {
  readonly #inner: CredentialStore;
  readonly #secretId: string;
  readonly #token: string;
  #hideToken: boolean;
  #versions: Promise<SecretVersionInfo[]> | undefined;
  readonly #values = new Map<string, ReturnType<CredentialStore['getValue']>>();

  constructor(inner: CredentialStore, secretId: string, token: string, options: { hideToken?: boolean } = {}) {
    this.#inner = inner;
    this.#secretId = secretId;
    this.#token = token;
    this.#hideToken = options.hideToken ?? false;
  }

  createSecret(...a: Parameters<CredentialStore['createSecret']>): ReturnType<CredentialStore['createSecret']> {
    return this.#inner.createSecret(...a);
  }

  getValue(secretId: string, selector: { versionId?: string; stage?: string } = {}): ReturnType<CredentialStore['getValue']> {
    if (secretId !== this.#secretId) return this.#inner.getValue(secretId, selector);
    const key = `${selector.versionId ?? ''} ${selector.stage ?? ''}`;
    let read = this.#values.get(key);
    if (!read) {
      read = this.#inner.getValue(secretId, selector);
      this.#values.set(key, read);
      read.catch(() => this.#values.get(key) === read && this.#values.delete(key));
    }
    return read;
  }

  /** Starts the step's reads of these versions of the rotated secret (and of its labels, with none), for the step to find done. */
  prefetch(selectors: readonly { versionId?: string; stage?: string }[]): void {
    if (selectors.length === 0) void this.listVersions(this.#secretId).catch(() => undefined);
    for (const selector of selectors) void this.getValue(this.#secretId, selector).catch(() => undefined);
  }

  /** What the step has read of this version of the rotated secret, if it has (no new read). */
  async seen(selector: { versionId?: string; stage?: string }): Promise<Awaited<ReturnType<CredentialStore['getValue']>> | undefined> {
    return this.#values.get(`${selector.versionId ?? ''} ${selector.stage ?? ''}`)?.catch(() => undefined);
  }

  /** What an earlier step of the rotation read, as if this step had read it. */
  seed(selector: { versionId?: string; stage?: string }, value: Awaited<ReturnType<CredentialStore['getValue']>>): void {
    this.#values.set(`${selector.versionId ?? ''} ${selector.stage ?? ''}`, Promise.resolve(value));
  }

  /** Forgets what was read: the step reads it again. */
  forget(): void {
    this.#versions = undefined;
    this.#values.clear();
  }

  async listVersions(secretId: string): Promise<SecretVersionInfo[]> {
    if (secretId !== this.#secretId) return this.#inner.listVersions(secretId);
    if (!this.#versions) {
      const read = this.#inner.listVersions(secretId);
      this.#versions = read;
      read.catch(() => this.#versions === read && (this.#versions = undefined));
    }
    const versions = await this.#versions;
    return this.#hideToken ? versions.filter((v) => v.versionId !== this.#token || v.stages.includes(AWSCURRENT)) : versions;
  }

  async putPending(secretId: string, versionId: string, value: Secret): Promise<boolean> {
    try {
      return await this.#inner.putPending(secretId, versionId, value);
    } finally {
      this.#changed(secretId, versionId);
    }
  }

  async promote(secretId: string, versionId: string, options: { current?: string } = {}): Promise<void> {
    const seen = secretId === this.#secretId && options.current === undefined ? await this.#versions?.catch(() => undefined) : undefined;
    const current = seen?.find((v) => v.stages.includes(AWSCURRENT))?.versionId;
    try {
      await this.#inner.promote(secretId, versionId, current !== undefined ? { current } : options);
    } finally {
      this.#changed(secretId, versionId);
    }
  }

  async discardPending(secretId: string, versionId: string): Promise<void> {
    try {
      await this.#inner.discardPending(secretId, versionId);
    } finally {
      this.#changed(secretId, versionId);
    }
  }

  async keep(secretId: string, versionId: string): Promise<string> {
    try {
      return await this.#inner.keep(secretId, versionId);
    } finally {
      this.#changed(secretId, versionId);
    }
  }

  async release(secretId: string, versionId: string): Promise<void> {
    try {
      await this.#inner.release(secretId, versionId);
    } finally {
      this.#changed(secretId, versionId);
    }
  }

  deleteSecret(secretId: string): Promise<void> {
    return this.#inner.deleteSecret(secretId);
  }

  #changed(secretId: string, versionId: string): void {
    if (secretId !== this.#secretId) return;
    this.forget();
    if (versionId === this.#token) this.#hideToken = false;
  }
}

/** A promise that never rejects: what it settled to. */
function settled<T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}
