import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { RESET_WRITES } from '../layers/engine/stores/dynamo-schema.js';

/** The item writes DynamoDB authorizes one by one (a TransactWriteItems is authorized as these). */
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'] as const;

/**
 * What a reset may do with the state table: read everything (configuration included), and write
 * only the items a reset owns, by their partition keys' prefixes (`dynamodb:LeadingKeys`). A
 * compromised reset function can then not rewrite a resource's configuration or an account's
 * secret id.
 */
export function grantResetState(grantee: IGrantable, table: ITable): void {
  table.grantReadData(grantee);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [...WRITE_ACTIONS],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': RESET_WRITES.map((p) => `${p}*`) } },
    }),
  );
}
