import { Option, type Command } from 'commander';
import { CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import type { RunMode } from '../layers/engine/stores/types.js';
import { ARN, awsTarget, withSelectorOptions, type CommandContext, type SelectorOptions } from './context.js';
import {
  minutesOf,
  parsePeriod,
  rateExpression,
  resetRequest,
  resolveArn,
  safeJson,
  stateMachineArn,
  withStackOptions,
  type StackOptions,
} from './deployment.js';
import { table } from './format.js';

// ---- EventBridge Scheduler schedules

interface ScheduleAddOptions extends SelectorOptions, StackOptions {
  every: string;
  name?: string;
  window?: string;
  group: string;
  stateMachineArn?: string;
  schedulerRoleArn?: string;
  disabled?: boolean;
  mode: RunMode;
}

const SCHEDULE_NAME = /^[0-9a-zA-Z._-]{1,64}$/;

/** `rpr schedule add|list|remove`: periodic resets (or verify runs, `--mode verify`), as EventBridge Scheduler schedules that start the workflow with a stored selector. */
export function registerScheduleCommands(program: Command, ctx: CommandContext): void {
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
      .option('--disabled', 'create it disabled')
      .addOption(new Option('--mode <mode>', 'reset the passwords, or verify each AWSCURRENT and change nothing').choices(['reset', 'verify']).default('reset')),
  ).action(async (o: ScheduleAddOptions) => {
    const every = parsePeriod(o.every, '--every');
    const window = o.window ? parsePeriod(o.window, '--window', ['h', 'm']) : undefined;
    if (window && minutesOf(window) > 1440) throw new InvalidConfigurationError('--window', 'must be at most 24h');
    // A verify schedule's default name differs from the reset schedule of the same selector's.
    const name = o.name ?? `${o.mode === 'verify' ? 'verify-' : ''}every-${o.every}-${[o.type, o.site, o.tag, o.resource, o.account].flatMap((v) => v ?? []).join('-')}`.replace(/[^0-9a-zA-Z._-]/g, '-').slice(0, 64);
    if (!SCHEDULE_NAME.test(name)) throw new InvalidConfigurationError('--name', 'must be 1-64 letters, digits, ".", "_" or "-"');
    if (!SCHEDULE_NAME.test(o.group)) throw new InvalidConfigurationError('--group', 'must be 1-64 letters, digits, ".", "_" or "-"');
    const request = resetRequest(o, { requestedBy: `schedule/${o.group}/${name}`, ...(o.mode === 'verify' ? { mode: o.mode } : {}) });
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
          Description: `rpr: ${o.mode} ${JSON.stringify(request.selector)} ${rateExpression(every)}`.slice(0, 512),
        }),
      );
      ctx.out(`added schedule ${o.group}/${name}: ${o.mode} ${rateExpression(every)}${window ? `, within ${minutesOf(window)} minutes` : ''}`, { name, group: o.group, scheduleArn: created.ScheduleArn, expression: rateExpression(every), request });
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
            const input = safeJson(d.Target?.Input) as { selector?: unknown; mode?: string } | undefined;
            rows.push({ name: d.Name, state: d.State, mode: input?.mode ?? 'reset', every: d.ScheduleExpression, window: d.FlexibleTimeWindow?.Mode === 'FLEXIBLE' ? `${d.FlexibleTimeWindow.MaximumWindowInMinutes}m` : 'off', selector: input?.selector, target: d.Target?.Arn });
          }
          token = page.NextToken;
        } while (token);
        ctx.out(table(rows, ['name', 'state', 'mode', 'every', 'window', 'selector']), rows);
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

// ---- Secrets Manager rotation

/** `rpr rotation enable`: Secrets Manager rotates an account's secret with its type's reset function. */
export function registerRotationCommands(program: Command, ctx: CommandContext): void {
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
