import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ResultsBucketProps {
  readonly key: IKey;
  /** How long per-account results are kept. Default: 365 days (noncurrent versions: 30 days). */
  readonly expiration?: Duration;
  /** Default: RETAIN. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Where the Distributed Map writes each run's per-account results (ids and outcomes only):
 * KMS-encrypted with the deployment's key, private, TLS only, versioned, with server access
 * logs to a second bucket (S3 delivers access logs only to SSE-S3 buckets).
 */
export class ResultsBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: ResultsBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy,
    });
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'results/',
      lifecycleRules: [{ expiration: props.expiration ?? Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy,
    });
  }
}
