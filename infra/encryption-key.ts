import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface EncryptionKeyProps {
  /** What happens to the key when the stack is deleted. Default: RETAIN (the table and logs it encrypts outlive the stack). */
  readonly removalPolicy?: RemovalPolicy;
  /** Waiting period before a removed key is deleted. Default: 30 days. */
  readonly pendingWindow?: Duration;
}

/**
 * The deployment's one customer-managed key (rotation on): the state table, the state machine
 * and activities, the results bucket and every log group. Principals get it through grants;
 * only CloudWatch Logs, which cannot be granted through IAM, is named in the key policy, and
 * only for this account's log groups in this region.
 */
export class EncryptionKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new Key(this, 'Key', {
      enableKeyRotation: true,
      description: `rpr (${stack.stackName}): state, workflow, results and logs`,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      pendingWindow: props.pendingWindow ?? Duration.days(30),
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'], // in a key policy, "*" is this key
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` },
        },
      }),
    );
  }
}

/** A log group encrypted with the deployment's key; logs are kept a year by default. */
export function encryptedLogGroup(scope: Construct, id: string, key: IKey, retention: RetentionDays = RetentionDays.ONE_YEAR): LogGroup {
  return new LogGroup(scope, id, { encryptionKey: key, retention, removalPolicy: RemovalPolicy.RETAIN });
}
