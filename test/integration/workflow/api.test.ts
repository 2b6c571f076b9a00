import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createApiHandler } from '../../../layers/workflow/api.js';
import { describeSecretWith } from '../../../layers/workflow/environment.js';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describeServer } from '../../../harness/servers/index.js';
import { everyStoredPassword, findLeaks } from '../../support/leaks.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { engineOnMoto, type EngineHarness } from '../engine/support.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };

/**
 * The API function against moto's Step Functions (moto 5 starts and describes executions; it
 * does not run their definition, which is all these routes need) and the state store on moto.
 */
describeServer('moto', 'the reset API on moto', (moto) => {
  let h: EngineHarness;
  let sfn: SFNClient;
  let sm: SecretsManagerClient;
  let api: ReturnType<typeof createApiHandler>;
  const bodies: string[] = [];

  beforeAll(async () => {
    h = await engineOnMoto(moto.endpoint);
    sfn = new SFNClient({ ...AWS, endpoint: moto.endpoint });
    sm = new SecretsManagerClient({ ...AWS, endpoint: moto.endpoint });
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: `${h.tableName}-sm`, roleArn: 'arn:aws:iam::123456789012:role/rpr-workflow', definition: JSON.stringify({ StartAt: 'Plan', States: { Plan: { Type: 'Pass', End: true } } }) }),
    );
    api = createApiHandler({ sfn, stateMachineArn: stateMachineArn!, stores: async () => ({ state: h.stores.state, credentials: h.credentials, describeSecret: describeSecretWith(sm) }), log: new Log({ level: 'SILENT' }) });
  });
  afterAll(async () => {
    sfn?.destroy();
    sm?.destroy();
    await h?.close();
  });

  const request = async (httpMethod: string, resource: string, options: { body?: unknown; raw?: string; id?: string } = {}) => {
    const event = {
      httpMethod,
      resource,
      path: resource.replace('{id}', options.id ?? ''),
      body: options.raw ?? (options.body === undefined ? null : JSON.stringify(options.body)),
      isBase64Encoded: false,
      pathParameters: options.id !== undefined ? { id: options.id } : null,
    } as unknown as APIGatewayProxyEvent;
    const res = await api(event);
    bodies.push(res.body);
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
  };

  /** A resource on an in-process target with accounts `users`, and an engine for it on the API's stores. */
  async function inProcessResource(id: string, users: string[]) {
    const target = new MemoryTarget();
    const engine = new ResetEngine({ registry: REGISTRY, state: h.stores.state, credentials: h.credentials, adapters: { postgresql: target.adapter('postgresql') }, log: new Log({ level: 'SILENT' }) });
    await h.config.putResource({ id, type: 'postgresql', host: `${id}.example` });
    for (const u of users) {
      target.passwords.set(u, `${u}-Api-start-1`);
      await h.config.putAccount({ resourceId: id, username: u, secretId: h.secretName(`${id}/${u}`) }, { password: new Secret(`${u}-Api-start-1`) });
    }
    return { target, engine };
  }

  it('POST /resets starts an execution named by the idempotency key and answers 202 with its ARN and run id', async () => {
    const body = { selector: { resourceIds: ['db1'] }, idempotencyKey: `key-${Date.now()}`, requestedBy: 'ticket-1' };

    const res = await request('POST', '/resets', { body });

    expect(res.status).toBe(202);
    expect(res.body).toEqual({ executionArn: expect.stringMatching(new RegExp(`:execution:.*:${body.idempotencyKey}$`)), runId: `run-${body.idempotencyKey}` });
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: res.body.executionArn as string }));
    expect(JSON.parse(execution.input!)).toEqual(body);
  });

  it('POST /resets without a key names the execution by a UUID', async () => {
    const res = await request('POST', '/resets', { body: { selector: { types: ['postgresql'] } } });
    expect(res.status).toBe(202);
    expect(res.body.runId).toMatch(/^run-[0-9a-f-]{36}$/);
  });

  it('the same key again returns the execution it started (200 once it has ended), and a different request under it is 409', async () => {
    const body = { selector: { tags: ['prod'] }, idempotencyKey: `again-${Date.now()}` };
    const first = await request('POST', '/resets', { body });
    await sfn.send(new StopExecutionCommand({ executionArn: first.body.executionArn as string }));

    const again = await request('POST', '/resets', { body });
    const other = await request('POST', '/resets', { body: { ...body, selector: { tags: ['dev'] } } });

    expect(again).toEqual({ status: 200, body: first.body });
    expect(other.status).toBe(409);
    expect(other.body.field).toBe('idempotencyKey');
  });

  it.each([
    ['not json', undefined, 'body'],
    [undefined, {}, 'selector'],
    [undefined, { selector: {} }, 'selector'],
    [undefined, { selector: { types: ['nosuch'] } }, 'selector.types.0'],
    [undefined, { selector: { accountIds: ['no-slash'] } }, 'selector.accountIds.0'],
    [undefined, { selector: { resourceIds: ['db1'] }, idempotencyKey: 'a b' }, 'idempotencyKey'],
    [undefined, { selector: { resourceIds: ['db1'] }, password: 'hunter2' }, 'password'],
    [undefined, { selector: { resourceIds: ['db1'] }, mode: 'rotate' }, 'mode'],
  ])('POST /resets with a bad body (%s %j) is 400 naming %s, and starts nothing', async (raw, body, field) => {
    const res = await request('POST', '/resets', { ...(raw !== undefined ? { raw } : { body }) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String), field });
  });

  it('GET /resets/{id} reports the execution status and, once recorded, per-account results, never a password', async () => {
    const key = `status-${Date.now()}`;
    const started = await request('POST', '/resets', { body: { selector: { resourceIds: ['mem1'] }, idempotencyKey: key } });
    const runId = started.body.runId as string;
    const before = await request('GET', '/resets/{id}', { id: runId });
    expect(before).toEqual({ status: 200, body: { runId, executionArn: started.body.executionArn, status: 'RUNNING', startDate: expect.any(String) } });

    // The workflow records the run: here, the engine on an in-process target, under the API's run id.
    const { engine } = await inProcessResource('mem1', ['alice', 'bob']);
    await engine.run({ resourceIds: ['mem1'] }, { runId });

    const after = await request('GET', '/resets/{id}', { id: runId });

    expect(after.status).toBe(200);
    expect(after.body.run).toMatchObject({ status: 'succeeded', counts: { total: 2, succeeded: 2 } });
    expect((after.body.results as { accountId: string; outcome: string }[]).map((r) => [r.accountId, r.outcome]).sort()).toEqual([['mem1/alice', 'succeeded'], ['mem1/bob', 'succeeded']]);
    const passwords = new Set([...h.written, ...(await everyStoredPassword(h.credentials, ['alice', 'bob'].map((u) => h.secretName(`mem1/${u}`))))]);
    expect(passwords.size).toBeGreaterThanOrEqual(4);
    expect(findLeaks(passwords, { responses: bodies.join('\n') })).toEqual([]);
  });

  it('POST /resets with mode "verify" starts a verify run; GET /resets/{id} reports its mode and each account in-sync or drifted', async () => {
    const key = `verify-${Date.now()}`;
    const started = await request('POST', '/resets', { body: { selector: { resourceIds: ['mem2'] }, mode: 'verify', idempotencyKey: key } });
    expect(started.status).toBe(202);
    const runId = started.body.runId as string;
    expect(JSON.parse((await sfn.send(new DescribeExecutionCommand({ executionArn: started.body.executionArn as string }))).input!)).toMatchObject({ mode: 'verify' });

    // The workflow's verify of the run: here, the engine on an in-process target; carol's password was changed by hand.
    const { target, engine } = await inProcessResource('mem2', ['dave', 'carol']);
    target.passwords.set('carol', 'carol-by-hand-1');
    await engine.run({ resourceIds: ['mem2'] }, { runId, mode: 'verify' });

    const after = await request('GET', '/resets/{id}', { id: runId });

    expect(after.body.run).toMatchObject({ mode: 'verify', status: 'partial', counts: { total: 2, 'in-sync': 1, drifted: 1 } });
    expect((after.body.results as { accountId: string; outcome: string }[]).map((r) => [r.accountId, r.outcome]).sort()).toEqual([['mem2/carol', 'drifted'], ['mem2/dave', 'in-sync']]);
    expect(target.changes).toBe(0);
  });

  it('GET /resets/{id} with a malformed id is 400 naming id; an unknown one is 404; other routes are 404', async () => {
    expect(await request('GET', '/resets/{id}', { id: 'nope' })).toMatchObject({ status: 400, body: { field: 'id' } });
    expect(await request('GET', '/resets/{id}', { id: 'run-never-started' })).toMatchObject({ status: 404, body: { field: 'id' } });
    expect((await request('DELETE', '/resets/{id}', { id: 'run-x' })).status).toBe(404);
  });
});
