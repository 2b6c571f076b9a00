import { createHash, randomUUID } from 'node:crypto';
import { errorClassOf, InvalidConfigurationError, ResetError, StoreThrottledError } from './errors.js';
import { HEARTBEAT_MS, STALE_AFTER_MS, thisProcess } from './holder.js';
import { LeaseKeeper } from './lease-keeper.js';
import { Log } from './log.js';
import { DEFAULT_PATIENCE_MS, patience, withPatience, type Patience } from './patience.js';
import { ResetProtocol, type StepContext } from './protocol.js';
import { openResourceSession, orderForReset, type AdapterRegistry, type ResourceSession } from './session.js';
import type { Account, TypeRegistry } from './types.js';
import { auditEventOf, AWSCURRENT, runStatusOf, type AccountOutcome, type AccountResult, type CredentialStore, type Holder, type Lease, type RunMode, type RunRecord, type StateStore, type StoredResource } from './stores/types.js';
import { verifyCurrent } from './verify.js';
import { dryRunResource, type DryRunReport } from './dry-run.js';

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
  /** Every resource type: how to parse it, its references, its adapter. */
  readonly registry: TypeRegistry;
  /** Only these adapters (a Lambda function's own family); default: the registry's, each loaded on first use. */
  readonly adapters?: AdapterRegistry;
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
  /** This process as its leases and runs record it. Default: this process (kind `lambda` in a Lambda function, else `process`). */
  readonly holder?: Holder;
  /** How often held leases and a running run's record are renewed. Default 20 s. */
  readonly heartbeatMs?: number;
  /** A heartbeat older than this means its holder is gone, and its leases are taken over. Default 60 s. */
  readonly staleAfterMs?: number;
}

export interface RunOptions {
  readonly runId?: string;
  /** `verify`: check each account's AWSCURRENT and change nothing (verify.ts). Default `reset`. */
  readonly mode?: RunMode;
  readonly onAccountDone?: (result: AccountResult, done: number, total: number) => void;
}

export interface GroupOptions {
  readonly runId: string;
  /** `verify`: check each account's AWSCURRENT and change nothing. Default `reset`. */
  readonly mode?: RunMode;
  readonly log?: Log;
  /**
   * Epoch ms by which the group must be left (a function's remaining time, less a reserve): no
   * account starts unless its measured cost fits before it, and no store call waits past it.
   * Default: none (each account has the lease's time).
   */
  readonly deadline?: number;
}

/**
 * An account the engine could not finish in the time it had (Secrets Manager or DynamoDB kept
 * throttling, or the deadline came first). Nothing is recorded for it, its pending version (if
 * any) is kept and its lease released: the next attempt of the run resumes it with the same
 * token, and finds out by a login whether the target already has the pending password.
 */
export interface UnfinishedAccount {
  readonly unfinished: true;
  readonly accountId: string;
  /** The step it had reached: lease, create, set, test, finish, reconcile, record, or "not started". */
  readonly step: string;
  readonly reason: string;
}

export interface GroupOutcome {
  readonly results: AccountResult[];
  /** Accounts left for the next attempt of the run, in their group's order. */
  readonly unfinished: Account[];
}

/**
 * The version token of an account's reset in a run: the same for every attempt of the run (a
 * retried or continued task, a second pass), so a later attempt finds what an earlier one stored
 * and resumes it instead of starting over; a different run gets another. Secrets Manager's
 * ClientRequestToken, shaped as a UUID.
 */
export function tokenFor(runId: string, accountId: string): string {
  const h = createHash('sha256').update(runId).update('\0').update(accountId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Passes in a row that finish no account before a run gives up on the accounts left. */
const FRUITLESS_PASSES = 2;

/** Kept between the end of an account's patience and its lease's expiry, so no store call outlives the lease. */
const LEASE_MARGIN_MS = 60_000;

/** When to start another account before a deadline: the accounts' measured cost so far, with room to spare. */
class AccountClock {
  #count = 0;
  #totalMs = 0;
  constructor(private readonly deadline: number | undefined) {}
  took(ms: number): void {
    this.#count++;
    this.#totalMs += ms;
  }
  canStart(): boolean {
    if (this.deadline === undefined) return true;
    const estimate = this.#count ? (1.5 * this.#totalMs) / this.#count : 0;
    return Date.now() + estimate < this.deadline;
  }
}

/** Whether a selector's resource fields (ids, types, sites) take this resource. */
export function selectsResource(selector: Selector, r: StoredResource): boolean {
  return (!selector.resourceIds || selector.resourceIds.includes(r.id)) && (!selector.types || selector.types.includes(r.type)) && (!selector.sites || selector.sites.includes(r.site));
}

export function isUnfinished(x: AccountResult | UnfinishedAccount): x is UnfinishedAccount {
  return 'unfinished' in x;
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
  readonly #o: Required<Omit<EngineOptions, 'log' | 'typeConcurrency' | 'adapters'>> & Pick<EngineOptions, 'typeConcurrency' | 'adapters'>;
  readonly #leases: LeaseKeeper;

  constructor(options: EngineOptions) {
    this.log = options.log ?? new Log();
    this.#o = {
      concurrency: 8,
      leaseTtlMs: 15 * 60_000,
      timeoutMs: 30_000,
      accountsInFlight: 16,
      now: () => new Date(),
      holder: thisProcess(process.env.AWS_LAMBDA_FUNCTION_NAME ? 'lambda' : 'process'),
      heartbeatMs: HEARTBEAT_MS,
      staleAfterMs: STALE_AFTER_MS,
      ...options,
    };
    this.protocol = new ResetProtocol(options.state, options.credentials);
    this.#leases = new LeaseKeeper({ state: options.state, ttlMs: this.#o.leaseTtlMs, holder: this.#o.holder, heartbeatMs: this.#o.heartbeatMs, staleAfterMs: this.#o.staleAfterMs, log: this.log });
  }

  /** Expands a selector into accounts grouped by resource. Unknown ids are bad input. */
  async plan(selector: Selector): Promise<{ resource: StoredResource; accounts: Account[] }[]> {
    const { state } = this.#o;
    const resources = new Map<string, StoredResource>();
    for (const r of await state.listResources()) resources.set(r.id, r);
    for (const id of selector.resourceIds ?? []) if (!resources.has(id)) throw new InvalidConfigurationError('resourceIds', `resource "${id}" does not exist`);
    const selected = [...resources.values()].filter((r) => selectsResource(selector, r));
    const wantedAccounts = selector.accountIds ? new Set(selector.accountIds) : undefined;
    // One query per resource, several at once: a run of thousands of resources is not planned one round trip at a time.
    const listing = new Limiter(16);
    const listed = await Promise.all(selected.map((r) => listing.run(() => this.accountsSelected(r, selector, wantedAccounts))));
    const groups = new Map<string, Account[]>();
    selected.forEach((resource, i) => {
      if (listed[i]!.length) groups.set(resource.id, listed[i]!);
    });
    if (wantedAccounts) {
      const found = new Set([...groups.values()].flat().map((a) => a.id));
      for (const id of wantedAccounts) if (!found.has(id)) throw new InvalidConfigurationError('accountIds', `account "${id}" does not exist or is excluded by the other filters`);
    }
    return [...groups].map(([id, accounts]) => ({ resource: resources.get(id)!, accounts }));
  }

  /** The accounts of one resource that a selector selects, by the rules `plan` applies (the resource's own fields aside). */
  async accountsSelected(resource: StoredResource, selector: Selector, wanted = selector.accountIds && new Set(selector.accountIds)): Promise<Account[]> {
    const accounts = await this.#o.state.listAccounts({ resourceId: resource.id });
    return accounts.filter((a) => (!wanted || wanted.has(a.id)) && (!selector.tags || selector.tags.some((t) => a.tags.includes(t) || resource.tags.includes(t))));
  }

  /**
   * Resets every selected account; returns the run's record. Failures of one resource never stop
   * another. Accounts left unfinished (the stores kept throttling past an account's time) get
   * another pass; after two passes in a row that finished none, those still left are recorded as
   * failed, with their pending versions kept for the next reset to settle.
   */
  async run(selector: Selector, options: RunOptions = {}): Promise<RunRecord> {
    const runId = options.runId ?? `run-${this.#o.now().toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
    let groups = await this.plan(selector);
    const total = groups.reduce((n, g) => n + g.accounts.length, 0);
    const counts: RunRecord['counts'] & Record<string, number> = { total };
    const throttling = { accounts: 0, retries: 0 };
    const mode = options.mode === 'verify' ? { mode: options.mode } : {};
    const startedAt = this.#o.now().toISOString();
    let run: RunRecord = { runId, status: 'running', ...mode, selector: { ...selector }, startedAt, counts, owner: this.#o.holder, heartbeatAt: startedAt };
    await this.#o.state.createRun(run);
    const log = this.log.child({ runId });
    // The run's heartbeat: its record renewed while it runs, with its counts and the accounts in flight,
    // so a run whose process died is told from one still running (`rpr runs` shows it interrupted).
    let beating: Promise<void> = Promise.resolve();
    const heartbeat = setInterval(() => {
      beating = beating
        .then(() => this.#o.state.updateRun({ ...run, counts: { ...counts }, heartbeatAt: this.#o.now().toISOString(), inFlight: this.#leases.inFlight(runId) }))
        .catch((e: unknown) => log.warn("renewing the run's heartbeat failed", { errorClass: errorClassOf(e) }));
    }, this.#o.heartbeatMs).unref();
    try {
      log.info('run started', { accounts: total, resources: groups.length, mode: options.mode ?? 'reset' });

      const global = new Limiter(this.#o.concurrency);
      const perType = new Map<string, Limiter>();
      const limiterFor = (type: string) => {
        const cap = this.#o.typeConcurrency?.[type];
        if (!cap) return undefined;
        if (!perType.has(type)) perType.set(type, new Limiter(cap));
        return perType.get(type);
      };
      // A target several resources share (a domain controller, a provider tenant): at most its
      // groupsAtOnce of them at once, as the workflow's plan chains them (layers/workflow/plan.ts).
      const perTarget = new Map<string, Limiter>();
      const limiterForTarget = (resource: StoredResource) => {
        const shared = this.#o.registry.typeOf(resource.type).sharedTarget;
        let key: string;
        try {
          if (!shared) return undefined;
          key = JSON.stringify([resource.type, resource.site, shared.key(resource as never)]);
        } catch {
          // A stored configuration without the key's fields runs alone.
          return undefined;
        }
        if (!perTarget.has(key)) perTarget.set(key, new Limiter(Math.max(1, shared.groupsAtOnce)));
        return perTarget.get(key);
      };
      let done = 0;
      const record = (result: AccountResult) => {
        counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
        if (result.throttled) {
          throttling.accounts++;
          throttling.retries += result.throttled;
        }
        options.onAccountDone?.(result, ++done, total);
      };

      for (let pass = 1, fruitless = 0; groups.length > 0; pass++) {
        const left: { resource: StoredResource; accounts: Account[] }[] = [];
        await Promise.all(
          groups.map((g) => {
            const work = () =>
              this.resetGroup(g.resource, g.accounts, { runId, log, ...mode }).then(({ results, unfinished }) => {
                results.forEach(record);
                if (unfinished.length) left.push({ resource: g.resource, accounts: unfinished });
              });
            const typeLimiter = limiterFor(g.resource.type);
            const targetLimiter = limiterForTarget(g.resource);
            const slotted = () => global.run(() => (typeLimiter ? typeLimiter.run(work) : work()));
            // A shared target's turn is waited for outside the global slots: a queue on one target holds up no other.
            return targetLimiter ? targetLimiter.run(slotted) : slotted();
          }),
        );
        const leftCount = left.reduce((n, g) => n + g.accounts.length, 0);
        fruitless = leftCount > 0 && leftCount === groups.reduce((n, g) => n + g.accounts.length, 0) ? fruitless + 1 : 0;
        if (fruitless >= FRUITLESS_PASSES) {
          // The stores have refused us for longer than an account may wait, twice over.
          log.error('accounts left unfinished after passes that finished none; recorded as failed', { pass, accounts: leftCount });
          const e = new StoreThrottledError(`not reset: Secrets Manager or DynamoDB kept throttling for ${pass} pass(es); the pending version, if one was stored, is kept and settled by the next reset`);
          for (const g of left) for (const account of g.accounts) record(await this.#fail(runId, account, 'unfinished', e, log, options.mode));
          break;
        }
        if (leftCount > 0) log.warn('accounts left unfinished; another pass resumes them', { pass, accounts: leftCount });
        groups = left;
      }
    } finally {
      clearInterval(heartbeat);
      await beating;
    }

    run = {
      ...run,
      status: runStatusOf(counts),
      endedAt: this.#o.now().toISOString(),
      counts,
      ...(throttling.accounts ? { throttling } : {}),
      heartbeatAt: this.#o.now().toISOString(),
    };
    await this.#o.state.updateRun(run);
    log.info('run ended', { status: run.status, counts, throttling });
    return run;
  }

  /**
   * A dry run of a reset of the selected accounts (dry-run.ts): per resource, its session opened,
   * its logins authenticated and what the change needs checked; nothing changed or recorded.
   */
  async dryRun(selector: Selector): Promise<DryRunReport> {
    const groups = await this.plan(selector);
    const limiter = new Limiter(this.#o.concurrency);
    const resources = await Promise.all(groups.map((g) => limiter.run(() => dryRunResource({ ...this.#o, log: this.log }, g.resource, g.accounts))));
    return { ok: resources.every((r) => r.ok), resources };
  }

  /**
   * One resource's accounts on one connection; the adapter's own logins are changed last. With a
   * deadline, accounts that would not fit before it are left unfinished, as are those the stores
   * held up past it; the logins then wait for the next attempt too, so they still go last.
   */
  async resetGroup(resource: StoredResource, accounts: Account[], options: GroupOptions): Promise<GroupOutcome> {
    const { runId, deadline, mode } = options;
    const log = options.log ?? this.log;
    // The group's own store calls (its recorded results, the logins' secrets) wait no longer than its accounts may.
    const groupPatience = patience(deadline ?? Date.now() + DEFAULT_PATIENCE_MS);
    // A group run again for the same run (a retried task, a repeated execution) resets no account
    // twice: an account with a recorded result in this run keeps it.
    let recorded: Map<string, AccountResult>;
    try {
      recorded = new Map((await withPatience(groupPatience, () => this.#o.state.getAccountResults(runId, accounts.map((a) => a.id)))).map((r) => [r.accountId, r]));
    } catch (e) {
      if (e instanceof StoreThrottledError) return { results: [], unfinished: accounts };
      throw e;
    }
    const results: AccountResult[] = accounts.flatMap((a) => recorded.get(a.id) ?? []);
    accounts = accounts.filter((a) => !recorded.has(a.id));
    if (results.length) log.info('accounts already reset in this run are left as recorded', { resourceId: resource.id, accounts: results.length });
    if (accounts.length === 0) return { results, unfinished: [] };
    let session: ResourceSession;
    try {
      session = await withPatience(groupPatience, () => openResourceSession({ ...this.#o, log }, resource.id));
    } catch (e) {
      if (e instanceof StoreThrottledError) return { results, unfinished: accounts };
      // The whole group fails the same way, before anything was touched.
      for (const account of accounts) results.push(await this.#fail(runId, account, 'plan', e, log, mode));
      return { results, unfinished: [] };
    }
    // Several accounts in flight: their store work overlaps while the adapter serves one at a time.
    // The adapter's own logins go last, one by one, once every other account is done.
    const ordered = orderForReset(session, accounts);
    const others = ordered.filter((a) => !session.loginAccountIds.has(a.id));
    const logins = ordered.filter((a) => session.loginAccountIds.has(a.id));
    const unfinished = new Set<string>();
    const clock = new AccountClock(deadline);
    const reset = async (account: Account) => {
      if (!clock.canStart()) return void unfinished.add(account.id);
      const t0 = Date.now();
      const o = { runId, ...(deadline !== undefined ? { deadline } : {}) };
      const r = await (mode === 'verify' ? this.verifyAccount(session, account, o) : this.resetAccount(session, account, o));
      clock.took(Date.now() - t0);
      if (isUnfinished(r)) unfinished.add(account.id);
      else results.push(r);
    };
    try {
      let next = 0;
      const worker = async () => {
        while (next < others.length) await reset(others[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(this.#o.accountsInFlight, others.length) }, worker));
      for (const account of logins) {
        if (unfinished.size > 0) unfinished.add(account.id);
        else await reset(account);
      }
    } finally {
      await session.close();
    }
    if (unfinished.size) log.warn('accounts left unfinished for the next attempt', { resourceId: resource.id, accounts: unfinished.size });
    return { results, unfinished: ordered.filter((a) => unfinished.has(a.id)) };
  }

  async #fail(runId: string, account: Account, step: string, e: unknown, log: Log, mode?: RunMode): Promise<AccountResult> {
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
    await this.#record(result, log, undefined, mode);
    return result;
  }

  /** Writes the result with its audit record, and releases the lease, at once: neither depends on the other. */
  async #record(result: AccountResult, log: Log, lease?: Lease, mode?: RunMode): Promise<void> {
    const audit = {
      at: result.endedAt,
      accountId: result.accountId,
      resourceId: result.resourceId,
      runId: result.runId,
      event: auditEventOf(mode),
      outcome: result.outcome,
      ...(result.versionId ? { versionId: result.versionId } : {}),
      detail: [result.method, result.proof ? `proven: ${result.proof}` : undefined, result.workingVersion ? `working version: ${result.workingVersion}` : undefined, result.errorClass, result.message].filter(Boolean).join('; '),
    };
    await Promise.all([this.#o.state.recordAccountResult(result, audit), lease ? this.#release(lease, log) : undefined]);
    const level = result.outcome === 'succeeded' || result.outcome === 'in-sync' ? 'info' : 'warn';
    log[level](mode === 'verify' ? 'account verified' : 'account reset ended', { accountId: result.accountId, outcome: result.outcome, step: result.step, errorClass: result.errorClass, throttled: result.throttled });
  }

  /**
   * Verifies one account under its lease (a reset of it cannot run meanwhile, so a half-done
   * reset is never read as drift): its AWSCURRENT is proven or classified (verify.ts), and the
   * result and audit recorded. Nothing is changed on the target or in the credential store.
   */
  async verifyAccount(session: ResourceSession, account: Account, options: { runId: string; deadline?: number }): Promise<AccountResult | UnfinishedAccount> {
    const p = patience(Math.min(options.deadline ?? Infinity, Date.now() + this.#o.leaseTtlMs - LEASE_MARGIN_MS));
    return withPatience(p, () => this.#verifyAccount(session, account, options.runId, p));
  }

  async #verifyAccount(session: ResourceSession, account: Account, runId: string, p: Patience): Promise<AccountResult | UnfinishedAccount> {
    const redactor = session.redactor.with();
    const log = this.log.child({ runId, accountId: account.id, resourceId: account.resourceId }, redactor);
    const startedAt = this.#o.now().toISOString();
    let step = 'lease';
    let lease: Lease | undefined;
    try {
      lease = await this.#leases.take(account.id, runId, () => step, log);
      step = 'verify';
      let found;
      try {
        found = await verifyCurrent(this.#o, session, account, redactor);
      } catch (e) {
        if (e instanceof StoreThrottledError) throw e;
        found = { outcome: 'failed' as const, errorClass: errorClassOf(e), message: redactor.redact(e instanceof Error ? e.message : String(e)) };
      }
      const result: AccountResult = { runId, accountId: account.id, resourceId: account.resourceId, step, startedAt, endedAt: this.#o.now().toISOString(), ...found, ...(p.throttled ? { throttled: p.throttled } : {}) };
      step = 'record';
      await this.#record(result, log, lease, 'verify');
      lease = undefined;
      return result;
    } catch (e) {
      if (e instanceof StoreThrottledError) return this.#unfinished(account, step, e, log, p);
      return this.#fail(runId, account, step, e, log, 'verify');
    } finally {
      if (lease) await this.#release(lease, log);
    }
  }

  #unfinished(account: Account, step: string, e: StoreThrottledError, log: Log, p: Patience): UnfinishedAccount {
    log.warn('account left unfinished: the stores held it up past its time; the next attempt of the run resumes it', { step, throttled: p.throttled });
    return { unfinished: true, accountId: account.id, step, reason: e.message };
  }

  /**
   * The whole protocol for one account under its lease: create, set, test, finish,
   * reconciling when set's outcome is unknown. Records the result and the audit trail, or,
   * when the stores held it up past its time, records nothing and returns it as unfinished.
   */
  async resetAccount(session: ResourceSession, account: Account, options: { runId: string; token?: string; deadline?: number }): Promise<AccountResult | UnfinishedAccount> {
    // The patience of every store call for this account ends before its lease does.
    const p = patience(Math.min(options.deadline ?? Infinity, Date.now() + this.#o.leaseTtlMs - LEASE_MARGIN_MS));
    return withPatience(p, () => this.#resetAccount(session, account, options.runId, options.token ?? tokenFor(options.runId, account.id), p));
  }

  async #resetAccount(session: ResourceSession, account: Account, runId: string, token: string, p: Patience): Promise<AccountResult | UnfinishedAccount> {
    const redactor = session.redactor.with();
    const log = this.log.child({ runId, accountId: account.id, resourceId: account.resourceId, versionId: token }, redactor);
    const ctx: StepContext = { session, account, token, log, redactor, known: {} };
    const startedAt = this.#o.now().toISOString();
    let step = 'lease';
    let method: string | undefined;
    let proof: string | undefined;
    let lease: Lease | undefined;
    const finish = async (outcome: AccountOutcome, extra: Partial<AccountResult> = {}) => {
      const result: AccountResult = {
        runId,
        accountId: account.id,
        resourceId: account.resourceId,
        outcome,
        versionId: token,
        step,
        startedAt,
        endedAt: this.#o.now().toISOString(),
        ...(method ? { method } : {}),
        ...(proof ? { proof } : {}),
        ...(p.throttled ? { throttled: p.throttled } : {}),
        ...extra,
      };
      step = 'record';
      await this.#record(result, log, lease);
      lease = undefined;
      return result;
    };
    const unfinished = (e: StoreThrottledError): UnfinishedAccount => this.#unfinished(account, step, e, log, p);

    try {
      lease = await this.#leases.take(account.id, runId, () => step, log);
    } catch (e) {
      if (e instanceof StoreThrottledError) return unfinished(e);
      return this.#fail(runId, account, 'lease', e, log);
    }
    try {
      step = 'create';
      await this.protocol.create(ctx);
      step = 'set';
      // A heartbeat that found the lease taken by another run stops the account here, before any change.
      this.#leases.check(account.id);
      try {
        method = await this.protocol.set(ctx);
        step = 'test';
        proof = await this.protocol.test(ctx);
      } catch (e) {
        if (e instanceof StoreThrottledError) throw e;
        // Nothing changed on the target by this attempt: drop the pending version so AWSCURRENT stays
        // the truth (if that is refused too, the next reset's create settles it). Not for a version
        // an earlier attempt of the run stored: that one may have reached the target, so reconcile
        // finds out (its retry probe may have been what failed).
        if (step === 'set' && e instanceof ResetError && !e.targetMayHaveChanged && !ctx.known?.resumed) {
          await this.protocol.discard(ctx).catch(() => undefined);
          throw e;
        }
        // The change may have been applied (or test could not tell): find out which password works.
        const message = redactor.redact(e instanceof Error ? e.message : String(e));
        log.warn('outcome unknown; reconciling', { step, errorClass: errorClassOf(e), error: message });
        step = 'reconcile';
        const r = await this.protocol.reconcile(ctx);
        return await finish(r.outcome, { workingVersion: r.workingVersion, ...(r.kept ? { keptVersion: r.kept } : {}), errorClass: errorClassOf(e), message: `${message}; reconciled: ${r.detail}` });
      }
      step = 'finish';
      const retired = await this.protocol.finish(ctx);
      return await finish('succeeded', retired ? { message: retired } : {});
    } catch (e) {
      if (e instanceof StoreThrottledError) return unfinished(e);
      const message = redactor.redact(e instanceof Error ? e.message : String(e));
      if (step === 'finish') {
        // The new password works on the target. Promoted after all (the answer was lost)? Else say so exactly.
        if (await this.#isCurrent(account, token)) return finish('succeeded');
        return finish('out-of-sync', { workingVersion: 'pending', errorClass: errorClassOf(e), message: `${message}; the pending version works but is not AWSCURRENT` });
      }
      return finish('failed', { errorClass: errorClassOf(e), message });
    } finally {
      if (lease) await this.#release(lease, log);
    }
  }

  /** Whether the token's version holds AWSCURRENT (false when that cannot be read either). */
  async #isCurrent(account: Account, token: string): Promise<boolean> {
    try {
      return (await this.#o.credentials.listVersions(account.secretId)).some((v) => v.versionId === token && v.stages.includes(AWSCURRENT));
    } catch {
      return false;
    }
  }

  async #release(lease: Lease, log: Log): Promise<void> {
    this.#leases.drop(lease.accountId);
    await this.#o.state.release(lease).catch((e: unknown) => log.warn('releasing the lease failed', { errorClass: errorClassOf(e) }));
  }
}
