import type { Command } from 'commander';
import { DescribeContinuousBackupsCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetPolicyCommand } from '@aws-sdk/client-lambda';
import { DescribeActivityCommand, DescribeStateMachineCommand } from '@aws-sdk/client-sfn';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import { ARN, awsTarget, stackOutputs, type CommandContext } from './context.js';
import { table } from './format.js';

export interface Finding {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
}

const nameOf = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/**
 * `rpr deploy-check --stack NAME`: what a deployed stack is missing. It reads the stack's
 * outputs, then describes what they name: the state machine (logging without execution
 * data, tracing), the state table (active, point-in-time recovery), the agent activities,
 * the API endpoint, and on each reset function the permission Secrets Manager needs to
 * call it for rotation. Read-only.
 */
export function registerDeployCheck(program: Command, ctx: CommandContext): void {
  program
    .command('deploy-check')
    .description("report what a deployed stack is missing: workflow, table, activities, API endpoint, rotation permission on each function")
    .option('--stack <name>', 'the deployed stack')
    .option('--outputs-file <path>', 'the outputs "cdk deploy --outputs-file" wrote, instead of reading the stack')
    .action(async (o: { stack?: string; outputsFile?: string }) => {
      if (!o.stack && !o.outputsFile) throw new InvalidConfigurationError('--stack', 'name the deployed stack (or --outputs-file)');
      const outputs = await stackOutputs(ctx, o);
      const findings = await deployCheck(ctx, outputs);
      const rows = findings.map((f) => ({ check: f.what, result: f.ok ? 'ok' : 'MISSING', detail: f.detail }));
      const missing = findings.filter((f) => !f.ok).length;
      ctx.out(`${table(rows)}\n\n${missing ? `${missing} of ${findings.length} checks found something missing` : `all ${findings.length} checks passed`}`, { findings, missing });
      if (missing) ctx.setExit(ctx.exit.partial);
    });
}

export async function deployCheck(ctx: CommandContext, outputs: Record<string, string>): Promise<Finding[]> {
  const findings: Finding[] = [];
  const values = Object.entries(outputs);
  const add = (what: string, ok: boolean, detail: string) => findings.push({ what, ok, detail });
  const t = awsTarget(ctx);

  const sfn = ctx.aws.sfn(t);
  const dynamodb = ctx.aws.dynamodb(t);
  const lambda = ctx.aws.lambda(t);
  try {
    const machines = values.filter(([, v]) => ARN.stateMachine.test(v));
    if (machines.length === 0) add('state machine', false, 'no stack output names a state machine ARN');
    for (const [key, arn] of machines) {
      try {
        const d = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
        const problems = [
          d.status !== 'ACTIVE' ? `status ${d.status}` : '',
          d.loggingConfiguration?.level !== 'ALL' ? `logging level ${d.loggingConfiguration?.level ?? 'OFF'} (want ALL)` : '',
          d.loggingConfiguration?.includeExecutionData ? 'logs include execution data' : '',
          d.tracingConfiguration?.enabled ? '' : 'X-Ray tracing off',
        ].filter(Boolean);
        add(`state machine (${key})`, problems.length === 0, problems.join('; ') || `${d.name} active, logs without execution data, tracing on`);
      } catch (e) {
        add(`state machine (${key})`, false, nameOf(e));
      }
    }

    const tables = values.filter(([k]) => /tablename/i.test(k));
    if (tables.length === 0) add('state table', false, 'no stack output names the state table (…TableName)');
    for (const [key, name] of tables) {
      try {
        const d = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
        const b = await dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: name }));
        const pitr = b.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus === 'ENABLED';
        const problems = [d.Table?.TableStatus !== 'ACTIVE' ? `status ${d.Table?.TableStatus}` : '', pitr ? '' : 'point-in-time recovery off'].filter(Boolean);
        add(`state table (${key})`, problems.length === 0, problems.join('; ') || `${name} active, point-in-time recovery on`);
      } catch (e) {
        add(`state table (${key})`, false, nameOf(e));
      }
    }

    const api = values.filter(([k, v]) => /api/i.test(k) && /^https:\/\//.test(v));
    add('API endpoint', api.length > 0, api.length ? api.map(([, v]) => v).join(', ') : 'no stack output holds the API URL (…Api…, https://…)');

    for (const [key, arn] of values.filter(([, v]) => ARN.activity.test(v))) {
      try {
        await sfn.send(new DescribeActivityCommand({ activityArn: arn }));
        add(`agent activity (${key})`, true, arn);
      } catch (e) {
        add(`agent activity (${key})`, false, nameOf(e));
      }
    }

    const functions = values.filter(([, v]) => ARN.lambda.test(v));
    if (functions.length === 0) add('reset functions', false, 'no stack output names a reset function ARN, so rotation permissions cannot be checked');
    for (const [key, arn] of functions) {
      try {
        const { Policy } = await lambda.send(new GetPolicyCommand({ FunctionName: arn }));
        const statements = ((JSON.parse(Policy ?? '{}') as { Statement?: { Principal?: { Service?: string }; Action?: string | string[]; Condition?: Record<string, Record<string, string>> }[] }).Statement ?? []);
        const rotation = statements.find((s) => s.Principal?.Service === 'secretsmanager.amazonaws.com' && [s.Action].flat().includes('lambda:InvokeFunction'));
        const scoped = rotation?.Condition && JSON.stringify(rotation.Condition).includes('SourceAccount');
        add(`rotation permission (${key})`, Boolean(rotation && scoped), rotation ? (scoped ? 'Secrets Manager may invoke it, for this account only' : 'Secrets Manager may invoke it, but without an aws:SourceAccount condition') : 'Secrets Manager may not invoke it: rotation would fail');
      } catch (e) {
        add(`rotation permission (${key})`, false, e instanceof Error && e.name === 'ResourceNotFoundException' ? 'the function has no resource policy: Secrets Manager may not invoke it' : nameOf(e));
      }
    }
  } finally {
    sfn.destroy();
    dynamodb.destroy();
    lambda.destroy();
  }
  return findings;
}
