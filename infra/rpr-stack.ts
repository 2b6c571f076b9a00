import { CfnOutput, Stack, type Duration, type StackProps } from 'aws-cdk-lib';
import type { IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { IPrincipal } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { ResourceType } from '../layers/resources/common.js';
import { RESOURCE_TYPE_DEFINITIONS } from '../layers/resources/registry.js';
import { AgentSites } from './agent-sites.js';
import { ResetAlarms } from './alarms.js';
import { EncryptionKey } from './encryption-key.js';
import { Network, type ExistingVpc } from './network.js';
import { acknowledgeFindings } from './nag.js';
import { ResetApi } from './reset-api.js';
import { implementedTypes, ResetFunctions, type RotationOptions } from './reset-functions.js';
import { ResetSchedules } from './reset-schedules.js';
import { ResetWorkflow } from './reset-workflow.js';
import { ResultsBucket } from './results-bucket.js';
import { StateTable } from './state-table.js';

export interface RprStackProps extends StackProps {
  /** An existing VPC for the on-premises functions. Default: a new isolated VPC (no NAT) with endpoints. */
  readonly vpc?: ExistingVpc;
  /** See NetworkProps.createEndpoints. Default: true. */
  readonly createEndpoints?: boolean;
  /** See NetworkProps.dynamoDbPrefixListId. Default: none. */
  readonly dynamoDbPrefixListId?: string;
  /** Agent sites. Default: none. */
  readonly sites?: readonly string[];
  /** Who may assume the agent roles. Default: this account. */
  readonly agentPrincipal?: IPrincipal;
  /** See ResetFunctionsProps.targetCidrs. Default: RFC 1918. */
  readonly targetCidrs?: readonly string[];
  /** See ResetFunctionsProps.extraPorts. */
  readonly extraPorts?: Partial<Record<ResourceType, readonly number[]>>;
  /** See ResetFunctionsProps.typeConcurrency. Default: no per-type cap. */
  readonly typeConcurrency?: Partial<Record<ResourceType, number>>;
  /** Groups run at once. Default: 10. */
  readonly maxConcurrency?: number;
  /** See ResetFunctionsProps.timeout. Default: 15 minutes. */
  readonly functionTimeout?: Duration;
  /** See ResetFunctionsProps.secretsWriteRate. Default: 45 writes per second. */
  readonly secretsWriteRate?: number;
  /** Default: 10 (percent). */
  readonly toleratedFailurePercentage?: number;
  /** Where alarms go. Default: none. */
  readonly alarmAction?: IAlarmAction;
}

/**
 * The deployment: the key, the state table, one reset function per implemented type (also
 * its accounts' rotation function), the bulk-reset workflow with its results bucket, agent
 * sites, the schedule group, the API and alarms. `cdk.json` context sets the props (see
 * context.ts); nothing is looked up, so `cdk synth` works offline.
 */
export class RprStack extends Stack {
  readonly encryption: EncryptionKey;
  readonly state: StateTable;
  readonly network?: Network;
  readonly resetFunctions: ResetFunctions;
  readonly results: ResultsBucket;
  readonly sites: AgentSites;
  readonly workflow: ResetWorkflow;
  readonly schedules: ResetSchedules;
  readonly api: ResetApi;
  readonly alarms: ResetAlarms;

  constructor(scope: Construct, id: string, props: RprStackProps = {}) {
    super(scope, id, props);
    this.encryption = new EncryptionKey(this, 'Encryption');
    const key = this.encryption.key;
    this.state = new StateTable(this, 'State', { encryptionKey: key });
    const table = this.state.table;

    if (implementedTypes().some((t) => RESOURCE_TYPE_DEFINITIONS[t].onPremises)) {
      this.network = new Network(this, 'Network', {
        encryptionKey: key,
        ...(props.vpc ? { vpc: props.vpc } : {}),
        ...(props.createEndpoints !== undefined ? { createEndpoints: props.createEndpoints } : {}),
        ...(props.dynamoDbPrefixListId ? { dynamoDbPrefixListId: props.dynamoDbPrefixListId } : {}),
      });
    }
    this.resetFunctions = new ResetFunctions(this, 'Reset', {
      key,
      table,
      ...(this.network ? { network: this.network } : {}),
      ...(props.targetCidrs ? { targetCidrs: props.targetCidrs } : {}),
      ...(props.extraPorts ? { extraPorts: props.extraPorts } : {}),
      ...(props.typeConcurrency ? { typeConcurrency: props.typeConcurrency } : {}),
      ...(props.functionTimeout ? { timeout: props.functionTimeout } : {}),
      ...(props.secretsWriteRate !== undefined ? { secretsWriteRate: props.secretsWriteRate } : {}),
    });
    this.results = new ResultsBucket(this, 'Results', { key });
    this.sites = new AgentSites(this, 'Sites', { key, table, sites: props.sites ?? [], ...(props.agentPrincipal ? { agentPrincipal: props.agentPrincipal } : {}) });
    this.workflow = new ResetWorkflow(this, 'Workflow', {
      key,
      table,
      resultsBucket: this.results.bucket,
      functions: this.resetFunctions,
      activities: this.sites.activities,
      ...(props.maxConcurrency !== undefined ? { maxConcurrency: props.maxConcurrency } : {}),
      ...(props.toleratedFailurePercentage !== undefined ? { toleratedFailurePercentage: props.toleratedFailurePercentage } : {}),
    });
    const stateMachine = this.workflow.stateMachine;
    this.schedules = new ResetSchedules(this, 'Schedules', { stateMachine });
    this.api = new ResetApi(this, 'Api', { key, table, stateMachine });
    this.alarms = new ResetAlarms(this, 'Alarms', { stateMachine, functions: this.resetFunctions.functions, ...(props.alarmAction ? { alarmAction: props.alarmAction } : {}) });

    new CfnOutput(this, 'StateTableName', { value: table.tableName, description: 'rpr --store aws --table <this>' });
    new CfnOutput(this, 'StateMachineArn', { value: stateMachine.stateMachineArn, description: 'the bulk reset workflow' });
    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'POST resets, GET resets/{id} (SigV4)' });
    new CfnOutput(this, 'ResultsBucketName', { value: this.results.bucket.bucketName });
    new CfnOutput(this, 'ScheduleGroupName', { value: this.schedules.group.scheduleGroupName });
    new CfnOutput(this, 'SchedulerRoleArn', { value: this.schedules.role.roleArn });
    // One per type: `rpr rotation enable --function-arn` and `rpr deploy-check` read these.
    for (const [type, fn] of this.resetFunctions.functions) {
      new CfnOutput(this, `ResetFunction${pascal(type)}Arn`, { value: fn.functionArn, description: `the ${type} reset and rotation function` });
    }
    for (const [site, activity] of this.sites.activities) {
      const role = this.sites.roles.get(site)!;
      const name = pascal(site);
      new CfnOutput(this, `Site${name}ActivityArn`, { value: activity.activityArn, description: `rpr agent --site ${site}: its activity` });
      new CfnOutput(this, `Site${name}AgentRoleArn`, { value: role.roleArn, description: `rpr agent --site ${site}: the role it assumes` });
    }
    acknowledgeFindings(this);
  }

  /** Turns on Secrets Manager rotation for a managed secret (see ResetFunctions.enableRotation). */
  enableRotation(secret: ISecret, type: ResourceType, options: RotationOptions = {}) {
    return this.resetFunctions.enableRotation(secret, type, options);
  }
}

/** "hp-ux" -> "HpUx": output ids allow letters and digits only. */
function pascal(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_, _d: string, c: string) => c.toUpperCase());
}
