import { randomBytes } from 'node:crypto';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { StateMachine } from 'aws-local-stepfunctions';
import { Duration } from 'aws-cdk-lib';
import { Configurator } from '../../layers/engine/configure.js';
import { Log } from '../../layers/engine/log.js';
import { Secret } from '../../layers/engine/secret.js';
import { openAwsStores, type AwsStores } from '../../layers/engine/stores/aws.js';
import { createStateTable } from '../../layers/engine/stores/dynamo-schema.js';
import type { AccountResult, RunRecord } from '../../layers/engine/stores/types.js';
import type { WorkflowStores } from '../../layers/workflow/environment.js';
import type { GroupResult } from '../../layers/workflow/events.js';
import { createResetHandler, type ResetHandler } from '../../layers/workflow/handler.js';
import { createPlanStepHandler, type ItemsStore } from '../../layers/workflow/plan.js';
import { createSummarizeHandler, type RunSummary } from '../../layers/workflow/summarize.js';
import { functionTimeoutMs, lambdaTask, locallyRunnable, readingItems, statesOf, synthesizedDefinition } from './local-state-machine.js';
import { MemoryTarget } from './memory-target.js';
import type { ThrottlingProxy } from './throttling-proxy.js';
import { REGISTRY } from '../../layers/resources/registry.js';

/**
 * A bulk run as a large user makes one, for the quota tests and `bench/quota.ts`: resources of
 * the in-process target (one admin and N-1 accounts each) configured on moto, and the
 * synthesized workflow run locally with the real plan, reset and summarize handlers, whose stores
 * talk to moto through the throttling proxy.
 */

const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
const silent = new Log({ level: 'SILENT' });

export interface BulkFixture {
  readonly tableName: string;
  readonly target: MemoryTarget;
  /** Account id → its secret. */
  readonly secrets: ReadonlyMap<string, { secretId: string; username: string }>;
  readonly tag: string;
}

/**
 * Configures `resources` × `perResource` accounts through `endpoint`: moto itself, or a proxy that
 * throttles nothing (the setup is not what is measured).
 */
export async function prepareBulk(o: { endpoint: string; resources: number; perResource: number }): Promise<BulkFixture> {
  const tableName = `rpr-bulk-${randomBytes(4).toString('hex')}`;
  const admin = new DynamoDBClient({ ...AWS, endpoint: o.endpoint });
  await createStateTable(admin, tableName);
  admin.destroy();
  const stores = await openAwsStores({ tableName, endpoint: o.endpoint, ...AWS });
  const config = new Configurator(stores.state, stores.credentials, REGISTRY);
  const target = new MemoryTarget();
  const secrets = new Map<string, { secretId: string; username: string }>();
  const tag = `bulk-${randomBytes(3).toString('hex')}`;
  try {
    for (let r = 0; r < o.resources; r++) {
      const id = `${tag}-r${r}`;
      await config.putResource({ id, type: 'postgresql', host: `${id}.example`, adminAccount: `${id}/${id}-admin`, tags: [tag] });
      const names = [`${id}-admin`, ...Array.from({ length: o.perResource - 1 }, (_, i) => `${id}-u${i}`)];
      // The in-process target keys passwords by user name: names are unique across resources.
      await Promise.all(
        names.map(async (username) => {
          const password = `${username}-Start-1`;
          target.passwords.set(username, password);
          const a = await config.putAccount({ resourceId: id, username, secretId: `${tableName}/${username}` }, { password: new Secret(password) });
          secrets.set(a.id, { secretId: a.secretId, username });
        }),
      );
    }
  } finally {
    await stores.close();
  }
  return { tableName, target, secrets, tag };
}

export interface BulkRunOptions {
  /** Where the run's outcome is read back unthrottled: moto, or a proxy that throttles nothing. */
  readonly direct: string;
  /** The throttling proxy the run's stores go through. */
  readonly proxy: ThrottlingProxy;
  readonly maxConcurrency: number;
  /** The write budget the functions use (writes a second). Default: the product's. */
  readonly secretsWriteRate?: number;
  /** The reset functions' timeout, in the definition and in each local invocation. Default 15 minutes. */
  readonly functionTimeout?: Duration;
}

export interface BulkOutcome {
  readonly runId: string;
  readonly run: RunRecord;
  readonly results: AccountResult[];
  /** The whole run, plan and summary included. */
  readonly seconds: number;
  /** From the first reset task's start to the last one's end: the time the accounts were being reset. */
  readonly resetSeconds: number;
  /** Reset task invocations, and those that handed work on as `next`. */
  readonly invocations: number;
  readonly continued: number;
  /** Accounts whose AWSCURRENT is not what the target holds (none, after a sound run). */
  readonly mismatched: string[];
  /** Secrets Manager writes that moto received, and the writes the proxy refused. */
  readonly writes: number;
  readonly throttledWrites: number;
  /** Every throttled Secrets Manager response. */
  readonly throttled: number;
}

/**
 * Runs the fixture's accounts through the local workflow and checks every account's AWSCURRENT
 * against the target. Each reset invocation runs in a "container" of its own, as on Lambda: a
 * handler with its own stores (its own SDK clients and write-budget object), reused by the next
 * invocation once it is free; the plan and the summary share one.
 */
export async function runBulk(fixture: BulkFixture, o: BulkRunOptions): Promise<BulkOutcome> {
  const opened: AwsStores[] = [];
  const openStores = async (): Promise<WorkflowStores> => {
    const stores = await openAwsStores({
      tableName: fixture.tableName,
      endpoint: o.proxy.endpoint,
      ...AWS,
      ...(o.secretsWriteRate !== undefined ? { secretsWriteRate: o.secretsWriteRate } : {}),
    });
    opened.push(stores);
    return {
      state: stores.state,
      credentials: stores.credentials,
      describeSecret: async () => {
        throw new Error('a bulk run makes no rotation');
      },
    };
  };
  const shared = await openStores();
  const storesFactory = async () => shared;
  const accepted = { send: async () => ({ FailedEntryCount: 0, Entries: [] }) };
  const written = new Map<string, unknown[]>();
  const items: ItemsStore = {
    put: async (runId, groups) => {
      written.set(runId, [...groups]);
      return { bucket: 'memory', key: runId };
    },
  };
  const timeout = o.functionTimeout ?? Duration.minutes(15);
  const definition = synthesizedDefinition({ functionTimeout: timeout });
  const plan = readingItems(createPlanStepHandler({ stores: storesFactory, log: silent, items }), async (at) => written.get(at.key)!);
  const summarize = createSummarizeHandler({ stores: storesFactory, log: silent, events: accepted as unknown as EventBridgeClient, metrics: accepted as unknown as CloudWatchClient });
  const idle: ResetHandler[] = [];
  const container = () => idle.pop() ?? createResetHandler({ adapters: { postgresql: fixture.target.adapter('postgresql') }, stores: openStores, log: silent });
  let invocations = 0;
  let continued = 0;
  let firstStart = Infinity;
  let lastEnd = 0;
  const counted = async (event: unknown, context: { getRemainingTimeInMillis(): number }) => {
    invocations++;
    firstStart = Math.min(firstStart, performance.now());
    const reset = container();
    try {
      const out = (await reset(event, context)) as GroupResult;
      if (out.next) continued++;
      return out;
    } finally {
      idle.push(reset);
      lastEnd = Math.max(lastEnd, performance.now());
    }
  };
  const handlers: Record<string, (input: never) => Promise<unknown>> = {};
  for (const [name, state] of statesOf(definition)) {
    if (state.Type !== 'Task') continue;
    if (name === 'Plan') handlers[name] = lambdaTask(plan, functionTimeoutMs(state));
    else if (name === 'Summarize') handlers[name] = lambdaTask(summarize, functionTimeoutMs(state));
    else if (name.startsWith('Reset ')) handlers[name] = lambdaTask(counted, functionTimeoutMs(state));
    else throw new Error(`no local handler for task state "${name}"`);
  }

  const before = { writes: o.proxy.total(/^secretsmanager\.(PutSecretValue|UpdateSecretVersionStage)$/), all: o.proxy.total(/^secretsmanager\./) };
  const name = `bulk-${randomBytes(4).toString('hex')}`;
  const request = { selector: { tags: [fixture.tag] }, idempotencyKey: name };
  const machine = new StateMachine(locallyRunnable(definition, o.maxConcurrency) as never, { validationOptions: { checkPaths: false, checkArn: false } });
  const t0 = performance.now();
  try {
    const execution = machine.run(request as never, {
      overrides: { taskResourceLocalHandlers: handlers as never },
      context: { Execution: { Name: name, Input: request, StartTime: new Date().toISOString() } } as never,
    });
    const output = (await execution.result) as unknown as RunSummary;
    const seconds = (performance.now() - t0) / 1000;
    const after = { writes: o.proxy.total(/^secretsmanager\.(PutSecretValue|UpdateSecretVersionStage)$/), all: o.proxy.total(/^secretsmanager\./) };
    const run = (await shared.state.getRun(output.runId))!;
    const results = await shared.state.listAccountResults(output.runId);
    return {
      runId: output.runId,
      run,
      results,
      seconds,
      resetSeconds: (lastEnd - firstStart) / 1000,
      invocations,
      continued,
      mismatched: await mismatched(fixture, o.direct),
      writes: after.writes.requests - after.writes.throttled - (before.writes.requests - before.writes.throttled),
      throttledWrites: after.writes.throttled - before.writes.throttled,
      throttled: after.all.throttled - before.all.throttled,
    };
  } finally {
    await Promise.all(opened.map((s) => s.close()));
  }
}

/** The accounts whose AWSCURRENT (read unthrottled) is not the password the target holds. */
export async function mismatched(fixture: BulkFixture, endpoint: string): Promise<string[]> {
  const client = new SecretsManagerClient({ ...AWS, endpoint });
  const out: string[] = [];
  try {
    const entries = [...fixture.secrets];
    for (let i = 0; i < entries.length; i += 50) {
      await Promise.all(
        entries.slice(i, i + 50).map(async ([accountId, { secretId, username }]) => {
          const current = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
          if (current.SecretString !== fixture.target.passwords.get(username)) out.push(accountId);
        }),
      );
    }
  } finally {
    client.destroy();
  }
  return out.sort();
}

/** Outcome → count, from a run's results. */
export function outcomes(results: readonly AccountResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  return counts;
}
