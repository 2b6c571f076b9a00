import type { Account } from '../resources/common.js';
import { errorClassOf, OutcomeUnknownError, ResetError, TargetUnchangedError } from './errors.js';
import type { Log } from './log.js';
import { assertPasswordAcceptable, generatePassword } from './policy.js';
import type { Redactor } from './redact.js';
import type { Secret } from './secret.js';
import type { ResourceSession } from './session.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, type AccountOutcome, type CredentialStore, type StateStore } from './stores/types.js';

export type StepName = 'create' | 'set' | 'test' | 'finish';

export interface StepContext {
  readonly session: ResourceSession;
  readonly account: Account;
  /** The version token (Secrets Manager ClientRequestToken). */
  readonly token: string;
  readonly log: Log;
  readonly redactor: Redactor;
}

export interface ReconcileResult {
  readonly outcome: Extract<AccountOutcome, 'succeeded' | 'rolled-back' | 'out-of-sync'>;
  /** Which stored version works on the target: pending, current, previous, none, or unknown (unreachable). */
  readonly workingVersion: 'pending' | 'current' | 'previous' | 'none' | 'unknown';
  readonly detail: string;
}

/**
 * The reset protocol for one account: four idempotent steps keyed by the version token,
 * and reconcile for when the outcome of `set` is unknown. See DESIGN.md, "The reset protocol".
 */
export class ResetProtocol {
  constructor(
    private readonly state: StateStore,
    private readonly credentials: CredentialStore,
  ) {}

  async #versionStages(secretId: string, token: string): Promise<readonly string[] | undefined> {
    const versions = await this.credentials.listVersions(secretId);
    return versions.find((v) => v.versionId === token)?.stages;
  }

  async #value(ctx: StepContext, selector: { versionId?: string; stage?: string }): Promise<Secret> {
    const { value } = await this.credentials.getValue(ctx.account.secretId, selector);
    ctx.redactor.add(value);
    return value;
  }

  /** 1. create: generate a password from the policy and store it as version `token`, AWSPENDING. */
  async create(ctx: StepContext): Promise<void> {
    const stages = await this.#versionStages(ctx.account.secretId, ctx.token);
    if (stages?.includes(AWSPENDING) || stages?.includes(AWSCURRENT)) {
      ctx.log.info('create: version already exists', { stages });
      return;
    }
    if (stages) throw new TargetUnchangedError(`version ${ctx.token} was rolled back; start a new reset with a new token`);
    const password = generatePassword(ctx.session.policy);
    ctx.redactor.add(password);
    await this.credentials.putPending(ctx.account.secretId, ctx.token, password);
    ctx.log.info('create: pending version stored');
  }

  /**
   * 2. set: change the password on the target. A retried set (a mark exists for this token)
   * first checks whether the pending password already works, so it never changes it twice.
   * Returns the method used, or "already set".
   */
  async set(ctx: StepContext): Promise<string> {
    const stages = await this.#versionStages(ctx.account.secretId, ctx.token);
    if (stages?.includes(AWSCURRENT)) return 'already finished';
    if (!stages?.includes(AWSPENDING)) throw new TargetUnchangedError(`version ${ctx.token} is not pending; run create first`);
    const pending = await this.#value(ctx, { versionId: ctx.token });
    assertPasswordAcceptable(ctx.session.policy, pending, 'policy');
    if (await this.state.hasSetAttempt(ctx.account.id, ctx.token)) {
      const probe = await ctx.session.adapter.verify({ account: ctx.account, password: pending });
      if (probe.valid) {
        ctx.log.info('set: pending password already works; not changing it again');
        return 'already set';
      }
    }
    const current = await this.#value(ctx, { stage: AWSCURRENT }).catch(() => undefined);
    await this.state.markSetAttempt(ctx.account.id, ctx.token);
    const result = await ctx.session.adapter.change({ account: ctx.account, newPassword: pending, currentPassword: current });
    ctx.log.info('set: changed on the target', { method: result.method });
    return result.method;
  }

  /** 3. test: log in with the pending password on a fresh connection. */
  async test(ctx: StepContext): Promise<void> {
    const stages = await this.#versionStages(ctx.account.secretId, ctx.token);
    const pending = await this.#value(ctx, { versionId: ctx.token });
    if (stages?.includes(AWSCURRENT)) return;
    const result = await ctx.session.adapter.verify({ account: ctx.account, password: pending });
    if (!result.valid) {
      // set said it changed the password, yet it does not log in: which password works is unknown.
      throw new OutcomeUnknownError(`the new password does not log in${result.detail ? `: ${result.detail}` : ''}`);
    }
    ctx.log.info('test: the new password logs in');
  }

  /** 4. finish: move AWSCURRENT to the token; the old value becomes AWSPREVIOUS. */
  async finish(ctx: StepContext): Promise<void> {
    await this.credentials.promote(ctx.account.secretId, ctx.token);
    ctx.log.info('finish: version promoted to AWSCURRENT');
  }

  /**
   * When set's outcome is unknown: probe pending, current and previous, then finish,
   * roll back, or record which version works. Each probe is one login attempt.
   */
  async reconcile(ctx: StepContext): Promise<ReconcileResult> {
    const verify = async (password: Secret) => (await ctx.session.adapter.verify({ account: ctx.account, password })).valid;
    try {
      const pending = await this.#value(ctx, { versionId: ctx.token });
      if (await verify(pending)) {
        await this.finish(ctx);
        return { outcome: 'succeeded', workingVersion: 'pending', detail: 'the change had been applied; the new password was promoted' };
      }
      const current = await this.#value(ctx, { stage: AWSCURRENT }).catch(() => undefined);
      if (current && (await verify(current))) {
        await this.credentials.discardPending(ctx.account.secretId, ctx.token);
        return { outcome: 'rolled-back', workingVersion: 'current', detail: 'the change had not been applied; the current password still works and the pending version was discarded' };
      }
      const previous = await this.#value(ctx, { stage: AWSPREVIOUS }).catch(() => undefined);
      if (previous && (await verify(previous))) {
        return { outcome: 'out-of-sync', workingVersion: 'previous', detail: 'only the AWSPREVIOUS password works; it was not promoted automatically' };
      }
      // No stored password works: try the resource's admin login once more with the pending password.
      if (!ctx.session.loginAccountIds.has(ctx.account.id) && ctx.session.loginAccountIds.size > 0) {
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
      return { outcome: 'out-of-sync', workingVersion: 'none', detail: 'no stored password works on the target; the pending version is kept' };
    } catch (e) {
      const reason = e instanceof ResetError ? e.message : errorClassOf(e);
      return { outcome: 'out-of-sync', workingVersion: 'unknown', detail: `the target could not be probed (${ctx.redactor.redact(reason)}); the pending version is kept` };
    }
  }
}
