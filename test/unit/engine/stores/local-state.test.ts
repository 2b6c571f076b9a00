import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccountBusyError } from '../../../../layers/engine/errors.js';
import { LocalStateStore } from '../../../../layers/engine/stores/local-state.js';
import type { AccountResult, AuditRecord, HostKeyRecord, RunRecord, StoredResource } from '../../../../layers/engine/stores/types.js';
import type { Account } from '../../../../layers/engine/account.js';
import { stateStoreContract } from '../../../contracts/state-store.js';

stateStoreContract('LocalStateStore in memory', async ({ clock }) => ({ store: new LocalStateStore({ clock }) }));

stateStoreContract('LocalStateStore on disk', async ({ clock }) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-local-state-'));
  const store = LocalStateStore.open(join(dir, 'state.jsonl'), { clock });
  return {
    store,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const DAY = 86_400_000;
const fingerprint = () => randomBytes(32).toString('base64').replace(/=+$/, '');
const resource = (id: string, extra: Partial<StoredResource> = {}): StoredResource => ({ id, type: 'postgresql', site: 'cloud', tags: ['prod'], host: `${id}.example`, ...extra });
const account = (resourceId: string, username: string): Account => ({ id: `${resourceId}/${username}`, resourceId, username, secretId: `rpr/${resourceId}/${username}`, tags: [] });
const run = (runId: string, startedAt: string): RunRecord => ({ runId, status: 'running', selector: { resourceIds: ['db1'] }, startedAt, counts: { total: 2 } });
const result = (runId: string, accountId: string): AccountResult => ({
  runId,
  accountId,
  resourceId: 'db1',
  outcome: 'succeeded',
  versionId: 'v1',
  step: 'finish',
  proof: 'logged in',
  startedAt: '2031-01-01T00:00:00.000Z',
  endedAt: '2031-01-01T00:00:01.000Z',
});
const audit = (accountId: string, runId: string, at: string, event: string): AuditRecord => ({ at, accountId, resourceId: 'db1', runId, event, outcome: 'succeeded' });

describe('LocalStateStore on disk', () => {
  let dir: string;
  let path: string;
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rpr-local-state-'));
    path = join(dir, 'state.jsonl');
    now = Date.UTC(2031, 0, 1);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes one of everything the store keeps, and returns what a reopened store must answer. */
  async function populate(store: LocalStateStore) {
    const hostKey: HostKeyRecord = { resourceId: 'db1', sha256: fingerprint(), source: 'first-use', recordedAt: '2031-01-01T00:00:00.000Z' };
    const records = [
      audit('db1/app', 'run-1', '2031-01-01T00:00:03.000Z', 'password-reset'),
      audit('db1/admin', 'run-1', '2031-01-01T00:00:01.000Z', 'password-reset'),
      audit('db1/app', 'run-1', '2031-01-01T00:00:02.000Z', 'reset-started'),
    ];
    await store.putResource(resource('db1'));
    await store.putResource(resource('gone'));
    await store.deleteResource('gone');
    await store.putAccount(account('db1', 'admin'));
    await store.putAccount(account('db1', 'app'));
    await store.createRun(run('run-1', '2031-01-01T00:00:00.000Z'));
    await store.updateRun({ ...run('run-1', '2031-01-01T00:00:00.000Z'), status: 'succeeded', counts: { total: 2, succeeded: 2 } });
    await store.createRun(run('run-2', '2031-01-02T00:00:00.000Z'));
    await store.recordAccountResult(result('run-1', 'db1/app'), records[0]!);
    await store.putAccountResult(result('run-1', 'db1/admin'));
    for (const r of records.slice(1)) await store.appendAudit(r);
    await store.recordHostKey(hostKey, undefined);
    const lease = await store.acquire('db1/app', 'run-2', 60_000);
    await store.markSetAttempt('db1/app', 'v1');
    await store.markReconcileSet('db1/admin', 'v2');
    return { hostKey, lease, inOrder: [records[1], records[2], records[0]] };
  }

  it('keeps resources, accounts, runs, results, the audit trail, host keys, an unexpired lease and marks across a close and a reopen', async () => {
    const first = LocalStateStore.open(path, { clock });
    const { hostKey, inOrder } = await populate(first);
    await first.close();

    const store = LocalStateStore.open(path, { clock });
    try {
      expect(await store.listResources()).toEqual([resource('db1')]);
      expect((await store.listAccounts({ resourceId: 'db1' })).map((a) => a.id)).toEqual(['db1/admin', 'db1/app']);
      expect(await store.getRun('run-1')).toMatchObject({ status: 'succeeded', counts: { total: 2, succeeded: 2 } });
      expect((await store.listRuns()).map((r) => r.runId)).toEqual(['run-2', 'run-1']);
      expect(await store.listAccountResults('run-1')).toEqual([result('run-1', 'db1/admin'), result('run-1', 'db1/app')]);
      expect(await store.listAudit()).toEqual(inOrder);
      expect(await store.getHostKey('db1')).toEqual(hostKey);
      await expect(store.acquire('db1/app', 'run-3', 60_000)).rejects.toThrow(/run-2/);
      expect(await store.markSetAttempt('db1/app', 'v1')).toEqual({ earlier: true });
      expect(await store.markReconcileSet('db1/admin', 'v2')).toBe(false);
      expect(await store.hasSetAttempt('db1/admin', 'v2')).toBe(false);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    } finally {
      await store.close();
    }
  });

  it('has a change on file when its promise resolves, before any close', async () => {
    const store = LocalStateStore.open(path, { clock });
    await Promise.all([store.putResource(resource('a')), store.putResource(resource('b'))]);

    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.filter((l) => l.includes('"a.example"'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('"b.example"'))).toHaveLength(1);
    await store.close();
  });

  it('refuses a change once closed, and keeps nothing of it', async () => {
    const store = LocalStateStore.open(path, { clock });
    await store.close();

    await expect(store.putResource(resource('late'))).rejects.toThrow(/closed/);

    expect(await store.getResource('late')).toBeUndefined();
    const reopened = LocalStateStore.open(path, { clock });
    expect(await reopened.listResources()).toEqual([]);
    await reopened.close();
  });

  it('ignores a torn last line (a crash in the middle of a write) and appends cleanly after it', async () => {
    const first = LocalStateStore.open(path, { clock });
    await first.putResource(resource('db1'));
    await first.close();
    appendFileSync(path, '{"t":"resource","v":{"id":"torn","type":"pos');

    const second = LocalStateStore.open(path, { clock });
    expect(await second.listResources()).toEqual([resource('db1')]);
    await second.putResource(resource('db2'));
    await second.close();

    const third = LocalStateStore.open(path, { clock });
    expect((await third.listResources()).map((r) => r.id)).toEqual(['db1', 'db2']);
    expect(readFileSync(path, 'utf8')).not.toContain('torn');
    await third.close();
  });

  it('compacts a journal of mostly superseded lines when opened: smaller, with the same answers', async () => {
    const first = LocalStateStore.open(path, { clock });
    const { hostKey, inOrder } = await populate(first);
    for (let i = 0; i < 1_500; i++) await first.release(await first.acquire('db1/admin', `run-${i}`, 60_000));
    await first.close();
    const before = statSync(path).size;

    const second = LocalStateStore.open(path, { clock });
    await second.close();
    const store = LocalStateStore.open(path, { clock });
    try {
      expect(statSync(path).size).toBeLessThan(before / 10);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(await store.listResources()).toEqual([resource('db1')]);
      expect(await store.listAudit()).toEqual(inOrder);
      expect(await store.getHostKey('db1')).toEqual(hostKey);
      expect(await store.listAccountResults('run-1')).toHaveLength(2);
      await expect(store.acquire('db1/app', 'run-3', 60_000)).rejects.toBeInstanceOf(AccountBusyError);
      await expect(store.acquire('db1/admin', 'run-3', 60_000)).resolves.toMatchObject({ owner: 'run-3' });
      expect(await store.hasSetAttempt('db1/app', 'v1')).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('returns no run, result or mark past its retention, and drops them when reopened', async () => {
    const first = LocalStateStore.open(path, { clock });
    await populate(first);
    now += 91 * DAY;
    expect(await first.hasSetAttempt('db1/app', 'v1')).toBe(false);
    expect(await first.markReconcileSet('db1/admin', 'v2')).toBe(true);
    expect(await first.getRun('run-1')).toBeDefined();
    now += 310 * DAY;
    expect(await first.getRun('run-1')).toBeUndefined();
    expect(await first.listRuns()).toEqual([]);
    expect(await first.listAccountResults('run-1')).toEqual([]);
    expect(await first.getAccountResults('run-1', ['db1/app'])).toEqual([]);
    await first.close();

    const store = LocalStateStore.open(path, { clock });
    try {
      expect([...store.entries()].map((e) => e.t).sort()).toEqual(['account', 'account', 'audit', 'audit', 'audit', 'host-key', 'resource']);
      expect(await store.listAudit()).toHaveLength(3);
    } finally {
      await store.close();
    }
  });
});

describe('LocalStateStore hands out copies', () => {
  it('a record changed by the caller after it was stored, or after it was returned, changes nothing in the store', async () => {
    const store = new LocalStateStore();
    const given = resource('db1');
    await store.putResource(given);
    (given.tags as string[]).push('given');
    const got = (await store.getResource('db1'))!;
    (got.tags as string[]).push('got');
    (got as Record<string, unknown>).host = 'elsewhere';
    const listed = await store.listResources();
    (listed[0]!.tags as string[]).push('listed');

    const hostKey: HostKeyRecord = { resourceId: 'db1', sha256: fingerprint(), source: 'first-use', recordedAt: '2031-01-01T00:00:00.000Z' };
    const recorded = await store.recordHostKey(hostKey, undefined);
    (recorded as { sha256: string }).sha256 = 'changed';
    await store.createRun(run('run-1', '2031-01-01T00:00:00.000Z'));
    ((await store.getRun('run-1'))!.counts as { total: number }).total = 99;
    await store.putAccountResult(result('run-1', 'db1/app'));
    ((await store.listAccountResults('run-1'))[0] as { outcome: string }).outcome = 'failed';

    expect(await store.getResource('db1')).toEqual(resource('db1'));
    expect(await store.getHostKey('db1')).toEqual(hostKey);
    expect((await store.getRun('run-1'))!.counts).toEqual({ total: 2 });
    expect((await store.getAccountResults('run-1', ['db1/app']))[0]!.outcome).toBe('succeeded');
  });
});
