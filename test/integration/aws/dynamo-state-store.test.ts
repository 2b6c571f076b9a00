import { DeleteTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAwsStores } from '../../../layers/engine/stores/aws.js';
import { DynamoStateStore, createStateTable } from '../../../layers/engine/stores/dynamo.js';
import { stateStoreContract } from '../../contracts/state-store.js';
import { describeServer } from '../../../harness/servers/index.js';
import { MOTO_CREDENTIALS, MOTO_REGION, motoDynamoDb } from './clients.js';

describeServer('moto', 'DynamoStateStore on moto', ({ endpoint }) => {
  stateStoreContract("DynamoStateStore on moto's DynamoDB", async ({ clock, pageSize }) => {
    const client = motoDynamoDb(endpoint);
    const tableName = `rpr-contract-${randomUUID()}`;
    await createStateTable(client, tableName);
    const store = new DynamoStateStore({ client: DynamoDBDocumentClient.from(client), tableName, clock, pageSize });
    return {
      store,
      async close() {
        await client.send(new DeleteTableCommand({ TableName: tableName }));
        client.destroy();
      },
    };
  });

  describe('openAwsStores', () => {
    const tableName = `rpr-aws-stores-${randomUUID()}`;
    const client = motoDynamoDb(endpoint);
    beforeAll(() => createStateTable(client, tableName));
    afterAll(async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    });

    it('creates the table with TTL on the ttl attribute; creating it again does nothing', async () => {
      await expect(createStateTable(client, tableName)).resolves.toBeUndefined();

      const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
      expect(TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' });
    });

    it('writes plain items with a numeric ttl on leases, set marks and runs, and nothing secret', async () => {
      const stores = await openAwsStores({ tableName, endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
      try {
        await stores.state.acquire('r1/root', 'run-1', 60_000);
        await stores.state.markSetAttempt('r1/root', randomUUID());
        await stores.state.createRun({ runId: 'run-1', status: 'running', selector: {}, startedAt: new Date().toISOString(), counts: { total: 1 } });

        const { Items = [] } = await DynamoDBDocumentClient.from(client).send(new ScanCommand({ TableName: tableName }));

        expect(Items.map((i) => i.kind).sort()).toEqual(['lease', 'run', 'set-mark']);
        const nowSeconds = Date.now() / 1000;
        for (const item of Items) {
          expect(typeof item.ttl).toBe('number');
          expect(item.ttl).toBeGreaterThan(nowSeconds);
          expect(item.ttl).toBeLessThan(nowSeconds + 500 * 86_400);
        }
      } finally {
        await stores.close();
      }
    });
  });
});
