import type { z } from 'zod';
import type { ResetEngine } from '../engine/engine.js';
import { InvalidConfigurationError, NotFoundError, ThrottledError } from '../engine/errors.js';
import type { Log } from '../engine/log.js';
import { auditEventOf, GOOD_OUTCOMES, type AccountResult, type StateStore, type StoredResource } from '../engine/stores/types.js';
import type { Selector } from '../engine/engine.js';
import type { Account } from '../resources/common.js';
import { groupResultSchema, groupTaskSchema, type GroupResult, type GroupTask } from './events.js';

/** What running a group needs: the engine and where the task's resource, accounts and run are read. */
export interface GroupTaskDeps {
  readonly engine: ResetEngine;
  readonly config: Pick<StateStore, 'getResource' | 'getAccount' | 'getRun' | 'recordAccountResult'>;
  readonly log?: Log;
}

const MESSAGE_MAX = 2048;
/**
 * What a task's answer may hold of per-account entries, in bytes: a state's payload is at most
 * 256 KB, and the state table holds every result anyway. Entries beyond it (succeeded ones
 * first) are counted as `omitted`.
 */
const RESULT_BYTES = 160 * 1024;

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

export interface GroupTaskOptions {
  /** Epoch ms by which the task must return (the function's or the agent's time, less a reserve). Default: none. */
  readonly deadline?: number;
}

type OneGroup = Omit<GroupTask, 'chain'>;

/**
 * Runs one resource's accounts with the engine (one connection, the adapter's own logins last)
 * and returns their outcomes: ids, steps, error classes and redacted messages, never a password.
 * A task that does not match the stored configuration changes nothing; accounts removed since
 * the plan are skipped. The groups of a task's `chain` run after it, one at a time. The reset
 * functions and the agents both run groups through it.
 *
 * Work that does not fit before the deadline (accounts not started, or held up by throttling)
 * comes back as `next`: a task of the same shape with what is left, which the state machine runs
 * next, on another invocation. A task that finished no account at all fails with ThrottledError
 * instead, so the state machine's retry, with its backoff, takes it up.
 */
export async function runGroupTask(task: GroupTask, deps: GroupTaskDeps, options: GroupTaskOptions = {}): Promise<GroupResult> {
  const { chain, ...first } = task;
  if (chain?.some((next) => next.runId !== task.runId || next.type !== task.type || next.site !== task.site || next.mode !== task.mode)) {
    throw new InvalidConfigurationError('chain', 'a chained group must have the run, type, site and mode of the task');
  }
  const groups: OneGroup[] = [first, ...(chain ?? [])];
  const done: GroupResult[] = [];
  let left: OneGroup[] = [];
  for (let i = 0; i < groups.length; i++) {
    if (options.deadline !== undefined && Date.now() >= options.deadline) {
      left = groups.slice(i);
      break;
    }
    const group = groups[i]!;
    const { result, unfinished } = await runOneGroup(group, deps, options);
    done.push(result);
    if (unfinished.length) {
      // A group named by selection is the same task again: the accounts it finished have results, and are skipped.
      left = [group.selected ? group : { ...group, accountIds: unfinished }, ...groups.slice(i + 1)];
      break;
    }
  }
  if (left.length && done.every((r) => r.results.length === 0)) {
    throw new ThrottledError(`no account of resource "${left[0]!.resourceId}" could be finished in this invocation (Secrets Manager or DynamoDB kept throttling, or no time was left); nothing is lost, and the retry resumes them`);
  }
  const [head, ...rest] = bounded(done);
  const [nextHead, ...nextChain] = left;
  return {
    ...head!,
    ...(rest.length ? { chain: rest } : {}),
    ...(nextHead ? { next: { ...nextHead, ...(nextChain.length ? { chain: nextChain } : {}) } } : {}),
  };
}

async function runOneGroup(task: OneGroup, deps: GroupTaskDeps, options: GroupTaskOptions): Promise<{ result: GroupResult; unfinished: string[] }> {
  const resource = await deps.config.getResource(task.resourceId);
  if (!resource) throw new NotFoundError('resourceId', `resource "${task.resourceId}" does not exist`);
  if (resource.type !== task.type) throw new InvalidConfigurationError('type', `the task says "${task.type}" but resource "${resource.id}" is "${resource.type}"`);
  if (resource.site !== task.site) throw new InvalidConfigurationError('site', `the task says "${task.site}" but resource "${resource.id}" is at site "${resource.site}"`);
  const { accounts, missing } = await accountsOf(task, resource, deps);
  const log = deps.log?.child({ runId: task.runId, resourceId: resource.id });
  const { results, unfinished } = accounts.length > 0
    ? await deps.engine.resetGroup(resource, accounts, { runId: task.runId, ...(task.mode ? { mode: task.mode } : {}), ...(log ? { log } : {}), ...(options.deadline !== undefined ? { deadline: options.deadline } : {}) })
    : { results: [], unfinished: [] };
  for (const accountId of missing) results.push(await skip(deps, task, accountId));
  return {
    result: groupResultSchema.parse({ runId: task.runId, resourceId: resource.id, results: results.map(groupResultEntry) }),
    unfinished: unfinished.map((a) => a.id),
  };
}

/** The task's accounts as configured now, and the ids it names that are no longer there. */
async function accountsOf(task: OneGroup, resource: StoredResource, deps: GroupTaskDeps): Promise<{ accounts: Account[]; missing: string[] }> {
  if (task.selected) {
    const run = await deps.config.getRun(task.runId);
    if (!run) throw new NotFoundError('runId', `run "${task.runId}" does not exist`);
    return { accounts: await deps.engine.accountsSelected(resource, run.selector as Selector), missing: [] };
  }
  const ids = [...new Set(task.accountIds)];
  const found = await Promise.all(ids.map((id) => deps.config.getAccount(id)));
  const accounts = found.filter((a): a is Account => a !== undefined && a.resourceId === resource.id);
  return { accounts, missing: ids.filter((id) => !accounts.some((a) => a.id === id)) };
}

/** The groups' results within RESULT_BYTES: what did not succeed first, then what did; the rest counted as omitted. */
export function bounded(groups: GroupResult[]): GroupResult[] {
  let room = RESULT_BYTES;
  return groups.map((g) => {
    const kept: GroupResult['results'] = [];
    const good = (r: GroupResult['results'][number]) => GOOD_OUTCOMES.includes(r.outcome);
    const ordered = [...g.results.filter((r) => !good(r)), ...g.results.filter(good)];
    for (const r of ordered) {
      const bytes = Buffer.byteLength(JSON.stringify(r)) + 1;
      if (bytes > room) break;
      room -= bytes;
      kept.push(r);
    }
    const omitted = g.results.length - kept.length;
    return { ...g, results: kept.length === g.results.length ? g.results : kept, ...(omitted ? { omitted } : {}) };
  });
}

async function skip(deps: GroupTaskDeps, task: OneGroup, accountId: string): Promise<AccountResult> {
  const at = new Date().toISOString();
  const message = `account "${accountId}" is no longer configured on resource "${task.resourceId}"`;
  const result: AccountResult = { runId: task.runId, accountId, resourceId: task.resourceId, outcome: 'skipped', step: 'plan', errorClass: 'NotFoundError', message, startedAt: at, endedAt: at };
  await deps.config.recordAccountResult(result, { at, accountId, resourceId: task.resourceId, runId: task.runId, event: auditEventOf(task.mode), outcome: 'skipped', detail: message });
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
    ...(r.keptVersion ? { keptVersion: r.keptVersion } : {}),
    ...(r.throttled ? { throttled: r.throttled } : {}),
  };
}
