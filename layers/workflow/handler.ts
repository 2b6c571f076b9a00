import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { ResourceType } from '../resources/common.js';
import { REGISTRY } from '../resources/registry.js';
import { ResetEngine } from '../engine/engine.js';
import { Log } from '../engine/log.js';
import { DEFAULT_PATIENCE_MS, patience, withPatience } from '../engine/patience.js';
import type { AdapterRegistry } from '../engine/session.js';
import type { AccountResult } from '../engine/stores/types.js';
import { clientConfig, storesFromEnvironment, type WorkflowStores } from './environment.js';
import { groupTaskSchema, type GroupResult } from './events.js';
import { runGroupTask } from './group.js';
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
  /**
   * Where a rotation that ends out of sync publishes its event and the OutOfSyncAccounts metric,
   * as a workflow run's summary does. Default: clients for the function's region (and
   * `RPR_AWS_ENDPOINT`), created the first time one is needed; the bus `RPR_EVENT_BUS`.
   */
  readonly events?: Pick<EventBridgeClient, 'send'>;
  readonly metrics?: Pick<CloudWatchClient, 'send'>;
  readonly eventBusName?: string;
}

/**
 * The epoch ms by which an invocation should return: Lambda's remaining time (from its context)
 * less a reserve for closing connections and answering, a tenth of it, between 1 s and 60 s
 * (60 s also covers an adapter operation's 30 s deadline). Undefined without a Lambda context.
 */
export function deadlineFromContext(context: unknown, now = Date.now()): number | undefined {
  const remaining = (context as { getRemainingTimeInMillis?: () => number } | undefined)?.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return undefined;
  return now + remaining - Math.min(60_000, Math.max(1_000, remaining / 10));
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
      const engine = new ResetEngine({ state: stores.state, credentials: stores.credentials, registry: REGISTRY, adapters: options.adapters, log, leaseTtlMs, timeoutMs, now });
      const rotation = new RotationRunner({ stores, registry: REGISTRY, adapters: options.adapters, log, leaseTtlMs, timeoutMs, now, publishOutOfSync: outOfSyncPublisher(options, now) });
      return { stores, engine, rotation };
    })().catch((e: unknown) => {
      ready = undefined;
      throw e;
    }));

  const handler = async (event: unknown, context?: unknown): Promise<GroupResult | undefined> => {
    const deadline = deadlineFromContext(context);
    try {
      if (looksLikeRotationEvent(event)) {
        const request = parseRotationEvent(event);
        const { rotation } = await setup();
        // A throttled store call is retried until the function must answer; Secrets Manager retries a failed step.
        await withPatience(patience(deadline ?? Date.now() + DEFAULT_PATIENCE_MS), () => rotation.run(request));
        return undefined;
      }
      const task = parsePayload(groupTaskSchema, event, 'task');
      const { stores, engine } = await setup();
      return await runGroupTask(task, { engine, config: stores.state, log }, deadline !== undefined ? { deadline } : {});
    } catch (e) {
      throw forCaller(e);
    }
  };
  return Object.assign(handler, { types: Object.keys(options.adapters) as ResourceType[] });
}


/**
 * Publishes an out-of-sync rotation's result as the summary publishes a run's: its event, and the
 * metric with the one account. The SDK clients are loaded the first time (rarely): a reset
 * function's start does not pay for them.
 */
function outOfSyncPublisher(options: ResetHandlerOptions, now: () => Date): (result: AccountResult) => Promise<void> {
  let clients: Promise<{ events: Pick<EventBridgeClient, 'send'>; metrics: Pick<CloudWatchClient, 'send'> }> | undefined;
  return async (result) => {
    clients ??= (async () => ({
      events: options.events ?? new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient(clientConfig()),
      metrics: options.metrics ?? new (await import('@aws-sdk/client-cloudwatch')).CloudWatchClient(clientConfig()),
    }))().catch((e: unknown) => {
      clients = undefined;
      throw e;
    });
    const { events, metrics } = await clients;
    const { putAccountEvents, putOutOfSyncMetric } = await import('./outcome-events.js');
    await putAccountEvents(events, [result], options.eventBusName ?? process.env.RPR_EVENT_BUS);
    await putOutOfSyncMetric(metrics, 1, now());
  };
}
