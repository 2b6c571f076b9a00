import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStateStore } from './dynamo.js';
import { SecretsManagerStore } from './secrets-manager.js';
import { DEFAULT_SECRETS_WRITE_RATE, DynamoWriteBudget } from './write-budget.js';

/**
 * The SDK's retry for the product's AWS clients: adaptive (a client-side rate limiter that slows
 * down after throttles) with room for a burst of them. The Secrets Manager client of the stores
 * is the exception: the store retries each call itself (patience.ts), so that every attempt of a
 * write takes its slot from the write budget, and makes one SDK attempt per call.
 */
export const AWS_RETRY = { retryMode: 'adaptive', maxAttempts: 10 } as const;

export interface AwsStoresOptions {
  /** The state table (created by the CDK stack, or by createStateTable). */
  readonly tableName: string;
  /** Default: the SDK's own resolution (AWS_REGION, profile). */
  readonly region?: string;
  /** A different endpoint for both services, e.g. moto's in tests. */
  readonly endpoint?: string;
  /** Keys, or a provider that renews them (an assumed role); default: the SDK's credential chain. */
  readonly credentials?: DynamoDBClientConfig['credentials'];
  /**
   * Secrets Manager writes per second for every process of the deployment together (a budget kept
   * in the state table). Default 45: 90 % of the account's and region's quota of 50, which it
   * shares with every other writer of secrets there.
   */
  readonly secretsWriteRate?: number;
}

export interface AwsStores {
  readonly state: DynamoStateStore;
  readonly credentials: SecretsManagerStore;
  /** The SDK clients the stores send through (a benchmark counts their calls with a middleware). */
  readonly clients: { readonly dynamo: DynamoDBClient; readonly secrets: SecretsManagerClient };
  close(): Promise<void>;
}

/** The stores on AWS: DynamoDB for state, Secrets Manager for credentials. */
export async function openAwsStores(options: AwsStoresOptions): Promise<AwsStores> {
  const config = {
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
  const dynamo = new DynamoDBClient({ ...config, ...AWS_RETRY });
  const secrets = new SecretsManagerClient({ ...config, maxAttempts: 1 });
  const documents = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const writeBudget = new DynamoWriteBudget({ client: documents, tableName: options.tableName, writesPerSecond: options.secretsWriteRate ?? DEFAULT_SECRETS_WRITE_RATE });
  return {
    state: new DynamoStateStore({ client: documents, tableName: options.tableName }),
    credentials: new SecretsManagerStore({ client: secrets, writeBudget }),
    clients: { dynamo, secrets },
    async close() {
      dynamo.destroy();
      secrets.destroy();
    },
  };
}
