import type { z } from 'zod';
import type { ResetEngine } from '../engine/engine.js';
import { InvalidConfigurationError, NotFoundError } from '../engine/errors.js';
import type { Log } from '../engine/log.js';
import type { AccountResult, StateStore } from '../engine/stores/types.js';
import type { Account } from '../resources/common.js';
import { groupResultSchema, groupTaskSchema, type GroupResult, type GroupTask } from './events.js';

/** What running a group needs: the engine and where the task's resource and accounts are read. */
export interface GroupTaskDeps {
  readonly engine: ResetEngine;
  readonly config: Pick<StateStore, 'getResource' | 'getAccount' | 'recordAccountResult'>;
  readonly log?: Log;
}

const MESSAGE_MAX = 2048;

/**
 * Parses a task's input text. Errors name the field and never echo a value: the input
 * came from outside and a misplaced password must not travel on in an error.
 */
export function parseGroupTask(input: string | undefined): GroupTask {
  let json: unknown;
  try {
    json = JSON.parse(input ?? '');
  } catch {
    throw new InvalidConfigurationError('input', 'is not JSON');
  }
  const parsed = groupTaskSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new InvalidConfigurationError(fieldOf(issue), issue.message);
}

function fieldOf(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') return [path, issue.keys.join(',')].filter(Boolean).join('.');
  return path || 'input';
}

/**
 * Runs one resource's accounts with the engine (one connection, the adapter's own logins last)
 * and returns their outcomes: ids, steps, error classes and redacted messages, never a password.
 * A task that does not match the stored configuration changes nothing; accounts removed since
 * the plan are skipped. The groups of a task's `chain` run after it, one at a time. The reset
 * functions and the agents both run groups through it.
 */
export async function runGroupTask(task: GroupTask, deps: GroupTaskDeps): Promise<GroupResult> {
  const { chain, ...first } = task;
  if (chain?.some((next) => next.runId !== task.runId || next.type !== task.type || next.site !== task.site)) {
    throw new InvalidConfigurationError('chain', 'a chained group must have the run, type and site of the task');
  }
  const result = await runOneGroup(first, deps);
  if (!chain?.length) return result;
  const chained: GroupResult[] = [];
  for (const next of chain) chained.push(await runOneGroup(next, deps));
  return { ...result, chain: chained };
}

async function runOneGroup(task: Omit<GroupTask, 'chain'>, deps: GroupTaskDeps): Promise<GroupResult> {
  const resource = await deps.config.getResource(task.resourceId);
  if (!resource) throw new NotFoundError('resourceId', `resource "${task.resourceId}" does not exist`);
  if (resource.type !== task.type) throw new InvalidConfigurationError('type', `the task says "${task.type}" but resource "${resource.id}" is "${resource.type}"`);
  if (resource.site !== task.site) throw new InvalidConfigurationError('site', `the task says "${task.site}" but resource "${resource.id}" is at site "${resource.site}"`);
  const ids = [...new Set(task.accountIds)];
  const found = await Promise.all(ids.map((id) => deps.config.getAccount(id)));
  const accounts = found.filter((a): a is Account => a !== undefined && a.resourceId === resource.id);
  const missing = ids.filter((id) => !accounts.some((a) => a.id === id));
  const log = deps.log?.child({ runId: task.runId, resourceId: resource.id });
  const results = accounts.length > 0 ? await deps.engine.resetGroup(resource, accounts, task.runId, log) : [];
  for (const accountId of missing) results.push(await skip(deps, task, accountId));
  return groupResultSchema.parse({ runId: task.runId, resourceId: resource.id, results: results.map(groupResultEntry) });
}

async function skip(deps: GroupTaskDeps, task: Omit<GroupTask, 'chain'>, accountId: string): Promise<AccountResult> {
  const at = new Date().toISOString();
  const message = `account "${accountId}" is no longer configured on resource "${task.resourceId}"`;
  const result: AccountResult = { runId: task.runId, accountId, resourceId: task.resourceId, outcome: 'skipped', step: 'plan', errorClass: 'NotFoundError', message, startedAt: at, endedAt: at };
  await deps.config.recordAccountResult(result, { at, accountId, resourceId: task.resourceId, runId: task.runId, event: 'password-reset', outcome: 'skipped', detail: message });
  return result;
}

function groupResultEntry(r: AccountResult): GroupResult['results'][number] {
  return {
    accountId: r.accountId,
    outcome: r.outcome,
    step: r.step,
    ...(r.versionId ? { versionId: r.versionId } : {}),
    ...(r.errorClass ? { errorClass: r.errorClass } : {}),
    ...(r.message ? { message: r.message.length > MESSAGE_MAX ? `${r.message.slice(0, MESSAGE_MAX - 1)}…` : r.message } : {}),
    ...(r.workingVersion ? { workingVersion: r.workingVersion } : {}),
  };
}
