import { NotFoundError } from '../errors.js';
import type { Account } from '../account.js';
import { Journal, STATE_JOURNAL } from './local-journal.js';
import {
  auditOrder,
  busy,
  checkAccountId,
  DAY_MS,
  differentRun,
  hostKeyRecord,
  leaseLost,
  MARK_RETENTION_DAYS,
  noHostKeyToReplace,
  plainRecord,
  RUN_RETENTION_DAYS,
  sameRun,
} from './state-rules.js';
import type { AccountResult, AuditRecord, Holder, HostKeyRecord, Lease, RunRecord, StateStore, StoredResource } from './types.js';

export interface LocalStateStoreOptions {
  /** Milliseconds since the epoch; leases and retention expire by it. Default `Date.now`. */
  readonly clock?: () => number;
  /** How long run records and their account results are kept. Default 400 days. */
  readonly runRetentionDays?: number;
  /** How long set-attempt marks are kept. Default 90 days, longer than any reset can be retried. */
  readonly markRetentionDays?: number;
}

/** A set-attempt mark: that `set` was about to run for this version, and that reconcile set it again with its admin login. */
export interface Mark {
  readonly accountId: string;
  readonly versionId: string;
  readonly markedAt?: string;
  readonly reconcileSetAt?: string;
  readonly expiresAt: number;
}

/** Something kept until `x` (epoch ms): runs and results, like DynamoDB items with a TTL. */
interface Expiring<T> {
  readonly v: T;
  readonly x: number;
}

/** One change, as the journal holds it: a record put, or (with `id` and no `v`) one removed. */
export type StateJournalEntry =
  | { t: 'resource'; v: StoredResource }
  | { t: 'resource'; id: string; v?: undefined }
  | { t: 'account'; v: Account }
  | { t: 'account'; id: string; v?: undefined }
  | { t: 'lease'; v: Lease }
  | { t: 'lease'; id: string; v?: undefined }
  | { t: 'mark'; v: Mark }
  | { t: 'host-key'; v: HostKeyRecord }
  | ({ t: 'run' } & Expiring<RunRecord>)
  | ({ t: 'result' } & Expiring<AccountResult>)
  | { t: 'audit'; o: string; v: AuditRecord };

/**
 * The embedded default's state: the StateStore with DynamoStateStore's semantics (its conditions,
 * errors, orderings and retention; see dynamo-*.ts), kept in memory, every change appended to a
 * journal (local-journal.ts) when the store has a file, and replayed when it is opened. Each method
 * decides and changes in one synchronous step, so its conditions hold against every other call in
 * the process, as DynamoDB's conditional writes do; and each answers only once every change before
 * it has been written, so no caller acts on a change the file does not hold.
 *
 * Records go in and come out as copies: a caller changing one changes nothing here. Runs and
 * results expire after `runRetentionDays`, marks after `markRetentionDays`, as DynamoDB's TTL would
 * remove them: never returned once expired, dropped when the journal is loaded.
 */
export class LocalStateStore implements StateStore {
  readonly #clock: () => number;
  readonly #runRetentionMs: number;
  readonly #markRetentionMs: number;
  #journal: Journal | undefined;
  readonly #resources = new Map<string, StoredResource>();
  readonly #accounts = new Map<string, Account>();
  readonly #leases = new Map<string, Lease>();
  /** By `markKey(account, version)`. */
  readonly #marks = new Map<string, Mark>();
  readonly #hostKeys = new Map<string, HostKeyRecord>();
  readonly #runs = new Map<string, Expiring<RunRecord>>();
  /** Run id → account id → result. */
  readonly #results = new Map<string, Map<string, Expiring<AccountResult>>>();
  /** By place in the trail (`auditOrder`), which the record determines, so the same record is kept once. */
  readonly #audit = new Map<string, AuditRecord>();

  /** A store in memory only (tests, short benchmarks). */
  constructor(options: LocalStateStoreOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#runRetentionMs = (options.runRetentionDays ?? RUN_RETENTION_DAYS) * DAY_MS;
    this.#markRetentionMs = (options.markRetentionDays ?? MARK_RETENTION_DAYS) * DAY_MS;
  }

  /**
   * The store kept in the journal at `path` (created, mode 0600, if missing). Expired records are
   * dropped as it is replayed; when most of its lines are superseded (records changed or removed
   * since), the journal is rewritten with what holds now. The caller keeps other processes out
   * (openEmbeddedStores takes the folder's lock).
   */
  static open(path: string, options: LocalStateStoreOptions = {}): LocalStateStore {
    const store = new LocalStateStore(options);
    const entries = Journal.load(path, STATE_JOURNAL) as StateJournalEntry[];
    for (const entry of entries) store.#apply(entry);
    const live = store.#dropExpired();
    if (entries.length - live > Math.max(1_000, live)) Journal.write(path, store.entries(), STATE_JOURNAL);
    store.#journal = Journal.open(path, STATE_JOURNAL);
    return store;
  }

  /** Everything the store holds, as journal entries (a snapshot; also what a migration writes). */
  *entries(): Generator<StateJournalEntry> {
    for (const v of this.#resources.values()) yield { t: 'resource', v };
    for (const v of this.#accounts.values()) yield { t: 'account', v };
    for (const v of this.#leases.values()) yield { t: 'lease', v };
    for (const v of this.#marks.values()) yield { t: 'mark', v };
    for (const v of this.#hostKeys.values()) yield { t: 'host-key', v };
    for (const run of this.#runs.values()) yield { t: 'run', ...run };
    for (const results of this.#results.values()) for (const result of results.values()) yield { t: 'result', ...result };
    for (const [o, v] of this.#audit) yield { t: 'audit', o, v };
  }

  /** Fsyncs and closes the journal; a change after that is refused. */
  async close(): Promise<void> {
    await this.#journal?.close();
  }

  // ---- configuration

  async putResource(resource: StoredResource): Promise<void> {
    return this.#commit({ t: 'resource', v: plainRecord(resource, 'resource') });
  }
  async getResource(id: string): Promise<StoredResource | undefined> {
    return this.#answer(this.#resources.get(id));
  }
  async listResources(filter: { type?: string; tag?: string; site?: string } = {}): Promise<StoredResource[]> {
    const { type, tag, site } = filter;
    const matching = [...this.#resources.values()].filter(
      (r) => (type === undefined || r.type === type) && (site === undefined || r.site === site) && (tag === undefined || (Array.isArray(r.tags) && r.tags.includes(tag))),
    );
    return this.#answer(byId(matching, (r) => r.id));
  }
  async deleteResource(id: string): Promise<void> {
    return this.#resources.has(id) ? this.#commit({ t: 'resource', id }) : this.#answer(undefined);
  }

  /** An account's id must be `<resourceId>/<name>`, as DynamoStateStore requires. */
  async putAccount(account: Account): Promise<void> {
    checkAccountId(account);
    return this.#commit({ t: 'account', v: plainRecord(account, 'account') });
  }
  async getAccount(id: string): Promise<Account | undefined> {
    return this.#answer(this.#accounts.get(id));
  }
  async getAccountAndResource(accountId: string): Promise<{ account?: Account; resource?: StoredResource }> {
    const slash = accountId.indexOf('/');
    if (slash <= 0) return this.#answer({});
    const account = this.#accounts.get(accountId);
    const resource = this.#resources.get(accountId.slice(0, slash));
    return this.#answer({ ...(account ? { account } : {}), ...(resource ? { resource } : {}) });
  }
  async listAccounts(filter: { resourceId?: string } = {}): Promise<Account[]> {
    const all = [...this.#accounts.values()];
    const { resourceId } = filter;
    return this.#answer(byId(resourceId === undefined ? all : all.filter((a) => a.resourceId === resourceId), (a) => a.id));
  }
  async deleteAccount(id: string): Promise<void> {
    return this.#accounts.has(id) ? this.#commit({ t: 'account', id }) : this.#answer(undefined);
  }

  // ---- leases and set-attempt marks (the rules of dynamo-leases.ts)

  async acquire(accountId: string, owner: string, ttlMs: number, options: { reentrant?: boolean; holder?: Holder } = {}): Promise<Lease> {
    const held = this.#leases.get(accountId);
    if (held && held.expiresAt >= this.#clock() && !(options.reentrant && held.owner === owner)) throw busy(held);
    return this.#lease(accountId, owner, ttlMs, options.holder);
  }
  /** Takes over `held` if it is still exactly the lease held (its owner and expiry), or the lease is free. */
  async takeOver(held: Lease, owner: string, ttlMs: number, holder?: Holder): Promise<Lease> {
    const current = this.#leases.get(held.accountId);
    if (current && current.expiresAt >= this.#clock() && !(current.owner === held.owner && current.expiresAt === held.expiresAt)) throw busy(current);
    return this.#lease(held.accountId, owner, ttlMs, holder);
  }
  #lease(accountId: string, owner: string, ttlMs: number, holder: Holder | undefined): Promise<Lease> {
    const now = this.#clock();
    const lease: Lease = { accountId, owner, expiresAt: now + ttlMs, ...(holder ? { holder } : {}), heartbeatAt: now };
    return this.#commit({ t: 'lease', v: lease }, lease);
  }
  /** Extends a lease its owner still holds (expired or not, as long as no one took it over). */
  async renew(lease: Lease, ttlMs: number): Promise<Lease> {
    const held = this.#leases.get(lease.accountId);
    if (held?.owner !== lease.owner) throw leaseLost(lease, held?.owner);
    const now = this.#clock();
    const renewed: Lease = { ...held, expiresAt: now + ttlMs, heartbeatAt: now };
    return this.#commit({ t: 'lease', v: renewed }, renewed);
  }
  async release(lease: Lease): Promise<void> {
    const held = this.#leases.get(lease.accountId);
    return held?.owner === lease.owner ? this.#commit({ t: 'lease', id: lease.accountId }) : this.#answer(undefined);
  }
  async markSetAttempt(accountId: string, versionId: string): Promise<{ earlier: boolean }> {
    const now = this.#clock();
    const mark = this.#mark(accountId, versionId);
    const v: Mark = { ...mark, accountId, versionId, markedAt: mark?.markedAt ?? new Date(now).toISOString(), expiresAt: now + this.#markRetentionMs };
    return this.#commit({ t: 'mark', v }, { earlier: mark?.markedAt !== undefined });
  }
  async hasSetAttempt(accountId: string, versionId: string): Promise<boolean> {
    return this.#answer(this.#mark(accountId, versionId)?.markedAt !== undefined);
  }
  async markReconcileSet(accountId: string, versionId: string): Promise<boolean> {
    const now = this.#clock();
    const mark = this.#mark(accountId, versionId);
    if (mark?.reconcileSetAt !== undefined) return this.#answer(false);
    const v: Mark = { ...mark, accountId, versionId, reconcileSetAt: new Date(now).toISOString(), expiresAt: now + this.#markRetentionMs };
    return this.#commit({ t: 'mark', v }, true);
  }

  // ---- SSH host keys (the rules of dynamo-host-keys.ts)

  async getHostKey(resourceId: string): Promise<HostKeyRecord | undefined> {
    return this.#answer(this.#hostKeys.get(resourceId));
  }
  async recordHostKey(record: HostKeyRecord, previous: string | undefined): Promise<HostKeyRecord> {
    const v = hostKeyRecord(record);
    const held = this.#hostKeys.get(v.resourceId);
    if (previous === undefined ? held === undefined : held?.sha256 === previous) return this.#commit({ t: 'host-key', v }, v);
    if (!held) throw noHostKeyToReplace(v.resourceId);
    return this.#answer(held);
  }

  // ---- runs, results, audit (the rules of dynamo-runs.ts)

  async createRun(run: RunRecord): Promise<void> {
    const v = plainRecord(run, 'run');
    const existing = this.#live(this.#runs.get(v.runId));
    if (!existing) return this.#commit({ t: 'run', v, x: this.#runExpiry() });
    if (!sameRun(existing, v)) throw differentRun(v.runId);
    return this.#answer(undefined);
  }
  async updateRun(run: RunRecord): Promise<void> {
    const v = plainRecord(run, 'run');
    if (!this.#live(this.#runs.get(v.runId))) throw new NotFoundError('runId', `run ${v.runId} does not exist`);
    return this.#commit({ t: 'run', v, x: this.#runExpiry() });
  }
  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#answer(this.#live(this.#runs.get(runId)));
  }
  /** Runs, newest first (by start, then id); at most `limit` of them. */
  async listRuns(limit?: number): Promise<RunRecord[]> {
    const runs = [...this.#runs.values()].flatMap((r) => this.#live(r) ?? []);
    const order = (r: RunRecord) => `${r.startedAt}#${r.runId}`;
    const newestFirst = byId(runs, order).reverse();
    return this.#answer(limit === undefined ? newestFirst : newestFirst.slice(0, Math.max(0, limit)));
  }
  /** One result per account and run; a later result for the same account replaces the earlier. */
  async putAccountResult(result: AccountResult): Promise<void> {
    return this.#commit({ t: 'result', v: plainRecord(result, 'result'), x: this.#runExpiry() });
  }
  /** Both records are checked before either is kept. */
  async recordAccountResult(result: AccountResult, audit: AuditRecord): Promise<void> {
    const v = plainRecord(result, 'result');
    const record = plainRecord(audit, 'audit');
    const written = [this.#commit({ t: 'result', v, x: this.#runExpiry() }), this.#appendAudit(record)];
    await Promise.all(written);
  }
  async listAccountResults(runId: string): Promise<AccountResult[]> {
    const results = [...(this.#results.get(runId)?.values() ?? [])].flatMap((r) => this.#live(r) ?? []);
    return this.#answer(byId(results, (r) => r.accountId));
  }
  async getAccountResults(runId: string, accountIds: readonly string[]): Promise<AccountResult[]> {
    const results = this.#results.get(runId);
    return this.#answer([...new Set(accountIds)].flatMap((id) => this.#live(results?.get(id)) ?? []));
  }
  /** Appending the same record twice keeps it once. */
  async appendAudit(record: AuditRecord): Promise<void> {
    return this.#appendAudit(plainRecord(record, 'audit'));
  }
  /** Audit records in time order; with `limit`, the most recent `limit` of them. */
  async listAudit(filter: { accountId?: string; runId?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    const { accountId, runId, limit } = filter;
    const matching = [...this.#audit].filter(([, r]) => (accountId === undefined || r.accountId === accountId) && (runId === undefined || r.runId === runId));
    const inOrder = byId(matching, ([o]) => o).map(([, r]) => r);
    return this.#answer(limit === undefined ? inOrder : limit > 0 ? inOrder.slice(-limit) : []);
  }

  #appendAudit(v: AuditRecord): Promise<void> {
    const o = auditOrder(v);
    return this.#audit.has(o) ? this.#answer(undefined) : this.#commit({ t: 'audit', o, v });
  }

  // ---- the machinery

  /** Applies a change now, and answers `answer` once its line is written. */
  #commit<T = void>(entry: StateJournalEntry, answer?: T): Promise<T> {
    this.#journal?.assertWritable();
    this.#apply(entry);
    if (!this.#journal) return Promise.resolve(structuredClone(answer) as T);
    return this.#journal.append(entry).then(() => structuredClone(answer) as T);
  }

  /** A copy of `value`, once every change made before it has been written. */
  #answer<T>(value: T): Promise<T> {
    const copy = structuredClone(value);
    return this.#journal ? this.#journal.settled().then(() => copy) : Promise.resolve(copy);
  }

  #apply(entry: StateJournalEntry): void {
    switch (entry.t) {
      case 'resource':
        return void (entry.v ? this.#resources.set(entry.v.id, entry.v) : this.#resources.delete(entry.id));
      case 'account':
        return void (entry.v ? this.#accounts.set(entry.v.id, entry.v) : this.#accounts.delete(entry.id));
      case 'lease':
        return void (entry.v ? this.#leases.set(entry.v.accountId, entry.v) : this.#leases.delete(entry.id));
      case 'mark':
        return void this.#marks.set(markKey(entry.v.accountId, entry.v.versionId), entry.v);
      case 'host-key':
        return void this.#hostKeys.set(entry.v.resourceId, entry.v);
      case 'run':
        return void this.#runs.set(entry.v.runId, { v: entry.v, x: entry.x });
      case 'result': {
        const results = this.#results.get(entry.v.runId) ?? new Map<string, Expiring<AccountResult>>();
        this.#results.set(entry.v.runId, results.set(entry.v.accountId, { v: entry.v, x: entry.x }));
        return;
      }
      case 'audit':
        return void this.#audit.set(entry.o, entry.v);
      default:
        throw new Error(`unknown state journal entry ${JSON.stringify((entry as { t?: unknown }).t)}`);
    }
  }

  /** Drops what has expired (leases included: they only matter unexpired) and returns how many records remain. */
  #dropExpired(): number {
    const now = this.#clock();
    const drop = <K, V>(map: Map<K, V>, expired: (v: V) => boolean) => {
      for (const [k, v] of map) if (expired(v)) map.delete(k);
      return map.size;
    };
    let live = this.#resources.size + this.#accounts.size + this.#hostKeys.size + this.#audit.size;
    live += drop(this.#leases, (l) => l.expiresAt < now) + drop(this.#marks, (m) => m.expiresAt <= now) + drop(this.#runs, (r) => r.x <= now);
    for (const [runId, results] of this.#results) {
      live += drop(results, (r) => r.x <= now);
      if (results.size === 0) this.#results.delete(runId);
    }
    return live;
  }

  #mark(accountId: string, versionId: string): Mark | undefined {
    const mark = this.#marks.get(markKey(accountId, versionId));
    return mark && mark.expiresAt > this.#clock() ? mark : undefined;
  }

  #live<T>(record: Expiring<T> | undefined): T | undefined {
    return record && record.x > this.#clock() ? record.v : undefined;
  }

  #runExpiry(): number {
    return this.#clock() + this.#runRetentionMs;
  }
}

const markKey = (accountId: string, versionId: string) => JSON.stringify([accountId, versionId]);

/** Sorted by a string key, as DynamoDB orders a query by its sort key. */
function byId<T>(items: T[], key: (item: T) => string): T[] {
  return items.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}
