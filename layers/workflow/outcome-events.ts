import { PutMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { AccountOutcome, AccountResult } from '../engine/stores/types.js';

/**
 * What the deployment publishes about accounts' outcomes, the same from a workflow run's summary
 * and from a Secrets Manager rotation: one EventBridge event per account (ids only, never a
 * password) and the out-of-sync count as a CloudWatch metric, which the OutOfSync alarm watches.
 */

export const EVENT_SOURCE = 'rpr';
export const METRIC_NAMESPACE = 'rpr';
export const OUT_OF_SYNC_METRIC = 'OutOfSyncAccounts';
export const DETAIL_TYPES = {
  succeeded: 'PasswordReset Succeeded',
  failed: 'PasswordReset Failed',
  outOfSync: 'PasswordReset OutOfSync',
} as const;

/** PutEvents takes at most 10 entries per call. */
const EVENTS_PER_CALL = 10;

function detailTypeOf(outcome: AccountOutcome): string {
  if (outcome === 'succeeded') return DETAIL_TYPES.succeeded;
  if (outcome === 'out-of-sync') return DETAIL_TYPES.outOfSync;
  return DETAIL_TYPES.failed;
}

/** One event per result, in batches of ten; only the entries EventBridge refused are sent again. */
export async function putAccountEvents(client: Pick<EventBridgeClient, 'send'>, results: readonly AccountResult[], eventBusName: string | undefined): Promise<void> {
  const entries: PutEventsRequestEntry[] = results.map((r) => ({
    Source: EVENT_SOURCE,
    DetailType: detailTypeOf(r.outcome),
    Detail: JSON.stringify({
      runId: r.runId,
      accountId: r.accountId,
      resourceId: r.resourceId,
      outcome: r.outcome,
      ...(r.versionId !== undefined ? { versionId: r.versionId } : {}),
      ...(r.errorClass !== undefined ? { errorClass: r.errorClass } : {}),
      ...(r.workingVersion !== undefined ? { workingVersion: r.workingVersion } : {}),
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
