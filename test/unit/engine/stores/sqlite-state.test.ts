import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccountBusyError } from '../../../../layers/engine/errors.js';
import { SqliteDb } from '../../../../layers/engine/stores/sqlite-db.js';
import { SqliteStateStore } from '../../../../layers/engine/stores/sqlite-state.js';
import type { RunRecord } from '../../../../layers/engine/stores/types.js';
import { stateStoreContract } from '../../../contracts/state-store.js';

stateStoreContract('SqliteStateStore in memory', async ({ clock }) => {
  const db = new SqliteDb(':memory:');
  return { store: new SqliteStateStore(db, { clock }), close: async () => db.close() };
});

stateStoreContract('SqliteStateStore on disk', async ({ clock }) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-sqlite-state-'));
  const db = new SqliteDb(join(dir, 'rpr.db'));
  return {
    store: new SqliteStateStore(db, { clock }),
    async close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStateStore shared by connections (as by processes)', () => {
  let dir: string;
  let dbs: SqliteDb[];
  const open = (clock?: () => number) => {
    const db = new SqliteDb(join(dir, 'rpr.db'));
    dbs.push(db);
    return new SqliteStateStore(db, clock ? { clock } : {});
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rpr-sqlite-shared-'));
    dbs = [];
  });
  afterEach(() => {
    for (const db of dbs) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets one connection take a lease and gives the other the lease error naming the run that holds it', async () => {
    const [a, b] = [open(), open()];
    await a.acquire('db1/app', 'run-a', 60_000);
    const refused = await b.acquire('db1/app', 'run-b', 60_000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AccountBusyError);
    expect((refused as AccountBusyError).message).toContain('run-a');
    expect((refused as AccountBusyError).lease?.owner).toBe('run-a');
  });

  it('gives a lease asked for by eight callers on two connections at once to exactly one', async () => {
    const [a, b] = [open(), open()];
    const tries = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).acquire('db1/app', `run-${i}`, 60_000)));
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(1);
    for (const t of tries.filter((t) => t.status === 'rejected')) expect(t.reason).toBeInstanceOf(AccountBusyError);
  });

  it('shows a change made by one connection to the other at once', async () => {
    const [a, b] = [open(), open()];
    const run: RunRecord = { runId: 'run-1', status: 'running', selector: {}, startedAt: new Date().toISOString(), counts: { total: 1 } };
    await a.createRun(run);
    expect(await b.getRun('run-1')).toEqual(run);
    await b.updateRun({ ...run, status: 'succeeded' });
    expect((await a.listRuns())[0]?.status).toBe('succeeded');
  });

  it('deletes expired runs, results and marks when a store is opened', async () => {
    let now = Date.UTC(2031, 0, 1);
    const a = open(() => now);
    await a.createRun({ runId: 'old', status: 'succeeded', selector: {}, startedAt: new Date(now).toISOString(), counts: { total: 0 } });
    await a.markSetAttempt('db1/app', 'v'.repeat(32));
    now += 401 * 86_400_000;
    open(() => now);
    const rows = (table: string) => (dbs[0]!.statement(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect([rows('runs'), rows('marks')]).toEqual([0, 0]);
  });

  it('keeps its file readable by its owner only', () => {
    open();
    expect(statSync(join(dir, 'rpr.db')).mode & 0o777).toBe(0o600);
  });
});

describe('SqliteDb group commit', () => {
  it('commits the changes of one turn together, rolling back only the one that threw', async () => {
    const db = new SqliteDb(':memory:');
    db.writeNow(() => db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)'));
    const put = (k: string, fail = false) =>
      db.write(() => {
        db.statement('INSERT INTO t (k) VALUES (?)').run(k);
        if (fail) throw new Error(`refused ${k}`);
        return k;
      }, { durable: k === 'a' });
    const results = await Promise.allSettled([put('a'), put('b', true), put('c'), put('a')]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : String((r.reason as Error).message)))).toEqual(['a', 'refused b', 'c', expect.stringMatching(/UNIQUE/)]);
    expect((db.statement('SELECT k FROM t ORDER BY k').all() as { k: string }[]).map((r) => r.k)).toEqual(['a', 'c']);
    db.close();
  });
});
