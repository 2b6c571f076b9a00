import { BatchGetCommand, BatchWriteCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../errors.js';
import type { AccountResult, AuditRecord, RunRecord, RunStore } from './types.js';
import { GSI_COLLECTION, GSI_RUN_AUDIT, keyPart, partitionKey } from './dynamo-schema.js';
import { batchBackoff, isConditionFailure, plainRecord, type DynamoTable, type Item } from './dynamo-table.js';
import { auditOrder, differentRun, sameRun } from './state-rules.js';

const RUN_SK = 'RUN';
const RESULT_PREFIX = 'RESULT#';

/** Runs, their per-account results (kept `runRetentionSeconds`, then removed by TTL) and the audit trail. */
export class DynamoRunStore implements RunStore {
  readonly #table: DynamoTable;
  readonly #runRetentionSeconds: number;

  constructor(table: DynamoTable, options: { runRetentionSeconds: number }) {
    this.#table = table;
    this.#runRetentionSeconds = options.runRetentionSeconds;
  }

  /**
   * Records a new run. Repeating it with the same run (same selector and start) does nothing,
   * so a retried plan step succeeds; a different run under the same id is refused.
   */
  async createRun(run: RunRecord): Promise<void> {
    try {
      await this.#table.put(this.#runItem(run), 'attribute_not_exists(pk)');
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const existing = await this.getRun(run.runId);
      if (existing && sameRun(existing, run)) return;
      throw differentRun(run.runId, e);
    }
  }

  async updateRun(run: RunRecord): Promise<void> {
    try {
      await this.#table.put(this.#runItem(run), 'attribute_exists(pk)');
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      throw new NotFoundError('runId', `run ${run.runId} does not exist`, { cause: e });
    }
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return (await this.#table.get(partitionKey('RUN#', runId), RUN_SK))?.data as RunRecord | undefined;
  }

  /** Runs, newest first; at most `limit` of them. */
  async listRuns(limit?: number): Promise<RunRecord[]> {
    return this.#table.collect<RunRecord>(
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
    await this.#table.put(this.#resultItem(result));
  }

  /** The result and its audit record in one BatchWriteItem request (unconditional puts, so no transaction is needed). */
  async recordAccountResult(result: AccountResult, audit: AuditRecord): Promise<void> {
    const table = this.#table.name;
    let requests: { PutRequest: { Item: Item } }[] = [{ PutRequest: { Item: this.#resultItem(result) } }, { PutRequest: { Item: auditItem(audit) } }];
    for (let attempt = 0; requests.length > 0; attempt++) {
      await batchBackoff(attempt);
      const { UnprocessedItems } = await this.#table.client.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  }

  async listAccountResults(runId: string): Promise<AccountResult[]> {
    const results: AccountResult[] = [];
    for await (const result of this.#iterateAccountResults(runId)) results.push(result);
    return results;
  }

  /** The recorded results of these accounts in a run (at most one each); consistent reads, 100 keys a request. */
  async getAccountResults(runId: string, accountIds: readonly string[]): Promise<AccountResult[]> {
    const table = this.#table.name;
    const pk = partitionKey('RUN#', runId);
    const keys = [...new Set(accountIds)].map((id) => ({ pk, sk: `${RESULT_PREFIX}${keyPart(id)}` }));
    const out: AccountResult[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] = keys.slice(i, i + 100);
      for (let attempt = 0; pending.length > 0; attempt++) {
        await batchBackoff(attempt);
        const { Responses, UnprocessedKeys } = await this.#table.client.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of Responses?.[table] ?? []) out.push(item.data as AccountResult);
        pending = (UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return out;
  }

  /** A run's account results one query page at a time. */
  async *#iterateAccountResults(runId: string): AsyncGenerator<AccountResult> {
    const pages = this.#table.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': partitionKey('RUN#', runId), ':prefix': RESULT_PREFIX },
      ConsistentRead: true,
    });
    for await (const item of pages) yield item.data as AccountResult;
  }

  /** Appends to the audit trail. The item's key is derived from the record, so appending the same record twice stores it once. */
  async appendAudit(record: AuditRecord): Promise<void> {
    await this.#table.put(auditItem(record));
  }

  /** Audit records in time order; with `limit`, the most recent `limit` of them. */
  async listAudit(filter: { accountId?: string; runId?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    let input: Omit<QueryCommandInput, 'TableName'>;
    if (filter.accountId !== undefined) {
      input = {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': partitionKey('AUDIT#', filter.accountId) },
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
        ExpressionAttributeValues: { ':gpk': filter.runId !== undefined ? partitionKey('AUDIT#', filter.runId) : 'AUDIT' },
      };
    }
    const newestFirst = await this.#table.collect<AuditRecord>({ ...input, ScanIndexForward: false }, filter.limit);
    return newestFirst.reverse();
  }

  #runItem(run: RunRecord): Item {
    return {
      pk: partitionKey('RUN#', run.runId),
      sk: RUN_SK,
      kind: 'run',
      [GSI_COLLECTION.partitionKey]: 'RUNS',
      [GSI_COLLECTION.sortKey]: `${run.startedAt}#${keyPart(run.runId)}`,
      data: plainRecord(run, 'run'),
      ttl: this.#runExpiry(),
    };
  }

  #resultItem(result: AccountResult): Item {
    return {
      pk: partitionKey('RUN#', result.runId),
      sk: `${RESULT_PREFIX}${keyPart(result.accountId)}`,
      kind: 'account-result',
      data: plainRecord(result, 'result'),
      ttl: this.#runExpiry(),
    };
  }

  #runExpiry(): number {
    return Math.floor(this.#table.clock() / 1000) + this.#runRetentionSeconds;
  }
}

function auditItem(record: AuditRecord): Item {
  const data = plainRecord(record, 'audit');
  const order = auditOrder(data);
  return {
    pk: partitionKey('AUDIT#', record.accountId),
    sk: order,
    kind: 'audit',
    [GSI_COLLECTION.partitionKey]: 'AUDIT',
    [GSI_COLLECTION.sortKey]: order,
    [GSI_RUN_AUDIT.partitionKey]: partitionKey('AUDIT#', record.runId),
    [GSI_RUN_AUDIT.sortKey]: order,
    data,
  };
}
