import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';
import { Configurator } from '../../../layers/engine/configure.js';
import { isUnfinished, ResetEngine, tokenFor } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openAwsStores, type AwsStores } from '../../../layers/engine/stores/aws.js';
import { createStateTable } from '../../../layers/engine/stores/dynamo-schema.js';
import { AWSCURRENT, AWSPENDING, type AccountResult } from '../../../layers/engine/stores/types.js';
import { describeServer } from '../../../harness/servers/index.js';
import { mismatched, outcomes, prepareBulk, runBulk, type BulkFixture } from '../../../harness/support/bulk-run.js';
import { stillPending } from '../../support/labels.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { ThrottlingProxy } from '../../../harness/support/throttling-proxy.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
const silent = new Log({ level: 'SILENT' });
const isMove = (op: string, body: Record<string, unknown>) => op === 'UpdateSecretVersionStage' && body.MoveToVersionId !== undefined;
const isLabelRemoval = (op: string, body: Record<string, unknown>) => op === 'UpdateSecretVersionStage' && body.MoveToVersionId === undefined;

/** Changes per user name since `before`. */
const changesSince = (target: MemoryTarget, before: ReadonlyMap<string, number>) =>
  [...target.passwords.keys()].map((u) => (target.changesOf.get(u) ?? 0) - (before.get(u) ?? 0));

/**
 * Issue 8: a bulk run at Secrets Manager's write quota breaks nothing. moto serves the AWS APIs
 * behind a proxy that throttles as AWS documents (50 writes a second, ThrottlingException).
 */
describeServer('moto', "a bulk run at Secrets Manager's write quota (moto behind the throttling proxy)", (moto) => {
  let proxy: ThrottlingProxy;
  beforeAll(async () => {
    proxy = await ThrottlingProxy.start({ upstream: moto.endpoint });
  });
  afterAll(async () => proxy?.close());

  describe('the synthesized workflow, run locally with the real handlers', () => {
    let fixture: BulkFixture;
    beforeAll(async () => {
      fixture = await prepareBulk({ endpoint: moto.endpoint, resources: 30, perResource: 10 });
    }, 120_000);

    it('300 accounts at Map MaxConcurrency 50 with the default write budget: none failed or out of sync, every AWSCURRENT is what the target holds, two writes a reset', async () => {
      const before = new Map(fixture.target.changesOf);

      const o = await runBulk(fixture, { direct: moto.endpoint, proxy, maxConcurrency: 50 });

      expect(outcomes(o.results)).toEqual({ succeeded: 300 });
      expect(o.run.status).toBe('succeeded');
      expect(o.mismatched).toEqual([]);
      expect(changesSince(fixture.target, before).every((n) => n === 1)).toBe(true);
      expect(o.writes).toBe(600);
    }, 180_000);

    it('with the budget far above the quota, Secrets Manager throttles, and still none failed or out of sync; the run tells the throttling apart', async () => {
      const before = new Map(fixture.target.changesOf);

      const o = await runBulk(fixture, { direct: moto.endpoint, proxy, maxConcurrency: 50, secretsWriteRate: 1000 });

      expect(o.throttledWrites).toBeGreaterThan(0);
      expect(outcomes(o.results)).toEqual({ succeeded: 300 });
      expect(o.mismatched).toEqual([]);
      expect(changesSince(fixture.target, before).every((n) => n === 1)).toBe(true);
      // Slowed down, not failed: the run and the accounts say how much.
      expect(o.run.throttling?.accounts).toBeGreaterThan(0);
      expect(o.run.throttling?.retries).toBeGreaterThanOrEqual(o.run.throttling!.accounts);
      expect(o.results.filter((r) => (r.throttled ?? 0) > 0).length).toBe(o.run.throttling?.accounts);
    }, 180_000);

    it('a group too large for one invocation (a 3 s function here) finishes across several, every account reset once', async () => {
      const big = await prepareBulk({ endpoint: moto.endpoint, resources: 2, perResource: 60 });
      big.target.changeDelayMs = 40;

      const o = await runBulk(big, { direct: moto.endpoint, proxy, maxConcurrency: 10, functionTimeout: Duration.seconds(3) });

      expect(o.continued).toBeGreaterThan(0);
      expect(o.invocations).toBeGreaterThan(2);
      expect(outcomes(o.results)).toEqual({ succeeded: 120 });
      expect(o.mismatched).toEqual([]);
      expect([...big.target.passwords.keys()].map((u) => big.target.changesOf.get(u))).toEqual([...big.target.passwords.keys()].map(() => 1));
    }, 180_000);
  });

  describe('the engine, with throttles exactly where they hurt', () => {
    let stores: AwsStores;
    let target: MemoryTarget;
    let engine: ResetEngine;
    let config: Configurator;
    const tableName = `rpr-quota-${randomBytes(4).toString('hex')}`;
    let n = 0;

    beforeAll(async () => {
      const admin = new DynamoDBClient({ ...AWS, endpoint: moto.endpoint });
      await createStateTable(admin, tableName);
      admin.destroy();
      stores = await openAwsStores({ tableName, endpoint: proxy.endpoint, ...AWS });
      target = new MemoryTarget();
      engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { postgresql: target.adapter('postgresql') }, log: silent });
      config = new Configurator(stores.state, stores.credentials, REGISTRY);
    });
    afterAll(async () => {
      proxy.stopRefusing();
      await stores?.close();
    });

    /** A resource of its own with an admin and one account; returns the account. */
    const resourceWithAccount = async () => {
      const id = `tq${++n}`;
      await config.putResource({ id, type: 'postgresql', host: `${id}.example`, adminAccount: `${id}/${id}-admin` });
      for (const u of [`${id}-admin`, `${id}-app`]) {
        target.passwords.set(u, `${u}-Start-1`);
        await config.putAccount({ resourceId: id, username: u, secretId: `${tableName}/${u}` }, { password: new Secret(`${u}-Start-1`) });
      }
      return (await stores.state.getAccount(`${id}/${id}-app`))!;
    };
    const current = async (secretId: string) => (await stores.credentials.getValue(secretId, { stage: AWSCURRENT })).value.reveal();

    it('a promotion throttled after the target changed is carried through: the account succeeds, and its throttles are counted', async () => {
      const account = await resourceWithAccount();
      proxy.refuse(isMove, 3);

      const run = await engine.run({ accountIds: [account.id] });

      const [result] = await stores.state.listAccountResults(run.runId);
      expect(result).toMatchObject({ outcome: 'succeeded', step: 'finish' });
      expect(result!.throttled).toBeGreaterThanOrEqual(3);
      expect(run.throttling).toEqual({ accounts: 1, retries: result!.throttled });
      expect(await current(account.secretId)).toBe(target.passwords.get(account.username));
    });

    it("a promotion throttled past the account's time leaves it unfinished (nothing recorded, no lease held, the new password kept as pending); the run's next attempt promotes it without changing the target again", async () => {
      const account = await resourceWithAccount();
      const resource = (await stores.state.getResource(account.resourceId))!;
      const runId = `run-quota-${randomBytes(3).toString('hex')}`;
      proxy.refuse(isMove);

      const first = await engine.resetGroup(resource, [account], { runId, deadline: Date.now() + 1_500 });

      expect(first.results).toEqual([]);
      expect(first.unfinished.map((a) => a.id)).toEqual([account.id]);
      expect(await stores.state.getAccountResults(runId, [account.id])).toEqual([]);
      const other = await stores.state.acquire(account.id, 'run-someone-else', 60_000);
      await stores.state.release(other);
      const pending = stillPending(await stores.credentials.listVersions(account.secretId));
      expect(pending.map((v) => v.versionId)).toEqual([tokenFor(runId, account.id)]);
      expect((await stores.credentials.getValue(account.secretId, { stage: AWSPENDING })).value.reveal()).toBe(target.passwords.get(account.username));
      expect(target.changesOf.get(account.username)).toBe(1);

      proxy.stopRefusing();
      const again = await engine.resetGroup(resource, [account], { runId });

      expect(again.unfinished).toEqual([]);
      expect(again.results).toMatchObject([{ accountId: account.id, outcome: 'succeeded', method: 'already set' }]);
      expect(target.changesOf.get(account.username)).toBe(1);
      expect(await current(account.secretId)).toBe(target.passwords.get(account.username));
    });

    it('a throttled label clean-up leaves a correct record: a promotion needs no clean-up at all, and a rollback whose label removal is refused still says the current password works', async () => {
      const account = await resourceWithAccount();
      const resource = (await stores.state.getResource(account.resourceId))!;
      proxy.refuse(isLabelRemoval);
      const moves = proxy.count('secretsmanager.UpdateSecretVersionStage').requests;
      const puts = proxy.count('secretsmanager.PutSecretValue').requests;

      const promoted = await engine.run({ accountIds: [account.id] });

      expect((await stores.state.listAccountResults(promoted.runId))[0]).toMatchObject({ outcome: 'succeeded' });
      expect(proxy.count('secretsmanager.UpdateSecretVersionStage').requests - moves).toBe(1);
      expect(proxy.count('secretsmanager.PutSecretValue').requests - puts).toBe(1);
      expect(stillPending(await stores.credentials.listVersions(account.secretId))).toEqual([]);

      // The change is lost on the way: the current password still works, and the pending label cannot be removed.
      const working = target.passwords.get(account.username)!;
      target.faults.push('drop-after-lost');
      const runId = `run-rollback-${randomBytes(3).toString('hex')}`;
      const rolled = await engine.resetGroup(resource, [account], { runId, deadline: Date.now() + 1_500 });

      const [result] = rolled.results as AccountResult[];
      expect(result).toMatchObject({ outcome: 'rolled-back', workingVersion: 'current' });
      expect(result!.message).toMatch(/keeps its label .* until the next reset discards it/);
      expect(await current(account.secretId)).toBe(working);
      expect(target.passwords.get(account.username)).toBe(working);

      // The next reset settles the leftover (a login shows it does not work) and resets the account.
      proxy.stopRefusing();
      const next = await engine.run({ accountIds: [account.id] });
      expect((await stores.state.listAccountResults(next.runId))[0]).toMatchObject({ outcome: 'succeeded' });
      expect(stillPending(await stores.credentials.listVersions(account.secretId))).toEqual([]);
      expect(await current(account.secretId)).toBe(target.passwords.get(account.username));
    });

    it('an unfinished account is never called failed or out of sync: resetAccount says unfinished, and records nothing', async () => {
      const account = await resourceWithAccount();
      const resource = (await stores.state.getResource(account.resourceId))!;
      proxy.refuse((op) => op === 'PutSecretValue');
      const { openResourceSession } = await import('../../../layers/engine/session.js');
      const session = await openResourceSession({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { postgresql: target.adapter('postgresql') }, log: silent, timeoutMs: 5_000 }, resource.id);
      try {
        const r = await engine.resetAccount(session, account, { runId: `run-unf-${randomBytes(3).toString('hex')}`, deadline: Date.now() + 800 });
        expect(isUnfinished(r)).toBe(true);
        expect(r).toMatchObject({ unfinished: true, accountId: account.id, step: 'create' });
      } finally {
        proxy.stopRefusing();
        await session.close();
      }
      expect(target.changesOf.get(account.username) ?? 0).toBe(0);
      expect(await current(account.secretId)).toBe(target.passwords.get(account.username));
    });
  });

  it("the CLI's bulk run on the AWS store behaves the same under the proxy: throttled, none failed, every AWSCURRENT is what the target holds", async () => {
    const fixture = await prepareBulk({ endpoint: moto.endpoint, resources: 10, perResource: 10 });
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    // Beyond the quota's own refusals, the first writes are refused outright, so the run surely meets throttles.
    proxy.refuse((op) => op === 'PutSecretValue', 20);
    proxy.refuse(isMove, 20);
    const throttledBefore = proxy.total(/^secretsmanager\./).throttled;
    let stdout = '';
    try {
      const code = await runCli(
        ['--store', 'aws', '--endpoint', proxy.endpoint, '--region', 'us-east-1', '--table', fixture.tableName, '--secrets-write-rate', '1000', '--json', 'reset', '--tag', fixture.tag, '--concurrency', '10'],
        { stdout: (t) => void (stdout += t), stderr: () => undefined, readStdin: async () => '' },
        undefined,
        { postgresql: fixture.target.adapter('postgresql') },
      );
      expect(code).toBe(EXIT.ok);
    } finally {
      proxy.stopRefusing();
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.key;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.key === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
    const out = JSON.parse(stdout) as { status: string; counts: Record<string, number>; throttling?: { accounts: number }; results: AccountResult[] };
    expect(proxy.total(/^secretsmanager\./).throttled - throttledBefore).toBeGreaterThanOrEqual(40);
    expect(out.status).toBe('succeeded');
    expect(outcomes(out.results)).toEqual({ succeeded: 100 });
    expect(out.throttling?.accounts).toBeGreaterThan(0);
    expect(await mismatched(fixture, moto.endpoint)).toEqual([]);
    expect([...fixture.target.passwords.keys()].every((u) => fixture.target.changesOf.get(u) === 1)).toBe(true);
  }, 180_000);
});
