import { BatchGetCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Account } from '../account.js';
import type { ConfigStore, StoredResource } from './types.js';
import { GSI_COLLECTION, keyPart, partitionKey } from './dynamo-schema.js';
import { plainRecord, type DynamoTable } from './dynamo-table.js';
import { checkAccountId } from './state-rules.js';

const RESOURCE_PK = 'RESOURCE';

/** Resources and accounts in the state table: resources in one partition, each resource's accounts in their own. */
export class DynamoConfigStore implements ConfigStore {
  readonly #table: DynamoTable;

  constructor(table: DynamoTable) {
    this.#table = table;
  }

  async putResource(resource: StoredResource): Promise<void> {
    await this.#table.put({ pk: RESOURCE_PK, sk: keyPart(resource.id), kind: 'resource', data: plainRecord(resource, 'resource') });
  }

  async getResource(id: string): Promise<StoredResource | undefined> {
    return (await this.#table.get(RESOURCE_PK, keyPart(id)))?.data as StoredResource | undefined;
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
    return this.#table.collect<StoredResource>({
      KeyConditionExpression: 'pk = :pk',
      ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND '), ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: { ':pk': RESOURCE_PK, ...values },
      ConsistentRead: true,
    });
  }

  async deleteResource(id: string): Promise<void> {
    await this.#table.delete(RESOURCE_PK, keyPart(id));
  }

  /** Accounts live in their resource's partition, so an account's id must be `<resourceId>/<name>`. */
  async putAccount(account: Account): Promise<void> {
    checkAccountId(account);
    const key = accountKey(account.id)!;
    await this.#table.put({
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
    return (await this.#table.get(key.pk, key.sk))?.data as Account | undefined;
  }

  /**
   * An account and its resource in one BatchGetItem (consistent reads): an account's id names its
   * resource (`<resource id>/<name>`, as putAccount requires), so both keys are known at once.
   */
  async getAccountAndResource(accountId: string): Promise<{ account?: Account; resource?: StoredResource }> {
    const key = accountKey(accountId);
    if (!key) return {};
    const table = this.#table;
    let keys: Record<string, unknown>[] = [key, { pk: RESOURCE_PK, sk: keyPart(accountId.slice(0, accountId.indexOf('/'))) }];
    const found: Record<string, unknown>[] = [];
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** Math.min(attempt, 6)));
      const { Responses, UnprocessedKeys } = await table.client.send(new BatchGetCommand({ RequestItems: { [table.name]: { Keys: keys, ConsistentRead: true } } }));
      found.push(...(Responses?.[table.name] ?? []));
      keys = (UnprocessedKeys?.[table.name]?.Keys ?? []) as Record<string, unknown>[];
    }
    const account = found.find((i) => i.kind === 'account')?.data as Account | undefined;
    const resource = found.find((i) => i.kind === 'resource')?.data as StoredResource | undefined;
    return { ...(account ? { account } : {}), ...(resource ? { resource } : {}) };
  }

  async listAccounts(filter: { resourceId?: string } = {}): Promise<Account[]> {
    const accounts: Account[] = [];
    for await (const account of this.#iterateAccounts(filter)) accounts.push(account);
    return accounts;
  }

  /** Accounts one query page at a time. */
  async *#iterateAccounts(filter: { resourceId?: string }): AsyncGenerator<Account> {
    const input: Omit<QueryCommandInput, 'TableName'> =
      filter.resourceId !== undefined
        ? { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': partitionKey('ACCOUNTS#', filter.resourceId) }, ConsistentRead: true }
        : {
            IndexName: GSI_COLLECTION.indexName,
            KeyConditionExpression: '#gpk = :gpk',
            ExpressionAttributeNames: { '#gpk': GSI_COLLECTION.partitionKey },
            ExpressionAttributeValues: { ':gpk': 'ACCOUNT' },
          };
    for await (const item of this.#table.query(input)) yield item.data as Account;
  }

  async deleteAccount(id: string): Promise<void> {
    const key = accountKey(id);
    if (key) await this.#table.delete(key.pk, key.sk);
  }
}

function accountKey(id: string): { pk: string; sk: string } | undefined {
  const slash = id.indexOf('/');
  if (slash <= 0) return undefined;
  return { pk: partitionKey('ACCOUNTS#', id.slice(0, slash)), sk: keyPart(id) };
}
