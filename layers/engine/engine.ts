import { randomUUID } from 'node:crypto';
import type { Account } from '../resources/common.js';
import { errorClassOf, InvalidConfigurationError, ResetError } from './errors.js';
import { Log } from './log.js';
import { ResetProtocol, type StepContext } from './protocol.js';
import { openResourceSession, orderForReset, type AdapterRegistry, type ResourceSession } from './session.js';
import type { AccountOutcome, AccountResult, CredentialStore, Lease, RunRecord, StateStore, StoredResource } from './stores/types.js';

/** Which accounts a run resets. Fields combine with AND; values within a field with OR. */
export interface Selector {
  readonly accountIds?: readonly string[];
  readonly resourceIds?: readonly string[];
  readonly types?: readonly string[];
  /** Matches a tag of the account or of its resource. */
  readonly tags?: readonly string[];
  readonly sites?: readonly string[];
}

export interface EngineOptions {
  readonly state: StateStore;
  readonly credentials: CredentialStore;
  readonly adapters: AdapterRegistry;
  readonly log?: Log;
  /** Resources worked on at once (each with one connection). Default 8. */
  readonly concurrency?: number;
  /** Caps per resource type (domain controllers, devices, SaaS APIs). */
  readonly typeConcurrency?: Readonly<Record<string, number>>;
  /** Lease lifetime; a crashed run's lease expires after it. Default 15 minutes. */
  readonly leaseTtlMs?: number;
  /** Deadline for one network operation. Default 30 s. */
  readonly timeoutMs?: number;
  /** Accounts of one resource in flight at once (their store work overlaps; the target serves one at a time). Default 16. */
  readonly accountsInFlight?: number;
  readonly now?: () => Date;
}

export interface RunOptions {
  readonly runId?: string;
  readonly onAccountDone?: (result: AccountResult, done: number, total: number) => void;
}

/** A small semaphore: at most `limit` holders at once. */
class Limiter {
  #active = 0;
  #waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((r) => this.#waiting.push(r));
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

/**
 * The engine: selects accounts, groups them by resource (one connection per group),
 * and runs the reset protocol for each account under its lease, recording results
 * and the audit trail. Every entry point (CLI, workflow, rotation, agent) uses it.
 */
export class ResetEngine {
  readonly protocol: ResetProtocol;
  readonly log: Log;
  readonly #o: Required<Omit<EngineOptions, 'log' | 'typeConcurrency'>> & Pick<EngineOptions, 'typeConcurrency'>;

  constructor(options: EngineOptions) {
    this.log = options.log ?? new Log();
    this.#o = { concurrency: 8, leaseTtlMs: 15 * 60_000, timeoutMs: 30_000, accountsInFlight: 16, now: () => new Date(), ...options };
    this.protocol = new ResetProtocol(options.state, options.credentials);
  }

  /** Expands a selector into accounts grouped by resource. Unknown ids are bad input. */
  async plan(selector: Selector): Promise<{ resource: StoredResource; accounts: Account[] }[]> {
    const { state } = this.#o;
    const resources = new Map<string, StoredResource>();
    for (const r of await state.listResources()) resources.set(r.id, r);
    for (const id of selector.resourceIds ?? []) if (!resources.has(id)) throw new InvalidConfigurationError('resourceIds', `resource "${id}" does not exist`);
    const wantedAccounts = selector.accountIds ? new Set(selector.accountIds) : undefined;
    const groups = new Map<string, Account[]>();
    for (const resource of resources.values()) {
      if (selector.resourceIds && !selector.resourceIds.includes(resource.id)) continue;
      if (selector.types && !selector.types.includes(resource.type)) continue;
      if (selector.sites && !selector.sites.includes(resource.site)) continue;
      for (const account of await state.listAccounts({ resourceId: resource.id })) {
        if (wantedAccounts && !wantedAccounts.has(account.id)) continue;
        if (selector.tags && !selector.tags.some((t) => account.tags.includes(t) || resource.tags.includes(t))) continue;
        const group = groups.get(resource.id) ?? [];
        group.push(account);
        groups.set(resource.id, group);
      }
    }
    if (wantedAccounts) {
      const found = new Set([...groups.values()].flat().map((a) => a.id));
      for (const id of wantedAccounts) if (!found.has(id)) throw new InvalidConfigurationError('accountIds', `account "${id}" does not exist or is excluded by the other filters`);
    }
    return [...groups].map(([id, accounts]) => ({ resource: resources.get(id)!, accounts }));
  }

  /** Resets every selected account; returns the run's record. Failures of one resource never stop another. */
  async run(selector: Selector, options: RunOptions = {}): Promise<RunRecord> {
    const runId = options.runId ?? `run-${this.#o.now().toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
    const groups = await this.plan(selector);
    const total = groups.reduce((n, g) => n + g.accounts.length, 0);
    const counts: RunRecord['counts'] & Record<string, number> = { total };
    let run: RunRecord = { runId, status: 'running', selector: { ...selector }, startedAt: this.#o.now().toISOString(), counts };
    await this.#o.state.createRun(run);
    const log = this.log.child({ runId });
    log.info('run started', { accounts: total, resources: groups.length });

    const global = new Limiter(this.#o.concurrency);
    const perType = new Map<string, Limiter>();
    const limiterFor = (type: string) => {
      const cap = this.#o.typeConcurrency?.[type];
      if (!cap) return undefined;
      if (!perType.has(type)) perType.set(type, new Limiter(cap));
      return perType.get(type);
    };
    let done = 0;
    const record = (result: AccountResult) => {
      counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
      options.onAccountDone?.(result, ++done, total);
    };

    await Promise.all(
      groups.map((g) => {
        const work = () => this.resetGroup(g.resource, g.accounts, runId, log).then((results) => results.forEach(record));
        const typeLimiter = limiterFor(g.resource.type);
        return global.run(() => (typeLimiter ? typeLimiter.run(work) : work()));
      }),
    );

    const ok = counts.succeeded ?? 0;
    run = { ...run, status: ok === total ? 'succeeded' : ok === 0 ? 'failed' : 'partial', endedAt: this.#o.now().toISOString(), counts };
    await this.#o.state.updateRun(run);
    log.info('run ended', { status: run.status, counts });
    return run;
  }

  /** One resource's accounts on one connection; the adapter's own logins are changed last. */
  async resetGroup(resource: StoredResource, accounts: Account[], runId: string, log = this.log): Promise<AccountResult[]> {
    // A group run again for the same run (a retried task, a repeated execution) resets no account
    // twice: an account with a recorded result in this run keeps it.
    const recorded = new Map((await this.#o.state.getAccountResults(runId, accounts.map((a) => a.id))).map((r) => [r.accountId, r]));
    const done = accounts.flatMap((a) => recorded.get(a.id) ?? []);
    accounts = accounts.filter((a) => !recorded.has(a.id));
    if (done.length) log.info('accounts already reset in this run are left as recorded', { resourceId: resource.id, accounts: done.length });
    if (accounts.length === 0) return done;
    let session: ResourceSession;
    try {
      session = await openResourceSession({ ...this.#o, log }, resource.id);
    } catch (e) {
      // The whole group fails the same way, before anything was touched.
      const results: AccountResult[] = [...done];
      for (const account of accounts) results.push(await this.#fail(runId, account, 'plan', e, log));
      return results;
    }
    // Several accounts in flight: their store work overlaps while the adapter serves one at a time.
    // The adapter's own logins go last, one by one, once every other account is done.
    const ordered = orderForReset(session, accounts);
    const others = ordered.filter((a) => !session.loginAccountIds.has(a.id));
    const logins = ordered.filter((a) => session.loginAccountIds.has(a.id));
    const results: AccountResult[] = [...done];
    try {
      let next = 0;
      const worker = async () => {
        while (next < others.length) results.push(await this.resetAccount(session, others[next++]!, { runId }));
      };
      await Promise.all(Array.from({ length: Math.min(this.#o.accountsInFlight, others.length) }, worker));
      for (const account of logins) results.push(await this.resetAccount(session, account, { runId }));
    } finally {
      await session.close();
    }
    return results;
  }

  async #fail(runId: string, account: Account, step: string, e: unknown, log: Log): Promise<AccountResult> {
    const now = this.#o.now().toISOString();
    const result: AccountResult = {
      runId,
      accountId: account.id,
      resourceId: account.resourceId,
      outcome: 'failed',
      step,
      errorClass: errorClassOf(e),
      message: log.redactor.redact(e instanceof Error ? e.message : String(e)),
      startedAt: now,
      endedAt: now,
    };
    await this.#record(result, log);
    return result;
  }

  /** Writes the result with its audit record, and releases the lease, at once: neither depends on the other. */
  async #record(result: AccountResult, log: Log, lease?: Lease): Promise<void> {
    const audit = {
      at: result.endedAt,
      accountId: result.accountId,
      resourceId: result.resourceId,
      runId: result.runId,
      event: 'password-reset',
      outcome: result.outcome,
      ...(result.versionId ? { versionId: result.versionId } : {}),
      detail: [result.method, result.workingVersion ? `working version: ${result.workingVersion}` : undefined, result.errorClass, result.message].filter(Boolean).join('; '),
    };
    await Promise.all([this.#o.state.recordAccountResult(result, audit), lease ? this.#release(lease, log) : undefined]);
    const level = result.outcome === 'succeeded' ? 'info' : 'warn';
    log[level]('account reset ended', { accountId: result.accountId, outcome: result.outcome, step: result.step, errorClass: result.errorClass });
  }

  /**
   * The whole protocol for one account under its lease: create, set, test, finish,
   * reconciling when set's outcome is unknown. Records the result and the audit trail.
   */
  async resetAccount(session: ResourceSession, account: Account, options: { runId: string; token?: string }): Promise<AccountResult> {
    const token = options.token ?? randomUUID();
    const redactor = session.redactor.with();
    const log = this.log.child({ runId: options.runId, accountId: account.id, resourceId: account.resourceId, versionId: token }, redactor);
    const ctx: StepContext = { session, account, token, log, redactor, known: { fresh: options.token === undefined } };
    const startedAt = this.#o.now().toISOString();
    let step = 'lease';
    let method: string | undefined;
    const finish = async (outcome: AccountOutcome, extra: Partial<AccountResult> = {}) => {
      const result: AccountResult = { runId: options.runId, accountId: account.id, resourceId: account.resourceId, outcome, versionId: token, step, startedAt, endedAt: this.#o.now().toISOString(), ...(method ? { method } : {}), ...extra };
      await this.#record(result, log, lease);
      lease = undefined;
      return result;
    };

    let lease: Lease | undefined;
    try {
      lease = await this.#o.state.acquire(account.id, options.runId, this.#o.leaseTtlMs);
    } catch (e) {
      return this.#fail(options.runId, account, 'lease', e, log);
    }
    try {
      step = 'create';
      await this.protocol.create(ctx);
      step = 'set';
      try {
        method = await this.protocol.set(ctx);
        step = 'test';
        await this.protocol.test(ctx);
      } catch (e) {
        if (step === 'set' && e instanceof ResetError && !e.targetMayHaveChanged) {
          // Nothing changed on the target: drop the pending version so AWSCURRENT stays the truth.
          await this.#o.credentials.discardPending(account.secretId, token).catch(() => undefined);
          throw e;
        }
        // The change may have been applied (or test could not tell): find out which password works.
        const message = redactor.redact(e instanceof Error ? e.message : String(e));
        log.warn('outcome unknown; reconciling', { step, errorClass: errorClassOf(e), error: message });
        step = 'reconcile';
        const r = await this.protocol.reconcile(ctx);
        return await finish(r.outcome, { workingVersion: r.workingVersion, errorClass: errorClassOf(e), message: `${message}; reconciled: ${r.detail}` });
      }
      step = 'finish';
      await this.protocol.finish(ctx);
      return await finish('succeeded');
    } catch (e) {
      const message = redactor.redact(e instanceof Error ? e.message : String(e));
      // The new password works on the target but could not be promoted: say so exactly.
      if (step === 'finish') return finish('out-of-sync', { workingVersion: 'pending', errorClass: errorClassOf(e), message: `${message}; the pending version works but is not AWSCURRENT` });
      return finish('failed', { errorClass: errorClassOf(e), message });
    } finally {
      if (lease) await this.#release(lease, log);
    }
  }

  async #release(lease: Lease, log: Log): Promise<void> {
    await this.#o.state.release(lease).catch((e: unknown) => log.warn('releasing the lease failed', { errorClass: errorClassOf(e) }));
  }
}
