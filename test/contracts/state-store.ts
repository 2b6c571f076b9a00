import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountBusyError, InvalidConfigurationError, NotFoundError } from '../../layers/engine/errors.js';
import { Secret } from '../../layers/engine/secret.js';
import type { Account } from '../../layers/resources/common.js';
import type { AccountResult, AuditRecord, HostKeyRecord, RunRecord, StateStore, StoredResource } from '../../layers/engine/stores/types.js';

export interface StateStoreFixture {
  readonly store: StateStore;
  close?(): Promise<void>;
}

export interface StateStoreFactoryOptions {
  /** The store must read time from this clock (milliseconds), so lease expiry can be tested without waiting. */
  readonly clock: () => number;
  /** The store must query in pages of this many items, so paging is exercised on every backend. */
  readonly pageSize: number;
}

/** Items written to one partition to prove that listing follows every page. */
const MANY = 1_200;
const PAGE_SIZE = 100;

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

/**
 * The behaviour every StateStore shares: configuration, leases, set-attempt marks, SSH host keys,
 * runs and the audit trail. The store may be shared with earlier runs of the suite, so every test uses fresh ids.
 */
export function stateStoreContract(name: string, factory: (options: StateStoreFactoryOptions) => Promise<StateStoreFixture>): void {
  describe(`StateStore contract: ${name}`, () => {
    let fixture: StateStoreFixture;
    let store: StateStore;
    let now = Date.UTC(2031, 0, 1);
    const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;
    const account = (resourceId: string, username: string, extra: Partial<Account> = {}): Account => ({
      id: `${resourceId}/${username}`,
      resourceId,
      username,
      secretId: `rpr/${resourceId}/${username}`,
      tags: [],
      ...extra,
    });
    const resource = (id: string, extra: Partial<StoredResource> = {}): StoredResource => ({
      id,
      type: 'linux',
      site: 'cloud',
      tags: [],
      host: `${id}.example`,
      ...extra,
    });
    const runRecord = (runId: string, extra: Partial<RunRecord> = {}): RunRecord => ({
      runId,
      status: 'running',
      selector: { accountIds: ['r/a'] },
      startedAt: new Date(now).toISOString(),
      counts: { total: 1 },
      ...extra,
    });
    const result = (runId: string, accountId: string, extra: Partial<AccountResult> = {}): AccountResult => ({
      runId,
      accountId,
      resourceId: accountId.split('/')[0]!,
      outcome: 'succeeded',
      versionId: randomUUID(),
      step: 'finish',
      startedAt: new Date(now).toISOString(),
      endedAt: new Date(now + 1000).toISOString(),
      ...extra,
    });
    const audit = (accountId: string, runId: string, at: number, event = 'reset-finished'): AuditRecord => ({
      at: new Date(at).toISOString(),
      accountId,
      resourceId: accountId.split('/')[0]!,
      runId,
      event,
      outcome: 'succeeded',
      versionId: randomUUID(),
    });

    beforeAll(async () => {
      fixture = await factory({ clock: () => now, pageSize: PAGE_SIZE });
      store = fixture.store;
    });
    afterAll(async () => fixture?.close?.());

    describe('configuration', () => {
      it('stores, replaces and deletes a resource', async () => {
        const id = unique('host');
        expect(await store.getResource(id)).toBeUndefined();

        await store.putResource(resource(id, { port: 2222, policy: { length: 24 } }));
        expect(await store.getResource(id)).toEqual(resource(id, { port: 2222, policy: { length: 24 } }));

        await store.putResource(resource(id, { port: 22 }));
        expect(await store.getResource(id)).toEqual(resource(id, { port: 22 }));

        await store.deleteResource(id);
        await store.deleteResource(id);
        expect(await store.getResource(id)).toBeUndefined();
      });

      it('lists resources by type, tag and site, together or alone', async () => {
        const site = unique('site');
        const tag = unique('tag');
        const ids = { a: unique('a'), b: unique('b'), c: unique('c') };
        await store.putResource(resource(ids.a, { type: 'linux', site, tags: [tag, 'other'] }));
        await store.putResource(resource(ids.b, { type: 'mysql', site, tags: [] }));
        await store.putResource(resource(ids.c, { type: 'linux', site: 'cloud', tags: [tag] }));
        const idsOf = (list: StoredResource[]) => list.map((r) => r.id).filter((id) => Object.values(ids).includes(id)).sort();

        expect(idsOf(await store.listResources({ site }))).toEqual([ids.a, ids.b].sort());
        expect(idsOf(await store.listResources({ tag }))).toEqual([ids.a, ids.c].sort());
        expect(idsOf(await store.listResources({ site, type: 'linux' }))).toEqual([ids.a]);
        expect(idsOf(await store.listResources({ type: 'linux', tag }))).toEqual([ids.a, ids.c].sort());
        expect(idsOf(await store.listResources({ type: 'mysql', site }))).toEqual([ids.b]);
        expect(idsOf(await store.listResources())).toEqual(Object.values(ids).sort());
        expect(await store.listResources({ site: unique('nowhere') })).toEqual([]);
      });

      it('stores accounts under their resource, lists them by resource and in all, and deletes them', async () => {
        const r1 = unique('r1');
        const r2 = unique('r2');
        await store.putAccount(account(r1, 'alice'));
        await store.putAccount(account(r1, 'bob', { tags: ['t1'], description: 'bob' }));
        await store.putAccount(account(r2, 'alice'));

        expect(await store.getAccount(`${r1}/bob`)).toEqual(account(r1, 'bob', { tags: ['t1'], description: 'bob' }));
        expect((await store.listAccounts({ resourceId: r1 })).map((a) => a.id).sort()).toEqual([`${r1}/alice`, `${r1}/bob`]);
        const all = (await store.listAccounts()).map((a) => a.id);
        expect(all).toEqual(expect.arrayContaining([`${r1}/alice`, `${r1}/bob`, `${r2}/alice`]));

        await store.deleteAccount(`${r1}/alice`);
        await store.deleteAccount(`${r1}/alice`);
        expect(await store.getAccount(`${r1}/alice`)).toBeUndefined();
        expect((await store.listAccounts({ resourceId: r1 })).map((a) => a.id)).toEqual([`${r1}/bob`]);
        expect(await store.getAccount('no-such-resource/nobody')).toBeUndefined();
      });

      it('reads an account and its resource together (what a rotation\'s first step needs); either may be missing', async () => {
        const r = unique('rot');
        await store.putResource(resource(r, { port: 5432 }));
        await store.putAccount(account(r, 'app'));

        expect(await store.getAccountAndResource!(`${r}/app`)).toEqual({ account: account(r, 'app'), resource: resource(r, { port: 5432 }) });
        expect(await store.getAccountAndResource!(`${r}/nobody`)).toEqual({ resource: resource(r, { port: 5432 }) });
        const orphan = unique('gone');
        await store.putAccount(account(orphan, 'app'));
        expect(await store.getAccountAndResource!(`${orphan}/app`)).toEqual({ account: account(orphan, 'app') });
        expect(await store.getAccountAndResource!('no-slash')).toEqual({});
      });

      it('keeps an account whose id is a long DN with any printable characters', async () => {
        const r = unique('ldap');
        const dn = `cn=Jürgen "J" O'Brien\\, #1,${'ou=Ünits,'.repeat(110)}dc=example,dc=com`;
        const a = account(r, dn);

        await store.putAccount(a);

        expect(await store.getAccount(a.id)).toEqual(a);
        expect((await store.listAccounts({ resourceId: r })).map((x) => x.id)).toEqual([a.id]);
      });

      it('refuses an account whose id does not start with its resource id', async () => {
        const e = await rejectionOf(store.putAccount({ ...account(unique('r'), 'x'), id: 'elsewhere/x' }));
        expect(e).toBeInstanceOf(InvalidConfigurationError);
        expect((e as InvalidConfigurationError).field).toBe('id');
      });

      it('refuses to store a secret value anywhere in a record', async () => {
        const secret = new Secret(unique('hunter2'));
        const e = await rejectionOf(store.putResource(resource(unique('leak'), { admin: { password: secret } })));
        expect(e).toBeInstanceOf(InvalidConfigurationError);
        expect(String(e)).not.toContain(secret.reveal());
      });

      it(`lists every account of a resource across query pages (${MANY})`, async () => {
        const r = unique('big');
        const names = Array.from({ length: MANY }, (_, i) => `user${String(i).padStart(4, '0')}`);

        await inBatches(names, 50, (n) => store.putAccount(account(r, n)));

        const listed = await store.listAccounts({ resourceId: r });
        expect(listed).toHaveLength(MANY);
        expect(new Set(listed.map((a) => a.username))).toEqual(new Set(names));
      });
    });

    describe('leases', () => {
      it('a second acquire fails with AccountBusyError naming the holder, even by the same owner', async () => {
        const accountId = `${unique('r')}/root`;
        const lease = await store.acquire(accountId, 'run-holder', 60_000);
        expect(lease).toEqual({ accountId, owner: 'run-holder', expiresAt: now + 60_000, heartbeatAt: now });

        const e = await rejectionOf(store.acquire(accountId, 'run-other', 60_000));
        expect(e).toBeInstanceOf(AccountBusyError);
        expect(String((e as Error).message)).toContain('run-holder');
        await expect(store.acquire(accountId, 'run-holder', 60_000)).rejects.toBeInstanceOf(AccountBusyError);
      });

      it('a released lease can be taken by another owner; releasing twice does nothing', async () => {
        const accountId = `${unique('r')}/root`;
        const lease = await store.acquire(accountId, 'run-1', 60_000);

        await store.release(lease);
        await store.release(lease);

        await expect(store.acquire(accountId, 'run-2', 60_000)).resolves.toMatchObject({ owner: 'run-2' });
      });

      it('an expired lease is taken over; the old owner can neither release nor renew it', async () => {
        const accountId = `${unique('r')}/root`;
        const stale = await store.acquire(accountId, 'run-stale', 1_000);
        now += 1_001;

        const fresh = await store.acquire(accountId, 'run-fresh', 60_000);
        await store.release(stale);
        const renewError = await rejectionOf(store.renew(stale, 60_000));

        expect(fresh.owner).toBe('run-fresh');
        expect(renewError).toBeInstanceOf(AccountBusyError);
        expect((renewError as Error).message).toContain('run-fresh');
        const e = await rejectionOf(store.acquire(accountId, 'run-third', 60_000));
        expect((e as Error).message).toContain('run-fresh');
      });

      it('a lease is not taken over before it expires', async () => {
        const accountId = `${unique('r')}/root`;
        await store.acquire(accountId, 'run-1', 1_000);
        now += 1_000;

        await expect(store.acquire(accountId, 'run-2', 1_000)).rejects.toBeInstanceOf(AccountBusyError);
      });

      it('renew extends the lease its owner holds', async () => {
        const accountId = `${unique('r')}/root`;
        const lease = await store.acquire(accountId, 'run-1', 1_000);
        now += 500;

        const renewed = await store.renew(lease, 10_000);
        now += 5_000;

        expect(renewed).toEqual({ accountId, owner: 'run-1', expiresAt: lease.expiresAt - 1_000 + 500 + 10_000, heartbeatAt: lease.heartbeatAt! + 500 });
        await expect(store.acquire(accountId, 'run-2', 1_000)).rejects.toBeInstanceOf(AccountBusyError);
      });

      it('renewing a released lease fails clearly', async () => {
        const lease = await store.acquire(`${unique('r')}/root`, 'run-1', 1_000);
        await store.release(lease);

        const e = await rejectionOf(store.renew(lease, 1_000));

        expect(e).toBeInstanceOf(AccountBusyError);
        expect((e as Error).message).toMatch(/not held/);
      });

      it('records the holder on the lease, keeps it on renew with a new heartbeat, and gives the lease read with the busy error', async () => {
        const accountId = `${unique('r')}/root`;
        const holder = { host: 'ops-1', bootId: 'b00t', pid: 4242, processStart: '777', kind: 'cli' };
        const lease = await store.acquire(accountId, 'run-a', 60_000, { holder });
        now += 2_000;
        const renewed = await store.renew(lease, 60_000);

        const e = await rejectionOf(store.acquire(accountId, 'run-b', 60_000));

        expect(lease).toEqual({ accountId, owner: 'run-a', expiresAt: now - 2_000 + 60_000, holder, heartbeatAt: now - 2_000 });
        expect(renewed).toEqual({ accountId, owner: 'run-a', expiresAt: now + 60_000, holder, heartbeatAt: now });
        expect(e).toBeInstanceOf(AccountBusyError);
        expect((e as AccountBusyError).lease).toEqual(renewed);
      });

      it('takes over a lease that is still exactly the one read, for a new owner and holder; the old owner has lost it', async () => {
        const accountId = `${unique('r')}/root`;
        await store.acquire(accountId, 'run-dead', 60_000, { holder: { host: 'h', pid: 1 } });
        const held = ((await rejectionOf(store.acquire(accountId, 'run-new', 60_000))) as AccountBusyError).lease!;
        now += 1_000;

        const taken = await store.takeOver(held, 'run-new', 30_000, { host: 'h', pid: 2 });

        expect(taken).toEqual({ accountId, owner: 'run-new', expiresAt: now + 30_000, holder: { host: 'h', pid: 2 }, heartbeatAt: now });
        expect((await rejectionOf(store.renew(held, 60_000))) as Error).toBeInstanceOf(AccountBusyError);
        const after = (await rejectionOf(store.acquire(accountId, 'run-third', 60_000))) as AccountBusyError;
        expect(after.lease).toEqual(taken);
      });

      it('refuses to take over a lease renewed or taken since it was read, naming who holds it now; a released one is simply taken', async () => {
        const accountId = `${unique('r')}/root`;
        const first = await store.acquire(accountId, 'run-alive', 60_000);
        const held = ((await rejectionOf(store.acquire(accountId, 'run-x', 60_000))) as AccountBusyError).lease!;
        now += 1_000;
        await store.renew(first, 60_000);

        const renewedMeanwhile = await rejectionOf(store.takeOver(held, 'run-x', 60_000));
        await store.release(first);
        const free = await store.takeOver(held, 'run-y', 60_000);
        const takenMeanwhile = await rejectionOf(store.takeOver(held, 'run-z', 60_000));

        expect(renewedMeanwhile).toBeInstanceOf(AccountBusyError);
        expect((renewedMeanwhile as Error).message).toContain('run-alive');
        expect(free.owner).toBe('run-y');
        expect(takenMeanwhile).toBeInstanceOf(AccountBusyError);
        expect((takenMeanwhile as AccountBusyError).lease?.owner).toBe('run-y');
      });

      it('of concurrent takeovers of one dead lease, exactly one wins', async () => {
        const accountId = `${unique('r')}/root`;
        await store.acquire(accountId, 'run-dead', 60_000);
        const held = ((await rejectionOf(store.acquire(accountId, 'run-x', 60_000))) as AccountBusyError).lease!;

        const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.takeOver(held, `run-${i}`, 60_000)));

        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(AccountBusyError);
      });

      it('of concurrent acquires, exactly one wins', async () => {
        const accountId = `${unique('r')}/root`;
        const owners = Array.from({ length: 10 }, (_, i) => `run-${i}`);

        const outcomes = await Promise.allSettled(owners.map((o) => store.acquire(accountId, o, 60_000)));

        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(owners.length - 1);
        for (const l of lost) expect(l.reason).toBeInstanceOf(AccountBusyError);
      });

      it('records set attempts per account and version; marking says whether an earlier attempt had', async () => {
        const accountId = `${unique('r')}/root`;
        const version = randomUUID();
        expect(await store.hasSetAttempt(accountId, version)).toBe(false);

        expect(await store.markSetAttempt(accountId, version)).toEqual({ earlier: false });
        expect(await store.markSetAttempt(accountId, version)).toEqual({ earlier: true });

        expect(await store.hasSetAttempt(accountId, version)).toBe(true);
        expect(await store.hasSetAttempt(accountId, randomUUID())).toBe(false);
        expect(await store.hasSetAttempt(`${unique('r')}/root`, version)).toBe(false);
        expect(await store.markSetAttempt(accountId, randomUUID())).toEqual({ earlier: false });
      });

      it('records reconcile\'s admin set once per account and version, beside the set mark and without wiping it', async () => {
        const accountId = `${unique('r')}/root`;
        const version = randomUUID();
        await store.markSetAttempt(accountId, version);

        expect(await store.markReconcileSet(accountId, version)).toBe(true);
        expect(await store.markReconcileSet(accountId, version)).toBe(false);
        // A retried set marks again: the reconcile mark stays, and so does the set mark.
        expect(await store.markSetAttempt(accountId, version)).toEqual({ earlier: true });
        expect(await store.markReconcileSet(accountId, version)).toBe(false);
        expect(await store.hasSetAttempt(accountId, version)).toBe(true);

        // Another version, or a whole reset that writes no set mark: its own first time, and no set attempt recorded.
        const other = randomUUID();
        expect(await store.markReconcileSet(accountId, other)).toBe(true);
        expect(await store.hasSetAttempt(accountId, other)).toBe(false);
        expect(await store.markSetAttempt(accountId, other)).toEqual({ earlier: false });
        expect(await store.markReconcileSet(accountId, other)).toBe(false);
      });
    });

    describe('SSH host keys', () => {
      const fingerprint = () => randomBytes(32).toString('base64').replace(/=+$/, '');
      const hostKey = (resourceId: string, sha256: string, extra: Partial<HostKeyRecord> = {}): HostKeyRecord => ({
        resourceId,
        sha256,
        keyType: 'ssh-ed25519',
        seenAt: '127.0.0.1:22',
        source: 'first-use',
        recordedAt: new Date(now).toISOString(),
        ...extra,
      });

      it('records the first key seen for a resource; a different first key later is not recorded, and the first is returned', async () => {
        const id = unique('host');
        const first = hostKey(id, fingerprint());
        expect(await store.getHostKey(id)).toBeUndefined();

        expect(await store.recordHostKey(first, undefined)).toEqual(first);
        const later = await store.recordHostKey(hostKey(id, fingerprint()), undefined);

        expect(later).toEqual(first);
        expect(await store.getHostKey(id)).toEqual(first);
        expect(await store.getHostKey(unique('other'))).toBeUndefined();
      });

      it('replaces a key only when the caller names the one recorded (an operator accepting a new key)', async () => {
        const id = unique('host');
        const first = hostKey(id, fingerprint());
        await store.recordHostKey(first, undefined);
        const accepted = hostKey(id, fingerprint(), { source: 'operator', replaced: first.sha256 });

        const stale = await store.recordHostKey(hostKey(id, fingerprint(), { source: 'operator' }), fingerprint());
        const replaced = await store.recordHostKey(accepted, first.sha256);

        expect(stale).toEqual(first);
        expect(replaced).toEqual(accepted);
        expect(await store.getHostKey(id)).toEqual(accepted);
      });

      it('of concurrent first-use records with different keys, exactly one is recorded and every caller is told which', async () => {
        const id = unique('host');
        const keys = Array.from({ length: 10 }, () => hostKey(id, fingerprint()));

        const held = await Promise.all(keys.map((k) => store.recordHostKey(k, undefined)));

        const recorded = await store.getHostKey(id);
        expect(keys).toContainEqual(recorded);
        for (const h of held) expect(h).toEqual(recorded);
      });

      it('keeps the keys of resources apart, a long resource id included', async () => {
        const long = `${unique('long')}-${'x'.repeat(500)}`;
        const short = unique('short');
        const a = hostKey(long, fingerprint());
        const b = hostKey(short, fingerprint());

        await store.recordHostKey(a, undefined);
        await store.recordHostKey(b, undefined);

        expect(await store.getHostKey(long)).toEqual(a);
        expect(await store.getHostKey(short)).toEqual(b);
      });

      it('refuses anything but a fingerprint, naming hostKeySha256, and records nothing', async () => {
        const id = unique('host');
        const notAFingerprint = `${unique('hunter2')}!`;

        const e = await rejectionOf(store.recordHostKey(hostKey(id, notAFingerprint), undefined));

        expect(e).toBeInstanceOf(InvalidConfigurationError);
        expect((e as InvalidConfigurationError).field).toBe('hostKeySha256');
        expect(String(e)).not.toContain(notAFingerprint);
        expect(await store.getHostKey(id)).toBeUndefined();
      });
    });

    describe('runs and audit', () => {
      it('creates, updates and reads a run; creating the same run again does nothing, a different one is refused', async () => {
        const runId = unique('run');
        const run = runRecord(runId);
        await store.createRun(run);
        await store.createRun(run);

        const refused = await rejectionOf(store.createRun(runRecord(runId, { selector: { tag: 'other' } })));
        await store.updateRun({ ...run, status: 'succeeded', endedAt: new Date(now).toISOString(), counts: { total: 1, succeeded: 1 } });

        expect(refused).toBeInstanceOf(InvalidConfigurationError);
        expect((refused as InvalidConfigurationError).field).toBe('runId');
        expect(await store.getRun(runId)).toEqual({ ...run, status: 'succeeded', endedAt: new Date(now).toISOString(), counts: { total: 1, succeeded: 1 } });
        expect(await store.getRun(unique('missing'))).toBeUndefined();
      });

      it('refuses to update a run that does not exist', async () => {
        const e = await rejectionOf(store.updateRun(runRecord(unique('ghost'))));
        expect(e).toBeInstanceOf(NotFoundError);
        expect((e as NotFoundError).field).toBe('runId');
      });

      it('lists runs newest first, up to a limit', async () => {
        // Far in the future, so these are the newest runs in a shared table.
        const base = Date.UTC(2099, 0, 1);
        const ids = [unique('run-old'), unique('run-mid'), unique('run-new')];
        for (const [i, runId] of ids.entries()) await store.createRun(runRecord(runId, { startedAt: new Date(base + i * 60_000).toISOString() }));

        const all = (await store.listRuns()).map((r) => r.runId).filter((id) => ids.includes(id));

        expect(all).toEqual([...ids].reverse());
        expect((await store.listRuns(2)).map((r) => r.runId)).toEqual([ids[2], ids[1]]);
        expect(await store.listRuns(0)).toEqual([]);
      });

      it(`lists every account result of a run across query pages (${MANY}); a later result replaces an earlier one`, async () => {
        const runId = unique('bulk');
        await store.createRun(runRecord(runId, { counts: { total: MANY } }));
        const accountIds = Array.from({ length: MANY }, (_, i) => `res${i % 7}/user${i}`);

        await inBatches(accountIds, 50, (id) => store.putAccountResult(result(runId, id)));
        await store.putAccountResult(result(runId, accountIds[0]!, { outcome: 'out-of-sync', workingVersion: 'previous', step: 'reconcile' }));

        const listed = await store.listAccountResults(runId);
        expect(listed).toHaveLength(MANY);
        expect(new Set(listed.map((r) => r.accountId))).toEqual(new Set(accountIds));
        expect(listed.find((r) => r.accountId === accountIds[0])).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'previous' });
        // Just some accounts' results, over more than one batch of keys; an account without a result gives none.
        const some = [...accountIds.slice(0, 150), 'res0/nobody'];
        const got = await store.getAccountResults(runId, some);
        expect(new Set(got.map((r) => r.accountId))).toEqual(new Set(accountIds.slice(0, 150)));
        expect(await store.listAccountResults(unique('empty'))).toEqual([]);
      });

      it('records a result together with its audit record; both are listed', async () => {
        const runId = unique('together');
        const accountId = `${unique('r')}/carol`;
        await store.createRun(runRecord(runId));
        const record = audit(accountId, runId, Date.UTC(2033, 0, 1), 'password-reset');
        const outcome = result(runId, accountId);

        await store.recordAccountResult(outcome, record);

        expect(await store.listAccountResults(runId)).toEqual([outcome]);
        expect(await store.listAudit({ accountId })).toEqual([record]);
      });

      it('lists audit records by account, by run and by both, in time order; the limit keeps the most recent', async () => {
        const runA = unique('run-a');
        const runB = unique('run-b');
        const alice = `${unique('r')}/alice`;
        const bob = `${unique('r')}/bob`;
        const t = Date.UTC(2031, 5, 1);
        const records = [
          audit(alice, runA, t + 1, 'reset-started'),
          audit(bob, runA, t + 2, 'reset-started'),
          audit(alice, runA, t + 3, 'reset-finished'),
          audit(alice, runB, t + 4, 'reset-started'),
          audit(bob, runA, t + 5, 'reset-finished'),
        ];
        for (const r of [...records].reverse()) await store.appendAudit(r);
        await store.appendAudit(records[0]!);

        expect(await store.listAudit({ accountId: alice })).toEqual([records[0], records[2], records[3]]);
        expect(await store.listAudit({ runId: runA })).toEqual([records[0], records[1], records[2], records[4]]);
        expect(await store.listAudit({ accountId: alice, runId: runA })).toEqual([records[0], records[2]]);
        expect(await store.listAudit({ runId: runA, limit: 2 })).toEqual([records[2], records[4]]);
        expect(await store.listAudit({ accountId: alice, runId: runA, limit: 1 })).toEqual([records[2]]);
        const everything = await store.listAudit();
        expect(everything.filter((r) => r.runId === runA || r.runId === runB)).toEqual(records);
      });

      it(`lists every audit record of a run and of an account across query pages (${MANY})`, async () => {
        const runId = unique('audit-bulk');
        const accountId = `${unique('r')}/root`;
        const t = Date.UTC(2032, 0, 1);
        const records = Array.from({ length: MANY }, (_, i) => audit(accountId, runId, t + i * 1000, `event-${i}`));

        await inBatches(records, 50, (r) => store.appendAudit(r));

        expect(await store.listAudit({ runId })).toEqual(records);
        expect(await store.listAudit({ accountId })).toEqual(records);
        expect(await store.listAudit({ runId, limit: 250 })).toEqual(records.slice(-250));
      });
    });
  });
}
