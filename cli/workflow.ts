import { Option, type Command } from 'commander';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import type { RunMode, RunRecord } from '../layers/engine/stores/types.js';
import { awsTarget, withSelectorOptions, type CommandContext, type SelectorOptions } from './context.js';
import { resetRequest, safeJson, stateMachineArn, withStackOptions, type StackOptions } from './deployment.js';

const ENDED = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** The run id a workflow output names (the plan's runId travels through to the summary). */
function runIdIn(value: unknown, depth = 0): string | undefined {
  if (!value || typeof value !== 'object' || depth > 3) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.runId === 'string') return v.runId;
  for (const child of Object.values(v)) {
    const found = runIdIn(child, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** `rpr run start|watch`: runs of the deployed workflow, started and watched from here. */
export function registerWorkflowRunCommands(program: Command, ctx: CommandContext): void {
  const run = program.command('run').description('start and watch runs of the deployed workflow');
  withStackOptions(
    withSelectorOptions(run.command('start').description('start a workflow run for the selected accounts'))
      .option('--idempotency-key <key>', 'the execution name: a repeat with the same key starts nothing new')
      .option('--requested-by <who>', 'for the audit trail')
      .addOption(new Option('--mode <mode>', 'reset the passwords, or verify each AWSCURRENT and change nothing').choices(['reset', 'verify']).default('reset'))
      .option('--state-machine-arn <arn>', 'default: $RPR_STATE_MACHINE_ARN or the stack output'),
  ).action(async (o: SelectorOptions & StackOptions & { idempotencyKey?: string; requestedBy?: string; stateMachineArn?: string; mode: RunMode }) => {
    const request = resetRequest(o, { ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}), ...(o.requestedBy ? { requestedBy: o.requestedBy } : {}), ...(o.mode === 'verify' ? { mode: o.mode } : {}) });
    const arn = await stateMachineArn(ctx, o);
    const client = ctx.aws.sfn(awsTarget(ctx));
    try {
      const started = await client.send(new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify(request), ...(request.idempotencyKey ? { name: request.idempotencyKey } : {}) }));
      ctx.out(`started ${started.executionArn}\nwatch it with: rpr run watch ${started.executionArn}`, { executionArn: started.executionArn, startDate: started.startDate });
    } finally {
      client.destroy();
    }
  });

  run
    .command('watch <executionArn>')
    .description('print the run status until it ends; exit 0 succeeded, 1 partial, 3 failed')
    .option('--interval <seconds>', 'between polls', (v) => Number(v), 5)
    .action(async (executionArn: string, o: { interval: number }) => {
      if (!/^arn:aws[\w-]*:states:[^:]+:\d{12}:execution:/.test(executionArn)) throw new InvalidConfigurationError('executionArn', 'is not a Step Functions execution ARN');
      if (!(o.interval > 0)) throw new InvalidConfigurationError('--interval', 'must be a positive number of seconds');
      const client = ctx.aws.sfn(awsTarget(ctx));
      let last = '';
      let execution;
      try {
        for (;;) {
          execution = await client.send(new DescribeExecutionCommand({ executionArn }));
          const status = execution.status ?? 'UNKNOWN';
          if (status !== last && !ctx.globals().json) ctx.io.stdout(`${new Date().toISOString()} ${status}\n`);
          last = status;
          if (ENDED.has(status)) break;
          await new Promise((r) => setTimeout(r, o.interval * 1000));
        }
      } finally {
        client.destroy();
      }
      const runId = runIdIn(safeJson(execution.output));
      let record: RunRecord | undefined;
      let results: unknown[] = [];
      if (runId && ctx.globals().store === 'aws') {
        const stores = await ctx.openStores();
        record = await stores.state.getRun(runId);
        results = record ? await stores.state.listAccountResults(runId) : [];
      }
      const summary = { executionArn, status: last, ...(runId ? { runId } : {}), ...(record ? { run: record, results } : {}), ...(execution.error ? { error: execution.error, cause: execution.cause } : {}) };
      const runLine = record ? `run ${record.runId}: ${record.status} (${JSON.stringify(record.counts)})` : runId ? `run ${runId} (use --store aws to read its results)` : '';
      ctx.out([`execution ${last}${execution.error ? `: ${execution.error}` : ''}`, runLine].filter(Boolean).join('\n'), summary);
      if (last !== 'SUCCEEDED') ctx.setExit(ctx.exit.failed);
      else if (record?.status === 'partial') ctx.setExit(ctx.exit.partial);
      else if (record?.status === 'failed') ctx.setExit(ctx.exit.failed);
    });
}
