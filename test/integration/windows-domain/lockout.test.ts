import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ThrottledError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openResourceSession } from '../../../layers/engine/session.js';
import { keptLabel } from '../../../layers/engine/stores/types.js';
import { createWindowsDomainAdapter } from '../../../layers/resources/windows-domain/adapter.js';
import { describeServer } from '../../../harness/servers/index.js';
import { account, bindWorks, context, createPso, createUser, credential, deletePso, deleteUser, engineHarness, freshPassword, makeDomainAdmin, readUser, resource, type TestUser } from './support.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

/**
 * The lockout budget on the test domain (threshold 5, lockout 1 minute): a run of failing probes
 * stops before the account locks. Each test uses a fresh account, so counts start at 0.
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

  /** Probes with wrong passwords until refused; returns what each probe gave. */
  async function probeUntilRefused(adapter: ReturnType<typeof createWindowsDomainAdapter>, name: string, tries: number): Promise<(boolean | Error)[]> {
    const outcomes: (boolean | Error)[] = [];
    for (let i = 0; i < tries; i++) {
      const password = freshPassword();
      const outcome = await adapter.verify({ account: account(name), password: new Secret(password) }).then((r) => r.valid, (e: Error) => e);
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
      expect((refused as Error).message).toMatch(/not attempted, to protect the account from lockout: it has badPwdCount 3 of the domain's threshold of 5/);
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
    for (const refused of outcomes.slice(1)) expect((refused as Error).message).toMatch(/badPwdCount 1 of the domain's threshold of 3/);
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
    for (const refused of outcomes.slice(1)) expect((refused as Error).message).toMatch(/1 failed by this run \(badPwdCount not readable without an admin\)/);
    expect(await lockoutState(u)).toEqual({ badPwdCount: 1, lockoutTime: '0' });
  });

  it("without an admin, once an account has logged in the domain's threshold (5) is used: three wrong passwords, then none", async () => {
    const password = freshPassword();
    const u = await user(password);
    const adapter = createWindowsDomainAdapter(context(resource(info)));
    try {
      expect(await adapter.verify({ account: account(u.sam), password: new Secret(password) })).toEqual({ valid: true });
      const outcomes = await probeUntilRefused(adapter, u.sam, 5);

      expect(outcomes.slice(0, 3)).toEqual([false, false, false]);
      expect(outcomes[3]).toBeInstanceOf(ThrottledError);
      expect(outcomes[4]).toBeInstanceOf(ThrottledError);
    } finally {
      await adapter.close();
    }
    expect(await lockoutState(u)).toEqual({ badPwdCount: 3, lockoutTime: '0' });
  });

  it('reconcile stops probing at the budget: the account is recorded out of sync (which password works is unknown), the pending version kept, and it does not lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rpr-ad-lockout-'));
    const h = await engineHarness(join(dir, 'store'));
    try {
      const password = freshPassword();
      const u = await user(password);
      // Someone else's two failed logons, then an account whose stored passwords are all wrong.
      for (let i = 0; i < 2; i++) expect(await bindWorks(info, u.upn, freshPassword())).toBe(false);
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
      const acct = await h.config.putAccount({ resourceId: 'ad-rec', username: u.sam, secretId: 'rpr/ad-rec/u' }, { password: new Secret(freshPassword()) });
      const token = randomUUID();
      await h.credentials.putPending(acct.secretId, token, new Secret(freshPassword()));
      const session = await openResourceSession({ registry: REGISTRY, state: h.stores.state, credentials: h.credentials, adapters: { 'windows-domain': createWindowsDomainAdapter as never }, log: new Log({ level: 'SILENT' }), timeoutMs: 10_000 }, 'ad-rec');
      let result;
      try {
        result = await h.engine.protocol.reconcile({ session, account: acct, token, log: new Log({ level: 'SILENT' }), redactor: session.redactor });
      } finally {
        await session.close();
      }

      expect(result).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'unknown' });
      expect(result.detail).toMatch(/protect the account from lockout/);
      // Kept under its own label: not AWSPENDING (which would hold off Secrets Manager's rotation), never unlabelled.
      expect((await h.stages(acct.secretId)).find((v) => v.versionId === token)?.stages).toEqual([keptLabel(token)]);
      expect(await lockoutState(u)).toEqual({ badPwdCount: 3, lockoutTime: '0' });
      expect(await bindWorks(info, u.upn, password)).toBe(true);
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
