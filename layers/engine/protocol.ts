import type { TargetAdapter } from './adapter.js';
import type { Account } from './types.js';
import { errorClassOf, NotFoundError, OutcomeUnknownError, ResetError, StoreThrottledError, TargetUnchangedError } from './errors.js';
import { assertProbeAffordable } from './lockout.js';
import type { Log } from './log.js';
import { assertPasswordAcceptable, generatePassword } from './policy.js';
import type { Redactor } from './redact.js';
import type { Secret } from './secret.js';
import type { ResourceSession } from './session.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, isKeptLabel, type AccountOutcome, type CredentialStore, type StateStore } from './stores/types.js';

export interface StepContext {
  readonly session: ResourceSession;
  readonly account: Account;
  /** The version token (Secrets Manager ClientRequestToken). */
  readonly token: string;
  readonly log: Log;
  readonly redactor: Redactor;
  /**
   * A whole reset in one invocation: what earlier steps learned, so each thing is read once.
   * Steps called one at a time (rotation) have none, and mark set's attempts in the state store.
   */
  readonly known?: {
    /**
     * create found this token's version already pending: an earlier attempt of the same run
     * (a retried or continued task, a crashed process) stored it and may have reached the target.
     */
    resumed?: boolean;
    /** create found this token's version already AWSCURRENT: an earlier attempt finished it. */
    finished?: boolean;
    pending?: Secret;
    /** The version that held AWSCURRENT when create looked (finish's promote need not read it again). */
    currentVersionId?: string;
  };
}

/** What a probe found: the password's fate, and how it was proven. */
export interface Probe {
  readonly valid: boolean;
  /** "logged in" or "confirmed by the target" (attestation). */
  readonly proof: string;
}

/**
 * What a type that cannot probe (`none`) records the new password was proven by: the provider
 * answered the change with success. Never "logged in": no login was made.
 */
export const PROVIDER_ANSWER = 'confirmed by the provider';

export interface ReconcileResult {
  readonly outcome: Extract<AccountOutcome, 'succeeded' | 'rolled-back' | 'out-of-sync'>;
  /** Which stored version works on the target: pending, current, previous, none, or unknown (unreachable). */
  readonly workingVersion: 'pending' | 'current' | 'previous' | 'none' | 'unknown';
  readonly detail: string;
  /** The label the pending version is kept under, when it could not be proven wrong (the version to try). */
  readonly kept?: string;
}

/**
 * One probe of an account's password by the adapter's verification capability, within the
 * account's lockout budget (ThrottledError when it is not affordable: nothing was sent);
 * undefined for a type that cannot prove a password (`none`). What the protocol, verify runs and
 * dry runs all probe with.
 */
export async function probePassword(adapter: TargetAdapter, account: Account, password: Secret): Promise<Probe | undefined> {
  if (adapter.verification === 'none') return undefined;
  // A probe that may fail spends the account's lockout budget: made only while it is affordable.
  if (adapter.lockout) assertProbeAffordable(await adapter.lockout(account), `checking the password of ${account.username}`);
  const result = await adapter.verify({ account, password });
  const by = result.by ?? adapter.verification;
  return { valid: result.valid, proof: by === 'login' ? 'logged in' : 'confirmed by the target' };
}

/**
 * The reset protocol for one account: four idempotent steps keyed by the version token,
 * and reconcile for when the outcome of `set` is unknown. See DESIGN.md, "The reset protocol".
 */
/** How long reconcile lets a target finish a change whose connection was cut before it trusts a probe. */
const SETTLE_MS = 1_000;

export class ResetProtocol {
  constructor(
    private readonly state: StateStore,
    private readonly credentials: CredentialStore,
  ) {}

  async #versionStages(secretId: string, token: string): Promise<readonly string[] | undefined> {
    const versions = await this.credentials.listVersions(secretId);
    return versions.find((v) => v.versionId === token)?.stages;
  }

  /**
   * The token's version, its value and its stages in one read. A token with no version is one
   * that create never stored (TargetUnchangedError: nothing was or will be changed for it).
   */
  async #tokenVersion(ctx: StepContext): Promise<{ value: Secret; stages: readonly string[] }> {
    try {
      const { value, stages } = await this.credentials.getValue(ctx.account.secretId, { versionId: ctx.token });
      ctx.redactor.add(value);
      return { value, stages };
    } catch (e) {
      if (e instanceof NotFoundError) throw new TargetUnchangedError(`version ${ctx.token} does not exist; run create first`, { cause: e });
      throw e;
    }
  }

  async #value(ctx: StepContext, selector: { versionId?: string; stage?: string }): Promise<Secret> {
    const { value } = await this.credentials.getValue(ctx.account.secretId, selector);
    ctx.redactor.add(value);
    return value;
  }

  /**
   * The token's pending password: what create stored in this invocation, else read (with its
   * labels) once. Undefined when the version already holds AWSCURRENT (an earlier attempt
   * finished it); a version that is neither is refused.
   */
  async #pending(ctx: StepContext): Promise<Secret | undefined> {
    if (ctx.known?.pending) return ctx.known.pending;
    const version = await this.#tokenVersion(ctx);
    if (version.stages.includes(AWSCURRENT)) return undefined;
    if (!version.stages.includes(AWSPENDING)) throw notPending(ctx.token, version.stages);
    if (ctx.known) ctx.known.pending = version.value;
    return version.value;
  }

  /**
   * A probe of one password where the type's verification capability makes one meaningful;
   * undefined where it cannot (`none`): a type that cannot log in never reads "could not log
   * in" as "wrong password".
   */
  #probe(ctx: StepContext, password: Secret): Promise<Probe | undefined> {
    return probePassword(ctx.session.adapter, ctx.account, password);
  }

  /** Keeps a version that may work under its own label (never AWSPENDING, never none); returns the label. */
  async #keep(ctx: StepContext, versionId: string): Promise<string> {
    const label = await this.credentials.keep(ctx.account.secretId, versionId);
    ctx.log.warn('kept a version that may hold the target password under its own label', { versionId, label });
    return label;
  }

  /**
   * 1. create: generate a password from the policy and store it as version `token`, AWSPENDING.
   * A different version still labelled AWSPENDING was left by an interrupted reset: it is
   * settled first, so that a password the target may already have is never lost.
   */
  async create(ctx: StepContext): Promise<void> {
    const versions = await this.credentials.listVersions(ctx.account.secretId);
    if (ctx.known) ctx.known.currentVersionId = versions.find((v) => v.stages.includes(AWSCURRENT))?.versionId;
    if (this.#alreadyCreated(ctx, versions.find((v) => v.versionId === ctx.token)?.stages)) return;
    // Versions an earlier reset left that may hold the target's password: pending, or kept.
    const stale = versions.filter((v) => v.versionId !== ctx.token && !v.stages.includes(AWSCURRENT) && v.stages.some((s) => s === AWSPENDING || isKeptLabel(s)));
    for (const v of stale) {
      if ((await this.#settleStalePending(ctx, v.versionId, v.stages)) && ctx.known) ctx.known.currentVersionId = v.versionId;
    }
    const adapter = ctx.session.adapter;
    // A provider's credential is issued once per token: a version an earlier attempt stored (which
    // a rotation's createSecret may not see listed) is looked up by id before another is made.
    if (adapter.issue && this.#alreadyCreated(ctx, await this.#storedStages(ctx))) return;
    const password = adapter.issue ? await this.#issue(ctx) : generatePassword(ctx.session.policy);
    ctx.redactor.add(password);
    let stored: boolean;
    try {
      stored = await this.credentials.putPending(ctx.account.secretId, ctx.token, password);
    } catch (e) {
      // An issued credential nobody can read back is of no use to anyone: it goes at once.
      await this.#revoke(ctx, password);
      throw e;
    }
    if (stored) {
      if (ctx.known) ctx.known.pending = password;
      ctx.log.info('create: pending version stored');
      return;
    }
    // The version exists after all (stored by a concurrent attempt, or rolled back and so unlisted): its stored value counts.
    await this.#revoke(ctx, password);
    if (!this.#alreadyCreated(ctx, await this.#versionStages(ctx.account.secretId, ctx.token))) {
      throw new TargetUnchangedError(`version ${ctx.token} was rolled back; start a new reset with a new token`);
    }
  }

  /** Whether the token's version exists already (an earlier attempt made it); records what that attempt left in `known`. */
  #alreadyCreated(ctx: StepContext, stages: readonly string[] | undefined): boolean {
    if (!stages) return false;
    if (stages.includes(AWSCURRENT)) {
      if (ctx.known) ctx.known.finished = true;
    } else if (stages.includes(AWSPENDING)) {
      if (ctx.known) ctx.known.resumed = true;
    } else {
      throw notPending(ctx.token, stages);
    }
    ctx.log.info('create: version already exists', { stages });
    return true;
  }

  /** The token's version's stages, read by its id (undefined: it holds no value yet). */
  async #storedStages(ctx: StepContext): Promise<readonly string[] | undefined> {
    try {
      return (await this.credentials.getValue(ctx.account.secretId, { versionId: ctx.token })).stages;
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  }

  /**
   * The provider's new credential (an issuing type's create): it is shown the account's current
   * and previous values, so it never removes the current one to make room.
   */
  async #issue(ctx: StepContext): Promise<Secret> {
    const stored = (stage: string) => this.#value(ctx, { stage }).catch((e: unknown) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    const [current, previous] = await Promise.all([stored(AWSCURRENT), stored(AWSPREVIOUS)]);
    const issued = await ctx.session.adapter.issue!({ account: ctx.account, ...(current ? { current } : {}), ...(previous ? { previous } : {}) });
    ctx.log.info('create: the provider issued a new credential');
    return issued;
  }

  /** Removes an issued credential the engine no longer keeps; best effort (the next reset's create finds any it missed). */
  async #revoke(ctx: StepContext, credential: Secret): Promise<void> {
    const adapter = ctx.session.adapter;
    if (!adapter.revoke) return;
    await adapter.revoke({ account: ctx.account, credential }).then(
      () => ctx.log.info('revoked an issued credential that is no longer stored as pending'),
      (e: unknown) => ctx.log.warn('revoking an issued credential failed; the next reset removes it', { errorClass: errorClassOf(e) }),
    );
  }

  /** Drops a pending version (and, for an issuing type, its credential on the target). */
  async discard(ctx: StepContext, versionId = ctx.token, value?: Secret): Promise<void> {
    await this.credentials.discardPending(ctx.account.secretId, versionId);
    if (!ctx.session.adapter.revoke) return;
    const credential = value ?? (versionId === ctx.token ? ctx.known?.pending : undefined) ?? (await this.#value(ctx, { versionId }).catch(() => undefined));
    if (credential) await this.#revoke(ctx, credential);
  }

  /**
   * An earlier reset's pending or kept version: promoted if the target took it (true), dropped
   * if the target proves it wrong. Always probed (one login or attestation): a whole-reset run
   * writes no set mark, so its absence proves nothing. A type that cannot probe keeps it under its
   * own label: this reset's change replaces the target's password either way, and the kept
   * version stays readable until an operator removes it.
   */
  async #settleStalePending(ctx: StepContext, versionId: string, stages: readonly string[]): Promise<boolean> {
    const stale = await this.#value(ctx, { versionId });
    const probe = await this.#probe(ctx, stale);
    const kept = stages.some(isKeptLabel);
    if (probe === undefined) {
      if (stages.includes(AWSPENDING)) await this.#keep(ctx, versionId);
      return false;
    }
    if (probe.valid) {
      await this.credentials.promote(ctx.account.secretId, versionId);
      if (kept) await this.credentials.release(ctx.account.secretId, versionId);
      ctx.log.warn('create: an interrupted reset had changed the password; its version was promoted', { staleVersionId: versionId, proof: probe.proof });
      return true;
    }
    await this.discard(ctx, versionId, stale);
    if (kept) await this.credentials.release(ctx.account.secretId, versionId);
    ctx.log.info('create: dropped the version of an interrupted reset: the target refuses it', { staleVersionId: versionId });
    return false;
  }

  /**
   * 2. set: change the password on the target. A set that may be a retry (a mark exists for
   * this token, or create found its version already pending) first checks whether the pending
   * password already works, so it never changes it twice. Returns the method used, or
   * "already set" / "already finished".
   */
  async set(ctx: StepContext): Promise<string> {
    if (ctx.known?.finished) return 'already finished';
    // Read while the token's version is read and the mark written; settled either way, so an early return leaves no rejection behind.
    const currentValue = this.#value(ctx, { stage: AWSCURRENT }).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    // A step on its own (rotation) may be a retry: it marks its attempt durably before it touches
    // the target, and the mark's write says whether an earlier attempt had marked it (so may have
    // reached the target). Written while the version is read: a mark for a version that turns out
    // not to be pending only makes a later set of it probe first, and none will come.
    const mark = ctx.known ? undefined : settled(this.state.markSetAttempt(ctx.account.id, ctx.token));
    const pending = await this.#pending(ctx);
    if (!pending) return 'already finished';
    // A credential the provider issued follows the provider's rules, not the password policy.
    if (!ctx.session.adapter.issue) assertPasswordAcceptable(ctx.session.policy, pending, 'policy');
    // On its own, the mark says whether this may be a retry; in a whole reset, a version create
    // found already pending says so. Then a login with the pending password decides. A whole
    // reset whose create stored the version cannot be a retry: nothing to probe, nothing to mark;
    // if it is interrupted, the next attempt of its run resumes it (same token) and the next
    // reset's create settles it.
    const mayBeRetry = mark ? unsettled(await mark).earlier : ctx.known?.resumed === true;
    if (mayBeRetry) {
      const probe = await this.#probe(ctx, pending);
      if (probe?.valid) {
        ctx.log.info('set: pending password already works; not changing it again', { proof: probe.proof });
        return 'already set';
      }
      // A type that cannot probe sends the same password again: the provider's set is idempotent.
      if (probe === undefined) ctx.log.info('set: may be a retry, and the type cannot tell; setting the same pending password again');
    }
    const read = await currentValue;
    // Without a current password an admin reset still works; a store that kept throttling is another matter.
    if ('error' in read && read.error instanceof StoreThrottledError) throw read.error;
    const current = 'value' in read ? read.value : undefined;
    const result = await ctx.session.adapter.change({ account: ctx.account, newPassword: pending, currentPassword: current });
    ctx.log.info('set: changed on the target', { method: result.method });
    return result.method;
  }

  /**
   * 3. test: log in with the pending password on a fresh connection. On its own (rotation), only
   * a version still pending is tested: one another reset settled is not this reset's any more.
   */
  async test(ctx: StepContext): Promise<string> {
    if (ctx.known?.finished) return 'already finished';
    const pending = await this.#pending(ctx);
    if (!pending) return 'already finished';
    const probe = await this.#probe(ctx, pending);
    if (probe === undefined) {
      ctx.log.info("test: the type cannot prove a password; the provider's answer to the change stands");
      return PROVIDER_ANSWER;
    }
    if (!probe.valid) {
      // set said it changed the password, yet the target refuses it: which password works is unknown.
      throw new OutcomeUnknownError(`the target refuses the new password (${probe.proof === 'logged in' ? 'a fresh login' : 'attestation'})`);
    }
    ctx.log.info('test: the new password is proven', { proof: probe.proof });
    return probe.proof;
  }

  /**
   * 4. finish: move AWSCURRENT to the token; the old value becomes AWSPREVIOUS. For an issuing
   * type, the credential it replaced is then retired; returns what was done with it. A failed
   * retirement does not undo the reset (the new credential works and is current): it is said in
   * the return value, and the next reset's create deals with the old credential.
   */
  async finish(ctx: StepContext): Promise<string | undefined> {
    const current = ctx.known?.currentVersionId;
    await this.credentials.promote(ctx.account.secretId, ctx.token, current !== undefined ? { current } : {});
    ctx.log.info('finish: version promoted to AWSCURRENT');
    const adapter = ctx.session.adapter;
    if (!adapter.retire) return undefined;
    try {
      const [promoted, previous] = await Promise.all([this.#value(ctx, { versionId: ctx.token }), this.#value(ctx, { stage: AWSPREVIOUS })]);
      const done = await adapter.retire({ account: ctx.account, previous, current: promoted });
      if (done) ctx.log.info('finish: the replaced credential was retired', { done });
      return done;
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      const reason = ctx.redactor.redact(e instanceof ResetError ? e.message : errorClassOf(e));
      ctx.log.warn('finish: retiring the replaced credential failed; the next reset deals with it', { errorClass: errorClassOf(e) });
      return `the replaced credential was not retired (${reason}); the next reset deals with it`;
    }
  }

  /**
   * When set's outcome is unknown: probe pending, current and previous, then finish,
   * roll back, or record which version works. Each probe is one login attempt.
   */
  async reconcile(ctx: StepContext): Promise<ReconcileResult> {
    const verify = async (password: Secret) => (await this.#probe(ctx, password))?.valid === true;
    // A version the engine cannot prove wrong is kept under its own label, and the record names it.
    const kept = async (outcome: { workingVersion: ReconcileResult['workingVersion']; why: string }): Promise<ReconcileResult> => {
      const label = await this.#keep(ctx, ctx.token);
      return { outcome: 'out-of-sync', workingVersion: outcome.workingVersion, detail: `${outcome.why}; the pending version is kept as ${label}`, kept: label };
    };
    try {
      if (ctx.session.adapter.verification === 'none') {
        if (!ctx.session.adapter.repeatableChange) return kept({ workingVersion: 'unknown', why: 'the type cannot prove which password the target holds' });
        // The type cannot probe, but its change sets whatever password it is given, however often
        // (IAM's UpdateLoginProfile): the same pending password is sent again, never another one,
        // and the provider's answer settles which password the target holds.
        const pending = await this.#value(ctx, { versionId: ctx.token });
        try {
          await ctx.session.adapter.change({ account: ctx.account, newPassword: pending });
        } catch (e) {
          if (e instanceof StoreThrottledError) throw e;
          const reason = ctx.redactor.redact(e instanceof ResetError ? `${e.name}: ${e.message}` : errorClassOf(e));
          return kept({ workingVersion: 'unknown', why: `the type cannot prove which password the target holds, and setting the same pending password again failed (${reason})` });
        }
        await this.finish(ctx);
        return { outcome: 'succeeded', workingVersion: 'pending', detail: `the same pending password was set again (the change is repeatable) and ${PROVIDER_ANSWER}; it was promoted` };
      }
      const pending = await this.#value(ctx, { versionId: ctx.token });
      const promoted = async (): Promise<ReconcileResult> => {
        await this.finish(ctx);
        return { outcome: 'succeeded', workingVersion: 'pending', detail: 'the change had been applied; the new password was promoted' };
      };
      if (await verify(pending)) return promoted();
      const current = await this.#value(ctx, { stage: AWSCURRENT }).catch(() => undefined);
      // A target may still be applying a change whose connection was cut (the request had arrived,
      // its answer had not): look again once it has settled, before a version is discarded or kept.
      // The current password is probed again, not the pending one, so a rollback costs no failed login.
      const currentWorked = current !== undefined && (await verify(current));
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const currentWorks = currentWorked && (await verify(current));
      if (!currentWorks && (await verify(pending))) return promoted();
      if (currentWorks) {
        try {
          await this.discard(ctx, ctx.token, pending);
        } catch (e) {
          // The record is true either way: the current password works. The label is only tidied
          // later: the next reset's create probes this version and discards it.
          if (!(e instanceof StoreThrottledError)) throw e;
          return { outcome: 'rolled-back', workingVersion: 'current', detail: 'the change had not been applied; the current password still works; the pending version keeps its label (Secrets Manager throttled its removal) until the next reset discards it' };
        }
        return { outcome: 'rolled-back', workingVersion: 'current', detail: 'the change had not been applied; the current password still works and the pending version was discarded' };
      }
      const previous = await this.#value(ctx, { stage: AWSPREVIOUS }).catch(() => undefined);
      if (previous && (await verify(previous))) {
        return kept({ workingVersion: 'previous', why: 'only the AWSPREVIOUS password works; it was not promoted automatically' });
      }
      // No stored password works: try the resource's admin login once more with the pending
      // password, once per version: a later reconcile of the same version (a retried rotation
      // step, a resumed run) finds the mark and does not change the password a second time.
      if (!ctx.session.loginAccountIds.has(ctx.account.id) && ctx.session.loginAccountIds.size > 0) {
        if (!(await this.state.markReconcileSet(ctx.account.id, ctx.token))) {
          return kept({ workingVersion: 'none', why: 'no stored password works on the target; the reconcile login had set the pending password once already for this version and is not used again' });
        }
        try {
          await ctx.session.adapter.change({ account: ctx.account, newPassword: pending, currentPassword: current });
          if (await verify(pending)) {
            await this.finish(ctx);
            return { outcome: 'succeeded', workingVersion: 'pending', detail: 'set again with the reconcile login; the new password was promoted' };
          }
        } catch (e) {
          ctx.log.warn('reconcile: setting the pending password with the admin login failed', { errorClass: errorClassOf(e) });
        }
      }
      return kept({ workingVersion: 'none', why: 'no stored password works on the target' });
    } catch (e) {
      // The store, not the target, stood in the way: the account is unfinished, not out of sync.
      if (e instanceof StoreThrottledError) throw e;
      const reason = ctx.redactor.redact(e instanceof ResetError ? e.message : errorClassOf(e));
      const label = await this.#keep(ctx, ctx.token).catch(() => undefined);
      return {
        outcome: 'out-of-sync',
        workingVersion: 'unknown',
        detail: `the target could not be probed (${reason}); ${label ? `the pending version is kept as ${label}` : 'the pending version keeps its AWSPENDING label (relabelling it failed too)'}`,
        ...(label ? { kept: label } : {}),
      };
    }
  }
}

/** A step asked to work on a version that is no longer pending: kept after an out-of-sync reset, or settled by another. */
function notPending(token: string, stages: readonly string[]): TargetUnchangedError {
  const kept = stages.find(isKeptLabel);
  if (kept) return new TargetUnchangedError(`version ${token} is kept as ${kept} after a reset that ended out of sync; nothing is sent for it again (the next reset settles it); start a new reset`);
  if (stages.length === 0) return new TargetUnchangedError(`version ${token} was rolled back or settled by another reset; start a new reset with a new token`);
  return new TargetUnchangedError(`version ${token} is not pending (${stages.join(', ')}); run create first`);
}

type Settled<T> = { value: T } | { error: unknown };

/** A promise that never rejects, so an early return leaves no rejection behind. */
function settled<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

function unsettled<T>(s: Settled<T>): T {
  if ('error' in s) throw s.error;
  return s.value;
}
