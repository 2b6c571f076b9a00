import { AccountBusyError, errorClassOf, NotFoundError, OutcomeUnknownError, ResetError, TargetUnchangedError } from '../engine/errors.js';
import type { Log } from '../engine/log.js';
import { ResetProtocol, type StepContext } from '../engine/protocol.js';
import { openResourceSession, type AdapterRegistry, type ResourceSession } from '../engine/session.js';
import type { Account, TypeRegistry } from '../engine/types.js';
import { AWSCURRENT, AWSPENDING, type AccountOutcome, type AccountResult, type CredentialStore, type Lease } from '../engine/stores/types.js';
import type { WorkflowStores } from './environment.js';
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
}

/**
 * Secrets Manager rotation: each call runs one step of the reset protocol on its own (no
 * `known`, so set marks its attempt first and a retried set probes the pending password).
 *
 * The account's lease, owned by `rotation:<token>`, is held from createSecret until finishSecret
 * (renewed by each step), so a workflow reset cannot slip in between two steps and have its
 * version overwritten by this rotation's finish. A step that fails releases it; a held lease
 * makes the step fail with AccountBusyError, and Secrets Manager tries the rotation again later.
 */
export class RotationRunner {
  readonly #d: RotationDeps;
  /** Secret ARN or name → account id, for secrets found by scanning (no `rpr:account` tag). */
  readonly #accountBySecret = new Map<string, string>();

  constructor(deps: RotationDeps) {
    this.#d = deps;
  }

  async run(req: RotationRequest): Promise<void> {
    const { state } = this.#d.stores;
    const account = await this.#findAccount(req.secretId);
    const owner = `rotation:${req.token}`;
    const log = this.#d.log.child({ runId: owner, accountId: account.id, resourceId: account.resourceId, versionId: req.token, step: req.step });
    const startedAt = this.#d.now().toISOString();
    const lease = await this.#holdLease(account.id, owner);
    let session: ResourceSession | undefined;
    let redactor = log.redactor;
    let keepLease = false;
    try {
      session = await openResourceSession({ ...this.#d.stores, registry: this.#d.registry, ...(this.#d.adapters ? { adapters: this.#d.adapters } : {}), log, timeoutMs: this.#d.timeoutMs }, account.resourceId);
      redactor = session.redactor.with();
      const ctx: StepContext = { session, account, token: req.token, log: log.child({}, redactor), redactor };
      const record = (outcome: AccountOutcome, extra: Partial<AccountResult> = {}) =>
        this.#record({ runId: owner, accountId: account.id, resourceId: account.resourceId, outcome, versionId: req.token, step: req.step, startedAt, endedAt: this.#d.now().toISOString(), ...extra });

      switch (req.step) {
        case 'create':
          // The credentials seen by create hide the valueless version Secrets Manager's RotateSecret
          // labels AWSPENDING before calling createSecret, so create stores the password under it.
          await new ResetProtocol(state, withoutValuelessVersion(this.#d.stores.credentials, account.secretId, req.token)).create(ctx);
          break;
        case 'set':
          await this.#set(ctx, record);
          break;
        case 'test':
          await this.#assertStillOurs(account, req.token);
          await this.#protocol().test(ctx);
          break;
        case 'finish':
          await this.#assertStillOurs(account, req.token);
          await this.#protocol().finish(ctx);
          await record('succeeded', { method: 'rotation' });
          log.info('rotation finished: the new password is AWSCURRENT');
          return;
      }
      keepLease = true;
    } catch (e) {
      const err = redactor.redactError(e);
      if (!(err instanceof RecordedError)) {
        await this.#record({
          runId: owner,
          accountId: account.id,
          resourceId: account.resourceId,
          outcome: 'failed',
          versionId: req.token,
          step: req.step,
          errorClass: errorClassOf(err),
          message: err instanceof Error ? err.message : String(err),
          startedAt,
          endedAt: this.#d.now().toISOString(),
        }).catch((re: unknown) => log.warn('recording the failed rotation step failed', { errorClass: errorClassOf(re) }));
      }
      log.warn('rotation step failed', { errorClass: errorClassOf(err), error: err instanceof Error ? err.message : String(err) });
      throw err instanceof RecordedError ? redactor.redactError(err.error) : err;
    } finally {
      await session?.close();
      if (!keepLease) await state.release(lease).catch((e: unknown) => log.warn('releasing the lease failed', { errorClass: errorClassOf(e) }));
    }
  }

  #protocol(): ResetProtocol {
    return new ResetProtocol(this.#d.stores.state, this.#d.stores.credentials);
  }

  /** set; when its outcome is unknown, reconcile, and fail the rotation unless the new password works and was promoted. */
  async #set(ctx: StepContext, record: (outcome: AccountOutcome, extra?: Partial<AccountResult>) => Promise<void>): Promise<void> {
    try {
      await this.#protocol().set(ctx);
    } catch (e) {
      if (!(e instanceof ResetError) || !e.targetMayHaveChanged) throw e;
      const message = ctx.redactor.redact(e.message);
      ctx.log.warn('set: outcome unknown; reconciling', { errorClass: errorClassOf(e), error: message });
      const r = await this.#protocol().reconcile(ctx);
      ctx.log.info('set: reconciled', { outcome: r.outcome, workingVersion: r.workingVersion });
      // The pending password works and is AWSCURRENT now: test and finish find it so and pass.
      if (r.outcome === 'succeeded') return;
      const detail = `${message}; reconciled: ${r.detail}`;
      await record(r.outcome, { step: 'reconcile', workingVersion: r.workingVersion, errorClass: errorClassOf(e), message: detail });
      throw new RecordedError(
        r.outcome === 'rolled-back'
          ? new TargetUnchangedError(`set was not applied and the pending version was discarded: ${r.detail}`, { cause: e })
          : new OutcomeUnknownError(`the account is out of sync: ${detail}`, { cause: e }),
      );
    }
  }

  /**
   * test and finish act only on a version still pending (or already promoted by this rotation).
   * A version another reset settled must never be promoted over that reset's own.
   */
  async #assertStillOurs(account: Account, token: string): Promise<void> {
    const stages = (await this.#d.stores.credentials.listVersions(account.secretId)).find((v) => v.versionId === token)?.stages ?? [];
    if (!stages.includes(AWSPENDING) && !stages.includes(AWSCURRENT)) {
      throw new TargetUnchangedError(`version ${token} is neither pending nor current: another reset settled it; start a new rotation`);
    }
  }

  /** Takes the lease, or renews it when this rotation already holds it from an earlier step. */
  async #holdLease(accountId: string, owner: string): Promise<Lease> {
    const { state } = this.#d.stores;
    try {
      return await state.renew({ accountId, owner, expiresAt: 0 }, this.#d.leaseTtlMs);
    } catch (e) {
      if (!(e instanceof AccountBusyError)) throw e;
    }
    return state.acquire(accountId, owner, this.#d.leaseTtlMs);
  }

  /**
   * The account whose secret this is. The event names the secret by ARN, the account may name
   * it by name (or the other way round): DescribeSecret gives both, and the `rpr:account` tag
   * the Configurator sets gives the account in one read. Untagged secrets are found by a scan
   * of the accounts, remembered for the container's life.
   */
  async #findAccount(secretId: string): Promise<Account> {
    const { state, describeSecret } = this.#d.stores;
    const identity = await describeSecret(secretId);
    const names = new Set([secretId, identity.arn, identity.name]);
    const matches = (a: Account | undefined): a is Account => a !== undefined && names.has(a.secretId);
    for (const id of [identity.taggedAccountId, this.#accountBySecret.get(identity.arn)]) {
      if (id === undefined) continue;
      const account = await state.getAccount(id);
      if (matches(account)) return account;
    }
    this.#d.log.warn('rotation: the secret has no rpr:account tag naming its account; scanning the accounts', { secretArn: identity.arn });
    for (const account of await state.listAccounts()) {
      if (matches(account)) {
        this.#accountBySecret.set(identity.arn, account.id);
        return account;
      }
    }
    throw new NotFoundError('SecretId', `no account uses secret ${identity.arn}`);
  }

  async #record(result: AccountResult): Promise<void> {
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
  }
}

/** An error whose result was recorded already; thrown on as `error`. */
class RecordedError extends Error {
  constructor(readonly error: Error) {
    super(error.message);
  }
}

/**
 * The credential store as create should see it: without the version `token` of `secretId`
 * when that version carries a label but holds no value yet (Secrets Manager's RotateSecret
 * creates it so before it calls createSecret).
 */
function withoutValuelessVersion(store: CredentialStore, secretId: string, token: string): CredentialStore {
  return {
    createSecret: (...a) => store.createSecret(...a),
    getValue: (...a) => store.getValue(...a),
    putPending: (...a) => store.putPending(...a),
    promote: (...a) => store.promote(...a),
    discardPending: (...a) => store.discardPending(...a),
    deleteSecret: (...a) => store.deleteSecret(...a),
    async listVersions(id) {
      const versions = await store.listVersions(id);
      const mine = versions.find((v) => v.versionId === token);
      if (id !== secretId || !mine || mine.stages.includes(AWSCURRENT)) return versions;
      try {
        await store.getValue(id, { versionId: token });
        return versions;
      } catch (e) {
        if (e instanceof NotFoundError) return versions.filter((v) => v !== mine);
        throw e;
      }
    },
  };
}
