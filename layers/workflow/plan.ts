import { randomUUID } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ResetEngine } from '../engine/engine.js';
import { InvalidConfigurationError } from '../engine/errors.js';
import { Log } from '../engine/log.js';
import { auditEventOf, type AccountResult, type RunRecord } from '../engine/stores/types.js';
import { clientConfig, storesFromEnvironment, type WorkflowStores } from './environment.js';
import { familyOf } from './families.js';
import { resetRequestSchema, type GroupTask, type ItemsLocation, type Plan, type PlannedRun, type ResetRequest } from './events.js';
import { forCaller, parsePayload } from './parse.js';
import { REGISTRY, RESOURCE_TYPE_DEFINITIONS } from '../resources/registry.js';

/**
 * The plan step's input: the execution's input (a ResetRequest) and the execution's name
 * (`$$.Execution.Name` in the state machine), from which the run id is derived. A bare
 * ResetRequest is accepted too (the run id then comes from its idempotency key, or is new).
 */
export const planInputSchema = z
  .object({
    request: resetRequestSchema,
    executionName: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1-80 letters, digits, "_" or "-"').optional(),
  })
  .strict();

/**
 * The run id of an execution: `run-<execution name>`. The API names an execution by the caller's
 * idempotency key (else a UUID), so a repeated request yields the same run id, and the API can
 * answer with the run id before the plan step has run.
 */
export function runIdFor(request: Pick<ResetRequest, 'idempotencyKey'>, executionName?: string): string {
  const name = executionName ?? request.idempotencyKey;
  return name !== undefined ? `run-${name}` : `run-${new Date().toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
}

export interface PlanHandlerOptions {
  readonly stores?: () => Promise<WorkflowStores>;
  readonly log?: Log;
  readonly now?: () => Date;
}

/**
 * The workflow's plan step: validates the request (InvalidConfigurationError naming the field),
 * expands its selector into accounts grouped by resource, records the run (status running) and
 * returns the groups the Map runs. Accounts of a type this build does not know (stored by
 * another version) are recorded as failed here (NotSupportedError) and left out of the groups, since no task could run them.
 * A retried or repeated plan of the same run returns the same groups and records nothing twice.
 */
export function createPlanHandler(options: PlanHandlerOptions = {}): (event: unknown) => Promise<Plan> {
  const log = options.log ?? new Log();
  const now = options.now ?? (() => new Date());
  return async (event) => {
    try {
      const input =
        typeof event === 'object' && event !== null && 'request' in event
          ? parsePayload(planInputSchema, event, 'request')
          : { request: parsePayload(resetRequestSchema, event, 'request') };
      const { request } = input;
      const runId = runIdFor(request, input.executionName);
      const stores = await (options.stores ?? storesFromEnvironment)();
      const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: {}, log });
      const selector = { ...request.selector };
      const groups = await engine.plan(selector);
      const total = groups.reduce((n, g) => n + g.accounts.length, 0);

      const existing = await stores.state.getRun(runId);
      const mode = request.mode === 'verify' ? { mode: request.mode } : {};
      if (existing && (JSON.stringify(existing.selector) !== JSON.stringify(selector) || existing.mode !== mode.mode)) {
        throw new InvalidConfigurationError('idempotencyKey', `run ${runId} was started by a different request; use a new key`);
      }
      const startedAt = now().toISOString();
      if (!existing) {
        const run: RunRecord = { runId, status: 'running', ...mode, selector, startedAt, counts: { total } };
        await stores.state.createRun(run);
      }

      const tasks: GroupTask[] = [];
      for (const { resource, accounts } of groups) {
        if (familyOf(resource.type) === undefined) {
          for (const a of accounts) {
            if (existing) continue;
            const message = `resource type "${resource.type}" is not one this build knows, so no function can reset it`;
            const result: AccountResult = { runId, accountId: a.id, resourceId: resource.id, outcome: 'failed', step: 'plan', errorClass: 'NotSupportedError', message, startedAt, endedAt: startedAt };
            await stores.state.recordAccountResult(result, { at: startedAt, accountId: a.id, resourceId: resource.id, runId, event: auditEventOf(request.mode), outcome: 'failed', detail: `NotSupportedError; ${message}` });
          }
          continue;
        }
        tasks.push({ runId, resourceId: resource.id, type: resource.type as GroupTask['type'], site: resource.site, accountIds: accounts.map((a) => a.id), ...mode });
      }
      const resources = new Map(groups.map((g) => [g.resource.id, g.resource]));
      const items = chainBySharedTarget(tasks, (id) => resources.get(id)).map(fitted);
      log.info('run planned', { runId, mode: request.mode ?? 'reset', accounts: total, groups: tasks.length, items: items.length, repeated: existing !== undefined, requestedBy: request.requestedBy });
      return { runId, groups: items, total };
    } catch (e) {
      throw forCaller(e);
    }
  };
}

/**
 * The cap on a shared target (the descriptors' `sharedTarget`: a directory server several resources
 * name, a provider tenant whose API limits they share): the groups of one target (type, site and
 * key) are dealt into at most its `groupsAtOnce` tasks, each running its groups one after another
 * (`chain`) on the function or agent that takes it. Other groups are unchanged.
 */
export function chainBySharedTarget(
  tasks: readonly GroupTask[],
  resourceOf: (id: string) => Readonly<Record<string, unknown>> | undefined,
  definitions: Readonly<Record<string, { readonly sharedTarget?: { readonly key: (config: never) => string; readonly groupsAtOnce: number } }>> = RESOURCE_TYPE_DEFINITIONS,
): GroupTask[] {
  const out: GroupTask[] = [];
  const byTarget = new Map<string, { cap: number; tasks: GroupTask[] }>();
  for (const task of tasks) {
    const shared = definitions[task.type]?.sharedTarget;
    const r = shared ? resourceOf(task.resourceId) : undefined;
    let key: string | undefined;
    try {
      key = r && shared ? shared.key(r as never) : undefined;
    } catch {
      // A stored configuration without the key's fields runs alone.
    }
    if (key === undefined || !shared) {
      out.push(task);
      continue;
    }
    const id = JSON.stringify([task.type, task.site, key]);
    const lane = byTarget.get(id) ?? { cap: Math.max(1, shared.groupsAtOnce), tasks: [] };
    lane.tasks.push(task);
    byTarget.set(id, lane);
  }
  for (const { cap, tasks: same } of byTarget.values()) {
    const lanes = same.slice(0, cap).map((head) => ({ head, chain: [] as GroupTask[] }));
    same.slice(cap).forEach((task, i) => lanes[i % lanes.length]!.chain.push(task));
    for (const { head, chain } of lanes) out.push(chain.length ? { ...head, chain } : head);
  }
  return out;
}

/** A task's input stays well under a state's 256 KB, with room for the state machine's own fields. */
export const TASK_BYTES = 128 * 1024;

/**
 * The task as it may travel: as planned, or, when its account ids would make it larger than
 * TASK_BYTES (a domain of thousands of accounts, a long chain of them), with each group named by
 * selection instead (`selected`: the accounts of the resource the run's selector selects, read
 * when the task runs).
 */
export function fitted(task: GroupTask): GroupTask {
  if (Buffer.byteLength(JSON.stringify(task)) <= TASK_BYTES) return task;
  const bySelection = <G extends Omit<GroupTask, 'chain'>>({ accountIds: _ids, ...group }: G) => ({ ...group, selected: true as const });
  const { chain, ...head } = task;
  return { ...bySelection(head), ...(chain ? { chain: chain.map(bySelection) } : {}) };
}

/** Where the plan step keeps a run's groups for the Map to read. */
export interface ItemsStore {
  put(runId: string, groups: readonly GroupTask[]): Promise<ItemsLocation>;
}

/** The groups as one JSON array per run under `plans/` in the results bucket (encrypted with the bucket's key). */
export function s3ItemsStore(bucket: string, client: S3Client = new S3Client(clientConfig())): ItemsStore {
  return {
    async put(runId, groups) {
      const key = `plans/${runId}.json`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(groups), ContentType: 'application/json' }));
      return { bucket, key };
    },
  };
}

/**
 * The plan step as deployed: plans the run, writes its groups to the items store (by default the
 * bucket named by RPR_RESULTS_BUCKET) and returns where they are. A repeated plan of the same
 * run writes the same groups again.
 */
export function createPlanStepHandler(options: PlanHandlerOptions & { readonly items?: ItemsStore } = {}): (event: unknown) => Promise<PlannedRun> {
  const plan = createPlanHandler(options);
  let items = options.items;
  return async (event) => {
    const { runId, groups, total } = await plan(event);
    try {
      if (!items) {
        const bucket = process.env.RPR_RESULTS_BUCKET;
        if (!bucket) throw new InvalidConfigurationError('RPR_RESULTS_BUCKET', 'must name the bucket the plan step writes groups to');
        items = s3ItemsStore(bucket);
      }
      return { runId, total, taskCount: groups.length, items: await items.put(runId, groups) };
    } catch (e) {
      throw forCaller(e);
    }
  };
}
