import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** The metric summarize publishes: accounts whose stored password could not be proven current. */
export const OUT_OF_SYNC_METRIC = { namespace: 'rpr', metricName: 'OutOfSyncAccounts' } as const;

export interface ResetAlarmsProps {
  readonly stateMachine: IStateMachine;
  /** The reset functions, by type: their errors and throttles alarm too (a failed rotation step is a function error). */
  readonly functions?: ReadonlyMap<string, IFunction>;
  /** Where alarms go (e.g. an SNS topic action). Default: none; the alarms still show in CloudWatch. */
  readonly alarmAction?: IAlarmAction;
  /** Default: 5 minutes. */
  readonly period?: Duration;
}

/** Alarms on failed, throttled and aborted runs, on any out-of-sync account, and on the reset functions' errors and throttles. */
export class ResetAlarms extends Construct {
  /** Per reset function: its errors and its throttles. */
  readonly functionErrors = new Map<string, Alarm>();
  readonly functionThrottles = new Map<string, Alarm>();
  readonly failed: Alarm;
  readonly throttled: Alarm;
  readonly aborted: Alarm;
  readonly outOfSync: Alarm;

  constructor(scope: Construct, id: string, props: ResetAlarmsProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);
    const atLeastOne = (name: string, metric: Metric, description: string): Alarm => {
      const alarm = new Alarm(this, name, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (props.alarmAction) alarm.addAlarmAction(props.alarmAction);
      return alarm;
    };
    this.failed = atLeastOne('Failed', props.stateMachine.metricFailed({ period, statistic: 'Sum' }), 'rpr: a reset run failed');
    this.throttled = atLeastOne('Throttled', props.stateMachine.metricThrottled({ period, statistic: 'Sum' }), 'rpr: reset runs were throttled');
    this.aborted = atLeastOne('Aborted', props.stateMachine.metricAborted({ period, statistic: 'Sum' }), 'rpr: a reset run was aborted');
    this.outOfSync = atLeastOne(
      'OutOfSync',
      new Metric({ ...OUT_OF_SYNC_METRIC, statistic: 'Sum', period }),
      'rpr: accounts are out of sync (their record says which stored version works)',
    );
    for (const [type, fn] of props.functions ?? []) {
      const id = type.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
      this.functionErrors.set(type, atLeastOne(`${id}Errors`, fn.metricErrors({ period, statistic: 'Sum' }), `rpr: the reset-${type} function failed (a workflow task or a rotation step)`));
      this.functionThrottles.set(type, atLeastOne(`${id}Throttles`, fn.metricThrottles({ period, statistic: 'Sum' }), `rpr: the reset-${type} function was throttled by Lambda`));
    }
  }
}
