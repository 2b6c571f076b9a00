import type { Command } from 'commander';
import { CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import type { RunRecord } from '../layers/engine/stores/types.js';
import { resetRequestSchema, type ResetRequest } from '../layers/workflow/events.js';
import { ARN, awsTarget, findOutput, stackOutputs, type CommandContext } from './context.js';
import { registerDeployCheck } from './deploy-check.js';
import { table } from './format.js';

/** `rpr schedule`, `rpr run` and `rpr rotation`: the deployed workflow, driven from the CLI. Input is checked before any AWS call. */
export function registerDeploymentCommands(program: Command, ctx: CommandContext): void {
  registerSchedule(program, ctx);
  registerRun(program, ctx);
  registerRotation(program, ctx);
  registerDeployCheck(program, ctx);
}

interface SelectorOptions {
  account?: string[];
  resource?: string[];
  type?: string[];
  tag?: string[];
  site?: string[];
}
interface StackOptions {
  stack?: string;
  outputsFile?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function withSelectorOptions(c: Command): Command {
  return c
    .option('--account <id>', 'repeatable', collect)
    .option('--resource <id>', 'repeatable', collect)
    .option('--type <type>', 'repeatable', collect)
    .option('--tag <tag>', 'account or resource tag; repeatable', collect)
    .option('--site <site>', 'repeatable', collect);
}

function withStackOptions(c: Command): Command {
  return c.option('--stack <name>', 'the deployed stack whose outputs name the ARNs').option('--outputs-file <path>', 'the outputs "cdk deploy --outputs-file" wrote, instead of reading the stack');
}

/** A reset request, validated with the workflow's own schema; errors name the option. */
export function resetRequest(o: SelectorOptions, extra: { idempotencyKey?: string; requestedBy?: string } = {}): ResetRequest {
  const selector = {
    ...(o.account ? { accountIds: o.account } : {}),
    ...(o.resource ? { resourceIds: o.resource } : {}),
    ...(o.type ? { types: o.type } : {}),
    ...(o.tag ? { tags: o.tag } : {}),
    ...(o.site ? { sites: o.site } : {}),
  };
  const parsed = resetRequestSchema.safeParse({ selector, ...extra });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const option: Record<string, string> = { accountIds: '--account', resourceIds: '--resource', types: '--type', tags: '--tag', sites: '--site', idempotencyKey: '--idempotency-key', requestedBy: '--requested-by' };
  const key = issue.path.find((p) => typeof p === 'string' && p !== 'selector') as string | undefined;
  throw new InvalidConfigurationError(key ? (option[key] ?? key) : 'selector', key ? issue.message : 'name accounts (--account, --resource, --type, --tag, --site)');
}

/** "30d", "12h", "15m" as an amount and a unit. */
export function parsePeriod(value: string, option: string, units: readonly ('d' | 'h' | 'm')[] = ['d', 'h', 'm']): { amount: number; unit: 'd' | 'h' | 'm' } {
  const m = /^(\d{1,4})([dhm])$/.exec(value);
  if (!m || Number(m[1]) < 1 || !units.includes(m[2] as 'd')) throw new InvalidConfigurationError(option, `must be a whole number followed by ${units.join(', ')} (e.g. ${units.includes('d') ? '30d' : '2h'}), got "${value}"`);
  return { amount: Number(m[1]), unit: m[2] as 'd' | 'h' | 'm' };
}

/** A rate() expression, as EventBridge Scheduler and Secrets Manager write it. */
export function rateExpression(p: { amount: number; unit: 'd' | 'h' | 'm' }): string {
  const word = { d: 'day', h: 'hour', m: 'minute' }[p.unit];
  return `rate(${p.amount} ${word}${p.amount === 1 ? '' : 's'})`;
}

const minutesOf = (p: { amount: number; unit: 'd' | 'h' | 'm' }) => p.amount * { d: 1440, h: 60, m: 1 }[p.unit];

async function resolveArn(ctx: CommandContext, given: string | undefined, env: string, o: StackOptions, arn: RegExp, option: string, ...hints: string[]): Promise<string> {
  const value = given ?? process.env[env] ?? (o.stack || o.outputsFile ? findOutput(await stackOutputs(ctx, o), arn, ...hints) : undefined);
  if (!value) throw new InvalidConfigurationError(option, `required (or $${env}, or --stack with an output for it)`);
  if (!arn.test(value)) throw new InvalidConfigurationError(option, `"${value}" is not the right kind of ARN`);
  return value;
}

const stateMachineArn = (ctx: CommandContext, o: StackOptions & { stateMachineArn?: string }) =>
  resolveArn(ctx, o.stateMachineArn, 'RPR_STATE_MACHINE_ARN', o, ARN.stateMachine, '--state-machine-arn', 'statemachine');

// ---- schedules

interface ScheduleAddOptions extends SelectorOptions, StackOptions {
  every: string;
  name?: string;
  window?: string;
  group: string;
  stateMachineArn?: string;
  schedulerRoleArn?: string;
  disabled?: boolean;
}

const SCHEDULE_NAME = /^[0-9a-zA-Z._-]{1,64}$/;

function registerSchedule(program: Command, ctx: CommandContext): void {
  const schedule = program.command('schedule').description('periodic resets: EventBridge Scheduler schedules that start the workflow with a stored selector');
  withStackOptions(
    withSelectorOptions(
      schedule
        .command('add')
        .description('add a schedule, e.g. --every 30d --type cisco-ios --site dmz1 --window 1h')
        .requiredOption('--every <period>', 'Nd, Nh or Nm')
        .option('--name <name>', 'default: derived from --every and the selector')
        .option('--window <period>', 'a flexible time window (Nh or Nm, up to 24h) within which the run starts; default: off'),
    )
      .option('--group <name>', 'the schedule group', 'rpr')
      .option('--state-machine-arn <arn>', 'the workflow (default: $RPR_STATE_MACHINE_ARN or the stack output)')
      .option('--scheduler-role-arn <arn>', 'the role the scheduler starts it with (default: $RPR_SCHEDULER_ROLE_ARN or the stack output)')
      .option('--disabled', 'create it disabled'),
  ).action(async (o: ScheduleAddOptions) => {
    const every = parsePeriod(o.every, '--every');
    const window = o.window ? parsePeriod(o.window, '--window', ['h', 'm']) : undefined;
    if (window && minutesOf(window) > 1440) throw new InvalidConfigurationError('--window', 'must be at most 24h');
    const name = o.name ?? `every-${o.every}-${[o.type, o.site, o.tag, o.resource, o.account].flatMap((v) => v ?? []).join('-')}`.replace(/[^0-9a-zA-Z._-]/g, '-').slice(0, 64);
    if (!SCHEDULE_NAME.test(name)) throw new InvalidConfigurationError('--name', 'must be 1-64 letters, digits, ".", "_" or "-"');
    if (!SCHEDULE_NAME.test(o.group)) throw new InvalidConfigurationError('--group', 'must be 1-64 letters, digits, ".", "_" or "-"');
    const request = resetRequest(o, { requestedBy: `schedule/${o.group}/${name}` });
    const target = await stateMachineArn(ctx, o);
    const role = await resolveArn(ctx, o.schedulerRoleArn, 'RPR_SCHEDULER_ROLE_ARN', o, ARN.role, '--scheduler-role-arn', 'scheduler');
    const client = ctx.aws.scheduler(awsTarget(ctx));
    try {
      const created = await client.send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: o.group,
          ScheduleExpression: rateExpression(every),
          FlexibleTimeWindow: window ? { Mode: 'FLEXIBLE', MaximumWindowInMinutes: minutesOf(window) } : { Mode: 'OFF' },
          Target: { Arn: target, RoleArn: role, Input: JSON.stringify(request) },
          State: o.disabled ? 'DISABLED' : 'ENABLED',
          Description: `rpr: reset ${JSON.stringify(request.selector)} ${rateExpression(every)}`.slice(0, 512),
        }),
      );
      ctx.out(`added schedule ${o.group}/${name}: ${rateExpression(every)}${window ? `, within ${minutesOf(window)} minutes` : ''}`, { name, group: o.group, scheduleArn: created.ScheduleArn, expression: rateExpression(every), request });
    } finally {
      client.destroy();
    }
  });

  schedule
    .command('list')
    .option('--group <name>', 'the schedule group', 'rpr')
    .action(async (o: { group: string }) => {
      const client = ctx.aws.scheduler(awsTarget(ctx));
      try {
        const rows = [];
        let token: string | undefined;
        do {
          const page = await client.send(new ListSchedulesCommand({ GroupName: o.group, ...(token ? { NextToken: token } : {}) }));
          for (const s of page.Schedules ?? []) {
            const d = await client.send(new GetScheduleCommand({ Name: s.Name, GroupName: o.group }));
            const input = safeJson(d.Target?.Input) as { selector?: unknown } | undefined;
            rows.push({ name: d.Name, state: d.State, every: d.ScheduleExpression, window: d.FlexibleTimeWindow?.Mode === 'FLEXIBLE' ? `${d.FlexibleTimeWindow.MaximumWindowInMinutes}m` : 'off', selector: input?.selector, target: d.Target?.Arn });
          }
          token = page.NextToken;
        } while (token);
        ctx.out(table(rows, ['name', 'state', 'every', 'window', 'selector']), rows);
      } finally {
        client.destroy();
      }
    });

  schedule
    .command('remove <name>')
    .option('--group <name>', 'the schedule group', 'rpr')
    .action(async (name: string, o: { group: string }) => {
      if (!SCHEDULE_NAME.test(name)) throw new InvalidConfigurationError('name', 'must be 1-64 letters, digits, ".", "_" or "-"');
      const client = ctx.aws.scheduler(awsTarget(ctx));
      try {
        await client.send(new DeleteScheduleCommand({ Name: name, GroupName: o.group }));
      } catch (e) {
        if (e instanceof Error && e.name === 'ResourceNotFoundException') throw new InvalidConfigurationError('name', `no schedule "${name}" in group "${o.group}"`);
        throw e;
      } finally {
        client.destroy();
      }
      ctx.out(`removed schedule ${o.group}/${name}`, { removed: name, group: o.group });
    });
}

const safeJson = (text: string | undefined): unknown => {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
};

// ---- workflow runs

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

function registerRun(program: Command, ctx: CommandContext): void {
  const run = program.command('run').description('start and watch runs of the deployed workflow');
  withStackOptions(
    withSelectorOptions(run.command('start').description('start a workflow run for the selected accounts'))
      .option('--idempotency-key <key>', 'the execution name: a repeat with the same key starts nothing new')
      .option('--requested-by <who>', 'for the audit trail')
      .option('--state-machine-arn <arn>', 'default: $RPR_STATE_MACHINE_ARN or the stack output'),
  ).action(async (o: SelectorOptions & StackOptions & { idempotencyKey?: string; requestedBy?: string; stateMachineArn?: string }) => {
    const request = resetRequest(o, { ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}), ...(o.requestedBy ? { requestedBy: o.requestedBy } : {}) });
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

// ---- Secrets Manager rotation

function registerRotation(program: Command, ctx: CommandContext): void {
  const rotation = program.command('rotation').description("Secrets Manager rotation of an account's secret by its type's reset function");
  rotation
    .command('enable')
    .description('turn on rotation: --account ID (or --secret-id) --function-arn ARN --every 30d [--window 2h]')
    .option('--account <id>', "the account whose secret rotates (its secret id is read from the store)")
    .option('--secret-id <id>', 'the secret, instead of --account')
    .requiredOption('--function-arn <arn>', "the account's type's reset function")
    .requiredOption('--every <period>', 'Nd, or Nh (4h or more)')
    .option('--window <period>', 'rotation window, Nh (default: the whole day)')
    .option('--now', 'also rotate once now (default: only on the schedule)')
    .action(async (o: { account?: string; secretId?: string; functionArn: string; every: string; window?: string; now?: boolean }) => {
      const every = parsePeriod(o.every, '--every', ['d', 'h']);
      if (every.unit === 'h' && every.amount < 4) throw new InvalidConfigurationError('--every', 'must be at least 4h for Secrets Manager');
      if (every.unit === 'd' && every.amount > 1000) throw new InvalidConfigurationError('--every', 'must be at most 1000d');
      const window = o.window ? parsePeriod(o.window, '--window', ['h']) : undefined;
      if (window && window.amount > 24) throw new InvalidConfigurationError('--window', 'must be at most 24h');
      if (!ARN.lambda.test(o.functionArn)) throw new InvalidConfigurationError('--function-arn', 'is not a Lambda function ARN');
      if (!o.account === !o.secretId) throw new InvalidConfigurationError('--account', 'name either --account or --secret-id');
      let secretId = o.secretId;
      if (o.account) {
        const account = await (await ctx.openStores()).state.getAccount(o.account);
        if (!account) throw new InvalidConfigurationError('--account', `account "${o.account}" does not exist`);
        secretId = account.secretId;
      }
      // A window needs a schedule expression; days alone are the simplest rule.
      const rules = !window && every.unit === 'd' ? { AutomaticallyAfterDays: every.amount } : { ScheduleExpression: rateExpression(every), ...(window ? { Duration: `${window.amount}h` } : {}) };
      const client = ctx.aws.secretsManager(awsTarget(ctx));
      try {
        const r = await client.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: o.functionArn, RotationRules: rules, RotateImmediately: o.now ?? false }));
        ctx.out(`rotation on for ${r.ARN ?? secretId}: ${'AutomaticallyAfterDays' in rules ? `every ${every.amount} days` : `${rules.ScheduleExpression}${window ? ` within ${window.amount}h` : ''}`}`, { secretId, arn: r.ARN, rotationRules: rules, rotationLambdaArn: o.functionArn });
      } finally {
        client.destroy();
      }
    });
}
