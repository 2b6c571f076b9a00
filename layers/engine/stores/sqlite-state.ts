import { NotFoundError } from '../errors.js';
import type { Account } from '../account.js';
import type { StateJournalEntry } from './local-state.js';
import type { SqliteDb } from './sqlite-db.js';
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

export interface SqliteStateStoreOptions {
  /** Milliseconds since the epoch; leases and retention expire by it. Default `Date.now`. */
  readonly clock?: () => number;
  /** How long run records and their account results are kept. Default 400 days. */
  readonly runRetentionDays?: number;
  /** How long set-attempt marks are kept. Default 90 days, longer than any reset can be retried. */
  readonly markRetentionDays?: number;
}

/** Every record is kept whole as JSON (`v`); the other columns are its keys and what queries select by. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS resources (id TEXT PRIMARY KEY, type TEXT NOT NULL, site TEXT NOT NULL, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, resource_id TEXT NOT NULL, v TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS accounts_by_resource ON accounts (resource_id, id);
CREATE TABLE IF NOT EXISTS leases (account_id TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS marks (account_id TEXT NOT NULL, version_id TEXT NOT NULL, marked_at TEXT, reconcile_set_at TEXT, x INTEGER NOT NULL, PRIMARY KEY (account_id, version_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS host_keys (resource_id TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, ord TEXT NOT NULL, x INTEGER NOT NULL, v TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS runs_newest ON runs (ord);
CREATE TABLE IF NOT EXISTS results (run_id TEXT NOT NULL, account_id TEXT NOT NULL, x INTEGER NOT NULL, v TEXT NOT NULL, PRIMARY KEY (run_id, account_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (o TEXT PRIMARY KEY, account_id TEXT NOT NULL, run_id TEXT NOT NULL, v TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_by_account ON audit (account_id, o);
CREATE INDEX IF NOT EXISTS audit_by_run ON audit (run_id, o);
`;

type Row = { v: string };

/** The statements that store a record, whoever calls them (a method, or a migration's import). */
const PUT = {
  resource: 'INSERT OR REPLACE INTO resources (id, type, site, v) VALUES (?, ?, ?, ?)',
  account: 'INSERT OR REPLACE INTO accounts (id, resource_id, v) VALUES (?, ?, ?)',
  lease: 'INSERT OR REPLACE INTO leases (account_id, v) VALUES (?, ?)',
  mark: 'INSERT OR REPLACE INTO marks (account_id, version_id, marked_at, reconcile_set_at, x) VALUES (?, ?, ?, ?, ?)',
  hostKey: 'INSERT OR REPLACE INTO host_keys (resource_id, v) VALUES (?, ?)',
  run: 'INSERT OR REPLACE INTO runs (run_id, ord, x, v) VALUES (?, ?, ?, ?)',
  result: 'INSERT OR REPLACE INTO results (run_id, account_id, x, v) VALUES (?, ?, ?, ?)',
  audit: 'INSERT OR IGNORE INTO audit (o, account_id, run_id, v) VALUES (?, ?, ?, ?)',
} as const;

/**
 * The embedded default's state: the StateStore with DynamoStateStore's semantics (its conditions,
 * errors, orderings and retention; see dynamo-*.ts), in the embedded database (sqlite-db.ts) that
 * every rpr process on the machine shares. Each change is one write transaction that reads what its
 * condition needs and writes in the same step, so one process wins a lease and the others get the
 * AccountBusyError DynamoDB's conditional write gives; each answer is a record parsed from the
 * database, a copy no caller can change here. Runs and results expire after `runRetentionDays`,
 * marks after `markRetentionDays`, as DynamoDB's TTL would remove them: never returned once
 * expired, deleted when a store is opened.
 */
export class SqliteStateStore implements StateStore {
  readonly #db: SqliteDb;
  readonly #clock: () => number;
  readonly #runRetentionMs: number;
  readonly #markRetentionMs: number;

  constructor(db: SqliteDb, options: SqliteStateStoreOptions = {}) {
    this.#db = db;
    this.#clock = options.clock ?? Date.now;
    this.#runRetentionMs = (options.runRetentionDays ?? RUN_RETENTION_DAYS) * DAY_MS;
    this.#markRetentionMs = (options.markRetentionDays ?? MARK_RETENTION_DAYS) * DAY_MS;
    db.writeNow(() => {
      db.exec(SCHEMA);
      const now = this.#clock();
      for (const table of ['runs', 'results', 'marks']) db.statement(`DELETE FROM ${table} WHERE x <= ?`).run(now);
    });
  }

  // ---- configuration

  async putResource(resource: StoredResource): Promise<void> {
    const v = plainRecord(resource, 'resource');
    await this.#write(PUT.resource, v.id, v.type, v.site, JSON.stringify(v));
  }
  async getResource(id: string): Promise<StoredResource | undefined> {
    return this.#one('SELECT v FROM resources WHERE id = ?', id);
  }
  async listResources(filter: { type?: string; tag?: string; site?: string } = {}): Promise<StoredResource[]> {
    const { type, tag, site } = filter;
    const matching = this.#all<StoredResource>('SELECT v FROM resources WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR site = ?2) ORDER BY id', type ?? null, site ?? null);
    return tag === undefined ? matching : matching.filter((r) => Array.isArray(r.tags) && r.tags.includes(tag));
  }
  async deleteResource(id: string): Promise<void> {
    await this.#write('DELETE FROM resources WHERE id = ?', id);
  }

  /** An account's id must be `<resourceId>/<name>`, as DynamoStateStore requires. */
  async putAccount(account: Account): Promise<void> {
    checkAccountId(account);
    const v = plainRecord(account, 'account');
    await this.#write(PUT.account, v.id, v.resourceId, JSON.stringify(v));
  }
  async getAccount(id: string): Promise<Account | undefined> {
    return this.#one('SELECT v FROM accounts WHERE id = ?', id);
  }
  async getAccountAndResource(accountId: string): Promise<{ account?: Account; resource?: StoredResource }> {
    const slash = accountId.indexOf('/');
    if (slash <= 0) return {};
    return this.#db.read(() => {
      const account = this.#one<Account>('SELECT v FROM accounts WHERE id = ?', accountId);
      const resource = this.#one<StoredResource>('SELECT v FROM resources WHERE id = ?', accountId.slice(0, slash));
      return { ...(account ? { account } : {}), ...(resource ? { resource } : {}) };
    });
  }
  async listAccounts(filter: { resourceId?: string } = {}): Promise<Account[]> {
    return filter.resourceId === undefined
      ? this.#all('SELECT v FROM accounts ORDER BY id')
      : this.#all('SELECT v FROM accounts WHERE resource_id = ? ORDER BY id', filter.resourceId);
  }
  async deleteAccount(id: string): Promise<void> {
    await this.#write('DELETE FROM accounts WHERE id = ?', id);
  }

  // ---- leases and set-attempt marks (the rules of dynamo-leases.ts)

  async acquire(accountId: string, owner: string, ttlMs: number, options: { reentrant?: boolean; holder?: Holder } = {}): Promise<Lease> {
    return this.#db.write(() => {
      const held = this.#lease(accountId);
      if (held && held.expiresAt >= this.#clock() && !(options.reentrant && held.owner === owner)) throw busy(held);
      return this.#putLease(accountId, owner, ttlMs, options.holder);
    });
  }
  /** Takes over `held` if it is still exactly the lease held (its owner and expiry), or the lease is free. */
  async takeOver(held: Lease, owner: string, ttlMs: number, holder?: Holder): Promise<Lease> {
    return this.#db.write(() => {
      const current = this.#lease(held.accountId);
      if (current && current.expiresAt >= this.#clock() && !(current.owner === held.owner && current.expiresAt === held.expiresAt)) throw busy(current);
      return this.#putLease(held.accountId, owner, ttlMs, holder);
    });
  }
  /** Extends a lease its owner still holds (expired or not, as long as no one took it over). */
  async renew(lease: Lease, ttlMs: number): Promise<Lease> {
    return this.#db.write(() => {
      const held = this.#lease(lease.accountId);
      if (held?.owner !== lease.owner) throw leaseLost(lease, held?.owner);
      const now = this.#clock();
      const renewed: Lease = { ...held, expiresAt: now + ttlMs, heartbeatAt: now };
      this.#db.statement('UPDATE leases SET v = ? WHERE account_id = ?').run(JSON.stringify(renewed), lease.accountId);
      return renewed;
    });
  }
  async release(lease: Lease): Promise<void> {
    await this.#db.write(() => {
      if (this.#lease(lease.accountId)?.owner === lease.owner) this.#db.statement('DELETE FROM leases WHERE account_id = ?').run(lease.accountId);
    });
  }
  async markSetAttempt(accountId: string, versionId: string): Promise<{ earlier: boolean }> {
    return this.#db.write(() => {
      const now = this.#clock();
      const mark = this.#mark(accountId, versionId);
      this.#db
        .statement(PUT.mark)
        .run(accountId, versionId, mark?.marked_at ?? new Date(now).toISOString(), mark?.reconcile_set_at ?? null, now + this.#markRetentionMs);
      return { earlier: typeof mark?.marked_at === 'string' };
    });
  }
  async hasSetAttempt(accountId: string, versionId: string): Promise<boolean> {
    return typeof this.#mark(accountId, versionId)?.marked_at === 'string';
  }
  async markReconcileSet(accountId: string, versionId: string): Promise<boolean> {
    return this.#db.write(() => {
      const now = this.#clock();
      const mark = this.#mark(accountId, versionId);
      if (typeof mark?.reconcile_set_at === 'string') return false;
      this.#db
        .statement(PUT.mark)
        .run(accountId, versionId, mark?.marked_at ?? null, new Date(now).toISOString(), now + this.#markRetentionMs);
      return true;
    });
  }

  // ---- SSH host keys (the rules of dynamo-host-keys.ts)

  async getHostKey(resourceId: string): Promise<HostKeyRecord | undefined> {
    return this.#one('SELECT v FROM host_keys WHERE resource_id = ?', resourceId);
  }
  async recordHostKey(record: HostKeyRecord, previous: string | undefined): Promise<HostKeyRecord> {
    const v = hostKeyRecord(record);
    return this.#db.write(() => {
      const held = this.#one<HostKeyRecord>('SELECT v FROM host_keys WHERE resource_id = ?', v.resourceId);
      if (previous === undefined ? held === undefined : held?.sha256 === previous) {
        this.#db.statement(PUT.hostKey).run(v.resourceId, JSON.stringify(v));
        return v;
      }
      if (!held) throw noHostKeyToReplace(v.resourceId);
      return held;
    });
  }

  // ---- runs, results, audit (the rules of dynamo-runs.ts)

  async createRun(run: RunRecord): Promise<void> {
    const v = plainRecord(run, 'run');
    await this.#db.write(() => {
      const existing = this.#run(v.runId);
      if (!existing) return this.#putRun(v);
      if (!sameRun(existing, v)) throw differentRun(v.runId);
    });
  }
  async updateRun(run: RunRecord): Promise<void> {
    const v = plainRecord(run, 'run');
    await this.#db.write(() => {
      if (!this.#run(v.runId)) throw new NotFoundError('runId', `run ${v.runId} does not exist`);
      this.#putRun(v);
    });
  }
  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#run(runId);
  }
  /** Runs, newest first (by start, then id); at most `limit` of them. */
  async listRuns(limit?: number): Promise<RunRecord[]> {
    return this.#all('SELECT v FROM runs WHERE x > ? ORDER BY ord DESC LIMIT ?', this.#clock(), limit === undefined ? -1 : Math.max(0, limit));
  }
  /** One result per account and run; a later result for the same account replaces the earlier. */
  async putAccountResult(result: AccountResult): Promise<void> {
    const v = plainRecord(result, 'result');
    await this.#db.write(() => this.#putResult(v));
  }
  /** Both records are checked before either is kept, and kept in one transaction. */
  async recordAccountResult(result: AccountResult, audit: AuditRecord): Promise<void> {
    const v = plainRecord(result, 'result');
    const record = plainRecord(audit, 'audit');
    await this.#db.write(() => {
      this.#putResult(v);
      this.#putAudit(record);
    });
  }
  async listAccountResults(runId: string): Promise<AccountResult[]> {
    return this.#all('SELECT v FROM results WHERE run_id = ? AND x > ? ORDER BY account_id', runId, this.#clock());
  }
  async getAccountResults(runId: string, accountIds: readonly string[]): Promise<AccountResult[]> {
    const now = this.#clock();
    return this.#db.read(() => [...new Set(accountIds)].flatMap((id) => this.#one<AccountResult>('SELECT v FROM results WHERE run_id = ? AND account_id = ? AND x > ?', runId, id, now) ?? []));
  }
  /** Appending the same record twice keeps it once. */
  async appendAudit(record: AuditRecord): Promise<void> {
    const v = plainRecord(record, 'audit');
    await this.#db.write(() => this.#putAudit(v));
  }
  /** Audit records in time order; with `limit`, the most recent `limit` of them. */
  async listAudit(filter: { accountId?: string; runId?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    const { accountId, runId, limit } = filter;
    if (limit !== undefined && limit <= 0) return [];
    const newestFirst = this.#all<AuditRecord>(
      'SELECT v FROM audit WHERE (?1 IS NULL OR account_id = ?1) AND (?2 IS NULL OR run_id = ?2) ORDER BY o DESC LIMIT ?3',
      accountId ?? null,
      runId ?? null,
      limit ?? -1,
    );
    return newestFirst.reverse();
  }

  /**
   * Stores the records of a state journal (local-state.ts) as they are, with the expiry and place
   * in the trail the journal gave them; leases are left out (transient). Inside the caller's write
   * transaction (a migration's, sqlite-migration.ts), so all of it is kept or none.
   */
  importJournal(entries: Iterable<StateJournalEntry>): void {
    const put = (sql: string, ...params: (string | number | null)[]) => this.#db.statement(sql).run(...params);
    for (const e of entries) {
      if (e.t === 'resource' && e.v) put(PUT.resource, e.v.id, e.v.type, e.v.site, JSON.stringify(e.v));
      else if (e.t === 'account' && e.v) put(PUT.account, e.v.id, e.v.resourceId, JSON.stringify(e.v));
      else if (e.t === 'mark') put(PUT.mark, e.v.accountId, e.v.versionId, e.v.markedAt ?? null, e.v.reconcileSetAt ?? null, e.v.expiresAt);
      else if (e.t === 'host-key') put(PUT.hostKey, e.v.resourceId, JSON.stringify(e.v));
      else if (e.t === 'run') this.#putRun(e.v, e.x);
      else if (e.t === 'result') this.#putResult(e.v, e.x);
      else if (e.t === 'audit') this.#putAudit(e.v, e.o);
    }
  }

  // ---- the machinery (each runs inside the caller's transaction, or as one statement)

  #lease(accountId: string): Lease | undefined {
    return this.#one('SELECT v FROM leases WHERE account_id = ?', accountId);
  }
  #putLease(accountId: string, owner: string, ttlMs: number, holder: Holder | undefined): Lease {
    const now = this.#clock();
    const lease: Lease = { accountId, owner, expiresAt: now + ttlMs, ...(holder ? { holder } : {}), heartbeatAt: now };
    this.#db.statement(PUT.lease).run(accountId, JSON.stringify(lease));
    return lease;
  }
  #mark(accountId: string, versionId: string): { marked_at: string | null; reconcile_set_at: string | null } | undefined {
    return this.#db.statement('SELECT marked_at, reconcile_set_at FROM marks WHERE account_id = ? AND version_id = ? AND x > ?').get(accountId, versionId, this.#clock()) as
      | { marked_at: string | null; reconcile_set_at: string | null }
      | undefined;
  }
  #run(runId: string): RunRecord | undefined {
    return this.#one('SELECT v FROM runs WHERE run_id = ? AND x > ?', runId, this.#clock());
  }
  #putRun(v: RunRecord, x = this.#clock() + this.#runRetentionMs): void {
    this.#db.statement(PUT.run).run(v.runId, `${v.startedAt}#${v.runId}`, x, JSON.stringify(v));
  }
  #putResult(v: AccountResult, x = this.#clock() + this.#runRetentionMs): void {
    this.#db.statement(PUT.result).run(v.runId, v.accountId, x, JSON.stringify(v));
  }
  #putAudit(v: AuditRecord, o = auditOrder(v)): void {
    this.#db.statement(PUT.audit).run(o, v.accountId, v.runId, JSON.stringify(v));
  }
  async #write(sql: string, ...params: (string | number | null)[]): Promise<void> {
    await this.#db.write(() => void this.#db.statement(sql).run(...params));
  }
  #one<T>(sql: string, ...params: (string | number | null)[]): T | undefined {
    const row = this.#db.statement(sql).get(...params) as Row | undefined;
    return row ? (JSON.parse(row.v) as T) : undefined;
  }
  #all<T>(sql: string, ...params: (string | number | null)[]): T[] {
    return (this.#db.statement(sql).all(...params) as Row[]).map((r) => JSON.parse(r.v) as T);
  }
}
