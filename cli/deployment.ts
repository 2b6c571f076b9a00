import type { Command } from 'commander';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import { resetRequestSchema, type ResetRequest } from '../layers/workflow/events.js';
import { ARN, findOutput, selectorOf, stackOutputs, type CommandContext, type SelectorOptions } from './context.js';

/*
 * What the commands that drive the deployed stack share (schedules.ts, workflow.ts): the stack
 * options, the reset request checked with the workflow's own schema before any AWS call,
 * periods, and ARNs found among the stack's outputs.
 */

export interface StackOptions {
  stack?: string;
  outputsFile?: string;
}

export function withStackOptions(c: Command): Command {
  return c.option('--stack <name>', 'the deployed stack whose outputs name the ARNs').option('--outputs-file <path>', 'the outputs "cdk deploy --outputs-file" wrote, instead of reading the stack');
}

/** A reset request, validated with the workflow's own schema; errors name the option. */
export function resetRequest(o: SelectorOptions, extra: Omit<ResetRequest, 'selector'> = {}): ResetRequest {
  const parsed = resetRequestSchema.safeParse({ selector: selectorOf(o), ...extra });
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

export const minutesOf = (p: { amount: number; unit: 'd' | 'h' | 'm' }) => p.amount * { d: 1440, h: 60, m: 1 }[p.unit];

export async function resolveArn(ctx: CommandContext, given: string | undefined, env: string, o: StackOptions, arn: RegExp, option: string, ...hints: string[]): Promise<string> {
  const value = given ?? process.env[env] ?? (o.stack || o.outputsFile ? findOutput(await stackOutputs(ctx, o), arn, ...hints) : undefined);
  if (!value) throw new InvalidConfigurationError(option, `required (or $${env}, or --stack with an output for it)`);
  if (!arn.test(value)) throw new InvalidConfigurationError(option, `"${value}" is not the right kind of ARN`);
  return value;
}

export const stateMachineArn = (ctx: CommandContext, o: StackOptions & { stateMachineArn?: string }) =>
  resolveArn(ctx, o.stateMachineArn, 'RPR_STATE_MACHINE_ARN', o, ARN.stateMachine, '--state-machine-arn', 'statemachine');

/** JSON text parsed, or undefined when it is not JSON. */
export const safeJson = (text: string | undefined): unknown => {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
};
