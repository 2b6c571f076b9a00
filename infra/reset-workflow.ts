import { Duration, Stack } from 'aws-cdk-lib';
import { STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2 } from 'aws-cdk-lib/cx-api';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  Choice,
  Condition,
  CustomerManagedEncryptionConfiguration,
  DefinitionBody,
  DistributedMap,
  Fail,
  JitterType,
  JsonPath,
  LogLevel,
  Pass,
  ResultWriterV2,
  S3JsonItemReader,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  type Activity,
  type IChainable,
  type RetryProps,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke, StepFunctionsInvokeActivity } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { functionProps } from './bundling.js';
import { encryptedLogGroup } from './encryption-key.js';
import type { ResetFunctions } from './reset-functions.js';

/** Lambda's own transient failures: the function did not run, or was throttled (a per-type cap). */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;
/**
 * The engine's errors after which a group may run again: the target was not changed. Never
 * OutcomeUnknownError (a change may have happened; the engine reconciles it) nor States.ALL.
 */
export const RETRYABLE_ENGINE_ERRORS = ['TargetTimeoutError', 'ThrottledError'] as const;
/**
 * Lambda ended an invocation at its timeout. The retry is safe: the run's leases are taken back by
 * the run, and each account's version token is the run's, so the retry resumes what was cut off.
 */
export const CUT_OFF_ERRORS = ['Sandbox.Timedout'] as const;

/**
 * A Lambda task's timeout is its function's and this much more: Lambda, not the task, ends a long
 * invocation (a task that gave up first could be retried while the invocation still runs).
 */
export const TASK_TIMEOUT_MARGIN = Duration.minutes(1);
const PLAN_TIMEOUT = Duration.minutes(5);
const SUMMARIZE_TIMEOUT = Duration.minutes(5);

export interface ResetWorkflowProps {
  readonly key: IKey;
  readonly table: ITable;
  readonly resultsBucket: IBucket;
  readonly functions: ResetFunctions;
  /** Agent site → its activity. Default: none. */
  readonly activities?: ReadonlyMap<string, Activity>;
  /** Groups run at once. Default: 10. */
  readonly maxConcurrency?: number;
  /** Share of groups that may fail before the run stops starting new ones. Default: 10 (percent). */
  readonly toleratedFailurePercentage?: number;
  /** An agent must heartbeat within this. Default: 5 minutes. */
  readonly heartbeatTimeout?: Duration;
  /**
   * One agent task's time limit. Default: 1 hour. The agent returns what is left before it (its
   * `taskTimeLimitMs`, default 55 minutes), and the workflow carries it on in another task.
   */
  readonly agentTaskTimeout?: Duration;
  /** One run's time limit. Default: 24 hours. */
  readonly timeout?: Duration;
  /** Attempts after the first for retryable errors. Default: 3. */
  readonly maxRetries?: number;
  /** The bus summarize emits `PasswordReset …` events on. Default: the account's default bus. */
  readonly eventBusName?: string;
}

/**
 * The bulk reset: plan (validate, expand the selector, group accounts by resource) → a
 * Distributed Map over the groups, each run by its type's function (site "cloud") or by its
 * site's agent through an activity → summarize (record the run, emit events and the
 * out-of-sync metric). Only ids travel in the state; results go to the encrypted bucket.
 *
 * Per-type concurrency: the Map's MaxConcurrency bounds a run; a type's reserved concurrency
 * (`ResetFunctionsProps.typeConcurrency`) caps its function across runs and rotations, and
 * the throttles it causes (Lambda.TooManyRequestsException) are retried with full jitter.
 *
 * Large groups: a task returns before its function's time is up with what is left as `next`,
 * and the item's loop runs that next, so no group is bounded by one invocation's 15 minutes.
 * Secrets Manager's write quota is kept by a budget the functions share (ResetFunctionsProps.secretsWriteRate).
 */
export class ResetWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly plan: LambdaFunction;
  readonly summarize: LambdaFunction;

  constructor(scope: Construct, id: string, props: ResetWorkflowProps) {
    super(scope, id);
    // ResultWriterV2 (`Arguments`, writer configuration) renders only under this flag; set here so the construct works in any app.
    this.node.setContext(STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
    const stack = Stack.of(this);
    const retry = (errors: readonly string[]): RetryProps => ({
      errors: [...errors],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxDelay: Duration.minutes(1),
      maxAttempts: props.maxRetries ?? 3,
      jitterStrategy: JitterType.FULL,
    });

    const planScope = new Construct(this, 'Plan');
    this.plan = new LambdaFunction(planScope, 'Function', {
      ...functionProps(planScope, {
        entry: 'functions/plan.ts',
        description: 'rpr: validates a reset request, expands its selector and groups the accounts by resource',
        key: props.key,
        environment: { RPR_TABLE: props.table.tableName, RPR_RESULTS_BUCKET: props.resultsBucket.bucketName },
        timeout: PLAN_TIMEOUT,
      }),
    });
    props.table.grantReadWriteData(this.plan);
    // The run's groups go to plans/<runId>.json, read by the Map's item reader: a state's payload (256 KB) does not bound a run.
    Grant.addToPrincipal({ grantee: this.plan, actions: ['s3:PutObject'], resourceArns: [props.resultsBucket.arnForObjects('plans/*')] });
    props.key.grantEncrypt(this.plan);

    const eventBus = EventBus.fromEventBusName(this, 'EventBus', props.eventBusName ?? 'default');
    const summarizeScope = new Construct(this, 'Summarize');
    this.summarize = new LambdaFunction(summarizeScope, 'Function', {
      ...functionProps(summarizeScope, {
        entry: 'functions/summarize.ts',
        description: 'rpr: records a run, emits its PasswordReset events and the out-of-sync metric',
        key: props.key,
        environment: {
          RPR_TABLE: props.table.tableName,
          RPR_EVENT_BUS: eventBus.eventBusName,
        },
        timeout: SUMMARIZE_TIMEOUT,
      }),
    });
    props.table.grantReadWriteData(this.summarize);
    eventBus.grantPutEventsTo(this.summarize);
    // PutMetricData has no resource; the condition keeps it to the rpr namespace.
    Grant.addToPrincipal({
      grantee: this.summarize,
      actions: ['cloudwatch:PutMetricData'],
      resourceArns: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': 'rpr' } },
    });

    const planTask = new LambdaInvoke(this, 'PlanTask', {
      stateName: 'Plan',
      lambdaFunction: this.plan,
      payload: TaskInput.fromObject({ request: JsonPath.entirePayload, executionName: JsonPath.executionName }),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
      taskTimeout: Timeout.duration(PLAN_TIMEOUT.plus(TASK_TIMEOUT_MARGIN)),
    }).addRetry(retry(LAMBDA_SERVICE_ERRORS));

    const summarizeTask = new LambdaInvoke(this, 'SummarizeTask', {
      stateName: 'Summarize',
      lambdaFunction: this.summarize,
      payload: TaskInput.fromObject({
        runId: JsonPath.stringAt('$.runId'),
        // The Map's ResultWriterDetails, or its Error and Cause when it failed (logged only: the store holds the results).
        mapResult: JsonPath.objectAt('$.map'),
      }),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
      taskTimeout: Timeout.duration(SUMMARIZE_TIMEOUT.plus(TASK_TIMEOUT_MARGIN)),
    }).addRetry(retry(LAMBDA_SERVICE_ERRORS));

    // One group: its type's function in the cloud, or its site's agent; then, while the task hands
    // back what did not fit in its invocation (`next`), the same again with what is left.
    const bySite = new Choice(this, 'BySite', { stateName: 'Which site' });
    const byType = new Choice(this, 'ByType', { stateName: 'Cloud: which type' });
    const more = new Choice(this, 'More', { stateName: 'More accounts?' })
      .when(Condition.isPresent('$.next'), new Pass(this, 'CarryOn', { stateName: 'Carry on', outputPath: '$.next' }).next(bySite))
      .otherwise(new Succeed(this, 'GroupDone', { stateName: 'Group done' }));
    const taskTimeout = Timeout.duration(props.functions.timeout.plus(TASK_TIMEOUT_MARGIN));
    for (const [type, fn] of props.functions.functions) {
      const task = new LambdaInvoke(this, `Reset-${type}`, {
        stateName: `Reset ${type}`,
        lambdaFunction: fn,
        outputPath: '$.Payload',
        retryOnServiceExceptions: false,
        taskTimeout,
      }).addRetry(retry([...LAMBDA_SERVICE_ERRORS, ...RETRYABLE_ENGINE_ERRORS, ...CUT_OFF_ERRORS]));
      byType.when(Condition.stringEquals('$.type', type), task.next(more));
    }
    byType.otherwise(new Fail(this, 'TypeNotImplemented', { stateName: 'Type not implemented', error: 'NotSupportedError', cause: 'this type has no reset function yet' }));

    bySite.when(Condition.stringEquals('$.site', 'cloud'), byType);
    for (const [site, activity] of props.activities ?? new Map<string, Activity>()) {
      const task = new StepFunctionsInvokeActivity(this, `Agent-${site}`, {
        stateName: `Agent ${site}`,
        activity,
        heartbeatTimeout: Timeout.duration(props.heartbeatTimeout ?? Duration.minutes(5)),
        taskTimeout: Timeout.duration(props.agentTaskTimeout ?? Duration.hours(1)),
      }).addRetry(retry(RETRYABLE_ENGINE_ERRORS));
      bySite.when(Condition.stringEquals('$.site', site), task.next(more));
    }
    bySite.otherwise(new Fail(this, 'UnknownSite', { stateName: 'Unknown site', error: 'InvalidConfigurationError', cause: 'site: no agent site of this name is deployed' }));

    const groups = new DistributedMap(this, 'Groups', {
      stateName: 'Reset groups',
      itemReader: new S3JsonItemReader({ bucket: props.resultsBucket, key: JsonPath.stringAt('$.items.key') }),
      mapExecutionType: StateMachineType.STANDARD,
      maxConcurrency: props.maxConcurrency ?? 10,
      toleratedFailurePercentage: props.toleratedFailurePercentage ?? 10,
      resultWriterV2: new ResultWriterV2({ bucket: props.resultsBucket, prefix: 'runs' }),
      resultPath: '$.map',
    });
    groups.itemProcessor(bySite);
    // A run that exceeds its failure threshold is still summarized, with the Map's error.
    groups.addCatch(summarizeTask, { errors: ['States.ALL'], resultPath: '$.map' });

    const definition: IChainable = planTask.next(groups).next(summarizeTask);
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromChainable(definition),
      stateMachineType: StateMachineType.STANDARD,
      timeout: props.timeout ?? Duration.hours(24),
      tracingEnabled: true,
      encryptionConfiguration: new CustomerManagedEncryptionConfiguration(props.key),
      logs: { destination: encryptedLogGroup(this, 'Logs', props.key), level: LogLevel.ALL, includeExecutionData: false },
      comment: `rpr bulk reset (${stack.stackName}): plan, reset groups, summarize; only ids in the state`,
    });
    // The Map writes results under the key.
    props.key.grantEncryptDecrypt(this.stateMachine);
  }
}
