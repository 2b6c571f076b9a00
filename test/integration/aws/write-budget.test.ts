import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidConfigurationError, StoreThrottledError } from '../../../layers/engine/errors.js';
import { createStateTable } from '../../../layers/engine/stores/dynamo-schema.js';
import { DynamoWriteBudget } from '../../../layers/engine/stores/write-budget.js';
import { describeServer } from '../../../harness/servers/index.js';
import { MOTO_CREDENTIALS, MOTO_REGION } from './clients.js';

/** The write budget on DynamoDB (moto): several processes, one rate. */
describeServer('moto', 'the Secrets Manager write budget in the state table (DynamoDB on moto)', (moto) => {
  const tableName = `rpr-budget-${randomBytes(4).toString('hex')}`;
  const clients: DynamoDBClient[] = [];
  /** A process of its own: its own client, its own budget object, the same table. */
  const processBudget = (writesPerSecond: number, extra: { clock?: () => number; name?: string } = {}) => {
    const client = new DynamoDBClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    clients.push(client);
    return new DynamoWriteBudget({ client: DynamoDBDocumentClient.from(client), tableName, writesPerSecond, ...extra });
  };

  beforeAll(async () => {
    const admin = new DynamoDBClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    await createStateTable(admin, tableName);
    admin.destroy();
  });
  afterAll(() => clients.forEach((c) => c.destroy()));

  // Takers asking at once are tested on dynalite (test/unit/engine/stores/write-budget-dynalite.test.ts):
  // moto applies concurrent conditional updates of one item without a lock, which DynamoDB never does.

  it('restarts an idle queue from now (a little ahead), not from the slots it gave out long ago', async () => {
    let now = 1_000_000;
    const budget = processBudget(10, { clock: () => now, name: 'idle' });
    const first = await budget.slot();
    const second = await budget.slot();
    expect(second - first).toBeCloseTo(100, 6);

    now += 60_000;
    const later = await budget.slot();

    expect(later).toBeGreaterThanOrEqual(now);
    expect(later - now).toBeLessThan(100);
  });

  it('refuses a slot that would come after the deadline with StoreThrottledError, and waits for one before it', async () => {
    const budget = processBudget(1, { name: 'deadline' });
    await budget.take(Date.now() + 60_000);

    const e = await budget.take(Date.now() + 200).catch((x: unknown) => x);

    expect(e).toBeInstanceOf(StoreThrottledError);
    expect((e as Error).message).toMatch(/no slot before the account's time is up/);
  });

  it('refuses a rate that is not a positive number, naming secretsWriteRate', () => {
    for (const rate of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const e = (() => {
        try {
          processBudget(rate);
        } catch (x) {
          return x;
        }
        return undefined;
      })();
      expect(e, String(rate)).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe('secretsWriteRate');
    }
  });
});
