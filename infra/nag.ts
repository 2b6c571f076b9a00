import { AspectPriority, Aspects, CfnResource, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { NagSuppressions, type NagPackSuppression } from 'cdk-nag';

/**
 * Every AwsSolutions finding this deployment acknowledges instead of fixing, with the reason.
 * Each names the exact permission it covers (`appliesTo`), so a new wildcard is a new finding.
 */

const FUNCTION_LOGS: NagPackSuppression = {
  id: 'AwsSolutions-IAM4',
  reason: 'AWSLambdaBasicExecutionRole lets a function write its own CloudWatch logs and nothing else; it is the documented minimum for Lambda logging.',
  appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
};
const VPC_ACCESS: NagPackSuppression = {
  id: 'AwsSolutions-IAM4',
  reason: 'AWSLambdaVPCAccessExecutionRole manages the ENIs of an in-VPC function; EC2 accepts those calls only on "*", so a custom policy could not be narrower.',
  appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'],
};
const NODE_22: NagPackSuppression = {
  id: 'AwsSolutions-L1',
  reason: 'Node.js 22 is the runtime this project supports and tests its bundles under (the design pins it); moving to a newer runtime is a deliberate, tested change.',
};
const XRAY: NagPackSuppression = {
  id: 'AwsSolutions-IAM5',
  reason: 'X-Ray tracing: xray:PutTraceSegments and PutTelemetryRecords (and the sampling reads) take no resource but "*".',
  appliesTo: ['Resource::*'],
};
const KEY_ACTIONS: NagPackSuppression = {
  id: 'AwsSolutions-IAM5',
  reason: 'kms:GenerateDataKey* and kms:ReEncrypt* come from grantEncryptDecrypt and apply only to the deployment\'s own key (the resource is its ARN).',
  appliesTo: ['Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*'],
};
const TABLE_INDEXES: NagPackSuppression = {
  id: 'AwsSolutions-IAM5',
  reason: 'The state store queries the state table\'s global secondary indexes; "index/*" covers only the indexes of that one table.',
  appliesTo: [{ regex: '/^Resource::<State[A-Za-z0-9]+\\.Arn>\\/index\\/\\*$/' }],
};
const MANAGED_SECRETS: NagPackSuppression = {
  id: 'AwsSolutions-IAM5',
  reason: 'Account secrets are created later by `rpr account add`, so their names are unknown at deploy time; every statement on "secret:*" carries a condition on the secret\'s rpr:managed tag (and rpr:site for an agent).',
  appliesTo: ['Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:*'],
};

const ADMIN_ROLES: NagPackSuppression = {
  id: 'AwsSolutions-IAM5',
  reason: 'A cloud type\'s admin role (aws-iam\'s roleArn) is configured after deployment, possibly in another account, so its ARN is unknown here; sts:AssumeRole only, on roles under the /rpr/ path, and each role\'s trust policy must name this function\'s role too.',
  appliesTo: ['Resource::arn:<AWS::Partition>:iam::*:role/rpr/*'],
};

const SUPPRESSIONS: Record<string, NagPackSuppression[]> = {
  // The reset functions (all in the VPC today) and the workflow's own functions.
  '/Reset/': [
    FUNCTION_LOGS,
    VPC_ACCESS,
    NODE_22,
    { ...XRAY, reason: 'X-Ray needs "*"; cloudwatch:PutMetricData (a rotation that ends out of sync) takes no resource and is held to the rpr namespace by a condition.' },
    KEY_ACTIONS,
    TABLE_INDEXES,
    MANAGED_SECRETS,
    ADMIN_ROLES,
  ],
  '/Workflow/Plan/': [
    FUNCTION_LOGS,
    NODE_22,
    XRAY,
    KEY_ACTIONS,
    TABLE_INDEXES,
    {
      id: 'AwsSolutions-IAM5',
      reason: 'The plan step writes each run\'s groups to plans/<run id>.json in the results bucket (s3:PutObject only); run ids are made at run time.',
      appliesTo: [{ regex: '/^Resource::<Results[A-Za-z0-9]+\\.Arn>\\/plans\\/\\*$/' }],
    },
  ],
  '/Workflow/Summarize/': [
    FUNCTION_LOGS,
    NODE_22,
    KEY_ACTIONS,
    TABLE_INDEXES,
    {
      id: 'AwsSolutions-IAM5',
      reason: 'X-Ray needs "*"; cloudwatch:PutMetricData takes no resource and is held to the rpr namespace by a condition.',
      appliesTo: ['Resource::*'],
    },
  ],
  '/Workflow/StateMachine/': [
    KEY_ACTIONS,
    {
      id: 'AwsSolutions-IAM5',
      reason: 'Vended log delivery (logs:CreateLogDelivery and related) and X-Ray accept only "*"; both are what Step Functions logging and tracing require.',
      appliesTo: ['Resource::*'],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'lambda:InvokeFunction on "<function>:*" covers the versions and aliases of the workflow\'s own functions, as LambdaInvoke grants it.',
      appliesTo: [{ regex: '/^Resource::<(Reset|Workflow)[A-Za-z0-9]+\\.Arn>:\\*$/' }],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'The Distributed Map reads each run\'s groups and writes its result files, named at run time, in the results bucket only ("<bucket>/*").',
      appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:s3:::<Results[A-Za-z0-9]+>\\/\\*$/' }],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'The Distributed Map describes, stops and redrives the child executions of this state machine only, whose names are made at run time.',
      appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*$/' }],
    },
  ],
  '/Sites/': [
    KEY_ACTIONS,
    TABLE_INDEXES,
    MANAGED_SECRETS,
    {
      id: 'AwsSolutions-IAM5',
      reason: 'states:SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat are authorized by the task token, not a resource ARN; they accept only "*".',
      appliesTo: ['Resource::*'],
    },
  ],
  '/Api/Handler/': [
    FUNCTION_LOGS,
    NODE_22,
    XRAY,
    TABLE_INDEXES,
    {
      id: 'AwsSolutions-IAM5',
      reason: 'GET /resets/{id} describes executions of the reset workflow only; execution names are the callers\' idempotency keys, known at run time.',
      appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*$/' }],
    },
  ],
  '/Api/Api/': [
    {
      id: 'AwsSolutions-IAM4',
      reason: 'API Gateway\'s account-level logging role must carry AmazonAPIGatewayPushToCloudWatchLogs (set cloudWatchRole: false where the account has one).',
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs'],
    },
    {
      id: 'AwsSolutions-APIG3',
      reason: 'Every method requires SigV4 (IAM) authorization and the stage is throttled; a WAF web ACL can be associated where the API is exposed beyond the account\'s callers.',
    },
    {
      id: 'AwsSolutions-COG4',
      reason: 'Callers are machines and operators with AWS credentials: IAM (SigV4) authorization is on every method, by design, instead of a Cognito user pool.',
    },
  ],
};

/**
 * Applies the acknowledgements to the stack's resources by path, as an aspect that runs after the
 * mutating ones and before cdk-nag's checks: a role whose policy grew past IAM's
 * inline limit is split into OverflowPolicyN by a mutating aspect (one reset function per type
 * adds statements), and those resources are acknowledged as their role's default policy is.
 */
export function acknowledgeFindings(stack: Stack): void {
  Aspects.of(stack).add(
    {
      visit(node: IConstruct) {
        if (!(node instanceof CfnResource)) return;
        const path = `/${node.node.path}/`;
        for (const [fragment, suppressions] of Object.entries(SUPPRESSIONS)) if (path.includes(fragment)) NagSuppressions.addResourceSuppressions(node, suppressions);
      },
    },
    // After MUTATING (200), before cdk-nag's checks, which are added at the default priority (500).
    { priority: AspectPriority.MUTATING + 100 },
  );
}
