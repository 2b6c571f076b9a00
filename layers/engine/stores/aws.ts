import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStateStore } from './dynamo.js';
import { SecretsManagerStore } from './secrets-manager.js';

export interface AwsStoresOptions {
  /** The state table (created by the CDK stack, or by createStateTable). */
  readonly tableName: string;
  /** Default: the SDK's own resolution (AWS_REGION, profile). */
  readonly region?: string;
  /** A different endpoint for both services, e.g. moto's in tests. */
  readonly endpoint?: string;
  /** Keys, or a provider that renews them (an assumed role); default: the SDK's credential chain. */
  readonly credentials?: DynamoDBClientConfig['credentials'];
}

export interface AwsStores {
  readonly state: DynamoStateStore;
  readonly credentials: SecretsManagerStore;
  close(): Promise<void>;
}

/** The stores on AWS: DynamoDB for state, Secrets Manager for credentials. */
export async function openAwsStores(options: AwsStoresOptions): Promise<AwsStores> {
  const config = {
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
  const dynamo = new DynamoDBClient(config);
  const secrets = new SecretsManagerClient(config);
  return {
    state: new DynamoStateStore({
      client: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
      tableName: options.tableName,
    }),
    credentials: new SecretsManagerStore({ client: secrets }),
    async close() {
      dynamo.destroy();
      secrets.destroy();
    },
  };
}
