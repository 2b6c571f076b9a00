import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvalidConfigurationError, NotFoundError } from '../engine/errors.js';
import { AWS_RETRY, openAwsStores } from '../engine/stores/aws.js';
import type { CredentialStore, StateStore } from '../engine/stores/types.js';

/** A secret as Secrets Manager names it, and the account its `rpr:account` tag names (if any). */
export interface SecretIdentity {
  readonly arn: string;
  readonly name: string;
  readonly taggedAccountId?: string;
}

/** What the workflow's functions work on: the engine's stores and a way to identify a secret. */
export interface WorkflowStores {
  readonly state: StateStore;
  readonly credentials: CredentialStore;
  describeSecret(secretId: string): Promise<SecretIdentity>;
}

/** The tag the Configurator puts on every secret it creates: the id of the account it belongs to. */
export const ACCOUNT_TAG = 'rpr:account';

export function describeSecretWith(client: SecretsManagerClient): WorkflowStores['describeSecret'] {
  return async (secretId) => {
    try {
      const d = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
      const tagged = d.Tags?.find((t) => t.Key === ACCOUNT_TAG)?.Value;
      return { arn: d.ARN ?? secretId, name: d.Name ?? secretId, ...(tagged ? { taggedAccountId: tagged } : {}) };
    } catch (e) {
      if (e instanceof Error && e.name === 'ResourceNotFoundException') throw new NotFoundError('SecretId', `secret ${secretId} does not exist`, { cause: e });
      throw e;
    }
  };
}

let fromEnvironment: Promise<WorkflowStores> | undefined;

/**
 * An AWS client's settings from the function's environment: the region Lambda sets
 * (`AWS_REGION`), `RPR_AWS_ENDPOINT` (another endpoint, e.g. moto's, for tests; S3 is then
 * addressed by path, as moto needs), and the SDK's adaptive retry.
 */
export function clientConfig(env: NodeJS.ProcessEnv = process.env): { region?: string; endpoint?: string; forcePathStyle?: boolean } & typeof AWS_RETRY {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const endpoint = env.RPR_AWS_ENDPOINT || undefined;
  return { ...(region ? { region } : {}), ...(endpoint ? { endpoint, forcePathStyle: true } : {}), ...AWS_RETRY };
}

/** `RPR_SECRETS_WRITE_RATE`: the deployment's Secrets Manager writes per second (see AwsStoresOptions.secretsWriteRate). */
export function secretsWriteRateFrom(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.RPR_SECRETS_WRITE_RATE;
  if (text === undefined || text === '') return undefined;
  const rate = Number(text);
  if (!(rate > 0) || !Number.isFinite(rate)) throw new InvalidConfigurationError('RPR_SECRETS_WRITE_RATE', `must be a positive number of writes per second, not "${text}"`);
  return rate;
}

/**
 * The AWS stores named by the function's environment, opened once per container:
 * `RPR_TABLE` (the state table), `RPR_AWS_ENDPOINT` (another endpoint, e.g. moto's, for tests),
 * `RPR_SECRETS_WRITE_RATE` (the write budget) and the region Lambda sets (`AWS_REGION`). Only
 * functions read the environment; adapters never do.
 */
export function storesFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<WorkflowStores> {
  fromEnvironment ??= (async () => {
    const tableName = env.RPR_TABLE;
    if (!tableName) throw new InvalidConfigurationError('RPR_TABLE', 'the function has no state table configured');
    const { region, endpoint } = clientConfig(env);
    const secretsWriteRate = secretsWriteRateFrom(env);
    const stores = await openAwsStores({ tableName, ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}), ...(secretsWriteRate ? { secretsWriteRate } : {}) });
    const secrets = new SecretsManagerClient({ ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}), ...AWS_RETRY });
    return { state: stores.state, credentials: stores.credentials, describeSecret: describeSecretWith(secrets) };
  })().catch((e: unknown) => {
    fromEnvironment = undefined; // a later invocation may find it configured
    throw e;
  });
  return fromEnvironment;
}

/** Forgets the container's stores (tests change the environment between suites). */
export function resetStoresFromEnvironment(): void {
  fromEnvironment = undefined;
}
