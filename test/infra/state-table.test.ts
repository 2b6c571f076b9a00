import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RprStack } from '../../infra/rpr-stack.js';
import { STATE_TABLE } from '../../layers/engine/stores/dynamo-schema.js';

describe('the state table in the stack', () => {
  const template = Template.fromStack(new RprStack(new App(), 'test'));

  it('is on-demand, with point-in-time recovery, TTL, and KMS encryption under a rotating customer-managed key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  it('has the key schema and indexes the DynamoStateStore queries', () => {
    const [table] = Object.values(template.findResources('AWS::DynamoDB::Table')) as { Properties: Record<string, unknown> }[];
    expect(table!.Properties.KeySchema).toEqual([
      { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    const indexes = table!.Properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown[] }[];
    expect(indexes.map((i) => i.IndexName).sort()).toEqual(STATE_TABLE.indexes.map((i) => i.indexName).sort());
  });
});
