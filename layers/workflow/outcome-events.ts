import { PutMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { OUT_OF_SYNC_OUTCOMES, type AccountOutcome, type AccountResult, type RunMode } from '../engine/stores/types.js';

/**
 * What the deployment publishes about accounts' outcomes, the same from a workflow run's summary
 * (reset or verify) and from a Secrets Manager rotation: one EventBridge event per account (ids
 * only, never a password) and the out-of-sync count as a CloudWatch metric, which the OutOfSync
 * alarm watches. A verify run's drifted and out-of-sync accounts take the same path as a reset's
 * out-of-sync ones (the OutOfSync event, counted in the metric); an account found in sync gets an
 * event of its own, never "PasswordReset Succeeded", which says a new password was set.
 */

export const EVENT_SOURCE = 'rpr';
export const METRIC_NAMESPACE = 'rpr';
export const OUT_OF_SYNC_METRIC = 'OutOfSyncAccounts';
export const DETAIL_TYPES = {
  succeeded: 'PasswordReset Succeeded',
  failed: 'PasswordReset Failed',
  outOfSync: 'PasswordReset OutOfSync',
  inSync: 'PasswordVerify InSync',
} as const;

/** PutEvents takes at most 10 entries per call. */
const EVENTS_PER_CALL = 10;

function detailTypeOf(outcome: AccountOutcome): string {
  if (outcome === 'succeeded') return DETAIL_TYPES.succeeded;
  if (outcome === 'in-sync') return DETAIL_TYPES.inSync;
  if (OUT_OF_SYNC_OUTCOMES.includes(outcome)) return DETAIL_TYPES.outOfSync;
  return DETAIL_TYPES.failed;
}

/** The accounts the OutOfSyncAccounts metric counts: out of sync, or (verify runs) drifted. */
export function outOfSyncCount(counts: Partial<Record<AccountOutcome, number>>): number {
  return OUT_OF_SYNC_OUTCOMES.reduce((n, o) => n + (counts[o] ?? 0), 0);
}

/** One event per result, in batches of ten; only the entries EventBridge refused are sent again. A verify run's carry `mode: "verify"`. */
export async function putAccountEvents(client: Pick<EventBridgeClient, 'send'>, results: readonly AccountResult[], eventBusName: string | undefined, mode?: RunMode): Promise<void> {
  const entries: PutEventsRequestEntry[] = results.map((r) => ({
    Source: EVENT_SOURCE,
    DetailType: detailTypeOf(r.outcome),
    Detail: JSON.stringify({
      runId: r.runId,
      accountId: r.accountId,
      resourceId: r.resourceId,
      outcome: r.outcome,
      ...(mode === 'verify' ? { mode } : {}),
      ...(r.versionId !== undefined ? { versionId: r.versionId } : {}),
      ...(r.errorClass !== undefined ? { errorClass: r.errorClass } : {}),
      ...(r.workingVersion !== undefined ? { workingVersion: r.workingVersion } : {}),
      ...(r.keptVersion !== undefined ? { keptVersion: r.keptVersion } : {}),
    }),
    ...(eventBusName ? { EventBusName: eventBusName } : {}),
  }));
  for (let i = 0; i < entries.length; i += EVENTS_PER_CALL) {
    let batch = entries.slice(i, i + EVENTS_PER_CALL);
    for (let attempt = 0; batch.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 100 * 2 ** attempt));
      const out = await client.send(new PutEventsCommand({ Entries: batch }));
      if (!out.FailedEntryCount) break;
      // Entries come back in order; only the failed ones are sent again.
      const failed = batch.filter((_, j) => out.Entries?.[j]?.ErrorCode);
      if (attempt >= 4) throw new Error(`EventBridge refused ${failed.length} event(s): ${out.Entries?.find((e) => e.ErrorCode)?.ErrorCode ?? 'unknown error'}`);
      batch = failed;
    }
  }
}

/** The number of accounts found out of sync, at `at`. */
export async function putOutOfSyncMetric(client: Pick<CloudWatchClient, 'send'>, count: number, at: Date): Promise<void> {
  await client.send(
    new PutMetricDataCommand({
      Namespace: METRIC_NAMESPACE,
      MetricData: [{ MetricName: OUT_OF_SYNC_METRIC, Value: count, Unit: 'Count', Timestamp: at }],
    }),
  );
}
