import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';

/**
 * The state table's schema, shared by the embedded store, the tests and the CDK stack.
 *
 * One table, string keys `pk`/`sk`:
 *
 * | item           | pk                      | sk                  | gsi1 (pk / sk)                  | gsi2 (pk / sk)          | ttl |
 * |----------------|-------------------------|---------------------|---------------------------------|-------------------------|-----|
 * | resource       | `RESOURCE`              | resource id         |                                 |                         |     |
 * | account        | `ACCOUNTS#<resourceId>` | account id          | `ACCOUNT` / account id          |                         |     |
 * | lease          | `LEASE#<accountId>`     | `LEASE`             |                                 |                         | yes |
 * | set mark       | `SETMARK#<accountId>`   | version id          |                                 |                         | yes |
 * | SSH host key   | `HOSTKEY#<resourceId>`  | `SSH`               |                                 |                         |     |
 * | run            | `RUN#<runId>`           | `RUN`               | `RUNS` / `<startedAt>#<runId>`  |                         | yes |
 * | account result | `RUN#<runId>`           | `RESULT#<accountId>`|                                 |                         | yes |
 * | audit record   | `AUDIT#<accountId>`     | `<at>#<digest>`     | `AUDIT` / `<at>#<digest>`       | `AUDIT#<runId>` / same  |     |
 *
 * gsi1 lists a whole collection (all accounts, runs newest first, the whole audit trail);
 * gsi2 lists a run's audit records. Both are sparse and project all attributes.
 */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
  indexes: [
    { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
} as const;

/**
 * The partition-key prefixes of the items a reset (a workflow task, a rotation step, an agent's
 * task) writes: leases, set marks, host keys, runs and their results, audit records and the write
 * budget. Configuration (`RESOURCE`, `ACCOUNTS#`) it only reads; the deployment's IAM holds it to that.
 */
export const RESET_WRITES = ['LEASE#', 'SETMARK#', 'HOSTKEY#', 'RUN#', 'AUDIT#', 'BUDGET#'] as const;

/** An item's partition key, `<prefix><keyPart(id)>`; the prefixes a reset writes are RESET_WRITES. */
export function partitionKey(prefix: (typeof RESET_WRITES)[number] | 'ACCOUNTS#', id: string): string {
  return `${prefix}${keyPart(id)}`;
}

export const GSI_COLLECTION = STATE_TABLE.indexes[0];
export const GSI_RUN_AUDIT = STATE_TABLE.indexes[1];

/** Partition and sort keys are limited in bytes; ids longer than this (or starting with "~") are stored as a digest. */
const MAX_KEY_PART_BYTES = 400;

/**
 * The form of an id inside a key. Account ids may be up to 1,200 characters of any printable text,
 * longer than a sort key may be, so long ones become `~<sha256>`; the full id is kept in the item.
 */
export function keyPart(id: string): string {
  if (id.startsWith('~') || Buffer.byteLength(id, 'utf8') > MAX_KEY_PART_BYTES) {
    return `~${createHash('sha256').update(id, 'utf8').digest('hex')}`;
  }
  return id;
}

/**
 * Creates the state table (keys, both indexes, on-demand billing) and waits until it is active,
 * then turns on TTL where the server supports it (dynalite does not; expiry is still enforced by
 * the store's conditions, TTL only removes old items). Does nothing if the table exists.
 */
export async function createStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  if (!(await tableExists(client, tableName))) {
    const attributes = [STATE_TABLE.partitionKey, STATE_TABLE.sortKey, ...STATE_TABLE.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: attributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
          KeySchema: [
            { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
            { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: STATE_TABLE.indexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: 'HASH' },
              { AttributeName: index.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          })),
        }),
      );
    } catch (e) {
      // Another process created it between our check and our create.
      if (!(e instanceof Error && e.name === 'ResourceInUseException')) throw e;
    }
  }
  await waitUntilActive(client, tableName);
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
      }),
    );
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    // dynalite has no TTL; AWS refuses to enable TTL twice ("TimeToLive is already enabled").
    const alreadyEnabled = name === 'ValidationException' && e instanceof Error && /already enabled/i.test(e.message);
    if (name !== 'UnknownOperationException' && !alreadyEnabled) throw e;
  }
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (e) {
    if (e instanceof Error && e.name === 'ResourceNotFoundException') return false;
    throw e;
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === undefined || i.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become active within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
