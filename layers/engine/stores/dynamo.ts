import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { AccountBusyError, InvalidConfigurationError, NotFoundError } from '../errors.js';
import { patientClient } from '../patience.js';
import { Secret } from '../secret.js';
import type { Account } from '../../resources/common.js';
import type { AccountResult, AuditRecord, Lease, RunRecord, StateStore, StoredResource } from './types.js';
import { DynamoMarks } from './dynamo-marks.js';
import { GSI_COLLECTION, GSI_RUN_AUDIT, keyPart } from './dynamo-schema.js';

export { STATE_TABLE, createStateTable, keyPart } from './dynamo-schema.js';

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

const DAY_SECONDS = 86_400;
const RESOURCE_PK = 'RESOURCE';
const LEASE_SK = 'LEASE';
const RUN_SK = 'RUN';
const RESULT_PREFIX = 'RESULT#';

type Item = Record<string, unknown>;

/**
 * Configuration, leases, runs and the audit trail in one DynamoDB table (see dynamo-schema.ts
 * for the layout). Every record is kept whole, as plain JSON, under the item's `data` attribute;
 * nothing secret is ever stored, only secret ids and version ids.
 *
 * No transactions: each method is one conditional write or a paginated read.
 */
export class DynamoStateStore implements StateStore {
  readonly #client: Pick<DynamoDBDocumentClient, 'send'>;
  readonly #table: string;
  readonly #clock: () => number;
  readonly #pageSize: number | undefined;
  readonly #runRetentionSeconds: number;
  readonly #marks: DynamoMarks;

  constructor(options: DynamoStateStoreOptions) {
    // Throttles are retried for as long as the account being worked on allows (see patience.ts).
    this.#client = patientClient(options.client);
    this.#table = options.tableName;
    this.#clock = options.clock ?? Date.now;
    this.#pageSize = options.pageSize;
    this.#runRetentionSeconds = (options.runRetentionDays ?? 400) * DAY_SECONDS;
    this.#marks = new DynamoMarks({ client: this.#client, tableName: this.#table, clock: this.#clock, retentionSeconds: (options.markRetentionDays ?? 90) * DAY_SECONDS });
  }

  // ---- configuration -------------------------------------------------------------------------

  async putResource(resource: StoredResource): Promise<void> {
    await this.#put({ pk: RESOURCE_PK, sk: keyPart(resource.id), kind: 'resource', data: plainRecord(resource, 'resource') });
  }

  async getResource(id: string): Promise<StoredResource | undefined> {
    return (await this.#get(RESOURCE_PK, keyPart(id)))?.data as StoredResource | undefined;
  }

  async listResources(filter: { type?: string; tag?: string; site?: string } = {}): Promise<StoredResource[]> {
    const conditions: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      const attribute = field === 'tag' ? 'tags' : field;
      names['#d'] = 'data';
      names[`#${attribute}`] = attribute;
      values[`:${field}`] = value;
      conditions.push(field === 'tag' ? `contains(#d.#tags, :tag)` : `#d.#${attribute} = :${field}`);
    }
    return this.#collect<StoredResource>({
      KeyConditionExpression: 'pk = :pk',
      ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND '), ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: { ':pk': RESOURCE_PK, ...values },
      ConsistentRead: true,
    });
  }

  async deleteResource(id: string): Promise<void> {
    await this.#delete(RESOURCE_PK, keyPart(id));
  }

  /** Accounts live in their resource's partition, so an account's id must be `<resourceId>/<name>`. */
  async putAccount(account: Account): Promise<void> {
    if (!account.id.startsWith(`${account.resourceId}/`)) {
      throw new InvalidConfigurationError('id', `account id must start with its resource id "${account.resourceId}/"`);
    }
    const key = accountKey(account.id);
    if (!key) throw new InvalidConfigurationError('id', 'account id must be "<resource id>/<account name>"');
    await this.#put({
      pk: key.pk,
      sk: key.sk,
      kind: 'account',
      [GSI_COLLECTION.partitionKey]: 'ACCOUNT',
      [GSI_COLLECTION.sortKey]: keyPart(account.id),
      data: plainRecord(account, 'account'),
    });
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const key = accountKey(id);
    if (!key) return undefined;
    return (await this.#get(key.pk, key.sk))?.data as Account | undefined;
  }

  async listAccounts(filter: { resourceId?: string } = {}): Promise<Account[]> {
    const accounts: Account[] = [];
    for await (const account of this.iterateAccounts(filter)) accounts.push(account);
    return accounts;
  }

  /** Accounts one query page at a time, for bulk runs that should not hold every account at once. */
  async *iterateAccounts(filter: { resourceId?: string } = {}): AsyncGenerator<Account> {
    const input: Omit<QueryCommandInput, 'TableName'> =
      filter.resourceId !== undefined
        ? { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `ACCOUNTS#${keyPart(filter.resourceId)}` }, ConsistentRead: true }
        : {
            IndexName: GSI_COLLECTION.indexName,
            KeyConditionExpression: '#gpk = :gpk',
            ExpressionAttributeNames: { '#gpk': GSI_COLLECTION.partitionKey },
            ExpressionAttributeValues: { ':gpk': 'ACCOUNT' },
          };
    for await (const item of this.#query(input)) yield item.data as Account;
  }

  async deleteAccount(id: string): Promise<void> {
    const key = accountKey(id);
    if (key) await this.#delete(key.pk, key.sk);
  }

  // ---- leases and set-attempt marks ------------------------------------------------------------

  /**
   * Takes the account's lease if it is free or expired; otherwise throws AccountBusyError naming
   * the holder. Not re-entrant unless asked: a run holding the lease that asks again is refused
   * too, since its owner is the run id; with `reentrant`, the owner takes its own lease back (a
   * retried or continued task of the run, after the attempt that held it was cut off).
   */
  async acquire(accountId: string, owner: string, ttlMs: number, options: { reentrant?: boolean } = {}): Promise<Lease> {
    const pk = `LEASE#${keyPart(accountId)}`;
    for (let attempt = 0; ; attempt++) {
      const now = this.#clock();
      const lease: Lease = { accountId, owner, expiresAt: now + ttlMs };
      try {
        await this.#client.send(
          new PutCommand({
            TableName: this.#table,
            Item: { pk, sk: LEASE_SK, kind: 'lease', ...leaseAttributes(lease) },
            ConditionExpression: `attribute_not_exists(pk) OR expiresAt < :now${options.reentrant ? ' OR #owner = :owner' : ''}`,
            ExpressionAttributeValues: { ':now': now, ...(options.reentrant ? { ':owner': owner } : {}) },
            ...(options.reentrant ? { ExpressionAttributeNames: { '#owner': 'owner' } } : {}),
          }),
        );
        return lease;
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
      const holder = await this.#get(pk, LEASE_SK);
      // Released or expired between our write and our read: try again, a few times.
      if (holder && typeof holder.expiresAt === 'number' && holder.expiresAt >= this.#clock()) {
        throw busy(accountId, String(holder.owner), holder.expiresAt);
      }
      if (attempt >= 3) throw new AccountBusyError(`account ${accountId} is busy: its lease changed hands during acquire`);
    }
  }

  /** Extends a lease its owner still holds; throws AccountBusyError if it was lost (released, or taken over after expiry). */
  async renew(lease: Lease, ttlMs: number): Promise<Lease> {
    const pk = `LEASE#${keyPart(lease.accountId)}`;
    const renewed: Lease = { ...lease, expiresAt: this.#clock() + ttlMs };
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { pk, sk: LEASE_SK, kind: 'lease', ...leaseAttributes(renewed) },
          ConditionExpression: 'attribute_exists(pk) AND #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': lease.owner },
        }),
      );
      return renewed;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const holder = await this.#get(pk, LEASE_SK);
      const held = holder ? ` it is held by ${String(holder.owner)}` : ' it is not held';
      throw new AccountBusyError(`lease on account ${lease.accountId} was lost by ${lease.owner}:${held}`, { cause: e });
    }
  }

  /** Releases the lease if `lease.owner` still holds it; never removes another owner's lease. Idempotent. */
  async release(lease: Lease): Promise<void> {
    try {
      await this.#client.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: { pk: `LEASE#${keyPart(lease.accountId)}`, sk: LEASE_SK },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': lease.owner },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  async markSetAttempt(accountId: string, versionId: string): Promise<{ earlier: boolean }> {
    return this.#marks.markSetAttempt(accountId, versionId);
  }

  async hasSetAttempt(accountId: string, versionId: string): Promise<boolean> {
    return this.#marks.hasSetAttempt(accountId, versionId);
  }

  async markReconcileSet(accountId: string, versionId: string): Promise<boolean> {
    return this.#marks.markReconcileSet(accountId, versionId);
  }

  // ---- runs, results, audit --------------------------------------------------------------------

  /**
   * Records a new run. Repeating it with the same run (same selector and start) does nothing,
   * so a retried plan step succeeds; a different run under the same id is refused.
   */
  async createRun(run: RunRecord): Promise<void> {
    try {
      await this.#put(this.#runItem(run), 'attribute_not_exists(pk)');
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const existing = await this.getRun(run.runId);
      if (existing && existing.startedAt === run.startedAt && sameJson(existing.selector, run.selector)) return;
      throw new InvalidConfigurationError('runId', `a different run ${run.runId} already exists`, { cause: e });
    }
  }

  async updateRun(run: RunRecord): Promise<void> {
    try {
      await this.#put(this.#runItem(run), 'attribute_exists(pk)');
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      throw new NotFoundError('runId', `run ${run.runId} does not exist`, { cause: e });
    }
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return (await this.#get(`RUN#${keyPart(runId)}`, RUN_SK))?.data as RunRecord | undefined;
  }

  /** Runs, newest first; at most `limit` of them. */
  async listRuns(limit?: number): Promise<RunRecord[]> {
    return this.#collect<RunRecord>(
      {
        IndexName: GSI_COLLECTION.indexName,
        KeyConditionExpression: '#gpk = :gpk',
        ExpressionAttributeNames: { '#gpk': GSI_COLLECTION.partitionKey },
        ExpressionAttributeValues: { ':gpk': 'RUNS' },
        ScanIndexForward: false,
      },
      limit,
    );
  }

  /** One result per account and run; a later result for the same account replaces the earlier. */
  async putAccountResult(result: AccountResult): Promise<void> {
    await this.#put(this.#resultItem(result));
  }

  /** The result and its audit record in one BatchWriteItem request (unconditional puts, so no transaction is needed). */
  async recordAccountResult(result: AccountResult, audit: AuditRecord): Promise<void> {
    let requests: { PutRequest: { Item: Item } }[] = [{ PutRequest: { Item: this.#resultItem(result) } }, { PutRequest: { Item: this.#auditItem(audit) } }];
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** Math.min(attempt, 6)));
      const { UnprocessedItems } = await this.#client.send(new BatchWriteCommand({ RequestItems: { [this.#table]: requests } }));
      requests = (UnprocessedItems?.[this.#table] ?? []) as typeof requests;
    }
  }

  #resultItem(result: AccountResult): Item {
    return {
      pk: `RUN#${keyPart(result.runId)}`,
      sk: `${RESULT_PREFIX}${keyPart(result.accountId)}`,
      kind: 'account-result',
      data: plainRecord(result, 'result'),
      ttl: this.#runExpiry(),
    };
  }

  async listAccountResults(runId: string): Promise<AccountResult[]> {
    const results: AccountResult[] = [];
    for await (const result of this.iterateAccountResults(runId)) results.push(result);
    return results;
  }

  /** The recorded results of these accounts in a run (at most one each); consistent reads, 100 keys a request. */
  async getAccountResults(runId: string, accountIds: readonly string[]): Promise<AccountResult[]> {
    const pk = `RUN#${keyPart(runId)}`;
    const keys = [...new Set(accountIds)].map((id) => ({ pk, sk: `${RESULT_PREFIX}${keyPart(id)}` }));
    const out: AccountResult[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] = keys.slice(i, i + 100);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** Math.min(attempt, 6)));
        const { Responses, UnprocessedKeys } = await this.#client.send(
          new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of Responses?.[this.#table] ?? []) out.push(item.data as AccountResult);
        pending = (UnprocessedKeys?.[this.#table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return out;
  }

  /** A run's account results one query page at a time. */
  async *iterateAccountResults(runId: string): AsyncGenerator<AccountResult> {
    const pages = this.#query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': `RUN#${keyPart(runId)}`, ':prefix': RESULT_PREFIX },
      ConsistentRead: true,
    });
    for await (const item of pages) yield item.data as AccountResult;
  }

  /** Appends to the audit trail. The item's key is derived from the record, so appending the same record twice stores it once. */
  async appendAudit(record: AuditRecord): Promise<void> {
    await this.#put(this.#auditItem(record));
  }

  #auditItem(record: AuditRecord): Item {
    const data = plainRecord(record, 'audit');
    const order = `${record.at}#${createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 20)}`;
    return {
      pk: `AUDIT#${keyPart(record.accountId)}`,
      sk: order,
      kind: 'audit',
      [GSI_COLLECTION.partitionKey]: 'AUDIT',
      [GSI_COLLECTION.sortKey]: order,
      [GSI_RUN_AUDIT.partitionKey]: `AUDIT#${keyPart(record.runId)}`,
      [GSI_RUN_AUDIT.sortKey]: order,
      data,
    };
  }

  /** Audit records in time order; with `limit`, the most recent `limit` of them. */
  async listAudit(filter: { accountId?: string; runId?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    let input: Omit<QueryCommandInput, 'TableName'>;
    if (filter.accountId !== undefined) {
      input = {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `AUDIT#${keyPart(filter.accountId)}` },
        ConsistentRead: true,
      };
      if (filter.runId !== undefined) {
        input.FilterExpression = '#d.#runId = :runId';
        input.ExpressionAttributeNames = { '#d': 'data', '#runId': 'runId' };
        input.ExpressionAttributeValues = { ...input.ExpressionAttributeValues, ':runId': filter.runId };
      }
    } else {
      const index = filter.runId !== undefined ? GSI_RUN_AUDIT : GSI_COLLECTION;
      input = {
        IndexName: index.indexName,
        KeyConditionExpression: '#gpk = :gpk',
        ExpressionAttributeNames: { '#gpk': index.partitionKey },
        ExpressionAttributeValues: { ':gpk': filter.runId !== undefined ? `AUDIT#${keyPart(filter.runId)}` : 'AUDIT' },
      };
    }
    const newestFirst = await this.#collect<AuditRecord>({ ...input, ScanIndexForward: false }, filter.limit);
    return newestFirst.reverse();
  }

  // ---- plumbing --------------------------------------------------------------------------------

  #runItem(run: RunRecord): Item {
    return {
      pk: `RUN#${keyPart(run.runId)}`,
      sk: RUN_SK,
      kind: 'run',
      [GSI_COLLECTION.partitionKey]: 'RUNS',
      [GSI_COLLECTION.sortKey]: `${run.startedAt}#${keyPart(run.runId)}`,
      data: plainRecord(run, 'run'),
      ttl: this.#runExpiry(),
    };
  }

  #runExpiry(): number {
    return Math.floor(this.#clock() / 1000) + this.#runRetentionSeconds;
  }

  async #put(item: Item, condition?: string): Promise<void> {
    await this.#client.send(
      new PutCommand({ TableName: this.#table, Item: item, ...(condition ? { ConditionExpression: condition } : {}) }),
    );
  }

  async #get(pk: string, sk: string): Promise<Item | undefined> {
    const { Item } = await this.#client.send(new GetCommand({ TableName: this.#table, Key: { pk, sk }, ConsistentRead: true }));
    return Item;
  }

  async #delete(pk: string, sk: string): Promise<void> {
    await this.#client.send(new DeleteCommand({ TableName: this.#table, Key: { pk, sk } }));
  }

  /** Every item of a query, page by page (a filtered page may be empty yet not the last). */
  async *#query(input: Omit<QueryCommandInput, 'TableName'>, limit?: number): AsyncGenerator<Item> {
    let startKey: Record<string, unknown> | undefined;
    let yielded = 0;
    do {
      const pageLimit = this.#pageSize ?? (limit !== undefined && !input.FilterExpression ? limit - yielded : undefined);
      const page = await this.#client.send(
        new QueryCommand({
          ...input,
          TableName: this.#table,
          ...(pageLimit !== undefined ? { Limit: pageLimit } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        if (limit !== undefined && yielded >= limit) return;
        yielded++;
        yield item;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && (limit === undefined || yielded < limit));
  }

  async #collect<T>(input: Omit<QueryCommandInput, 'TableName'>, limit?: number): Promise<T[]> {
    if (limit !== undefined && limit <= 0) return [];
    const records: T[] = [];
    for await (const item of this.#query(input, limit)) records.push(item.data as T);
    return records;
  }
}

function accountKey(id: string): { pk: string; sk: string } | undefined {
  const slash = id.indexOf('/');
  if (slash <= 0) return undefined;
  return { pk: `ACCOUNTS#${keyPart(id.slice(0, slash))}`, sk: keyPart(id) };
}

function leaseAttributes(lease: Lease): Item {
  return {
    accountId: lease.accountId,
    owner: lease.owner,
    expiresAt: lease.expiresAt,
    ttl: Math.ceil(lease.expiresAt / 1000),
  };
}

function busy(accountId: string, owner: string, expiresAt: number): AccountBusyError {
  return new AccountBusyError(`account ${accountId} is being reset by ${owner} (lease held until ${new Date(expiresAt).toISOString()})`);
}

function isConditionFailure(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The record as plain JSON (undefined fields dropped). A Secret anywhere in it is refused:
 * passwords never reach DynamoDB, not even as "[secret]".
 */
function plainRecord<T>(record: T, field: string): T {
  assertNoSecret(record, field);
  return JSON.parse(JSON.stringify(record)) as T;
}

function assertNoSecret(value: unknown, path: string): void {
  if (value instanceof Secret) {
    throw new InvalidConfigurationError(path, 'holds a secret value; only secret ids may be stored');
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertNoSecret(v, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertNoSecret(v, `${path}.${k}`);
  }
}
