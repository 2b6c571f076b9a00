import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** moto accepts any credentials; these say where they came from. */
export const MOTO_CREDENTIALS = { accessKeyId: 'moto-test', secretAccessKey: 'moto-test' } as const;
export const MOTO_REGION = 'us-east-1';

export function motoSecretsManager(endpoint: string): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
}

export function motoDynamoDb(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
}
