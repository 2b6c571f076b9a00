import { CreateAccessKeyCommand, ListAccessKeysCommand, PutUserPolicyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT, AWSPREVIOUS, type CredentialStore } from '../../../layers/engine/stores/types.js';
import { awsIamAdapterFactory, type AwsIamAdapterOptions } from '../../../layers/resources/aws-iam/adapter.js';
import { REGISTRY } from '../../../layers/resources/registry.js';
import { RotationRunner } from '../../../layers/workflow/rotation.js';
import { captureOutput, findLeaks } from '../../support/leaks.js';
import { ACCESS_KEY_POLICY, motoUnavailable, RecordingProxy, REGION, startIamMoto, type IamMoto, type KeyPair } from '../../../harness/support/iam-moto.js';

/**
 * Access key rotation (`manages: access-key`) against moto with authentication on, through the
 * engine as a run makes it. What a user sees: the secret's AWSCURRENT holds a new pair that STS
 * accepts as the user (checked here with a client of the test's own), the old key is inactive
 * and later deleted, and the key that is current is never deleted.
 *
 * moto's limits (moto/iam/models.py, moto/core/responses.py): it enforces the two-key limit
 * (LimitExceeded) and records each key's last use, but it authenticates an inactive key as an
 * active one, so "the old key no longer works" is shown by the status IAM reports, which is what
 * AWS enforces. IAM's propagation delay is played by the recording proxy (STS's
 * InvalidClientTokenId for a key it does not know yet).
 */
const unavailable = motoUnavailable();
const DAY_MS = 86_400_000;

describe.skipIf(unavailable !== undefined)('aws-iam access key rotation on moto (authentication on)', () => {
  let moto: IamMoto;
  let proxy: RecordingProxy;
  let stores: EmbeddedStores;
  let config: Configurator;
  let admin: KeyPair;
  const secrets = new Set<string>();
  const output: string[] = [];
  let n = 0;

  beforeAll(async () => {
    moto = await startIamMoto();
    proxy = await RecordingProxy.start(moto.endpoint);
    stores = await openMemoryStores();
    config = new Configurator(stores.state, stores.credentials, REGISTRY);
    await moto.root.send(new CreateUserCommand({ UserName: 'rpr-key-admin' }));
    await moto.root.send(new PutUserPolicyCommand({ UserName: 'rpr-key-admin', PolicyName: 'rpr-access-key-admin', PolicyDocument: JSON.stringify(ACCESS_KEY_POLICY) }));
    admin = await newKey('rpr-key-admin');
  }, 60_000);
  afterAll(async () => {
    await stores?.close();
    await proxy?.close();
    await moto?.stop();
  });
  afterEach(() => proxy.clear());

  const engineWith = (options: AwsIamAdapterOptions = {}, credentials: CredentialStore = stores.credentials) =>
    new ResetEngine({ registry: REGISTRY, state: stores.state, credentials, adapters: { 'aws-iam': awsIamAdapterFactory(options) }, log: new Log({ level: 'DEBUG' }), timeoutMs: 5_000 });

  async function newKey(username: string): Promise<KeyPair> {
    const k = (await moto.root.send(new CreateAccessKeyCommand({ UserName: username }))).AccessKey!;
    secrets.add(k.SecretAccessKey!);
    return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  }

  async function resource(extra: Record<string, unknown> = {}): Promise<string> {
    const id = `keys${++n}`;
    await config.putSecret(`rpr/${id}/admin`, new Secret(JSON.stringify(admin)));
    await config.putResource({ id, type: 'aws-iam', manages: 'access-key', region: REGION, endpoint: proxy.endpoint, stsEndpoint: proxy.endpoint, credentialsSecretId: `rpr/${id}/admin`, ...extra });
    return id;
  }

  /** A user holding one key, which the account's secret holds. */
  async function account(resourceId: string) {
    const username = await moto.createUser(undefined);
    const key = await newKey(username);
    const a = await config.putAccount({ resourceId, username, secretId: `rpr/${resourceId}/${username}` }, { password: new Secret(JSON.stringify(key)) });
    return { ...a, key };
  }

  async function run(accountId: string, by = engineWith(), mode?: 'verify') {
    const out = captureOutput();
    try {
      const record = await by.run({ accountIds: [accountId] }, mode ? { mode } : {});
      return (await stores.state.listAccountResults(record.runId))[0]!;
    } finally {
      out.restore();
      output.push(out.text());
    }
  }

  const stored = async (secretId: string, stage = AWSCURRENT): Promise<KeyPair> => {
    const pair = JSON.parse((await stores.credentials.getValue(secretId, { stage })).value.reveal()) as KeyPair;
    secrets.add(pair.secretAccessKey);
    return pair;
  };
  /** The user's keys as IAM lists them: id → status. */
  const keysOf = async (username: string): Promise<Record<string, string>> =>
    Object.fromEntries(((await moto.root.send(new ListAccessKeysCommand({ UserName: username }))).AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId!, k.Status!]));
  /** Who STS says a key pair is: a client of the test's own, straight to moto. */
  const whoIs = async (pair: KeyPair): Promise<string> => {
    const sts = new STSClient({ endpoint: moto.endpoint, region: REGION, credentials: pair });
    try {
      return (await sts.send(new GetCallerIdentityCommand({}))).Arn!;
    } finally {
      sts.destroy();
    }
  };
  const sent = (action: string) => proxy.seen.filter((r) => r.params.get('Action') === action);

  it('rotates: AWSCURRENT holds a new pair STS accepts as the user, proven by a call with it ("logged in"), and the old key is deactivated, not deleted', async () => {
    const a = await account(await resource());

    const result = await run(a.id);

    expect(result, JSON.stringify(result)).toMatchObject({ outcome: 'succeeded', proof: 'logged in', method: 'new access key (CreateAccessKey)' });
    const now = await stored(a.secretId);
    expect(now.accessKeyId).not.toBe(a.key.accessKeyId);
    expect(await whoIs(now)).toMatch(new RegExp(`:user/${a.username}$`));
    expect(await stored(a.secretId, AWSPREVIOUS)).toEqual(a.key);
    expect(await keysOf(a.username)).toEqual({ [a.key.accessKeyId]: 'Inactive', [now.accessKeyId]: 'Active' });
    expect(result.message).toContain(`the old access key ${a.key.accessKeyId} was deactivated`);
    // The proof was signed with the new key itself, not the admin's.
    const proof = sent('GetCallerIdentity');
    expect(proof.length).toBeGreaterThan(0);
    expect(String(proof.at(-1)!.headers.authorization)).toContain(`Credential=${now.accessKeyId}/`);
    expect(sent('CreateAccessKey')).toHaveLength(1);
  });

  it('an old key that cannot be deactivated (IAM keeps throttling) leaves the reset succeeded, with the new key current and the record saying so', async () => {
    const a = await account(await resource());
    proxy.throttle('UpdateAccessKey', 10, 503);

    const result = await run(a.id);

    expect(result, JSON.stringify(result)).toMatchObject({ outcome: 'succeeded', proof: 'logged in' });
    expect(result.message).toContain('the replaced credential was not retired');
    const now = await stored(a.secretId);
    expect(await keysOf(a.username)).toEqual({ [a.key.accessKeyId]: 'Active', [now.accessKeyId]: 'Active' });
  });

  it('a second rotation within the grace period is refused, unchanged, naming the day; after it, the previous key is deleted and the current one never is', async () => {
    const resourceId = await resource({ oldKeyGraceDays: 7 });
    const a = await account(resourceId);
    expect(await run(a.id)).toMatchObject({ outcome: 'succeeded' });
    const second = await stored(a.secretId);
    proxy.clear();

    const early = await run(a.id);

    expect(early).toMatchObject({ outcome: 'failed', step: 'create', errorClass: 'TargetUnchangedError' });
    expect(early.message).toContain(`the previous one (${a.key.accessKeyId}), which stays until`);
    expect(sent('CreateAccessKey')).toEqual([]);
    expect(await stored(a.secretId)).toEqual(second);
    expect(await keysOf(a.username)).toEqual({ [a.key.accessKeyId]: 'Inactive', [second.accessKeyId]: 'Active' });

    const later = await run(a.id, engineWith({ now: () => new Date(Date.now() + 8 * DAY_MS) }));

    expect(later, JSON.stringify(later)).toMatchObject({ outcome: 'succeeded', proof: 'logged in' });
    const third = await stored(a.secretId);
    expect(await keysOf(a.username)).toEqual({ [second.accessKeyId]: 'Inactive', [third.accessKeyId]: 'Active' });
    expect(sent('DeleteAccessKey').map((r) => r.params.get('AccessKeyId'))).toEqual([a.key.accessKeyId]);
  });

  it('oldKeyGraceDays 0: the old key is deleted as soon as the new one is current, so rotations can follow each other', async () => {
    const a = await account(await resource({ oldKeyGraceDays: 0 }));
    for (let i = 0; i < 3; i++) {
      const before = await stored(a.secretId);
      const result = await run(a.id);
      expect(result, JSON.stringify(result)).toMatchObject({ outcome: 'succeeded' });
      expect(result.message).toContain(`the old access key ${before.accessKeyId} was deleted`);
      expect(Object.keys(await keysOf(a.username))).toEqual([(await stored(a.secretId)).accessKeyId]);
    }
  });

  it('a user already holding two keys: a second key never used is deleted to make room; one that was used stops the reset, unchanged, naming it', async () => {
    const resourceId = await resource();
    const unused = await account(resourceId);
    const stray = await newKey(unused.username);

    const ok = await run(unused.id);

    expect(ok, JSON.stringify(ok)).toMatchObject({ outcome: 'succeeded' });
    const now = await stored(unused.secretId);
    expect(await keysOf(unused.username)).toEqual({ [unused.key.accessKeyId]: 'Inactive', [now.accessKeyId]: 'Active' });
    expect(sent('DeleteAccessKey').map((r) => r.params.get('AccessKeyId'))).toEqual([stray.accessKeyId]);

    proxy.clear();
    const used = await account(resourceId);
    const inUse = await newKey(used.username);
    await whoIs(inUse);

    const refused = await run(used.id);

    expect(refused).toMatchObject({ outcome: 'failed', step: 'create', errorClass: 'TargetUnchangedError' });
    expect(refused.message).toContain(`${inUse.accessKeyId} is neither the secret's current nor its previous key (last used`);
    expect(await keysOf(used.username)).toEqual({ [used.key.accessKeyId]: 'Active', [inUse.accessKeyId]: 'Active' });
    expect(await stored(used.secretId)).toEqual(used.key);
    expect(sent('CreateAccessKey')).toEqual([]);
    expect(sent('DeleteAccessKey')).toEqual([]);
  });

  it('a connection cut after CreateAccessKey: unchanged (the current key still works); the key IAM made, never stored, is deleted by the next reset', async () => {
    const a = await account(await resource());
    proxy.cutAfter('CreateAccessKey');

    const cut = await run(a.id);

    expect(cut).toMatchObject({ outcome: 'failed', step: 'create', errorClass: 'TargetUnchangedError' });
    expect(cut.message).toContain('the current key still works');
    const orphan = Object.keys(await keysOf(a.username)).find((id) => id !== a.key.accessKeyId)!;
    expect(orphan).toBeDefined();
    expect(await stored(a.secretId)).toEqual(a.key);

    const next = await run(a.id);

    expect(next, JSON.stringify(next)).toMatchObject({ outcome: 'succeeded' });
    const now = await stored(a.secretId);
    expect(await keysOf(a.username)).toEqual({ [a.key.accessKeyId]: 'Inactive', [now.accessKeyId]: 'Active' });
    expect(sent('DeleteAccessKey').map((r) => r.params.get('AccessKeyId'))).toContain(orphan);
  });

  it('a pending version that cannot be stored: the issued key is deleted at once and AWSCURRENT still holds the working key', async () => {
    const a = await account(await resource());
    const failing = new Proxy(stores.credentials, {
      get(target, prop, receiver) {
        if (prop === 'putPending') return () => Promise.reject(new Error('Secrets Manager is down'));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
      },
    });

    const result = await run(a.id, engineWith({}, failing));

    expect(result).toMatchObject({ outcome: 'failed', step: 'create' });
    expect(await keysOf(a.username)).toEqual({ [a.key.accessKeyId]: 'Active' });
    expect(sent('CreateAccessKey')).toHaveLength(1);
    expect(sent('DeleteAccessKey')).toHaveLength(1);
    expect(await stored(a.secretId)).toEqual(a.key);
  });

  it("IAM's propagation delay: a new key STS does not know yet is tried again until it does; one it never accepts is rolled back and deleted", async () => {
    const resourceId = await resource();
    const a = await account(resourceId);
    proxy.refuseKey('GetCallerIdentity', 2, a.key.accessKeyId);

    const result = await run(a.id);

    expect(result, JSON.stringify(result)).toMatchObject({ outcome: 'succeeded', proof: 'logged in' });
    expect(sent('GetCallerIdentity')).toHaveLength(3);

    proxy.clear();
    const b = await account(resourceId);
    proxy.refuseKey('GetCallerIdentity', 100, b.key.accessKeyId);

    const never = await run(b.id, engineWith({ keyPropagationMs: 1_500 }));

    expect(never, JSON.stringify(never)).toMatchObject({ outcome: 'rolled-back', step: 'reconcile', workingVersion: 'current' });
    expect(await keysOf(b.username)).toEqual({ [b.key.accessKeyId]: 'Active' });
    expect(await stored(b.secretId)).toEqual(b.key);
  });

  it('a verify-only run proves AWSCURRENT with a call signed by it, changing nothing; an inactive current key is not in sync', async () => {
    const a = await account(await resource());

    const verified = await run(a.id, engineWith(), 'verify');

    expect(verified).toMatchObject({ outcome: 'in-sync', proof: 'logged in' });
    expect(sent('CreateAccessKey')).toEqual([]);
    expect(await keysOf(a.username)).toEqual({ [a.key.accessKeyId]: 'Active' });
  });

  it('Secrets Manager rotation (the four steps one call each): the same rotation of the key, and a repeated step issues no second key', async () => {
    const a = await account(await resource());
    const rotation = new RotationRunner({
      stores: { state: stores.state, credentials: stores.credentials, describeSecret: (id) => Promise.resolve({ arn: id, name: id }) },
      registry: REGISTRY,
      adapters: { 'aws-iam': awsIamAdapterFactory() },
      log: new Log({ level: 'DEBUG' }),
      leaseTtlMs: 5 * 60_000,
      timeoutMs: 5_000,
      now: () => new Date(),
    });
    const token = randomUUID();
    const out = captureOutput();
    try {
      for (const step of ['create', 'create', 'set', 'set', 'test', 'finish', 'finish'] as const) await rotation.run({ step, secretId: a.secretId, token });
    } finally {
      out.restore();
      output.push(out.text());
    }

    const now = await stored(a.secretId);
    expect(now.accessKeyId).not.toBe(a.key.accessKeyId);
    expect(await whoIs(now)).toMatch(new RegExp(`:user/${a.username}$`));
    expect(await keysOf(a.username)).toEqual({ [a.key.accessKeyId]: 'Inactive', [now.accessKeyId]: 'Active' });
    expect(sent('CreateAccessKey')).toHaveLength(1);
    expect(await stores.state.listAccountResults(`rotation:${token}`)).toMatchObject([{ outcome: 'succeeded', step: 'finish', message: expect.stringContaining('deactivated') }]);
  });

  it('a dry run says which users have room for a new key, changing nothing', async () => {
    const resourceId = await resource();
    const roomy = await account(resourceId);
    const full = await account(resourceId);
    await newKey(full.username);

    const report = await engineWith().dryRun({ resourceIds: [resourceId] });

    const findings = report.resources[0]!.findings.filter((f) => f.check === 'access keys');
    expect(findings).toHaveLength(2);
    expect(findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ accountId: roomy.id, ok: true, detail: expect.stringContaining('holds 1 access key') }),
      expect.objectContaining({ accountId: full.id, ok: false, detail: expect.stringContaining('two active access keys') }),
    ]));
    expect(sent('CreateAccessKey')).toEqual([]);
    expect(Object.keys(await keysOf(full.username))).toHaveLength(2);
  });

  it('keeps a made-up name out of IAM: an injected user name is refused before any call', async () => {
    const resourceId = await resource();
    const name = `x${randomBytes(3).toString('hex')}`;
    await expect(config.putAccount({ resourceId, username: `${name}&Action=DeleteUser`, secretId: `rpr/${resourceId}/${name}` }, { password: new Secret('{}') })).rejects.toMatchObject({ field: expect.stringContaining('username') });
  });

  it('(last) no secret access key in any log line, audit record, URL or header', async () => {
    expect(secrets.size).toBeGreaterThan(10);
    expect(output.join('\n').length).toBeGreaterThan(1000);
    const audit = await stores.state.listAudit({ limit: 10_000 });
    expect(findLeaks(secrets, { logs: output.join('\n'), audit: JSON.stringify(audit), wire: JSON.stringify(proxy.all.map((r) => ({ url: r.url, headers: r.headers, params: [...r.params] }))) })).toEqual([]);
  });
});
