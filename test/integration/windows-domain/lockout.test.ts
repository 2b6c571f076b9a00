import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuthenticationError, ThrottledError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { probePassword } from '../../../layers/engine/protocol.js';
import { openResourceSession, type ResourceSession } from '../../../layers/engine/session.js';
import type { Account } from '../../../layers/resources/common.js';
import { keptLabel } from '../../../layers/engine/stores/types.js';
import { createWindowsDomainAdapter } from '../../../layers/resources/windows-domain/adapter.js';
import { describeServer } from '../../../harness/servers/index.js';
import { account, bindWorks, context, createPso, createUser, credential, deletePso, deleteUser, engineHarness, freshPassword, makeDomainAdmin, readUser, resource, unlock, type TestUser } from './support.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

/**
 * The protocol's lockout budget on the test domain (threshold 5, lockout 1 minute), from what the AD
 * adapter's lockout() reads: a run of failing probes (probePassword, as the protocol, verify runs
 * and dry runs make them) stops before the account locks. Each test uses a fresh account, so counts
 * start at 0.
 */
describeServer('samba', 'windows-domain lockout budget on a real Samba AD DC', (info) => {
  const created: TestUser[] = [];
  let admin: TestUser;
  let adminPassword: string;

  async function user(password: string): Promise<TestUser> {
    const u = await createUser(info, password);
    created.push(u);
    return u;
  }

  async function lockoutState(u: TestUser) {
    const v = await readUser(info, u.sam, ['badPwdCount', 'lockoutTime']);
    return { badPwdCount: Number(v.badPwdCount ?? 0), lockoutTime: v.lockoutTime ?? '0' };
  }

  beforeAll(async () => {
    expect(info.lockoutThreshold).toBe(5);
    adminPassword = freshPassword();
    admin = await user(adminPassword);
    await makeDomainAdmin(info, admin);
  });

  afterAll(async () => {
    for (const u of created.reverse()) await deleteUser(info, u.dn);
  });

  /** The protocol's probes with wrong passwords until refused; returns what each probe gave. */
  async function probeUntilRefused(adapter: ReturnType<typeof createWindowsDomainAdapter>, name: string, tries: number): Promise<(boolean | Error)[]> {
    const outcomes: (boolean | Error)[] = [];
    for (let i = 0; i < tries; i++) {
      const password = freshPassword();
      const outcome = await probePassword(adapter, account(name), new Secret(password)).then((r) => r!.valid, (e: Error) => e);
      if (outcome instanceof Error) expect(inspect(outcome, { depth: 8, showHidden: true })).not.toContain(password);
      outcomes.push(outcome);
    }
    return outcomes;
  }

  it('with an admin: badPwdCount is read before each probe; three wrong passwords are tried, the rest refused, and the account never locks', async () => {
    const password = freshPassword();
    const u = await user(password);
    const adapter = createWindowsDomainAdapter(context(resource(info), credential(admin.sam, adminPassword)));
    let outcomes: (boolean | Error)[];
    try {
      outcomes = await probeUntilRefused(adapter, u.sam, 7);
    } finally {
      await adapter.close();
    }

    expect(outcomes.slice(0, 3)).toEqual([false, false, false]);
    for (const refused of outcomes.slice(3)) {
      expect(refused).toBeInstanceOf(ThrottledError);
      expect((refused as Error).message).toMatch(/not attempted, to protect the account from lockout: it has 3 failed logons of a threshold of 5, .*\(badPwdCount 3 on the domain controller; try again after the domain's observation window\)/);
    }
    expect(await lockoutState(u)).toEqual({ badPwdCount: 3, lockoutTime: '0' });
    expect(await bindWorks(info, u.upn, password)).toBe(true);
  });

  it("with an admin: a fine-grained policy's lower threshold (3) governs its account: one wrong password is tried, then none", async () => {
    const password = freshPassword();
    const u = await user(password);
    const pso = await createPso(info, u, { lockoutThreshold: 3 });
    const adapter = createWindowsDomainAdapter(context(resource(info), credential(admin.sam, adminPassword)));
    let outcomes: (boolean | Error)[];
    try {
      outcomes = await probeUntilRefused(adapter, u.upn, 4);
    } finally {
      await adapter.close();
      await deletePso(info, pso);
    }

    expect(outcomes[0]).toBe(false);
    for (const refused of outcomes.slice(1)) expect((refused as Error).message).toMatch(/1 failed logons of a threshold of 3, .*\(badPwdCount 1 on the domain controller;/);
    expect(await lockoutState(u)).toEqual({ badPwdCount: 1, lockoutTime: '0' });
  });

  it("with an admin: failed logons by others count too (the account's badPwdCount, not only ours)", async () => {
    const password = freshPassword();
    const u = await user(password);
    for (let i = 0; i < 2; i++) expect(await bindWorks(info, u.upn, freshPassword())).toBe(false);
    const adapter = createWindowsDomainAdapter(context(resource(info), credential(admin.sam, adminPassword)));
    let outcomes: (boolean | Error)[];
    try {
      outcomes = await probeUntilRefused(adapter, u.dn, 3);
    } finally {
      await adapter.close();
    }

    expect(outcomes[0]).toBe(false);
    expect(outcomes[1]).toBeInstanceOf(ThrottledError);
    expect(outcomes[2]).toBeInstanceOf(ThrottledError);
    expect(await lockoutState(u)).toEqual({ badPwdCount: 3, lockoutTime: '0' });
  });

  it('without an admin (badPwdCount unreadable): its own failures count, with the threshold assumed 3 until the policy is read: one wrong password, then none', async () => {
    const password = freshPassword();
    const u = await user(password);
    const adapter = createWindowsDomainAdapter(context(resource(info)));
    const outcomes = await probeUntilRefused(adapter, u.upn, 4);
    await adapter.close();

    expect(outcomes[0]).toBe(false);
    for (const refused of outcomes.slice(1)) expect((refused as Error).message).toMatch(/1 failed logons of a threshold of 3, .*\(1 failed by this run, badPwdCount not readable without an admin;/);
    expect(await lockoutState(u)).toEqual({ badPwdCount: 1, lockoutTime: '0' });
  });

  it("without an admin, once an account has logged in the domain's threshold (5) is used: three wrong passwords, then none", async () => {
    const password = freshPassword();
    const u = await user(password);
    const adapter = createWindowsDomainAdapter(context(resource(info)));
    try {
      expect(await probePassword(adapter, account(u.sam), new Secret(password))).toEqual({ valid: true, proof: 'logged in' });
      const outcomes = await probeUntilRefused(adapter, u.sam, 5);

      expect(outcomes.slice(0, 3)).toEqual([false, false, false]);
      expect(outcomes[3]).toBeInstanceOf(ThrottledError);
      expect(outcomes[4]).toBeInstanceOf(ThrottledError);
    } finally {
      await adapter.close();
    }
    expect(await lockoutState(u)).toEqual({ badPwdCount: 3, lockoutTime: '0' });
  });

  it("the protocol's probe through the engine's session: with badPwdCount at 3 of 5, even the right password is not tried (a ThrottledError, no bind sent: badPwdCount stays 3)", async () => {
    const password = freshPassword();
    const u = await user(password);
    for (let i = 0; i < 3; i++) expect(await bindWorks(info, u.upn, freshPassword())).toBe(false);
    await withEngine(u, password, async ({ session, acct }) => {
      expect(await session.adapter.lockout!(acct)).toMatchObject({ threshold: 5, failedLogons: 3, lockedOut: false });
      const refused = await probePassword(session.adapter, acct, new Secret(password)).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ThrottledError);
      expect((refused as Error).message).toMatch(/^checking the password of \S+: not attempted, to protect the account from lockout: it has 3 failed logons of a threshold of 5/);
    });

    expect(await lockoutState(u)).toEqual({ badPwdCount: 3, lockoutTime: '0' });
    // A bind with it would have reset the count: the one made now does.
    expect(await bindWorks(info, u.upn, password)).toBe(true);
    expect(await lockoutState(u)).toMatchObject({ badPwdCount: 0 });
  });

  it('a locked account: lockout() reports it locked, and no probe is made, not even with the right password', async () => {
    const password = freshPassword();
    const u = await user(password);
    for (let i = 0; i < 5; i++) await bindWorks(info, u.upn, freshPassword()).catch(() => false);
    const locked = await lockoutState(u);
    expect(locked.lockoutTime).not.toBe('0');
    const adapter = createWindowsDomainAdapter(context(resource(info), credential(admin.sam, adminPassword)));
    try {
      expect(await adapter.lockout!(account(u.sam))).toMatchObject({ threshold: 5, lockedOut: true });
      const refused = await probePassword(adapter, account(u.sam), new Secret(password)).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ThrottledError);
      expect((refused as Error).message).toMatch(/not attempted, the account is locked out/);
    } finally {
      await adapter.close();
    }
    expect(await lockoutState(u)).toEqual(locked);
    await unlock(info, u.dn);
    expect(await bindWorks(info, u.upn, password)).toBe(true);
  });

  it('a self change (a bind with a password that may be stale) is held to the same budget: after one wrong current password, the next is not sent', async () => {
    const password = freshPassword();
    const u = await user(password);
    const adapter = createWindowsDomainAdapter(context(resource(info)));
    const change = () => adapter.change({ account: account(u.sam), newPassword: new Secret(freshPassword()), currentPassword: new Secret(freshPassword()) }).catch((e: unknown) => e);
    let first: unknown, second: unknown;
    try {
      first = await change();
      second = await change();
    } finally {
      await adapter.close();
    }

    expect(first).toBeInstanceOf(AuthenticationError);
    expect(second).toBeInstanceOf(ThrottledError);
    expect((second as Error).message).toMatch(/^logging in as \S+ to change its password: not attempted, .* 1 failed logons of a threshold of 3, .*\(1 failed by this run, badPwdCount not readable without an admin;/);
    expect(await lockoutState(u)).toEqual({ badPwdCount: 1, lockoutTime: '0' });
    expect(await bindWorks(info, u.upn, password)).toBe(true);
  });

  it('reconcile stops probing at the budget: the account is recorded out of sync (which password works is unknown), the pending version kept, and it does not lock', async () => {
    const password = freshPassword();
    const u = await user(password);
    // Someone else's two failed logons, then an account whose stored passwords are all wrong.
    for (let i = 0; i < 2; i++) expect(await bindWorks(info, u.upn, freshPassword())).toBe(false);
    const token = randomUUID();
    await withEngine(u, freshPassword(), async ({ h, session, acct }) => {
      await h.credentials.putPending(acct.secretId, token, new Secret(freshPassword()));
      const result = await h.engine.protocol.reconcile({ session, account: acct, token, log: new Log({ level: 'SILENT' }), redactor: session.redactor });

      expect(result).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'unknown' });
      expect(result.detail).toMatch(/protect the account from lockout/);
      // Kept under its own label: not AWSPENDING (which would hold off Secrets Manager's rotation), never unlabelled.
      expect((await h.stages(acct.secretId)).find((v) => v.versionId === token)?.stages).toEqual([keptLabel(token)]);
    });
    expect(await lockoutState(u)).toEqual({ badPwdCount: 3, lockoutTime: '0' });
    expect(await bindWorks(info, u.upn, password)).toBe(true);
  });

  /** The engine on the embedded stores, with a session on an AD resource whose admin is the test admin and whose account `u` holds `stored` as AWSCURRENT. */
  async function withEngine(u: TestUser, stored: string, fn: (e: { h: Awaited<ReturnType<typeof engineHarness>>; session: ResourceSession; acct: Account }) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'rpr-ad-lockout-'));
    const h = await engineHarness(join(dir, 'store'));
    try {
      await h.config.putResource({
        id: 'ad-rec',
        type: 'windows-domain',
        host: info.host,
        domain: info.realm.toLowerCase(),
        port: info.ldapsPort,
        caCertificate: readFileSync(info.caFile, 'utf8'),
        adminAccount: `ad-rec/${admin.sam}`,
      });
      await h.config.putAccount({ resourceId: 'ad-rec', username: admin.sam, secretId: 'rpr/ad-rec/admin' }, { password: new Secret(adminPassword) });
      const acct = await h.config.putAccount({ resourceId: 'ad-rec', username: u.sam, secretId: 'rpr/ad-rec/u' }, { password: new Secret(stored) });
      const session = await openResourceSession({ registry: REGISTRY, state: h.stores.state, credentials: h.credentials, adapters: { 'windows-domain': createWindowsDomainAdapter as never }, log: new Log({ level: 'SILENT' }), timeoutMs: 10_000 }, 'ad-rec');
      try {
        await fn({ h, session, acct });
      } finally {
        await session.close();
      }
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
