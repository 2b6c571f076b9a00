import type { Account, ResourceType } from '../resources/common.js';
import { ResetEngine } from '../engine/engine.js';
import { InvalidConfigurationError, NotFoundError } from '../engine/errors.js';
import { Log } from '../engine/log.js';
import type { AdapterRegistry } from '../engine/session.js';
import type { AccountResult } from '../engine/stores/types.js';
import { storesFromEnvironment, type WorkflowStores } from './environment.js';
import { groupResultSchema, groupTaskSchema, type GroupResult, type GroupTask } from './events.js';
import { forCaller, parsePayload } from './parse.js';
import { looksLikeRotationEvent, parseRotationEvent, RotationRunner } from './rotation.js';

export interface ResetHandlerOptions {
  /** The adapters this function carries: only its own family's, so its bundle holds only its driver. */
  readonly adapters: AdapterRegistry;
  /** Default: the AWS stores the environment names (see storesFromEnvironment), opened once per container. */
  readonly stores?: () => Promise<WorkflowStores>;
  readonly log?: Log;
  /** Lease lifetime. Default 15 minutes, which also bounds a rotation's hold between its steps. */
  readonly leaseTtlMs?: number;
  /** Deadline for one network operation. Default 30 s. */
  readonly timeoutMs?: number;
  readonly now?: () => Date;
}

/** A reset function: a workflow group task in, its GroupResult out; or one rotation step in, nothing out. */
export type ResetHandler = ((event: unknown, context?: unknown) => Promise<GroupResult | undefined>) & {
  /** The resource types this function serves. */
  readonly types: readonly ResourceType[];
};

/**
 * The handler of every reset-<family> function. It accepts either a group task from the
 * workflow's Map (runs the engine on those accounts of one resource, on one connection) or a
 * Secrets Manager rotation event (runs that one step of the protocol).
 *
 * Errors leave with their class name (`name`), the state machine's Retry/Catch contract,
 * and with no secret in their message.
 */
export function createResetHandler(options: ResetHandlerOptions): ResetHandler {
  const log = options.log ?? new Log();
  const leaseTtlMs = options.leaseTtlMs ?? 15 * 60_000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const now = options.now ?? (() => new Date());
  let ready: Promise<{ stores: WorkflowStores; engine: ResetEngine; rotation: RotationRunner }> | undefined;
  // Clients and the engine live as long as the container: created on the first invocation.
  const setup = () =>
    (ready ??= (async () => {
      const stores = await (options.stores ?? storesFromEnvironment)();
      const engine = new ResetEngine({ state: stores.state, credentials: stores.credentials, adapters: options.adapters, log, leaseTtlMs, timeoutMs, now });
      const rotation = new RotationRunner({ stores, adapters: options.adapters, log, leaseTtlMs, timeoutMs, now });
      return { stores, engine, rotation };
    })().catch((e: unknown) => {
      ready = undefined;
      throw e;
    }));

  const handler = async (event: unknown): Promise<GroupResult | undefined> => {
    try {
      if (looksLikeRotationEvent(event)) {
        const request = parseRotationEvent(event);
        const { rotation } = await setup();
        await rotation.run(request);
        return undefined;
      }
      const task = parsePayload(groupTaskSchema, event, 'task');
      const { stores, engine } = await setup();
      return await runGroup(stores, engine, task, log);
    } catch (e) {
      throw forCaller(e);
    }
  };
  return Object.assign(handler, { types: Object.keys(options.adapters) as ResourceType[] });
}

/** One resource's accounts, as the plan grouped them. Accounts removed since the plan are skipped. */
async function runGroup(stores: WorkflowStores, engine: ResetEngine, task: GroupTask, log: Log): Promise<GroupResult> {
  const resource = await stores.state.getResource(task.resourceId);
  if (!resource) throw new NotFoundError('resourceId', `resource "${task.resourceId}" does not exist`);
  if (resource.type !== task.type) throw new InvalidConfigurationError('type', `resource "${resource.id}" is of type ${resource.type}, not ${task.type}`);
  const ids = [...new Set(task.accountIds)];
  const found = await Promise.all(ids.map((id) => stores.state.getAccount(id)));
  const accounts = found.filter((a): a is Account => a !== undefined && a.resourceId === resource.id);
  const missing = ids.filter((id) => !accounts.some((a) => a.id === id));
  const groupLog = log.child({ runId: task.runId, resourceId: resource.id, type: resource.type });
  groupLog.info('group started', { accounts: accounts.length, skipped: missing.length });
  const results = accounts.length > 0 ? await engine.resetGroup(resource, accounts, task.runId, groupLog) : [];
  for (const accountId of missing) results.push(await skip(stores, task, accountId));
  return groupResultSchema.parse({ runId: task.runId, resourceId: task.resourceId, results: results.map(toGroupEntry) });
}

async function skip(stores: WorkflowStores, task: GroupTask, accountId: string): Promise<AccountResult> {
  const at = new Date().toISOString();
  const message = `account "${accountId}" is no longer configured on resource "${task.resourceId}"`;
  const result: AccountResult = { runId: task.runId, accountId, resourceId: task.resourceId, outcome: 'skipped', step: 'plan', errorClass: 'NotFoundError', message, startedAt: at, endedAt: at };
  await stores.state.recordAccountResult(result, { at, accountId, resourceId: task.resourceId, runId: task.runId, event: 'password-reset', outcome: 'skipped', detail: message });
  return result;
}

const MAX_MESSAGE = 2048;

function toGroupEntry(r: AccountResult): GroupResult['results'][number] {
  return {
    accountId: r.accountId,
    outcome: r.outcome,
    step: r.step,
    ...(r.versionId !== undefined ? { versionId: r.versionId } : {}),
    ...(r.errorClass !== undefined ? { errorClass: r.errorClass } : {}),
    ...(r.message !== undefined ? { message: r.message.length > MAX_MESSAGE ? `${r.message.slice(0, MAX_MESSAGE - 1)}…` : r.message } : {}),
    ...(r.workingVersion !== undefined ? { workingVersion: r.workingVersion } : {}),
  };
}
