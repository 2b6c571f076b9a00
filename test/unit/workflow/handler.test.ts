import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { AccountBusyError, InvalidConfigurationError, NotFoundError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT, AWSPENDING, keptLabel, AWSPREVIOUS, type CredentialStore } from '../../../layers/engine/stores/types.js';
import type { WorkflowStores } from '../../../layers/workflow/environment.js';
import { createResetHandler, type ResetHandler } from '../../../layers/workflow/handler.js';
import { DETAIL_TYPES, EVENT_SOURCE, METRIC_NAMESPACE, OUT_OF_SYNC_METRIC } from '../../../layers/workflow/outcome-events.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { findLeaks } from '../../support/leaks.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const log = new Log({ level: 'SILENT' });
const TOKEN = '6f1c2a9e-0b7d-4c11-9a53-2f0e8d4b7a10';
const TOKEN2 = '0d6e1b2c-3a4f-4e5d-8c9b-7a6f5e4d3c2b';
const arnOf = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;

/**
 * The reset function's handler on the embedded stores with an in-process target: payload
 * validation, the group task, and the rotation steps' bookkeeping (leases, marks, labels).
 * The same behaviours on moto and real servers are in test/integration/workflow/.
 */
describe('createResetHandler with an in-process target', () => {
  let stores: EmbeddedStores;
  let target: MemoryTarget;
  let handler: ResetHandler;
  let credentials: CredentialStore;
  let workflowStores: WorkflowStores;
  /** What the handler sent to EventBridge and CloudWatch, as commands. */
  const published: { constructor: { name: string }; input: Record<string, unknown> }[] = [];
  const publishing = { send: async (command: unknown) => (published.push(command as (typeof published)[number]), {}) } as never;
  const outputs: unknown[] = [];
  const written = new Set<string>();

  beforeEach(async () => {
    stores = await openMemoryStores();
    target = new MemoryTarget();
    credentials = stores.credentials;
    workflowStores = {
      state: stores.state,
      credentials,
      // The embedded vault names secrets only by name; the event may carry an ARN of it.
      describeSecret: async (secretId) => {
        const name = secretId.startsWith('arn:') ? secretId.split(':secret:')[1]!.replace(/-AbCdEf$/, '') : secretId;
        await credentials.listVersions(name);
        return { arn: arnOf(name), name };
      },
    };
    published.length = 0;
    handler = createResetHandler({ adapters: { postgresql: target.adapter('postgresql') }, stores: async () => workflowStores, log, events: publishing, metrics: publishing, eventBusName: 'rpr-bus' });
    const config = new Configurator(stores.state, credentials, REGISTRY);
    await config.putResource({ id: 'db1', type: 'postgresql', host: 'db1.example', adminAccount: 'db1/admin' });
    for (const u of ['admin', 'alice', 'bob']) {
      target.passwords.set(u, `${u}-start-pw`);
      written.add(`${u}-start-pw`);
      await config.putAccount({ resourceId: 'db1', username: u, secretId: `s/${u}` }, { password: new Secret(`${u}-start-pw`) });
    }
    target.adminPassword = 'admin-start-pw';
  });
  afterEach(async () => {
    for (const u of ['admin', 'alice', 'bob']) for (const v of await credentials.listVersions(`s/${u}`)) written.add((await credentials.getValue(`s/${u}`, { versionId: v.versionId })).value.reveal());
    await stores.close();
  });

  const invoke = async (event: unknown) => {
    const out = await handler(event);
    outputs.push(out);
    return out;
  };
  const rotate = (step: string, token = TOKEN, secretId = arnOf('s/alice')) => invoke({ Step: step, SecretId: secretId, ClientRequestToken: token });
  const stagesOf = async (u: string) => Object.fromEntries((await credentials.listVersions(`s/${u}`)).map((v) => [v.versionId, [...v.stages].sort()]));
  const current = async (u: string) => (await credentials.getValue(`s/${u}`, { stage: AWSCURRENT })).value.reveal();
  const rejection = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as Error);

  it('a group task resets its accounts on one connection and returns per-account outcomes, no passwords', async () => {
    const result = await invoke({ runId: 'run-1', resourceId: 'db1', type: 'postgresql', site: 'cloud', accountIds: ['db1/alice', 'db1/bob'] });

    expect(result).toMatchObject({ runId: 'run-1', resourceId: 'db1' });
    expect(result!.results.map((r) => [r.accountId, r.outcome]).sort()).toEqual([['db1/alice', 'succeeded'], ['db1/bob', 'succeeded']]);
    expect(target.passwords.get('alice')).toBe(await current('alice'));
    expect(target.connections).toBe(1);
    expect((await stores.state.listAccountResults('run-1')).length).toBe(2);
  });

  it('a group task skips an account removed since the plan, and records why', async () => {
    const result = await invoke({ runId: 'run-2', resourceId: 'db1', type: 'postgresql', site: 'cloud', accountIds: ['db1/alice', 'db1/gone'] });

    expect(result!.results.find((r) => r.accountId === 'db1/gone')).toMatchObject({ outcome: 'skipped', errorClass: 'NotFoundError' });
    expect((await stores.state.listAccountResults('run-2')).map((r) => r.outcome).sort()).toEqual(['skipped', 'succeeded']);
  });

  it('a task with a chain runs the chained groups after its own, one at a time, and returns their outcomes under chain', async () => {
    const config = new Configurator(stores.state, credentials, REGISTRY);
    // A second resource on the same server, with the same admin login (whose password the in-process target checks).
    await config.putResource({ id: 'db2', type: 'postgresql', host: 'db1.example', adminAccount: 'db2/admin' });
    await config.putAccount({ resourceId: 'db2', username: 'admin', secretId: 's/db2-admin' }, { password: new Secret('admin-start-pw') });
    target.passwords.set('carol', 'carol-start-pw');
    written.add('carol-start-pw');
    await config.putAccount({ resourceId: 'db2', username: 'carol', secretId: 's/carol' }, { password: new Secret('carol-start-pw') });

    const result = await invoke({ runId: 'run-c', resourceId: 'db1', type: 'postgresql', site: 'cloud', accountIds: ['db1/alice'], chain: [{ runId: 'run-c', resourceId: 'db2', type: 'postgresql', site: 'cloud', accountIds: ['db2/carol'] }] });

    expect(result!.results.map((r) => [r.accountId, r.outcome])).toEqual([['db1/alice', 'succeeded']]);
    expect(result!.chain?.map((c) => [c.resourceId, c.results.map((r) => [r.accountId, r.outcome])])).toEqual([['db2', [['db2/carol', 'succeeded']]]]);
    expect(target.passwords.get('alice')).toBe(await current('alice'));
    expect((await stores.state.listAccountResults('run-c')).map((r) => r.accountId).sort()).toEqual(['db1/alice', 'db2/carol']);
    for (const v of await credentials.listVersions('s/carol')) written.add((await credentials.getValue('s/carol', { versionId: v.versionId })).value.reveal());
  });

  it('a chained group of another run, type or site is refused before anything changes', async () => {
    const e = await rejection(handler({ runId: 'run-d', resourceId: 'db1', type: 'postgresql', site: 'cloud', accountIds: ['db1/alice'], chain: [{ runId: 'run-d', resourceId: 'db1', type: 'postgresql', site: 'dmz1', accountIds: ['db1/bob'] }] }));
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('chain');
    expect(await current('alice')).toBe('alice-start-pw');
    expect(await stores.state.listAccountResults('run-d')).toEqual([]);
  });

  it.each([
    [{ runId: 'r', resourceId: 'db1', type: 'postgresql', site: 'cloud' }, 'accountIds'],
    [{ runId: 'r', resourceId: 'db1', type: 'nosuch', site: 'cloud', accountIds: ['db1/alice'] }, 'type'],
    [{ runId: 'r', resourceId: 'db1', type: 'postgresql', site: 'cloud', accountIds: ['db1/alice'], password: 'x' }, 'password'],
    [{ runId: 'r', resourceId: 'db1', type: 'mysql', site: 'cloud', accountIds: ['db1/alice'] }, 'type'],
    [{ runId: 'r', resourceId: 'nosuch', type: 'postgresql', site: 'cloud', accountIds: ['nosuch/a'] }, 'resourceId'],
    [{ Step: 'rotateSecret', SecretId: 's/alice', ClientRequestToken: TOKEN }, 'Step'],
    [{ Step: 'createSecret', SecretId: 's/alice', ClientRequestToken: 'short' }, 'ClientRequestToken'],
    [{ step: 'create_secret', secret_id: 's/alice' }, 'client_request_token'],
  ])('a bad payload is refused with InvalidConfigurationError naming the field (%j → %s), and nothing changes', async (event, field) => {
    const e = await rejection(handler(event));
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect(e.name).toMatch(/InvalidConfigurationError|NotFoundError/);
    expect((e as InvalidConfigurationError).field).toBe(field);
    expect(target.changes).toBe(0);
  });

  it('rotation: the four steps in order move AWSCURRENT to the token; the target has the new password; the result and audit are written', async () => {
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await rotate(step);

    expect((await stagesOf('alice'))[TOKEN]).toEqual([AWSCURRENT, AWSPENDING]);
    expect((await credentials.getValue('s/alice', { stage: AWSPREVIOUS })).value.reveal()).toBe('alice-start-pw');
    expect(target.passwords.get('alice')).toBe(await current('alice'));
    expect(target.changes).toBe(1);
    expect(await stores.state.listAccountResults(`rotation:${TOKEN}`)).toMatchObject([{ accountId: 'db1/alice', outcome: 'succeeded', step: 'finish', versionId: TOKEN }]);
    expect((await stores.state.listAudit({ accountId: 'db1/alice' })).at(-1)).toMatchObject({ event: 'password-rotation', outcome: 'succeeded' });
    // The lease is released after finish.
    const lease = await stores.state.acquire('db1/alice', 'other', 1000);
    await stores.state.release(lease);
  });

  it('rotation: the snake_case event form and a secret named by name work the same', async () => {
    for (const step of ['create_secret', 'set_secret', 'test_secret', 'finish_secret']) await invoke({ step, secret_id: 's/bob', client_request_token: TOKEN });
    expect((await stagesOf('bob'))[TOKEN]).toEqual([AWSCURRENT, AWSPENDING]);
    expect(target.passwords.get('bob')).toBe(await current('bob'));
  });

  it('rotation: every step repeated changes nothing twice', async () => {
    await rotate('createSecret');
    const pending = (await credentials.getValue('s/alice', { versionId: TOKEN })).value.reveal();
    await rotate('createSecret');
    expect((await credentials.getValue('s/alice', { versionId: TOKEN })).value.reveal()).toBe(pending);
    await rotate('setSecret');
    await rotate('setSecret');
    expect(target.changes).toBe(1);
    await rotate('testSecret');
    await rotate('testSecret');
    await rotate('finishSecret');
    await rotate('finishSecret');
    expect((await stagesOf('alice'))[TOKEN]).toEqual([AWSCURRENT, AWSPENDING]);
    expect(target.passwords.get('alice')).toBe(pending);
    expect(target.changes).toBe(1);
  });

  it('rotation: createSecret stores the password under the valueless version RotateSecret labels AWSPENDING first', async () => {
    const real = credentials;
    // Secrets Manager lists the new token as AWSPENDING before createSecret; reading its value fails.
    credentials = new Proxy(real, {
      get(t, p) {
        if (p === 'listVersions') return async (id: string) => {
          const vs = await t.listVersions(id);
          return id === 's/alice' && !vs.some((v) => v.versionId === TOKEN) ? [...vs, { versionId: TOKEN, stages: [AWSPENDING] }] : vs;
        };
        if (p === 'getValue') return async (id: string, sel?: { versionId?: string }) => {
          if (id === 's/alice' && sel?.versionId === TOKEN && !(await t.listVersions(id)).some((v) => v.versionId === TOKEN)) throw new NotFoundError('secretId', 'no such version');
          return t.getValue(id, sel);
        };
        return (Reflect.get(t, p) as (...a: unknown[]) => unknown).bind(t);
      },
    });
    handler = createResetHandler({ adapters: { postgresql: target.adapter('postgresql') }, log, stores: async () => ({ state: stores.state, credentials, describeSecret: async (id) => ({ arn: arnOf(id), name: id }) }) });

    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await rotate(step, TOKEN, 's/alice');

    credentials = real;
    expect((await stagesOf('alice'))[TOKEN]).toEqual([AWSCURRENT, AWSPENDING]);
    expect(target.passwords.get('alice')).toBe(await current('alice'));
  });

  it('rotation: setSecret whose outcome is unknown is reconciled; the change had applied, so the rotation goes on and finishes', async () => {
    await rotate('createSecret');
    target.faults.push('drop-after-applied');
    await rotate('setSecret');
    expect((await stagesOf('alice'))[TOKEN]).toEqual([AWSCURRENT, AWSPENDING]);
    await rotate('testSecret');
    await rotate('finishSecret');
    expect(target.passwords.get('alice')).toBe(await current('alice'));
  });

  it('rotation: setSecret lost on the way is rolled back: the rotation fails, AWSCURRENT still works, the result says so', async () => {
    await rotate('createSecret');
    target.faults.push('drop-after-lost');
    const e = await rejection(rotate('setSecret'));
    expect(e.name).toBe('TargetUnchangedError');
    expect(target.passwords.get('alice')).toBe('alice-start-pw');
    expect(await current('alice')).toBe('alice-start-pw');
    expect((await stores.state.listAccountResults(`rotation:${TOKEN}`))[0]).toMatchObject({ outcome: 'rolled-back', step: 'reconcile', workingVersion: 'current' });
  });

  it('rotation: testSecret failing throws, and AWSPENDING stays for reconcile', async () => {
    await rotate('createSecret');
    await rotate('setSecret');
    target.passwords.set('alice', 'changed-behind-our-back');
    const e = await rejection(rotate('testSecret'));
    expect(e.name).toBe('OutcomeUnknownError');
    expect((await stagesOf('alice'))[TOKEN]).toEqual([AWSPENDING]);
    expect(await current('alice')).toBe('alice-start-pw');
  });

  it('rotation: a stale AWSPENDING of a crashed rotation whose set had applied is promoted by the next rotation\'s createSecret', async () => {
    await rotate('createSecret', TOKEN2);
    await rotate('setSecret', TOKEN2);
    const stale = target.passwords.get('alice');
    // The crashed rotation's lease expires; a new rotation starts with its own token.
    await stores.state.release({ accountId: 'db1/alice', owner: `rotation:${TOKEN2}`, expiresAt: 0 });

    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await rotate(step);

    expect((await credentials.getValue('s/alice', { stage: AWSPREVIOUS })).value.reveal()).toBe(stale);
    expect((await stagesOf('alice'))[TOKEN2]).toEqual([AWSPREVIOUS]);
    expect(target.passwords.get('alice')).toBe(await current('alice'));
  });

  it('rotation and a workflow reset of the same account: whoever holds the lease holds the other off (AccountBusyError)', async () => {
    await rotate('createSecret');
    // The workflow reaches the account between two rotation steps: the rotation holds the lease.
    const group = await invoke({ runId: 'run-race', resourceId: 'db1', type: 'postgresql', site: 'cloud', accountIds: ['db1/alice'] });
    expect(group!.results[0]).toMatchObject({ outcome: 'failed', step: 'lease', errorClass: 'AccountBusyError' });
    for (const step of ['setSecret', 'testSecret', 'finishSecret']) await rotate(step);
    expect(target.passwords.get('alice')).toBe(await current('alice'));

    // And a workflow holding the lease makes a rotation step fail with AccountBusyError, changing nothing.
    const lease = await stores.state.acquire('db1/bob', 'run-other', 60_000);
    const e = await rejection(rotate('createSecret', TOKEN2, arnOf('s/bob')));
    expect(e).toBeInstanceOf(AccountBusyError);
    expect(e.name).toBe('AccountBusyError');
    expect((await stagesOf('bob'))[TOKEN2]).toBeUndefined();
    await stores.state.release(lease);
  });

  it('rotation: a setSecret cut before the change reached the target, retried by Secrets Manager, logs in with the pending password before it changes', async () => {
    await rotate('createSecret');
    target.faults.push('drop-before');
    expect((await rejection(rotate('setSecret'))).name).toBe('TargetUnchangedError');

    await rotate('setSecret');

    expect(target.calls).toEqual(['change alice', 'verify alice', 'change alice']);
    await rotate('testSecret');
    await rotate('finishSecret');
    expect(target.passwords.get('alice')).toBe(await current('alice'));
  });

  it('rotation: a setSecret cut off after the change was applied, retried in another container, probes first and does not change it again', async () => {
    await rotate('createSecret');
    target.faults.push('hang-after-applied');
    // The first invocation never answers: Lambda ends it at its timeout.
    void rotate('setSecret');
    for (let i = 0; i < 100 && target.changes === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(target.changes).toBe(1);
    // Secrets Manager invokes the step again; a new container (a handler of its own, nothing remembered) takes it.
    const other = createResetHandler({ adapters: { postgresql: target.adapter('postgresql') }, stores: async () => workflowStores, log });
    const step = (Step: string) => other({ Step, SecretId: arnOf('s/alice'), ClientRequestToken: TOKEN });

    await step('setSecret');
    await step('testSecret');
    await step('finishSecret');

    expect(target.calls).toEqual(['change alice', 'verify alice', 'verify alice']);
    expect(target.changes).toBe(1);
    expect((await stagesOf('alice'))[TOKEN]).toEqual([AWSCURRENT, AWSPENDING]);
    expect(target.passwords.get('alice')).toBe(await current('alice'));
  });

  it('rotation: an out-of-sync reconcile keeps the pending version under its own label, and a retried setSecret leaves the target alone', async () => {
    await rotate('createSecret');
    // The change goes astray, and so does reconcile's one set with the admin login.
    target.faults.push('scramble', 'scramble');
    expect((await rejection(rotate('setSecret'))).name).toBe('OutcomeUnknownError');
    expect(target.changes).toBe(2);
    const [first] = await stores.state.listAccountResults(`rotation:${TOKEN}`);
    expect(first).toMatchObject({ outcome: 'out-of-sync', step: 'reconcile', workingVersion: 'none' });
    expect(first!.message).toContain(`the pending version is kept as ${keptLabel(TOKEN)}`);
    // Not AWSPENDING, which would hold off Secrets Manager's next rotation; not unlabelled, which would lose it.
    expect((await stagesOf('alice'))[TOKEN]).toEqual([keptLabel(TOKEN)]);

    // Secrets Manager retries setSecret: the version is no longer pending, so nothing is sent again.
    const retried = await rejection(rotate('setSecret'));
    expect(retried.name).toBe('TargetUnchangedError');
    expect(retried.message).toContain(keptLabel(TOKEN));
    expect(target.changes).toBe(2);
    expect(target.calls.filter((c) => c === 'change alice')).toHaveLength(2);
    expect(await current('alice')).toBe('alice-start-pw');
  });

  it('rotation: the lease is held from createSecret to finishSecret: a workflow reset of the account between any two steps is refused as busy, and goes through after', async () => {
    const workflowReset = (runId: string) => invoke({ runId, resourceId: 'db1', type: 'postgresql', site: 'cloud', accountIds: ['db1/alice'] });
    for (const step of ['createSecret', 'setSecret', 'testSecret']) {
      await rotate(step);
      const group = await workflowReset(`run-during-${step}`);
      expect(group!.results[0]).toMatchObject({ outcome: 'failed', step: 'lease', errorClass: 'AccountBusyError' });
      expect(group!.results[0]!.message).toContain(`rotation:${TOKEN}`);
    }
    expect(target.changes).toBe(1);
    await rotate('finishSecret');
    expect(target.passwords.get('alice')).toBe(await current('alice'));

    const after = await workflowReset('run-after');

    expect(after!.results[0]).toMatchObject({ outcome: 'succeeded' });
    expect(target.changes).toBe(2);
    expect(target.passwords.get('alice')).toBe(await current('alice'));
  });

  it.each([
    ['the lease has more than set needs (the default 15 minutes)', undefined, 0],
    ['the lease has less than the five minutes set may take', 4 * 60_000, 1],
  ])('rotation: the later steps go on the lease create took, renewing it only when it is short: %s', async (_, leaseTtlMs, renewals) => {
    const renew = vi.spyOn(stores.state, 'renew');
    handler = createResetHandler({ adapters: { postgresql: target.adapter('postgresql') }, stores: async () => workflowStores, log, ...(leaseTtlMs ? { leaseTtlMs } : {}) });

    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await rotate(step);

    expect(renew.mock.calls.map(([lease]) => lease.owner)).toEqual(Array.from({ length: renewals }, () => `rotation:${TOKEN}`));
    expect(target.passwords.get('alice')).toBe(await current('alice'));
    expect(await current('alice')).not.toBe('alice-start-pw');
  });

  it('rotation: a rotation that ends out of sync publishes the event and the OutOfSyncAccounts metric a workflow run would, so the alarm fires', async () => {
    const sent = published;
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await rotate(step, TOKEN2, arnOf('s/bob'));
    expect(sent).toEqual([]);

    await rotate('createSecret');
    target.faults.push('scramble', 'scramble');
    expect((await rejection(rotate('setSecret'))).name).toBe('OutcomeUnknownError');

    expect(sent.map((c) => c.constructor.name)).toEqual(['PutEventsCommand', 'PutMetricDataCommand']);
    const [entry] = sent[0]!.input.Entries as { Source: string; DetailType: string; Detail: string; EventBusName: string }[];
    expect(entry).toMatchObject({ Source: EVENT_SOURCE, DetailType: DETAIL_TYPES.outOfSync, EventBusName: 'rpr-bus' });
    expect(JSON.parse(entry!.Detail)).toEqual({ runId: `rotation:${TOKEN}`, accountId: 'db1/alice', resourceId: 'db1', outcome: 'out-of-sync', versionId: TOKEN, errorClass: 'OutcomeUnknownError', workingVersion: 'none', keptVersion: keptLabel(TOKEN) });
    expect(sent[1]!.input).toMatchObject({ Namespace: METRIC_NAMESPACE, MetricData: [{ MetricName: OUT_OF_SYNC_METRIC, Value: 1, Unit: 'Count' }] });
  });

  it('rotation: a version another reset settled is neither tested (read afresh in another container) nor promoted by finishSecret', async () => {
    await rotate('createSecret');
    await rotate('setSecret');
    // Another reset took the account over and discarded the pending version.
    await credentials.discardPending('s/alice', TOKEN);
    const other = createResetHandler({ adapters: { postgresql: target.adapter('postgresql') }, stores: async () => workflowStores, log, events: publishing, metrics: publishing });

    const tested = await rejection(other({ Step: 'testSecret', SecretId: arnOf('s/alice'), ClientRequestToken: TOKEN }));
    const finished = await rejection(rotate('finishSecret'));

    expect(tested.name).toBe('TargetUnchangedError');
    expect(tested.message).toContain('settled by another reset');
    expect(finished.name).toBe('TargetUnchangedError');
    expect(await current('alice')).toBe('alice-start-pw');
    expect((await stagesOf('alice'))[TOKEN]).toBeUndefined();
  });

  it('no handler output or error carries a password', async () => {
    const errors: string[] = [];
    await rotate('createSecret');
    target.faults.push('scramble');
    await rotate('setSecret').catch((e: Error) => errors.push(`${e.name}: ${e.message}`));
    await invoke({ runId: 'run-leak', resourceId: 'db1', type: 'postgresql', site: 'cloud', accountIds: ['db1/bob', 'db1/admin'] });
    for (const v of await credentials.listVersions('s/alice')) written.add((await credentials.getValue('s/alice', { versionId: v.versionId })).value.reveal());
    const results = JSON.stringify(await stores.state.listAccountResults(`rotation:${TOKEN}`));
    expect(findLeaks(written, { outputs: JSON.stringify(outputs), errors: errors.join('\n'), results })).toEqual([]);
  });
});
