import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Log } from '../../../layers/engine/log.js';
import { NotFoundError } from '../../../layers/engine/errors.js';
import type { AccountOutcome } from '../../../layers/engine/stores/types.js';
import { describeSecretWith } from '../../../layers/workflow/environment.js';
import { createSummarizeHandler, DETAIL_TYPES, METRIC_NAMESPACE, OUT_OF_SYNC_METRIC } from '../../../layers/workflow/summarize.js';
import { describeServer } from '../../../harness/servers/index.js';
import { engineOnMoto, type EngineHarness } from '../engine/support.js';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };

/** The summarize step with DynamoDB, EventBridge and CloudWatch all served by moto. */
describeServer('moto', 'the summarize step on moto', (moto) => {
  let h: EngineHarness;
  let events: EventBridgeClient;
  let metrics: CloudWatchClient;
  const sent: { DetailType?: string; Detail?: string; Source?: string }[][] = [];

  beforeAll(async () => {
    h = await engineOnMoto(moto.endpoint);
    events = new EventBridgeClient({ ...AWS, endpoint: moto.endpoint });
    // Every PutEvents request as sent, to check batching and contents; moto answers them.
    events.middlewareStack.add(
      (next) => async (args) => {
        const input = (args as { input?: unknown }).input;
        if (input && typeof input === 'object' && 'Entries' in input) sent.push([...(input as PutEventsCommand['input']).Entries!]);
        return next(args);
      },
      { step: 'initialize' },
    );
    metrics = new CloudWatchClient({ ...AWS, endpoint: moto.endpoint });
  });
  afterAll(async () => {
    events?.destroy();
    metrics?.destroy();
    await h?.close();
  });

  const summarize = () => {
    const sm = new SecretsManagerClient({ ...AWS, endpoint: moto.endpoint });
    return createSummarizeHandler({ stores: async () => ({ state: h.stores.state, credentials: h.credentials, describeSecret: describeSecretWith(sm) }), events, metrics, log: new Log({ level: 'SILENT' }) });
  };

  async function runWith(runId: string, total: number, outcomes: AccountOutcome[]) {
    const at = new Date().toISOString();
    await h.stores.state.createRun({ runId, status: 'running', selector: { resourceIds: ['r1'] }, startedAt: at, counts: { total } });
    for (const [i, outcome] of outcomes.entries()) {
      await h.stores.state.putAccountResult({ runId, accountId: `r1/u${i}`, resourceId: 'r1', outcome, step: 'finish', versionId: `v-${i}`, startedAt: at, endedAt: at, ...(outcome === 'out-of-sync' ? { workingVersion: 'previous' } : {}) });
    }
  }

  it('records a partial run with counts, emits one event per account in batches of at most 10, and the out-of-sync metric', async () => {
    const runId = `run-sum-${Date.now()}`;
    const outcomes: AccountOutcome[] = [...Array<AccountOutcome>(20).fill('succeeded'), 'failed', 'rolled-back', 'out-of-sync', 'out-of-sync'];
    await runWith(runId, 25, outcomes);
    sent.length = 0;
    const before = new Date(Date.now() - 60_000);

    const summary = await summarize()({ runId, mapResult: { ProcessedItemCount: 3 } });

    expect(summary).toEqual({ runId, status: 'partial', counts: { total: 25, succeeded: 20, failed: 2, 'rolled-back': 1, 'out-of-sync': 2 } });
    expect(await h.stores.state.getRun(runId)).toMatchObject({ status: 'partial', counts: summary.counts, endedAt: expect.any(String) });
    expect(sent.map((b) => b.length)).toEqual([10, 10, 4]);
    const all = sent.flat();
    expect(all.every((e) => e.Source === 'rpr')).toBe(true);
    expect(all.filter((e) => e.DetailType === DETAIL_TYPES.succeeded)).toHaveLength(20);
    expect(all.filter((e) => e.DetailType === DETAIL_TYPES.failed)).toHaveLength(2);
    expect(all.filter((e) => e.DetailType === DETAIL_TYPES.outOfSync).map((e) => JSON.parse(e.Detail!))).toEqual([
      { runId, accountId: 'r1/u22', resourceId: 'r1', outcome: 'out-of-sync', versionId: 'v-22', workingVersion: 'previous' },
      { runId, accountId: 'r1/u23', resourceId: 'r1', outcome: 'out-of-sync', versionId: 'v-23', workingVersion: 'previous' },
    ]);
    const stats = await metrics.send(
      new GetMetricStatisticsCommand({ Namespace: METRIC_NAMESPACE, MetricName: OUT_OF_SYNC_METRIC, StartTime: before, EndTime: new Date(Date.now() + 60_000), Period: 60, Statistics: ['Maximum'] }),
    );
    expect(Math.max(...(stats.Datapoints ?? []).map((d) => d.Maximum ?? 0))).toBeGreaterThanOrEqual(2);
  });

  it('sends the events and the metric once: a retried summary step records the run again but sends nothing twice', async () => {
    const runId = `run-sum-retry-${Date.now()}`;
    await runWith(runId, 3, ['succeeded', 'failed', 'out-of-sync']);
    sent.length = 0;
    const first = await summarize()({ runId });
    expect(sent.flat()).toHaveLength(3);
    const recorded = await h.stores.state.getRun(runId);
    expect(recorded?.eventsSentAt).toEqual(expect.any(String));

    const again = await summarize()({ runId });
    expect(again).toEqual(first);
    expect(sent.flat()).toHaveLength(3);
    expect((await h.stores.state.getRun(runId))?.eventsSentAt).toBe(recorded?.eventsSentAt);
  });

  it('a run whose every account succeeded is succeeded; an account with no result counts as failed', async () => {
    const ok = `run-sum-ok-${Date.now()}`;
    await runWith(ok, 2, ['succeeded', 'succeeded']);
    expect((await summarize()({ runId: ok })).status).toBe('succeeded');
    const lost = `run-sum-lost-${Date.now()}`;
    await runWith(lost, 3, ['succeeded']);
    expect(await summarize()({ runId: lost })).toMatchObject({ status: 'partial', counts: { total: 3, succeeded: 1, failed: 2 } });
    const none = `run-sum-none-${Date.now()}`;
    await runWith(none, 1, []);
    expect((await summarize()({ runId: none })).status).toBe('failed');
  });

  it('an unknown run or a bad payload is refused naming the field', async () => {
    await expect(summarize()({ runId: 'run-nosuch' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(summarize()({ runId: 'run-nosuch' })).rejects.toMatchObject({ field: 'runId' });
    await expect(summarize()({})).rejects.toMatchObject({ name: 'InvalidConfigurationError', field: 'runId' });
    await expect(summarize()({ runId: 'r', extra: 1 })).rejects.toMatchObject({ field: 'extra' });
  });
});
