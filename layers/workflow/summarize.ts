import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { z } from 'zod';
import { NotFoundError } from '../engine/errors.js';
import { Log } from '../engine/log.js';
import { runStatusOf, type RunRecord } from '../engine/stores/types.js';
import { clientConfig, storesFromEnvironment, type WorkflowStores } from './environment.js';
import { outOfSyncCount, putAccountEvents, putOutOfSyncMetric } from './outcome-events.js';
import { forCaller, parsePayload } from './parse.js';

export const summarizeInputSchema = z
  .object({
    runId: z.string().min(1).max(128),
    /** The Map's own result summary (ResultWriter's), kept in the log only: the store's results are the record. */
    mapResult: z.unknown().optional(),
  })
  .strict();

export { DETAIL_TYPES, EVENT_SOURCE, METRIC_NAMESPACE, OUT_OF_SYNC_METRIC } from './outcome-events.js';

export interface SummarizeHandlerOptions {
  readonly stores?: () => Promise<WorkflowStores>;
  /** Default: a client for the function's region (and `RPR_AWS_ENDPOINT`), created once. */
  readonly events?: EventBridgeClient;
  readonly metrics?: CloudWatchClient;
  /** Default `RPR_EVENT_BUS`, else the account's default bus. */
  readonly eventBusName?: string;
  readonly log?: Log;
  readonly now?: () => Date;
}

export interface RunSummary {
  readonly runId: string;
  readonly status: RunRecord['status'];
  readonly mode?: RunRecord['mode'];
  readonly counts: RunRecord['counts'];
  readonly throttling?: RunRecord['throttling'];
}

/**
 * The workflow's last step: reads the run's account results, records the run's outcome
 * (succeeded, partial or failed, with counts; a verify run succeeds when every account is in sync; an account with no result counts as failed; the
 * accounts that were throttled on the way, and how often, apart from those counts),
 * emits one EventBridge event per account (ids only, never a password) and the number of
 * out-of-sync accounts as a CloudWatch metric. The events and the metric are sent once per run:
 * the run records when they were sent, and a retried step skips them. Only a crash between the
 * last PutEvents and that record sends some twice, so consumers key on (runId, accountId).
 */
export function createSummarizeHandler(options: SummarizeHandlerOptions = {}): (event: unknown) => Promise<RunSummary> {
  const log = options.log ?? new Log();
  const now = options.now ?? (() => new Date());
  let events = options.events;
  let metrics = options.metrics;
  return async (event) => {
    try {
      const { runId, mapResult } = parsePayload(summarizeInputSchema, event, 'event');
      const stores = await (options.stores ?? storesFromEnvironment)();
      const run = await stores.state.getRun(runId);
      if (!run) throw new NotFoundError('runId', `run ${runId} does not exist`);
      const results = await stores.state.listAccountResults(runId);

      const counts: RunRecord['counts'] & Record<string, number> = { total: Math.max(run.counts.total, results.length) };
      for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
      const missing = counts.total - results.length;
      if (missing > 0) counts.failed = (counts.failed ?? 0) + missing;
      const status = runStatusOf(counts);
      const throttled = results.filter((r) => (r.throttled ?? 0) > 0);
      const throttling = { accounts: throttled.length, retries: throttled.reduce((n, r) => n + r.throttled!, 0) };
      const summarized: RunRecord = { ...run, status, endedAt: now().toISOString(), counts, ...(throttling.accounts ? { throttling } : {}) };
      await stores.state.updateRun(summarized);

      if (run.eventsSentAt) {
        // A retry of this step (its first attempt sent them, then failed or timed out before answering).
        log.info('events and metric already sent for this run; not sent again', { runId, eventsSentAt: run.eventsSentAt });
      } else {
        events ??= new EventBridgeClient(clientConfig());
        metrics ??= new CloudWatchClient(clientConfig());
        await putAccountEvents(events, results, options.eventBusName ?? process.env.RPR_EVENT_BUS, run.mode);
        await putOutOfSyncMetric(metrics, outOfSyncCount(counts), now());
        await stores.state.updateRun({ ...summarized, eventsSentAt: now().toISOString() });
      }
      log.info('run summarized', { runId, mode: run.mode ?? 'reset', status, counts, missing, throttling, mapResult: mapResult === undefined ? undefined : JSON.stringify(mapResult).slice(0, 2000) });
      return { runId, status, ...(run.mode ? { mode: run.mode } : {}), counts, ...(throttling.accounts ? { throttling } : {}) };
    } catch (e) {
      throw forCaller(e);
    }
  };
}
