import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { patientClient } from '../patience.js';
import type { Account } from '../account.js';
import type { AccountResult, AuditRecord, Holder, HostKeyRecord, Lease, RunRecord, StateStore, StoredResource } from './types.js';
import { DynamoHostKeys } from './dynamo-host-keys.js';
import { DynamoConfigStore } from './dynamo-config.js';
import { DynamoLeaseStore } from './dynamo-leases.js';
import { DynamoRunStore } from './dynamo-runs.js';
import { DAY_SECONDS, DynamoTable } from './dynamo-table.js';
import { MARK_RETENTION_DAYS, RUN_RETENTION_DAYS } from './state-rules.js';

export { createStateTable } from './dynamo-schema.js';

export interface DynamoStateStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Milliseconds since the epoch; leases expire by it. Default `Date.now`. */
  readonly clock?: () => number;
  /** Query page size (DynamoDB's `Limit`). Default: DynamoDB's 1 MB pages. Tests set it low to exercise paging. */
  readonly pageSize?: number;
  /** How long run records and their account results are kept before DynamoDB TTL removes them. Default 400 days. */
  readonly runRetentionDays?: number;
  /** How long set-attempt marks are kept. Default 90 days, longer than any reset can be retried. */
  readonly markRetentionDays?: number;
}

/**
 * Configuration, leases, runs and the audit trail in one DynamoDB table (see dynamo-schema.ts
 * for the layout): the three stores of dynamo-config.ts, dynamo-leases.ts and dynamo-runs.ts
 * on one shared table client. Every record is kept whole, as plain JSON, under the item's
 * `data` attribute; nothing secret is ever stored, only secret ids and version ids.
 *
 * No transactions: each method is one conditional write or a paginated read.
 */
export class DynamoStateStore implements StateStore {
  readonly #config: DynamoConfigStore;
  readonly #leases: DynamoLeaseStore;
  readonly #runs: DynamoRunStore;
  readonly #hostKeys: DynamoHostKeys;

  constructor(options: DynamoStateStoreOptions) {
    const table = new DynamoTable({
      // Throttles are retried for as long as the account being worked on allows (see patience.ts).
      client: patientClient(options.client),
      name: options.tableName,
      clock: options.clock ?? Date.now,
      pageSize: options.pageSize,
    });
    this.#config = new DynamoConfigStore(table);
    this.#leases = new DynamoLeaseStore(table, { markRetentionSeconds: (options.markRetentionDays ?? MARK_RETENTION_DAYS) * DAY_SECONDS });
    this.#runs = new DynamoRunStore(table, { runRetentionSeconds: (options.runRetentionDays ?? RUN_RETENTION_DAYS) * DAY_SECONDS });
    this.#hostKeys = new DynamoHostKeys(table.client, table.name);
  }

  // ---- SSH host keys (dynamo-host-keys.ts)

  getHostKey(resourceId: string): Promise<HostKeyRecord | undefined> {
    return this.#hostKeys.get(resourceId);
  }
  recordHostKey(record: HostKeyRecord, previous: string | undefined): Promise<HostKeyRecord> {
    return this.#hostKeys.record(record, previous);
  }

  // ---- configuration (dynamo-config.ts)

  putResource(resource: StoredResource): Promise<void> {
    return this.#config.putResource(resource);
  }
  getResource(id: string): Promise<StoredResource | undefined> {
    return this.#config.getResource(id);
  }
  listResources(filter?: { type?: string; tag?: string; site?: string }): Promise<StoredResource[]> {
    return this.#config.listResources(filter);
  }
  deleteResource(id: string): Promise<void> {
    return this.#config.deleteResource(id);
  }
  putAccount(account: Account): Promise<void> {
    return this.#config.putAccount(account);
  }
  getAccount(id: string): Promise<Account | undefined> {
    return this.#config.getAccount(id);
  }
  getAccountAndResource(accountId: string): Promise<{ account?: Account; resource?: StoredResource }> {
    return this.#config.getAccountAndResource(accountId);
  }
  listAccounts(filter?: { resourceId?: string }): Promise<Account[]> {
    return this.#config.listAccounts(filter);
  }
  deleteAccount(id: string): Promise<void> {
    return this.#config.deleteAccount(id);
  }

  // ---- leases and set-attempt marks (dynamo-leases.ts)

  acquire(accountId: string, owner: string, ttlMs: number, options?: { reentrant?: boolean; holder?: Holder }): Promise<Lease> {
    return this.#leases.acquire(accountId, owner, ttlMs, options);
  }
  takeOver(held: Lease, owner: string, ttlMs: number, holder?: Holder): Promise<Lease> {
    return this.#leases.takeOver(held, owner, ttlMs, holder);
  }
  renew(lease: Lease, ttlMs: number): Promise<Lease> {
    return this.#leases.renew(lease, ttlMs);
  }
  release(lease: Lease): Promise<void> {
    return this.#leases.release(lease);
  }
  markSetAttempt(accountId: string, versionId: string): Promise<{ earlier: boolean }> {
    return this.#leases.markSetAttempt(accountId, versionId);
  }
  hasSetAttempt(accountId: string, versionId: string): Promise<boolean> {
    return this.#leases.hasSetAttempt(accountId, versionId);
  }

  markReconcileSet(accountId: string, versionId: string): Promise<boolean> {
    return this.#leases.markReconcileSet(accountId, versionId);
  }

  // ---- runs, results, audit (dynamo-runs.ts)

  createRun(run: RunRecord): Promise<void> {
    return this.#runs.createRun(run);
  }
  updateRun(run: RunRecord): Promise<void> {
    return this.#runs.updateRun(run);
  }
  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#runs.getRun(runId);
  }
  listRuns(limit?: number): Promise<RunRecord[]> {
    return this.#runs.listRuns(limit);
  }
  putAccountResult(result: AccountResult): Promise<void> {
    return this.#runs.putAccountResult(result);
  }
  recordAccountResult(result: AccountResult, audit: AuditRecord): Promise<void> {
    return this.#runs.recordAccountResult(result, audit);
  }
  listAccountResults(runId: string): Promise<AccountResult[]> {
    return this.#runs.listAccountResults(runId);
  }
  getAccountResults(runId: string, accountIds: readonly string[]): Promise<AccountResult[]> {
    return this.#runs.getAccountResults(runId, accountIds);
  }
  appendAudit(record: AuditRecord): Promise<void> {
    return this.#runs.appendAudit(record);
  }
  listAudit(filter?: { accountId?: string; runId?: string; limit?: number }): Promise<AuditRecord[]> {
    return this.#runs.listAudit(filter);
  }
}
