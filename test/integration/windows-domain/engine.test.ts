import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Selector } from '../../../layers/engine/engine.js';
import { TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openResourceSession } from '../../../layers/engine/session.js';
import { createWindowsDomainAdapter } from '../../../layers/resources/windows-domain/adapter.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { cutOnLargeTlsRecord } from '../../contracts/fixtures/samba-ad.js';
import { captureOutput, filesText, findLeaks } from '../../support/leaks.js';
import { stillPending } from '../../support/labels.js';
import {
  account as accountOf,
  bindWorks,
  context,
  createPso,
  createUser,
  deletePso,
  deleteUser,
  engineHarness,
  freshPassword,
  makeDomainAdmin,
  readUser,
  resource,
  type SambaInfo,
  type TestUser,
} from './support.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

/**
 * The whole product path on the real Samba DC: configuration validated and stored (embedded
 * stores), the engine's four steps and reconcile, the windows-domain adapter. Outcomes are proven
 * outside the engine with fresh binds; every password the vault ever held is then searched for in
 * every log line, error, result, audit record and stored file of this suite.
 */
describeServer('samba', 'windows-domain resets through the engine on a real Samba AD DC', (info) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-ad-engine-'));
  let h: Awaited<ReturnType<typeof engineHarness>>;
  const users: TestUser[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const logs: string[] = [];
  const startingPasswords: string[] = [];
  let admin: TestUser;

  async function user(options: Parameters<typeof createUser>[2] = {}): Promise<{ u: TestUser; password: string }> {
    const password = freshPassword();
    startingPasswords.push(password);
    const u = await createUser(info, password, options);
    users.push(u);
    return { u, password };
  }

  function resourceInput(id: string, over: Record<string, unknown> = {}) {
    return { id, type: 'windows-domain', host: info.host, domain: info.realm.toLowerCase(), mode: 'ldaps', port: info.ldapsPort, caCertificate: caPem(info), ...over };
  }

  async function addAccount(resourceId: string, username: string, password: string) {
    const a = await h.config.putAccount({ resourceId, username, secretId: `rpr/${resourceId}/${username.replace(/[^A-Za-z0-9._-]/g, '_')}` }, { password: new Secret(password) });
    return a;
  }

  async function run(selector: Selector) {
    const out = captureOutput();
    try {
      const record = await h.engine.run(selector);
      return { record, results: await h.stores.state.listAccountResults(record.runId) };
    } finally {
      out.restore();
      logs.push(out.text());
    }
  }

  beforeAll(async () => {
    h = await engineHarness(join(dir, 'store'));
    const a = await user();
    admin = a.u;
    await makeDomainAdmin(info, admin);
    await h.config.putResource(resourceInput('ad-admin', { adminAccount: `ad-admin/${admin.sam}` }));
    await addAccount('ad-admin', admin.sam, a.password);
    await h.config.putResource(resourceInput('ad-self', { mode: 'starttls', port: info.port }));
  });

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    for (const u of users.reverse()) await deleteUser(info, u.dn);
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('admin resets: every account and then the admin itself get new passwords that bind; the old ones are refused; the labels moved', async () => {
    const a = await user();
    const b = await user();
    const accountA = await addAccount('ad-admin', a.u.upn, a.password);
    const accountB = await addAccount('ad-admin', b.u.dn, b.password);
    const adminAccount = await h.stores.state.getAccount(`ad-admin/${admin.sam}`);

    const { record, results } = await run({ resourceIds: ['ad-admin'] });

    expect(record.status, JSON.stringify(results)).toBe('succeeded');
    expect(results.map((r) => r.method).sort()).toEqual(['admin reset', 'admin reset', 'admin reset (the admin account itself)']);
    for (const [acct, t] of [
      [accountA, a],
      [accountB, b],
    ] as const) {
      const now = await h.current(acct.secretId);
      expect(await h.previous(acct.secretId)).toBe(t.password);
      expect(await bindWorks(info, t.u.dn, now)).toBe(true);
      expect(await bindWorks(info, t.u.upn, t.password)).toBe(false);
      const versions = await h.stages(acct.secretId);
      expect(stillPending(versions)).toEqual([]);
    }
    expect(await bindWorks(info, admin.upn, await h.current(adminAccount!.secretId))).toBe(true);
  });

  it('self changes (no admin account): each account changes its own password over StartTLS; labels moved', async () => {
    const a = await user();
    const acct = await addAccount('ad-self', a.u.sam, a.password);

    const { record, results } = await run({ resourceIds: ['ad-self'] });

    expect(record.status, JSON.stringify(results)).toBe('succeeded');
    expect(results[0]!.method).toBe('self change');
    const now = await h.current(acct.secretId);
    expect(await h.previous(acct.secretId)).toBe(a.password);
    expect(await bindWorks(info, a.u.upn, now)).toBe(true);
    expect(await bindWorks(info, a.u.upn, a.password)).toBe(false);
  });

  it('a password the domain still refuses (one from its history, on a retried setSecret) fails with the meaning of 0000052D; nothing is stored as current', async () => {
    // The history cannot be checked before sending (the domain keeps only hashes). A retried
    // rotation step whose pending version is an old password of the account is the one way the
    // engine sends one: a step on its own, with no set mark, sends it without a probe.
    const first = await user();
    const second = freshPassword();
    startingPasswords.push(second);
    const selfAdapter = createWindowsDomainAdapter(context(resource(info)));
    await selfAdapter.change({ account: accountOf(first.u.sam), newPassword: new Secret(second), currentPassword: new Secret(first.password) });
    await selfAdapter.close();
    const acct = await addAccount('ad-self', first.u.sam, second);
    const token = randomUUID();
    await h.credentials.putPending(acct.secretId, token, new Secret(first.password));
    const session = await openResourceSession({ registry: REGISTRY, state: h.stores.state, credentials: h.credentials, adapters: { 'windows-domain': createWindowsDomainAdapter as never }, log: new Log({ level: 'SILENT' }), timeoutMs: 10_000 }, 'ad-self');
    let error: unknown;
    const out = captureOutput();
    try {
      await h.engine.protocol.set({ session, account: acct, token, log: new Log({ level: 'SILENT' }), redactor: session.redactor.with() });
    } catch (e) {
      error = e;
    } finally {
      out.restore();
      logs.push(out.text());
      await session.close();
    }

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as Error).message).toMatch(/password policy \(0000052D: too short, not complex enough, one of the last passwords in its history/);
    expect(await h.current(acct.secretId)).toBe(second);
    expect(await bindWorks(info, first.u.upn, second)).toBe(true);
  });

  it("a fine-grained password policy (PSO) is read for its account: a password shorter than the PSO's minimum is not sent, nothing is stored as current", async () => {
    const a = await user();
    const pso = await createPso(info, a.u, { minLength: 40 });
    cleanups.push(() => deletePso(info, pso));
    const acct = await addAccount('ad-admin', a.u.sam, a.password);
    const pwdLastSet = (await readUser(info, a.u.sam, ['pwdLastSet'])).pwdLastSet;

    const { record, results } = await run({ accountIds: [acct.id] });

    expect(record.status).toBe('failed');
    expect(results[0]).toMatchObject({ outcome: 'failed', step: 'set', errorClass: 'TargetUnchangedError' });
    expect(results[0]!.message).toMatch(/minimum password length is 40; raise the resource's policy.length to at least 40/);
    expect(await h.current(acct.secretId)).toBe(a.password);
    expect(stillPending(await h.stages(acct.secretId))).toEqual([]);
    expect((await readUser(info, a.u.sam, ['pwdLastSet'])).pwdLastSet).toBe(pwdLastSet);
  });

  it('a password the adapter knows the domain would refuse is not sent: the rule is named and nothing changes', async () => {
    const a = await user();
    await h.config.putResource(resourceInput('ad-weak', { adminAccount: `ad-admin/${admin.sam}`, policy: { length: 20, minUpper: 0, minDigits: 0, minSymbols: 0, forbidden: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~' } }));
    const acct = await addAccount('ad-weak', a.u.sam, a.password);
    const pwdLastSet = (await readUser(info, a.u.sam, ['pwdLastSet'])).pwdLastSet;

    const { results } = await run({ accountIds: [acct.id] });

    expect(results[0]).toMatchObject({ outcome: 'failed', step: 'set', errorClass: 'TargetUnchangedError' });
    expect(results[0]!.message).toMatch(/3 of 5 categories.*minUpper, minLower, minDigits and minSymbols/);
    expect(await h.current(acct.secretId)).toBe(a.password);
    expect((await readUser(info, a.u.sam, ['pwdLastSet'])).pwdLastSet).toBe(pwdLastSet);
  });

  it('a connection cut after the modify reached the domain, its answer lost: OutcomeUnknownError, then reconcile finds the new password works and promotes it', async () => {
    // A cut just before or after the modify is sent is the adapter contract's (test/contracts/fixtures/samba-ad.ts).
    const a = await user();
    const proxy = await FaultProxy.start({ host: info.host, port: info.ldapsPort });
    cleanups.push(() => proxy.close());
    // Long passwords make the modify the only large TLS record the client sends.
    await h.config.putResource(resourceInput('ad-cut-answer-lost', { host: proxy.host, port: proxy.port, adminAccount: `ad-admin/${admin.sam}`, policy: { length: 200 } }));
    const acct = await addAccount('ad-cut-answer-lost', a.u.sam, a.password);
    cutOnLargeTlsRecord(proxy, 400, 'answer-lost');

    const { results } = await run({ accountIds: [acct.id] });

    const r = results[0]!;
    expect(r, JSON.stringify(r)).toMatchObject({ step: 'reconcile', errorClass: 'OutcomeUnknownError', outcome: 'succeeded', workingVersion: 'pending' });
    const current = await h.current(acct.secretId);
    expect(current).not.toBe(a.password);
    expect(await bindWorks(info, a.u.upn, current)).toBe(true);
    expect(stillPending(await h.stages(acct.secretId))).toEqual([]);
  });

  it('the leak search: no password the vault ever held appears in any log, error, result, audit record or stored file', async () => {
    const passwords = [...h.written, ...startingPasswords];
    expect(passwords.length).toBeGreaterThan(10);
    const runs = await h.stores.state.listRuns(100);
    const results = [];
    for (const r of runs) results.push(...(await h.stores.state.listAccountResults(r.runId)));
    const audit = await h.stores.state.listAudit({ limit: 1000 });
    expect(audit.length).toBeGreaterThan(5);
    const haystacks = {
      logs: logs.join('\n'),
      results: JSON.stringify(results),
      audit: JSON.stringify(audit),
      runs: JSON.stringify(runs),
      resources: JSON.stringify(await h.stores.state.listResources()),
      accounts: JSON.stringify(await h.stores.state.listAccounts()),
      'stored files': filesText(join(dir, 'store')),
    };
    expect(haystacks.logs.length).toBeGreaterThan(1000);
    expect(findLeaks(passwords, haystacks)).toEqual([]);
  });
});

function caPem(info: SambaInfo): string {
  // Read at call time: the servers' setup may regenerate the test CA on start.
  return readFileSync(info.caFile, 'utf8');
}
