import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AccountBusyError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { AWSCURRENT, AWSPENDING } from '../../../layers/engine/stores/types.js';
import { describeSecretWith, resetStoresFromEnvironment } from '../../../layers/workflow/environment.js';
import { createResetHandler, type ResetHandler } from '../../../layers/workflow/handler.js';
import { createPostgresqlAdapter } from '../../../layers/resources/postgresql/adapter.js';
import { pgAdminQuery, pgCreateRole, pgDropRole, pgPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { captureOutput, everyStoredPassword, findLeaks, scanTable } from '../../support/leaks.js';
import { engineOnMoto, type EngineHarness } from '../engine/support.js';

const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };

/**
 * The reset function on DynamoDB and Secrets Manager (moto) and a real PostgreSQL server:
 * a workflow group task through the deployed entry point (stores from its environment), and
 * Secrets Manager rotation, one step per call, with outcomes proven by fresh logins.
 */
describeServer('moto', 'reset function on moto', (moto) => {
  describeServer('postgresql', 'with PostgreSQL', (pg) => {
    let h: EngineHarness;
    let sm: SecretsManagerClient;
    let rotation: ResetHandler;
    const cleanups: (() => Promise<unknown>)[] = [];
    const outputs: unknown[] = [];
    const logs: string[] = [];
    const secretIds = new Set<string>();
    const calls = new Map<string, number>();
    let n = 0;

    beforeAll(async () => {
      h = await engineOnMoto(moto.endpoint);
      sm = new SecretsManagerClient({ ...AWS, endpoint: moto.endpoint });
      // Every AWS call the stores and the handler make, by operation.
      const count = (service: string) => (context: { commandName?: string }) => {
        const op = `${service}.${(context.commandName ?? '?').replace(/Command$/, '')}`;
        calls.set(op, (calls.get(op) ?? 0) + 1);
      };
      const dynamo = count('DynamoDB');
      const secrets = count('SecretsManager');
      h.stores.clients.dynamo.middlewareStack.add((next, context) => (args) => (dynamo(context), next(args)), { step: 'initialize' });
      h.stores.clients.secrets.middlewareStack.add((next, context) => (args) => (secrets(context), next(args)), { step: 'initialize' });
      sm.middlewareStack.add((next, context) => (args) => (secrets(context), next(args)), { step: 'initialize' });
      rotation = createResetHandler({
        adapters: { postgresql: createPostgresqlAdapter },
        stores: async () => ({ state: h.stores.state, credentials: h.credentials, describeSecret: describeSecretWith(sm) }),
        log: new Log({ level: 'DEBUG' }),
        timeoutMs: 10_000,
      });
    });
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      sm?.destroy();
      await h?.close();
    });

    /** Calls a handler with its logs captured; its output (or error) kept for the leak search. */
    async function call<T>(fn: () => Promise<T>): Promise<T> {
      const out = captureOutput();
      try {
        const result = await fn();
        outputs.push(result);
        return result;
      } catch (e) {
        outputs.push({ name: (e as Error).name, message: (e as Error).message, stack: (e as Error).stack });
        throw e;
      } finally {
        out.restore();
        logs.push(out.text());
      }
    }

    /** A PostgreSQL resource (through a fault proxy when asked) with an admin and `roles` accounts. */
    async function setup(roles: number, options: { proxy?: boolean } = {}) {
      const id = `pg-fn-${++n}`;
      const admin = uniqueName('pgadm');
      await pgCreateRole(admin, `Adm-${id}-start`, 'CREATEROLE');
      cleanups.push(() => pgDropRole(admin));
      const proxy = options.proxy ? await FaultProxy.start({ host: pg.host, port: pg.port }) : undefined;
      if (proxy) cleanups.push(() => proxy.close());
      await h.config.putResource({ id, type: 'postgresql', host: proxy?.host ?? pg.host, port: proxy?.port ?? pg.port, adminAccount: `${id}/${admin}` });
      await addAccount(id, admin, `Adm-${id}-start`);
      const accounts = [];
      for (let i = 0; i < roles; i++) {
        const role = uniqueName('r');
        await pgCreateRole(role, `${role}-Start`);
        cleanups.push(() => pgDropRole(role));
        accounts.push({ role, start: `${role}-Start`, ...(await addAccount(id, role, `${role}-Start`)) });
      }
      return { id, proxy, accounts };
    }
    async function addAccount(resourceId: string, username: string, password: string) {
      const secretId = h.secretName(`${resourceId}/${username}`);
      await h.config.putAccount({ resourceId, username, secretId }, { password: new Secret(password) });
      secretIds.add(secretId);
      return { id: `${resourceId}/${username}`, secretId };
    }
    const arnOf = async (secretId: string) => (await describeSecretWith(sm)(secretId)).arn;
    const rotate = async (step: string, token: string, secretId: string) => call(() => rotation({ Step: step, SecretId: secretId, ClientRequestToken: token }));
    const stagesOf = async (secretId: string) => Object.fromEntries((await h.credentials.listVersions(secretId)).map((v) => [v.versionId, [...v.stages].sort()]));
    const verifierOf = async (role: string) => (await pgAdminQuery<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]))[0]!.rolpassword;
    const token = () => crypto.randomUUID();

    it('a group task through functions/reset-postgresql.ts (stores from its environment) resets every account; fresh logins prove it', async () => {
      const { id, accounts } = await setup(3);
      const env = { RPR_TABLE: h.tableName, RPR_AWS_ENDPOINT: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      resetStoresFromEnvironment();
      try {
        const { handler } = await import('../../../functions/reset-postgresql.js');
        const result = await call(() => handler({ runId: 'run-fn-1', resourceId: id, type: 'postgresql', site: 'cloud', accountIds: accounts.map((a) => a.id) }));

        expect(result!.results.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded']);
        for (const a of accounts) {
          expect(await pgPasswordWorks(a.role, await h.current(a.secretId))).toBe(true);
          expect(await pgPasswordWorks(a.role, a.start)).toBe(false);
        }
        expect((await h.results('run-fn-1')).length).toBe(3);
      } finally {
        for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
        resetStoresFromEnvironment();
      }
    });

    it('rotation: the four events in order (secret named by ARN) move AWSCURRENT; the new password logs in, the old one is refused', async () => {
      const { accounts: [a] } = await setup(1);
      const t = token();
      const arn = await arnOf(a!.secretId);

      for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await rotate(step, t, arn);

      expect((await stagesOf(a!.secretId))[t]).toEqual([AWSCURRENT, AWSPENDING]);
      expect(await h.previous(a!.secretId)).toBe(a!.start);
      expect(await pgPasswordWorks(a!.role, await h.current(a!.secretId))).toBe(true);
      expect(await pgPasswordWorks(a!.role, a!.start)).toBe(false);
      expect(await h.results(`rotation:${t}`)).toMatchObject([{ accountId: a!.id, outcome: 'succeeded', step: 'finish' }]);
    });

    it('rotation: each step repeated changes nothing twice (one ALTER ROLE through the proxy; the verifier is not rewritten)', async () => {
      const { proxy, accounts: [a] } = await setup(1, { proxy: true });
      let alters = 0;
      proxy!.onClientData((chunk) => (alters += chunk.toString('latin1').split('ALTER ROLE').length - 1));
      const t = token();

      await rotate('createSecret', t, a!.secretId);
      const pending = (await h.credentials.getValue(a!.secretId, { versionId: t })).value.reveal();
      await rotate('createSecret', t, a!.secretId);
      expect((await h.credentials.getValue(a!.secretId, { versionId: t })).value.reveal()).toBe(pending);
      await rotate('setSecret', t, a!.secretId);
      const verifier = await verifierOf(a!.role);
      await rotate('setSecret', t, a!.secretId);
      expect(await verifierOf(a!.role)).toBe(verifier);
      expect(alters).toBe(1);
      await rotate('testSecret', t, a!.secretId);
      await rotate('testSecret', t, a!.secretId);
      expect((await stagesOf(a!.secretId))[t]).toEqual([AWSPENDING]);
      await rotate('finishSecret', t, a!.secretId);
      await rotate('finishSecret', t, a!.secretId);

      expect(alters).toBe(1);
      expect((await stagesOf(a!.secretId))[t]).toEqual([AWSCURRENT, AWSPENDING]);
      expect(await h.previous(a!.secretId)).toBe(a!.start);
      expect(await pgPasswordWorks(a!.role, pending)).toBe(true);
    });

    it('rotation: setSecret that failed before it reached the server (connection refused), retried by Secrets Manager, logs in with the pending password before it changes', async () => {
      const { proxy, accounts: [a] } = await setup(1, { proxy: true });
      const seen: string[] = [];
      proxy!.onClientData((chunk) => {
        const text = chunk.toString('latin1');
        if (text.includes(`user\0${a!.role}\0`)) seen.push('login as the role');
        if (text.includes('ALTER ROLE')) seen.push('ALTER ROLE');
      });
      const t = token();
      await rotate('createSecret', t, a!.secretId);
      proxy!.refuseNew(true);
      const e = await rotate('setSecret', t, a!.secretId).then(() => undefined, (err: unknown) => err as Error);
      proxy!.refuseNew(false);
      expect(e?.name).toBe('TargetUnchangedError');
      expect(seen).toEqual([]);

      await rotate('setSecret', t, a!.secretId);

      // The mark the first attempt wrote makes the retry try the pending password first (refused: not set yet), then change it.
      expect(seen).toEqual(['login as the role', 'ALTER ROLE']);
      await rotate('testSecret', t, a!.secretId);
      await rotate('finishSecret', t, a!.secretId);
      expect((await stagesOf(a!.secretId))[t]).toEqual([AWSCURRENT, AWSPENDING]);
      expect(await pgPasswordWorks(a!.role, await h.current(a!.secretId))).toBe(true);
      expect(await pgPasswordWorks(a!.role, a!.start)).toBe(false);
    });

    it('rotation: setSecret cut after COMMIT is sent is reconciled; the rotation finishes and AWSCURRENT logs in', async () => {
      const { proxy, accounts: [a] } = await setup(1, { proxy: true });
      const t = token();
      await rotate('createSecret', t, a!.secretId);
      proxy!.cutWhenClientSends('COMMIT', 'after');

      await rotate('setSecret', t, a!.secretId);
      expect(logs.at(-1)).toContain('outcome unknown; reconciling');
      await rotate('testSecret', t, a!.secretId);
      await rotate('finishSecret', t, a!.secretId);

      expect((await stagesOf(a!.secretId))[t]).toEqual([AWSCURRENT, AWSPENDING]);
      expect(await pgPasswordWorks(a!.role, await h.current(a!.secretId))).toBe(true);
      expect(await pgPasswordWorks(a!.role, a!.start)).toBe(false);
    });

    it('rotation: a stale AWSPENDING left by a crashed rotation (create, set, then nothing) is reconciled by the next rotation', async () => {
      const { accounts: [a] } = await setup(1);
      const crashed = token();
      await rotate('createSecret', crashed, a!.secretId);
      await rotate('setSecret', crashed, a!.secretId);
      const stale = (await h.credentials.getValue(a!.secretId, { versionId: crashed })).value.reveal();
      // The crashed rotation's lease expires (released here rather than waited for).
      await h.stores.state.release({ accountId: a!.id, owner: `rotation:${crashed}`, expiresAt: 0 });

      const t = token();
      await rotate('createSecret', t, a!.secretId);
      // The target had taken the stale password: it was promoted, so nothing that works is lost.
      expect((await stagesOf(a!.secretId))[crashed]).toEqual([AWSCURRENT]);
      for (const step of ['setSecret', 'testSecret', 'finishSecret']) await rotate(step, t, a!.secretId);

      expect(await h.previous(a!.secretId)).toBe(stale);
      expect(await pgPasswordWorks(a!.role, await h.current(a!.secretId))).toBe(true);
      expect(await pgPasswordWorks(a!.role, stale)).toBe(false);
    });

    it('rotation racing a workflow reset of the same account: the lease holds each off with AccountBusyError, and nothing is changed twice', async () => {
      const { id, accounts: [a, b] } = await setup(2);
      const t = token();
      await rotate('createSecret', t, a!.secretId);
      const group = await call(() => rotation({ runId: 'run-race', resourceId: id, type: 'postgresql', site: 'cloud', accountIds: [a!.id] }));
      expect(group!.results[0]).toMatchObject({ outcome: 'failed', step: 'lease', errorClass: 'AccountBusyError' });
      for (const step of ['setSecret', 'testSecret', 'finishSecret']) await rotate(step, t, a!.secretId);
      expect((await stagesOf(a!.secretId))[t]).toEqual([AWSCURRENT, AWSPENDING]);
      expect(await pgPasswordWorks(a!.role, await h.current(a!.secretId))).toBe(true);

      const lease = await h.stores.state.acquire(b!.id, 'run-holding', 60_000);
      const e = await rotate('createSecret', token(), b!.secretId).then(() => undefined, (err: unknown) => err);
      await h.stores.state.release(lease);
      expect(e).toBeInstanceOf(AccountBusyError);
      expect((e as Error).name).toBe('AccountBusyError');
      expect(await h.current(b!.secretId)).toBe(b!.start);
      expect(await pgPasswordWorks(b!.role, b!.start)).toBe(true);
    });

    it('rotation of a secret without the rpr:account tag (created outside rpr, account naming it by name) finds its account', async () => {
      const id = `pg-fn-${++n}`;
      const role = uniqueName('r');
      await pgCreateRole(role, `${role}-Untagged`);
      cleanups.push(() => pgDropRole(role));
      await h.config.putResource({ id, type: 'postgresql', host: pg.host, port: pg.port });
      const name = h.secretName(`${id}/${role}`);
      const { ARN } = await sm.send(new CreateSecretCommand({ Name: name, SecretString: `${role}-Untagged` }));
      secretIds.add(name);
      await h.config.putAccount({ resourceId: id, username: role, secretId: name });
      const t = token();

      for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await rotate(step, t, ARN!);

      expect(await pgPasswordWorks(role, await h.current(name))).toBe(true);
      expect(await pgPasswordWorks(role, `${role}-Untagged`)).toBe(false);
    });

    it.each([
      ['each role changes its own password', false],
      ['an admin login changes it', true],
    ])('a rotation (the four steps, as Secrets Manager invokes them) makes at most 20 AWS calls: %s', async (_, withAdmin) => {
      let secretId: string;
      let role: string;
      if (withAdmin) {
        const { accounts: [a] } = await setup(1);
        ({ secretId, role } = a!);
      } else {
        const id = `pg-fn-${++n}`;
        role = uniqueName('r');
        await pgCreateRole(role, `${role}-Self`);
        cleanups.push(() => pgDropRole(role));
        await h.config.putResource({ id, type: 'postgresql', host: pg.host, port: pg.port });
        ({ secretId } = await addAccount(id, role, `${role}-Self`));
      }
      const arn = await arnOf(secretId);
      const t = token();
      calls.clear();

      for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await rotate(step, t, arn);

      const total = [...calls.values()].reduce((a, b) => a + b, 0);
      expect(total, JSON.stringify(Object.fromEntries(calls))).toBeLessThanOrEqual(20);
      // The account and its resource read once, together; the lease taken once by create (the later steps go on it), released by finish.
      expect(calls.get('DynamoDB.BatchGetItem')).toBe(1);
      expect(calls.get('DynamoDB.PutItem')).toBe(1);
      expect(calls.get('DynamoDB.DeleteItem')).toBe(1);
      // Two Secrets Manager writes: the pending version, and the label move that promotes it.
      expect(calls.get('SecretsManager.PutSecretValue')).toBe(1);
      expect(calls.get('SecretsManager.UpdateSecretVersionStage')).toBe(1);
      expect((await h.credentials.getValue(secretId, { stage: AWSCURRENT })).versionId).toBe(t);
      expect(await pgPasswordWorks(role, await h.current(secretId))).toBe(true);
    });

    it('no password appears in any handler output or error, any log line, or any DynamoDB item', async () => {
      const passwords = new Set([...h.written, ...(await everyStoredPassword(h.credentials, secretIds))]);
      expect(passwords.size).toBeGreaterThan(10);
      const leaks = findLeaks(passwords, { outputs: JSON.stringify(outputs), logs: logs.join('\n'), table: await scanTable(moto.endpoint, h.tableName) });
      expect(leaks).toEqual([]);
    });
  });
});
