import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
export { plainRecord } from './state-rules.js';

export type Item = Record<string, unknown>;

/**
 * The state table as the stores use it: one client, one table name, one clock, and the few
 * reads and writes every store makes (get, put, delete, paged query). Each store of
 * DynamoStateStore (configuration, leases, runs) is built on the same instance.
 */
export class DynamoTable {
  readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  readonly name: string;
  readonly clock: () => number;
  readonly #pageSize: number | undefined;

  constructor(options: { client: Pick<DynamoDBDocumentClient, 'send'>; name: string; clock: () => number; pageSize: number | undefined }) {
    this.client = options.client;
    this.name = options.name;
    this.clock = options.clock;
    this.#pageSize = options.pageSize;
  }

  async put(item: Item, condition?: string): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.name, Item: item, ...(condition ? { ConditionExpression: condition } : {}) }));
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.name, Key: { pk, sk }, ConsistentRead: true }));
    return Item;
  }

  async delete(pk: string, sk: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.name, Key: { pk, sk } }));
  }

  /** Every item of a query, page by page (a filtered page may be empty yet not the last). */
  async *query(input: Omit<QueryCommandInput, 'TableName'>, limit?: number): AsyncGenerator<Item> {
    let startKey: Record<string, unknown> | undefined;
    let yielded = 0;
    do {
      const pageLimit = this.#pageSize ?? (limit !== undefined && !input.FilterExpression ? limit - yielded : undefined);
      const page = await this.client.send(
        new QueryCommand({
          ...input,
          TableName: this.name,
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

  /** The records (`data`) of every item of a query; with `limit`, at most that many. */
  async collect<T>(input: Omit<QueryCommandInput, 'TableName'>, limit?: number): Promise<T[]> {
    if (limit !== undefined && limit <= 0) return [];
    const records: T[] = [];
    for await (const item of this.query(input, limit)) records.push(item.data as T);
    return records;
  }
}

export const DAY_SECONDS = 86_400;

/** Waits before retrying what a batch request left unprocessed: full jitter, growing with the attempt. */
export async function batchBackoff(attempt: number): Promise<void> {
  if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** Math.min(attempt, 6)));
}

export function isConditionFailure(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}
