import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { activityClientConfig } from '../layers/agent/agent.js';
import { AWS_RETRY } from '../layers/engine/stores/aws.js';

/** Static keys or a provider the SDK calls again before they expire. */
export type AwsCredentials = SFNClientConfig['credentials'];

/** Where a client goes: region, endpoint override (tests, moto) and credentials (default: the SDK's chain). */
export interface AwsTarget {
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: AwsCredentials;
}

/**
 * Every AWS client the CLI's deployment commands use, made here so tests can hand in fakes
 * or clients pointed at moto. `stackOutputs` reads a deployed stack's outputs.
 */
export interface AwsClients {
  sfn(t: AwsTarget): SFNClient;
  /** A Step Functions client whose requests outlive the activity API's 60 s long poll. */
  activitySfn(t: AwsTarget): SFNClient;
  scheduler(t: AwsTarget): SchedulerClient;
  secretsManager(t: AwsTarget): SecretsManagerClient;
  sts(t: AwsTarget): STSClient;
  lambda(t: AwsTarget): LambdaClient;
  dynamodb(t: AwsTarget): DynamoDBClient;
  stackOutputs(stack: string, t: AwsTarget): Promise<Record<string, string>>;
}

const config = (t: AwsTarget) => ({
  ...AWS_RETRY,
  ...(t.region ? { region: t.region } : {}),
  ...(t.endpoint ? { endpoint: t.endpoint } : {}),
  ...(t.credentials ? { credentials: t.credentials } : {}),
});

export const defaultAwsClients: AwsClients = {
  sfn: (t) => new SFNClient(config(t)),
  activitySfn: (t) => new SFNClient(activityClientConfig(config(t))),
  scheduler: (t) => new SchedulerClient(config(t)),
  secretsManager: (t) => new SecretsManagerClient(config(t)),
  sts: (t) => new STSClient(config(t)),
  lambda: (t) => new LambdaClient(config(t)),
  dynamodb: (t) => new DynamoDBClient(config(t)),
  async stackOutputs(stack, t) {
    const client = new CloudFormationClient(config(t));
    try {
      const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stack }));
      return Object.fromEntries((Stacks?.[0]?.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [])));
    } finally {
      client.destroy();
    }
  },
};

export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/**
 * Credentials of an assumed role, renewed with STS AssumeRole `refreshMarginMs` before they
 * expire. Concurrent callers share one request. The SDK calls the provider again when the
 * expiration nears, so a long-running agent never holds stale keys.
 */
export function assumeRoleCredentials(o: {
  sts: STSClient;
  roleArn: string;
  sessionName: string;
  /** Default 1 hour (the role's maximum session may be lower). */
  durationSeconds?: number;
  /** Default 5 minutes. */
  refreshMarginMs?: number;
  now?: () => number;
}): () => Promise<TemporaryCredentials> {
  const now = o.now ?? Date.now;
  const margin = o.refreshMarginMs ?? 5 * 60_000;
  let current: TemporaryCredentials | undefined;
  let pending: Promise<TemporaryCredentials> | undefined;
  const refresh = async () => {
    const { Credentials: c } = await o.sts.send(new AssumeRoleCommand({ RoleArn: o.roleArn, RoleSessionName: o.sessionName, DurationSeconds: o.durationSeconds ?? 3600 }));
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) throw new Error(`AssumeRole ${o.roleArn} returned no credentials`);
    current = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: new Date(c.Expiration) };
    return current;
  };
  return async () => {
    if (current && current.expiration.getTime() - margin > now()) return current;
    pending ??= refresh().finally(() => (pending = undefined));
    return pending;
  };
}
