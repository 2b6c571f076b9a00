import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STATE_TABLE } from '../layers/engine/stores/dynamo-schema.js';

export interface StateTableProps {
  /** The customer-managed key that encrypts the table. Default: a new key with rotation on. */
  readonly encryptionKey?: Key;
  /** What happens to the table when the stack is deleted. Default: RETAIN (it holds the audit trail). */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The engine's state table (resources, accounts, leases, runs, audit trail), with the key
 * schema and indexes the DynamoStateStore uses: on-demand, point-in-time recovery, TTL for
 * leases, set marks and old runs, encrypted with a customer-managed key.
 */
export class StateTable extends Construct {
  readonly table: Table;
  readonly encryptionKey: Key;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey ?? new Key(this, 'Key', { enableKeyRotation: true, description: 'rpr state table' });
    this.table = new Table(this, 'Table', {
      partitionKey: { name: STATE_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: STATE_TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      timeToLiveAttribute: STATE_TABLE.ttlAttribute,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    for (const index of STATE_TABLE.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
      });
    }
  }
}
