import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { partitionKey } from './dynamo-schema.js';
import { hostKeyRecord, noHostKeyToReplace } from './state-rules.js';
import type { HostKeyRecord } from './types.js';

const HOST_KEY_SK = 'SSH';

/**
 * Resources' SSH host keys in the state table: one item per resource, `HOSTKEY#<resourceId>` /
 * `SSH`, written only by a conditional put on the fingerprint it replaces, so two groups that see
 * a resource for the first time at once cannot record two different keys.
 */
export class DynamoHostKeys {
  readonly #client: Pick<DynamoDBDocumentClient, 'send'>;
  readonly #table: string;

  constructor(client: Pick<DynamoDBDocumentClient, 'send'>, tableName: string) {
    this.#client = client;
    this.#table = tableName;
  }

  async get(resourceId: string): Promise<HostKeyRecord | undefined> {
    const { Item } = await this.#client.send(new GetCommand({ TableName: this.#table, Key: key(resourceId), ConsistentRead: true }));
    return Item?.data as HostKeyRecord | undefined;
  }

  async record(record: HostKeyRecord, previous: string | undefined): Promise<HostKeyRecord> {
    const data = hostKeyRecord(record);
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...key(record.resourceId), kind: 'host-key', data },
          ...(previous === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: '#d.#fp = :previous', ExpressionAttributeNames: { '#d': 'data', '#fp': 'sha256' }, ExpressionAttributeValues: { ':previous': previous } }),
        }),
      );
      return data;
    } catch (e) {
      if (!(e instanceof Error && e.name === 'ConditionalCheckFailedException')) throw e;
    }
    // Another writer came first; no one deletes these items, so what it wrote is there to read.
    const held = await this.get(record.resourceId);
    if (!held) throw noHostKeyToReplace(record.resourceId);
    return held;
  }
}

function key(resourceId: string): { pk: string; sk: string } {
  return { pk: partitionKey('HOSTKEY#', resourceId), sk: HOST_KEY_SK };
}
