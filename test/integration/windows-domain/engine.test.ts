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

  const CUTS = {
    'answer-lost': 'after the modify reached the domain, its answer lost',
    'after-sent': 'just after the modify was sent',
    before: 'as the modify is sent, before it arrives',
  } as const;
  for (const [when, title] of Object.entries(CUTS) as [keyof typeof CUTS, string][]) {
    it(`a connection cut ${title}: OutcomeUnknownError, then reconcile finds which password works and the store agrees`, async () => {
      const a = await user();
      const proxy = await FaultProxy.start({ host: info.host, port: info.ldapsPort });
      cleanups.push(() => proxy.close());
      const id = `ad-cut-${when}`;
      // Long passwords make the modify the only large TLS record the client sends.
      await h.config.putResource(resourceInput(id, { host: proxy.host, port: proxy.port, adminAccount: `ad-admin/${admin.sam}`, policy: { length: 200 } }));
      const acct = await addAccount(id, a.u.sam, a.password);
      cutOnLargeTlsRecord(proxy, 400, when);

      const { results } = await run({ accountIds: [acct.id] });

      const r = results[0]!;
      expect(r.step, JSON.stringify(r)).toBe('reconcile');
      expect(r.errorClass).toBe('OutcomeUnknownError');
      const current = await h.current(acct.secretId);
      if (r.outcome === 'succeeded') {
        expect(r.workingVersion).toBe('pending');
        expect(current).not.toBe(a.password);
        expect(await bindWorks(info, a.u.upn, current)).toBe(true);
      } else {
        expect(r).toMatchObject({ outcome: 'rolled-back', workingVersion: 'current' });
        expect(current).toBe(a.password);
        expect(await bindWorks(info, a.u.upn, a.password)).toBe(true);
      }
      // Applied when only the answer was lost; never when cut before it arrived. Just after sending,
      // the domain decides (Samba drops a request whose connection closed before it was read).
      if (when === 'answer-lost') expect(r.outcome).toBe('succeeded');
      if (when === 'before') expect(r.outcome).toBe('rolled-back');
      expect(stillPending(await h.stages(acct.secretId))).toEqual([]);
    });
  }

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

/**
 * Cuts a connection at the first client TLS application-data record larger than `minLength` bytes:
 * before forwarding it ("before": it never arrives), right after forwarding all of it ("after-sent"),
 * or when the server's next data on that connection comes back, dropping it ("answer-lost": the
 * server applied the request, the client never hears). The proxy sees only ciphertext, so the
 * record's size, not its content, picks the modify out: binds and searches are far smaller than a
 * unicodePwd of 200 characters.
 */
function cutOnLargeTlsRecord(proxy: FaultProxy, minLength: number, when: 'before' | 'after-sent' | 'answer-lost'): void {
  const state = new Map<number, { head: number[]; skip: number; armed: boolean }>();
  let done = false;
  let awaitingAnswer: number | undefined;
  proxy.onServerData((_chunk, conn) => {
    if (conn.index === awaitingAnswer) {
      awaitingAnswer = undefined;
      conn.cut();
    }
  });
  proxy.onClientData((chunk, conn) => {
    if (done) return;
    const s = state.get(conn.index) ?? { head: [], skip: 0, armed: false };
    state.set(conn.index, s);
    for (let i = 0; i < chunk.length; ) {
      if (s.skip > 0) {
        const n = Math.min(s.skip, chunk.length - i);
        s.skip -= n;
        i += n;
        if (s.skip === 0 && s.armed) {
          done = true;
          // The whole record is in this chunk or before it.
          if (when === 'after-sent') proxy.cutWhenClientSends(/[\s\S]/, 'after');
          else awaitingAnswer = conn.index;
          return;
        }
        continue;
      }
      s.head.push(chunk[i]!);
      i++;
      if (s.head.length === 5) {
        const type = s.head[0]!;
        const length = (s.head[3]! << 8) | s.head[4]!;
        s.head = [];
        s.skip = length;
        if (type === 0x17 && length > minLength) {
          if (when === 'before') {
            done = true;
            proxy.cutWhenClientSends(/[\s\S]/, 'before');
            return;
          }
          s.armed = true;
        }
      }
    }
  });
}
