import { createHash, randomBytes } from 'node:crypto';
import { DeleteAccountPasswordPolicyCommand, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openResourceSession } from '../../../layers/engine/session.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../../../layers/engine/stores/types.js';
import { awsIamAdapterFactory, NoLoginProfileError } from '../../../layers/resources/aws-iam/adapter.js';
import { REGISTRY } from '../../../layers/resources/registry.js';
import { captureOutput, findLeaks } from '../../support/leaks.js';
import { motoUnavailable, RecordingProxy, REGION, startIamMoto, type IamMoto, type KeyPair } from '../../../harness/support/iam-moto.js';

/**
 * aws-iam against moto with authentication on (support.ts), through the engine as a run makes it:
 * what a user would see is the console password moto holds afterwards. A recording proxy in front
 * of moto shows what went on the wire, throttles as IAM does, and cuts a change after it was sent.
 */
const unavailable = motoUnavailable();

describe.skipIf(unavailable !== undefined)('aws-iam on moto (authentication on)', () => {
  let moto: IamMoto;
  let proxy: RecordingProxy;
  let stores: EmbeddedStores;
  let config: Configurator;
  let engine: ResetEngine;
  const passwords = new Set<string>();
  const output: string[] = [];
  let n = 0;

  beforeAll(async () => {
    moto = await startIamMoto();
    proxy = await RecordingProxy.start(moto.endpoint);
    stores = await openMemoryStores();
    config = new Configurator(stores.state, stores.credentials, REGISTRY);
    // The function's own credentials, which assume the admin role: a user allowed only that.
    engine = engineWith(moto.caller.key);
  }, 60_000);
  afterAll(async () => {
    await stores?.close();
    await proxy?.close();
    await moto?.stop();
  });
  afterEach(() => proxy.clear());

  const engineWith = (baseCredentials: KeyPair) =>
    new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { 'aws-iam': awsIamAdapterFactory({ baseCredentials }) }, log: new Log({ level: 'DEBUG' }), timeoutMs: 5_000 });

  const fresh = (label: string) => {
    const p = `${label}-${randomBytes(6).toString('base64url')}-Aa1!`;
    passwords.add(p);
    return p;
  };

  /** A resource through the proxy: by key pair (`key`) or by the admin role (`role`). */
  async function resource(admin: { key: KeyPair } | { role: string; externalId?: string }, extra: Record<string, unknown> = {}): Promise<string> {
    const id = `iam${++n}`;
    const common = { id, type: 'aws-iam', region: REGION, endpoint: proxy.endpoint, ...extra };
    if ('key' in admin) {
      await config.putSecret(`rpr/${id}/admin`, new Secret(JSON.stringify(admin.key)));
      await config.putResource({ ...common, credentialsSecretId: `rpr/${id}/admin` });
    } else {
      await config.putResource({ ...common, roleArn: admin.role, stsEndpoint: proxy.endpoint, ...(admin.externalId ? { externalId: admin.externalId } : {}) });
    }
    return id;
  }

  async function account(resourceId: string, password: string | undefined) {
    const username = await moto.createUser(password);
    const a = await config.putAccount({ resourceId, username, secretId: `rpr/${resourceId}/${username}` }, { password: new Secret(password ?? fresh('unused')) });
    return a;
  }

  async function run(accountId: string, by = engine) {
    const out = captureOutput();
    try {
      const record = await by.run({ accountIds: [accountId] });
      return (await stores.state.listAccountResults(record.runId))[0]!;
    } finally {
      out.restore();
      output.push(out.text());
    }
  }

  const current = async (secretId: string) => (await stores.credentials.getValue(secretId, { stage: AWSCURRENT })).value.reveal();
  const changesSent = () => proxy.seen.filter((r) => r.params.get('Action') === 'UpdateLoginProfile');
  const hash = (s: string | null) => createHash('sha256').update(s ?? '').digest('hex');

  it('by key pair: the console password moto holds is the new one, AWSCURRENT holds it, and the record says "confirmed by the provider", never "logged in"', async () => {
    const old = fresh('old');
    const a = await account(await resource({ key: moto.admin.key }), old);

    const result = await run(a.id);

    expect(result).toMatchObject({ outcome: 'succeeded', proof: 'confirmed by the provider' });
    const now = await current(a.secretId);
    expect(now).not.toBe(old);
    expect(await moto.storedPassword(a.username)).toBe(now);
    expect(JSON.stringify(await stores.state.listAudit({ accountId: a.id }))).not.toContain('logged in');
    expect(proxy.actions()).toEqual(['GetAccountPasswordPolicy', 'GetLoginProfile', 'UpdateLoginProfile']);
    expect(changesSent()[0]!.params.get('PasswordResetRequired')).toBe('false');
  });

  it('by assumed role: the function\'s credentials assume the role with the external id, and the change is signed with the role\'s session', async () => {
    const old = fresh('old');
    const a = await account(await resource({ role: moto.roleArn, externalId: 'rpr-external-id' }, { passwordResetRequired: true }), old);

    const result = await run(a.id);

    expect(result, JSON.stringify(result)).toMatchObject({ outcome: 'succeeded', proof: 'confirmed by the provider' });
    expect(await moto.storedPassword(a.username)).toBe(await current(a.secretId));
    const assume = proxy.seen.find((r) => r.params.get('Action') === 'AssumeRole')!;
    expect(assume.params.get('RoleArn')).toBe(moto.roleArn);
    expect(assume.params.get('ExternalId')).toBe('rpr-external-id');
    expect(String(assume.headers.authorization)).toContain(`Credential=${moto.caller.key.accessKeyId}/`);
    const change = changesSent()[0]!;
    // Temporary credentials (ASIA...) with their session token: the role's, not a long-lived key.
    expect(String(change.headers.authorization)).toMatch(/Credential=ASIA/);
    expect(change.headers['x-amz-security-token']).toBeDefined();
    expect(change.params.get('PasswordResetRequired')).toBe('true');
  });

  it('wrong admin credentials (a wrong secret key, an unknown key, a caller or an external id the role trust policy refuses): AuthenticationError, and nothing changed', async () => {
    const cases = [
      { what: 'wrong secret key', admin: { key: { ...moto.admin.key, secretAccessKey: 'wrong-secret-key' } } },
      { what: 'unknown key', admin: { key: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' } } },
    ];
    for (const { what, admin } of cases) {
      const old = fresh('old');
      const a = await account(await resource(admin), old);
      const result = await run(a.id);
      expect(result, what).toMatchObject({ outcome: 'failed', step: 'set', errorClass: 'AuthenticationError' });
      expect(await moto.storedPassword(a.username), what).toBe(old);
      expect(await current(a.secretId), what).toBe(old);
    }
    // Function credentials the role does not trust (the key-pair admin's), and a wrong external id: STS refuses both.
    for (const { what, resourceId, by } of [
      { what: 'untrusted caller', resourceId: await resource({ role: moto.roleArn, externalId: 'rpr-external-id' }), by: engineWith(moto.admin.key) },
      { what: 'wrong external id', resourceId: await resource({ role: moto.roleArn, externalId: 'not-the-one' }), by: engine },
    ]) {
      const old = fresh('old');
      const a = await account(resourceId, old);
      const result = await run(a.id, by);
      expect(result, what).toMatchObject({ outcome: 'failed', errorClass: 'AuthenticationError' });
      expect(result.message, what).toContain('AccessDenied');
      expect(await moto.storedPassword(a.username), what).toBe(old);
    }
    expect(changesSent()).toEqual([]);
  });

  it('a password the account password policy refuses is refused before it is sent (moto does not enforce the policy, so this is the product\'s check), naming newPassword', async () => {
    await moto.root.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 24, RequireSymbols: true }));
    try {
      const old = fresh('old');
      const resourceId = await resource({ key: moto.admin.key });
      const a = await account(resourceId, old);
      const session = await openResourceSession({ state: stores.state, credentials: stores.credentials, registry: REGISTRY, adapters: { 'aws-iam': awsIamAdapterFactory() }, log: new Log({ level: 'SILENT' }), timeoutMs: 5_000 }, resourceId);
      try {
        // Within the type's own policy (6 to 128), short of the account's 24.
        const tooShort = fresh('short').slice(0, 12);
        const e = await session.adapter.change({ account: a, newPassword: new Secret(tooShort) }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(InvalidConfigurationError);
        expect((e as InvalidConfigurationError).field).toBe('newPassword');
        expect((e as Error).message).toContain('at least 24 characters');
        const noSymbol = 'abcdefghijklmnopqrstuvwxyz0123';
        const e2 = await session.adapter.change({ account: a, newPassword: new Secret(noSymbol) }).catch((x: unknown) => x);
        expect((e2 as Error).message).toContain("one of IAM's symbols");
      } finally {
        await session.close();
      }
      expect(changesSent()).toEqual([]);
      expect(await moto.storedPassword(a.username)).toBe(old);
      // A reset with the type's default policy (32 characters, IAM's symbols) passes the same check.
      const result = await run(a.id);
      expect(result).toMatchObject({ outcome: 'succeeded' });
      expect(await moto.storedPassword(a.username)).toBe(await current(a.secretId));
    } finally {
      await moto.root.send(new DeleteAccountPasswordPolicyCommand({}));
    }
  });

  it('a user without a console password: "unchanged" with a clear reason, and no login profile is created', async () => {
    const resourceId = await resource({ key: moto.admin.key });
    const a = await account(resourceId, undefined);

    const result = await run(a.id);

    expect(result).toMatchObject({ outcome: 'failed', step: 'set', errorClass: 'NoLoginProfileError' });
    expect(result.message).toContain('has no console password');
    expect(await moto.hasLoginProfile(a.username)).toBe(false);
    expect(proxy.actions()).not.toContain('CreateLoginProfile');
    expect(changesSent()).toEqual([]);
    // The class is one the state machine knows: safe to retry, nothing changed.
    expect(new NoLoginProfileError('x')).toBeInstanceOf(TargetUnchangedError);
  });

  it('a dry run (preflight): the resource\'s policy against the account\'s, and which users have a console password, changing nothing', async () => {
    await moto.root.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 40 }));
    try {
      const resourceId = await resource({ key: moto.admin.key });
      const withProfile = await account(resourceId, fresh('old'));
      const without = await account(resourceId, undefined);
      const session = await openResourceSession({ state: stores.state, credentials: stores.credentials, registry: REGISTRY, adapters: { 'aws-iam': awsIamAdapterFactory() }, log: new Log({ level: 'SILENT' }), timeoutMs: 5_000 }, resourceId);
      try {
        const findings = await session.adapter.preflight!({ accounts: [withProfile, without] });
        expect(findings).toEqual([
          expect.objectContaining({ check: 'account password policy', ok: false, detail: expect.stringContaining('policy.length is 32') }),
          expect.objectContaining({ accountId: withProfile.id, check: 'login profile', ok: true }),
          expect.objectContaining({ accountId: without.id, check: 'login profile', ok: false }),
        ]);
      } finally {
        await session.close();
      }
      expect(changesSent()).toEqual([]);
      expect(await moto.hasLoginProfile(without.username)).toBe(false);
    } finally {
      await moto.root.send(new DeleteAccountPasswordPolicyCommand({}));
    }
  });

  it('throttling (400 Throttling, 429 and 503 with Retry-After) is retried and ends well; a service that keeps throttling is ThrottledError with nothing changed', async () => {
    const old = fresh('old');
    const resourceId = await resource({ key: moto.admin.key });
    const a = await account(resourceId, old);
    proxy.throttle('GetLoginProfile', 1, 429);
    proxy.throttle('UpdateLoginProfile', 1, 400);

    const result = await run(a.id);

    expect(result).toMatchObject({ outcome: 'succeeded' });
    expect(await moto.storedPassword(a.username)).toBe(await current(a.secretId));
    expect(changesSent()).toHaveLength(2);

    proxy.clear();
    const b = await account(resourceId, old);
    proxy.throttle('UpdateLoginProfile', 10, 503);
    const throttled = await run(b.id);
    expect(throttled).toMatchObject({ outcome: 'failed', step: 'set', errorClass: 'ThrottledError' });
    expect(await moto.storedPassword(b.username)).toBe(old);
    expect(changesSent()).toHaveLength(3);
  });

  it('a cut after the change was sent: reconciled by sending the same pending password again, never a second different one', async () => {
    const old = fresh('old');
    const a = await account(await resource({ key: moto.admin.key }), old);
    proxy.cutAfter('UpdateLoginProfile');

    const result = await run(a.id);

    expect(result).toMatchObject({ outcome: 'succeeded', step: 'reconcile', errorClass: 'OutcomeUnknownError', workingVersion: 'pending' });
    const sent = changesSent();
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((r) => hash(r.params.get('Password'))))).toEqual(new Set([hash(await current(a.secretId))]));
    expect(await moto.storedPassword(a.username)).toBe(await current(a.secretId));
  });

  it('(last) no password in any URL, header or log line: only in the signed POST body', async () => {
    for (const s of await stores.state.listAccounts()) passwords.add(await current(s.secretId));
    const wire = proxy.all;
    expect(wire.length).toBeGreaterThan(20);
    expect(passwords.size).toBeGreaterThan(8);
    expect(output.join('\n').length).toBeGreaterThan(1000);
    const everything = await stores.state.listAudit({ limit: 10_000 });
    expect(findLeaks(passwords, { logs: output.join('\n'), audit: JSON.stringify(everything), wire: JSON.stringify(wire.map((r) => ({ url: r.url, headers: r.headers }))) })).toEqual([]);
  });
});
