import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { StateTable } from './state-table.js';

/**
 * The deployment. So far it holds the engine's state table, which `rpr --store aws --table NAME`
 * uses; the per-type functions, the workflow, rotation hooks, schedules, the API and agent sites
 * are being added (see the README).
 */
export class RprStack extends Stack {
  readonly state: StateTable;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.state = new StateTable(this, 'State');
    new CfnOutput(this, 'StateTableName', { value: this.state.table.tableName, description: 'rpr --store aws --table <this>' });
  }
}
