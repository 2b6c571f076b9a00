import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keyPart } from './dynamo-schema.js';

export interface DynamoMarksOptions {
  readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  readonly tableName: string;
  readonly clock: () => number;
  /** How long a mark is kept (DynamoDB TTL), longer than any reset can be retried. */
  readonly retentionSeconds: number;
}

/**
 * The marks a step leaves for its retries, one item per account and version: that `set` was
 * about to run (`data`, as the item has always held it), and that reconcile set the pending
 * password with the reconcile login (`reconcileSetAt`). Each mark is written with an update, so
 * writing one never wipes the other, and each write also answers whether it was there before,
 * so marking and asking cost one request.
 */
export class DynamoMarks {
  readonly #o: DynamoMarksOptions;

  constructor(options: DynamoMarksOptions) {
    this.#o = options;
  }

  async markSetAttempt(accountId: string, versionId: string): Promise<{ earlier: boolean }> {
    const now = this.#o.clock();
    const { Attributes } = await this.#o.client.send(
      new UpdateCommand({
        TableName: this.#o.tableName,
        Key: key(accountId, versionId),
        UpdateExpression: 'SET #kind = :kind, #data = if_not_exists(#data, :data), #ttl = :ttl',
        ExpressionAttributeNames: { '#kind': 'kind', '#data': 'data', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':kind': 'set-mark', ':data': { accountId, versionId, markedAt: new Date(now).toISOString() }, ':ttl': this.#expiry(now) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return { earlier: Attributes?.data !== undefined };
  }

  async hasSetAttempt(accountId: string, versionId: string): Promise<boolean> {
    const { Item } = await this.#o.client.send(new GetCommand({ TableName: this.#o.tableName, Key: key(accountId, versionId), ConsistentRead: true }));
    return Item?.data !== undefined;
  }

  async markReconcileSet(accountId: string, versionId: string): Promise<boolean> {
    const now = this.#o.clock();
    try {
      await this.#o.client.send(
        new UpdateCommand({
          TableName: this.#o.tableName,
          Key: key(accountId, versionId),
          UpdateExpression: 'SET #kind = :kind, #at = :at, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#at)',
          ExpressionAttributeNames: { '#kind': 'kind', '#at': 'reconcileSetAt', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':kind': 'set-mark', ':at': new Date(now).toISOString(), ':ttl': this.#expiry(now) },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof Error && e.name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }

  #expiry(now: number): number {
    return Math.floor(now / 1000) + this.#o.retentionSeconds;
  }
}

function key(accountId: string, versionId: string): { pk: string; sk: string } {
  return { pk: `SETMARK#${keyPart(accountId)}`, sk: keyPart(versionId) };
}
