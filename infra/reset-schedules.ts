import { Stack } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface ResetSchedulesProps {
  readonly stateMachine: IStateMachine;
}

/**
 * Where periodic resets live: a schedule group for the schedules `rpr schedule add` creates
 * (each one's input a stored selector), and the role EventBridge Scheduler uses to start the
 * workflow, which it may do and nothing else, on behalf of this account only.
 */
export class ResetSchedules extends Construct {
  readonly group: ScheduleGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: ResetSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.group = new ScheduleGroup(this, 'Group', {});
    this.role = new Role(this, 'Role', {
      description: 'rpr: EventBridge Scheduler starts the bulk reset workflow',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    props.stateMachine.grantStartExecution(this.role);
  }
}
