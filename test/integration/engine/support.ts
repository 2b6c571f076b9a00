import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { openAwsStores } from '../../../layers/engine/stores/aws.js';
import { createStateTable } from '../../../layers/engine/stores/dynamo-schema.js';
import { AWSCURRENT, AWSPREVIOUS } from '../../../layers/engine/stores/types.js';
import { recordingStore } from '../../support/leaks.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };

/**
 * The engine on its production stores (DynamoDB and Secrets Manager, served by moto) with
 * every adapter; every value written to Secrets Manager is recorded for the leak search.
 */
export async function engineOnMoto(endpoint: string) {
  const tableName = `rpr-it-${randomBytes(4).toString('hex')}`;
  const admin = new DynamoDBClient({ ...AWS, endpoint });
  await createStateTable(admin, tableName);
  admin.destroy();
  const stores = await openAwsStores({ tableName, endpoint, ...AWS });
  const { store: credentials, written } = recordingStore(stores.credentials);
  const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials, log: new Log({ level: 'DEBUG' }), timeoutMs: 10_000 });
  const config = new Configurator(stores.state, credentials, REGISTRY);
  const prefix = tableName;
  return {
    tableName,
    stores,
    credentials,
    written,
    engine,
    config,
    /** A secret name unique to this suite. */
    secretName: (s: string) => `${prefix}/${s}`,
    async current(secretId: string) {
      return (await credentials.getValue(secretId, { stage: AWSCURRENT })).value.reveal();
    },
    async previous(secretId: string) {
      return (await credentials.getValue(secretId, { stage: AWSPREVIOUS })).value.reveal();
    },
    async results(runId: string) {
      return stores.state.listAccountResults(runId);
    },
    close: () => stores.close(),
  };
}

export type EngineHarness = Awaited<ReturnType<typeof engineOnMoto>>;
