import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { AWSCURRENT } from '../../../layers/engine/stores/types.js';
import { activityClientConfig, runAgent } from '../../../layers/agent/agent.js';
import { resetStoresFromEnvironment } from '../../../layers/workflow/environment.js';
import type { ItemsLocation } from '../../../layers/workflow/events.js';
import {
  createUnixUser,
  deleteUnixUser,
  mariadbAdminQuery,
  mariadbCreateUser,
  mariadbDropUser,
  mariadbPasswordWorks,
  pgCreateRole,
  pgDropRole,
  pgPasswordWorks,
  pgSetPassword,
  uniqueName,
  unixPasswordWorks,
} from '../../../harness/servers/fixtures.js';
import { describeServer, serverInfo } from '../../../harness/servers/index.js';
import { ActivityStandIn } from '../../support/activity-standin.js';
import { captureOutput, findLeaks } from '../../support/leaks.js';
import { functionTimeoutMs, lambdaTask, locallyRunnable, readingItems, statesOf, synthesizedDefinition } from '../../../harness/support/local-state-machine.js';
import { engineOnMoto, type EngineHarness } from '../engine/support.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

/**
 * The state machine CDK synthesizes, run locally by an ASL interpreter: each Lambda task bound
 * to the real handler of its function (stores from the environment, pointed at moto), the
 * targets the real servers, and an agent site's group served by the agent itself polling a
 * local stand-in for the activity API.
 */
describeServer('moto', 'the synthesized workflow, run locally', (moto) => {
  const ssh = serverInfo('ssh');
  const pg = serverInfo('postgresql');
  const db = serverInfo('mariadb');
  const PER_TYPE = 20;
  let h: EngineHarness;
  let standIn: ActivityStandIn;
  const stopAgent = new AbortController();
  let agent: Promise<unknown>;
  const cleanups: (() => Promise<unknown>)[] = [];
  const initial = new Map<string, string>(); // account id -> first password
  const saved = { ...process.env };
  let definition: ReturnType<typeof synthesizedDefinition>;
  const stateIo: string[] = [];
  const functionLogs: string[] = [];
  let s3: S3Client;
  /** What the Map's ItemReader reads: the JSON array the plan step wrote. */
  const readItems = async (at: ItemsLocation) => JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: at.bucket, Key: at.key }))).Body!.transformToString()) as unknown[];

  beforeAll(async () => {
    if (!ssh || !pg || !db) throw new Error('the workflow test needs sshd, PostgreSQL and MariaDB');
    h = await engineOnMoto(moto.endpoint);
    // The functions read their stores from the environment, as on Lambda.
    Object.assign(process.env, { RPR_TABLE: h.tableName, RPR_AWS_ENDPOINT: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
    resetStoresFromEnvironment();
    // The results bucket, where the plan step writes each run's groups for the Map's item reader.
    s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const bucket = uniqueName('wfresults').toLowerCase().replace(/[^a-z0-9-]/g, '-');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    process.env.RPR_RESULTS_BUCKET = bucket;
    const config = h.config;
    const add = async (resourceId: string, username: string, password: string, tags: string[] = []) => {
      const a = await config.putAccount({ resourceId, username, secretId: h.secretName(`${resourceId}/${username}`), tags }, { password: new Secret(password) });
      initial.set(a.id, password);
    };

    const ops = uniqueName('wfops');
    await createUnixUser(ops, 'Ops-Start-wf1', { sudo: true });
    cleanups.push(() => deleteUnixUser(ops));
    await config.putResource({ id: 'wf-linux', type: 'linux', host: ssh.host, port: ssh.port, login: { account: `wf-linux/${ops}` }, privilege: { mode: 'sudo' }, tags: ['wf'] });
    await add('wf-linux', ops, 'Ops-Start-wf1', ['admin']);

    const pgAdmin = uniqueName('wfpga');
    await pgCreateRole(pgAdmin, 'Pg-Start-wf1', 'CREATEROLE');
    cleanups.push(() => pgDropRole(pgAdmin));
    const ca = readFileSync(pg.caFile, 'utf8');
    await config.putResource({ id: 'wf-pg', type: 'postgresql', host: pg.host, port: pg.port, ssl: true, caCertificate: ca, adminAccount: `wf-pg/${pgAdmin}`, tags: ['wf'] });
    await add('wf-pg', pgAdmin, 'Pg-Start-wf1', ['admin']);

    const myAdmin = uniqueName('wfmya');
    await mariadbCreateUser(myAdmin, 'My-Start-wf1');
    await mariadbAdminQuery('GRANT CREATE USER ON *.* TO ?@?', [myAdmin, '%']);
    await mariadbAdminQuery('GRANT SELECT ON mysql.user TO ?@?', [myAdmin, '%']);
    cleanups.push(() => mariadbDropUser(myAdmin));
    await config.putResource({ id: 'wf-my', type: 'mysql', host: db.host, port: db.port, adminAccount: `wf-my/${myAdmin}`, tags: ['wf'] });
    await add('wf-my', myAdmin, 'My-Start-wf1', ['admin']);

    for (let i = 0; i < PER_TYPE; i++) {
      const u = uniqueName('wfu');
      await createUnixUser(u, `${u}-Start-1`);
      cleanups.push(() => deleteUnixUser(u));
      await add('wf-linux', u, `${u}-Start-1`);
      const r = uniqueName('wfr');
      await pgCreateRole(r, `${r}-Start-1`);
      cleanups.push(() => pgDropRole(r));
      await add('wf-pg', r, `${r}-Start-1`);
      const m = uniqueName('wfm');
      await mariadbCreateUser(m, `${m}-Start-1`);
      cleanups.push(() => mariadbDropUser(m));
      await add('wf-my', m, `${m}-Start-1`);
    }

    // An unreachable resource: its accounts fail, and only its accounts.
    await config.putResource({ id: 'wf-gone', type: 'postgresql', host: '127.0.0.1', port: 9, adminAccount: 'wf-gone/admin', tags: ['wf'] });
    await add('wf-gone', 'admin', 'Gone-Start-1', ['admin']);
    await add('wf-gone', 'app', 'Gone-App-1');

    // A resource at an agent site: its group becomes an activity task that `rpr agent`'s loop serves.
    const siteAdmin = uniqueName('wfsadm');
    const siteRole = uniqueName('wfsite');
    await pgCreateRole(siteAdmin, 'Site-Start-wf1', 'CREATEROLE');
    await pgCreateRole(siteRole, `${siteRole}-Start-1`);
    cleanups.push(() => pgDropRole(siteRole), () => pgDropRole(siteAdmin));
    await config.putResource({ id: 'wf-site', type: 'postgresql', host: pg.host, port: pg.port, ssl: true, caCertificate: ca, adminAccount: `wf-site/${siteAdmin}`, site: 'site-a', tags: ['wf'] });
    await add('wf-site', siteAdmin, 'Site-Start-wf1', ['admin']);
    await add('wf-site', siteRole, `${siteRole}-Start-1`);

    standIn = await ActivityStandIn.start({ pollMs: 1_000 });
    agent = runAgent({
      sfn: new SFNClient(activityClientConfig({ endpoint: standIn.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'agent', secretAccessKey: 'agent' } })),
      activityArn: standIn.activityArn,
      workerName: 'site-a@test',
      engineFactory: () => ({ engine: new ResetEngine({ registry: REGISTRY, state: h.stores.state, credentials: h.credentials, log: new Log({ level: 'SILENT' }) }), config: h.stores.state }),
      log: new Log({ level: 'SILENT' }),
      signal: stopAgent.signal,
      heartbeatIntervalMs: 500,
      pollRetryMs: 200,
    });
    definition = synthesizedDefinition({ sites: ['site-a'] });
  }, 600_000);

  afterAll(async () => {
    stopAgent.abort();
    await agent?.catch(() => undefined);
    await standIn?.close();
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await h?.close();
    process.env = saved;
    resetStoresFromEnvironment();
  });

  /** Binds each task state of the synthesized definition to the handler the deployed state would invoke. */
  async function localHandlers() {
    const plan = (await import('../../../functions/plan.js')).handler;
    const summarize = (await import('../../../functions/summarize.js')).handler;
    const reset: Record<string, (e: unknown) => Promise<unknown>> = {
      unix: (await import('../../../functions/reset-unix.js')).handler,
      postgresql: (await import('../../../functions/reset-postgresql.js')).handler,
      mysql: (await import('../../../functions/reset-mysql.js')).handler,
    };
    const { familyOf } = await import('../../../layers/workflow/families.js');
    const handlers: Record<string, (input: never) => Promise<unknown>> = {};
    for (const [name, state] of statesOf(definition)) {
      if (state.Type !== 'Task') continue;
      if (name === 'Plan') handlers[name] = lambdaTask(readingItems(plan, readItems), functionTimeoutMs(state));
      else if (name === 'Summarize') handlers[name] = lambdaTask(summarize, functionTimeoutMs(state));
      else if (name.startsWith('Reset ')) handlers[name] = lambdaTask(reset[familyOf(name.slice('Reset '.length))!]!, functionTimeoutMs(state));
      else if (name.startsWith('Agent ')) {
        // The activity task: queued for the agent, whose answer (or error) is the task's.
        handlers[name] = async (input: unknown) => {
          const outcome = await standIn.enqueue(input);
          if ('error' in outcome) throw Object.assign(new Error(outcome.cause), { name: outcome.error });
          return outcome.output;
        };
      } else throw new Error(`no local handler for task state "${name}"`);
    }
    return handlers;
  }

  async function execute(name: string, request: unknown) {
    const machine = new StateMachine(locallyRunnable(definition) as never, { validationOptions: { checkPaths: false, checkArn: false } });
    const execution = machine.run(request as never, {
      overrides: { taskResourceLocalHandlers: (await localHandlers()) as never },
      context: { Execution: { Name: name, Input: request, StartTime: new Date().toISOString() } } as never,
    });
    const events: unknown[] = [];
    const logging = (async () => {
      for await (const e of execution.eventLogs) events.push(e);
    })();
    // The functions' own logs (INFO, as deployed) are captured for the leak search too.
    const logs = captureOutput();
    let output: unknown;
    try {
      output = await execution.result;
      await logging;
    } finally {
      logs.restore();
    }
    stateIo.push(JSON.stringify(events), JSON.stringify(output));
    functionLogs.push(logs.text());
    return { output: output as { runId?: string }, events };
  }

  const runIdOf = (name: string) => `run-${name}`;

  it('resets every account of a 60+ account bulk run across Linux, PostgreSQL and MariaDB; fresh logins prove it', async () => {
    const name = `wf-${randomBytes(4).toString('hex')}`;
    const t0 = Date.now();
    await execute(name, { selector: { tags: ['wf'] }, idempotencyKey: name });
    const seconds = (Date.now() - t0) / 1000;

    const results = await h.stores.state.listAccountResults(runIdOf(name));
    const byResource = (id: string) => results.filter((r) => r.resourceId === id);
    const served = ['wf-linux', 'wf-pg', 'wf-my', 'wf-site'];
    expect(results.filter((r) => served.includes(r.resourceId) && r.outcome === 'succeeded').length, JSON.stringify(results.filter((r) => r.outcome !== 'succeeded'))).toBe(3 * (PER_TYPE + 1) + 2);
    expect(results.filter((r) => served.includes(r.resourceId)).length).toBe(3 * (PER_TYPE + 1) + 2);
    // The unreachable resource fails its own accounts, and says why.
    for (const r of byResource('wf-gone')) {
      expect(r.outcome).toBe('failed');
      expect(r.message).toMatch(/127\.0\.0\.1:9|refused|connect/i);
    }
    expect(byResource('wf-gone')).toHaveLength(2);
    expect((await h.stores.state.getRun(runIdOf(name)))?.status).toBe('partial');
    // The agent site's group went through the activity.
    expect(standIn.calls).toContain('SendTaskSuccess');

    for (const r of results.filter((x) => served.includes(x.resourceId))) {
      const account = (await h.stores.state.getAccount(r.accountId))!;
      const now = (await h.credentials.getValue(account.secretId, { stage: AWSCURRENT })).value.reveal();
      expect(now).not.toBe(initial.get(account.id));
      const works = account.resourceId === 'wf-linux' ? unixPasswordWorks : account.resourceId === 'wf-my' ? mariadbPasswordWorks : pgPasswordWorks;
      expect(await works(account.username, now), account.id).toBe(true);
    }
    // Old passwords refused: one per type (a refused SSH login costs ~2 s).
    const sample = (id: string) => results.find((r) => r.resourceId === id && !r.accountId.includes('wfops') && !r.accountId.includes('wfpga') && !r.accountId.includes('wfmya'))!;
    for (const [id, works] of [['wf-linux', unixPasswordWorks], ['wf-pg', pgPasswordWorks], ['wf-my', mariadbPasswordWorks]] as const) {
      const account = (await h.stores.state.getAccount(sample(id).accountId))!;
      expect(await works(account.username, initial.get(account.id)!)).toBe(false);
    }
    process.stderr.write(`local workflow: ${results.length} accounts in ${seconds.toFixed(1)} s\n`);
  }, 600_000);

  it('a second execution with the same idempotency key changes nothing twice', async () => {
    const name = `wf-${randomBytes(4).toString('hex')}`;
    const request = { selector: { resourceIds: ['wf-pg'] }, idempotencyKey: name };
    await execute(name, request);
    const first = new Map<string, string>();
    for (const a of await h.stores.state.listAccounts({ resourceId: 'wf-pg' })) first.set(a.id, (await h.credentials.getValue(a.secretId)).versionId);

    await execute(name, request);

    for (const a of await h.stores.state.listAccounts({ resourceId: 'wf-pg' })) expect((await h.credentials.getValue(a.secretId)).versionId).toBe(first.get(a.id));
    const results = await h.stores.state.listAccountResults(runIdOf(name));
    expect(results.every((r) => r.outcome === 'succeeded')).toBe(true);
    expect(results).toHaveLength(PER_TYPE + 1);
  }, 300_000);

  it('a verify execution (mode "verify", as a schedule starts it) reports each account, the agent site\'s too, finds one changed by hand drifted, and changes nothing', async () => {
    const name = `wfv-${randomBytes(4).toString('hex')}`;
    const accounts = [...(await h.stores.state.listAccounts({ resourceId: 'wf-pg' })), ...(await h.stores.state.listAccounts({ resourceId: 'wf-site' }))];
    const versionsOf = async () => Promise.all(accounts.map(async (a) => (await h.credentials.listVersions(a.secretId)).map((v) => `${v.versionId}:${[...v.stages].sort().join(',')}`).sort()));
    const drifted = accounts.find((a) => a.username.startsWith('wfr_'))!;
    await pgSetPassword(drifted.username, 'Wf-by-hand-1');
    const before = await versionsOf();

    const { output } = await execute(name, { selector: { resourceIds: ['wf-pg', 'wf-site'] }, mode: 'verify', requestedBy: 'schedule/rpr/verify-nightly' });

    expect(output).toMatchObject({ runId: runIdOf(name), mode: 'verify', status: 'partial' });
    const results = await h.stores.state.listAccountResults(runIdOf(name));
    expect(results).toHaveLength(accounts.length);
    expect(results.find((r) => r.accountId === drifted.id)).toMatchObject({ outcome: 'drifted', workingVersion: 'none' });
    expect(results.filter((r) => r.outcome === 'in-sync').map((r) => r.accountId).sort()).toEqual(accounts.filter((a) => a.id !== drifted.id).map((a) => a.id).sort());
    expect(await h.stores.state.getRun(runIdOf(name))).toMatchObject({ mode: 'verify', counts: { total: accounts.length, 'in-sync': accounts.length - 1, drifted: 1 } });
    // Nothing changed: every version and label as before, and the hand-set password still logs in.
    expect(await versionsOf()).toEqual(before);
    expect(await pgPasswordWorks(drifted.username, 'Wf-by-hand-1')).toBe(true);
  }, 300_000);

  it('(last) no password appears in any input or output of any state, the functions\' logs, or what the agent sent', async () => {
    const passwords = new Set(initial.values());
    for (const a of await h.stores.state.listAccounts()) {
      for (const v of await h.credentials.listVersions(a.secretId)) passwords.add((await h.credentials.getValue(a.secretId, { versionId: v.versionId })).value.reveal());
    }
    expect(passwords.size).toBeGreaterThan(2 * initial.size - 5);
    expect(stateIo.join('').length).toBeGreaterThan(10_000);
    expect(functionLogs.join('')).toContain('run summarized');
    expect(
      findLeaks([...passwords, ...h.written], {
        'state inputs and outputs': stateIo.join('\n'),
        'function logs': functionLogs.join('\n'),
        'activity API traffic': [...standIn.received, ...standIn.sent].join('\n'),
      }),
    ).toEqual([]);
  });
});
