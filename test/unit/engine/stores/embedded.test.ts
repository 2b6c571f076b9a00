import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreInUseError } from '../../../../layers/engine/errors.js';
import { openDynaliteState } from '../../../../layers/engine/stores/dynalite-state.js';
import { openEmbeddedStores } from '../../../../layers/engine/stores/embedded.js';
import type { AuditRecord, HostKeyRecord } from '../../../../layers/engine/stores/types.js';
import { password } from '../../../contracts/credential-store.js';

describe('openEmbeddedStores', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'rpr-embedded-')), 'home');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('keeps state and credentials across a close and a reopen of the same folder', async () => {
    const vaultKey = randomBytes(32);
    const first = password('first');
    const stores = await openEmbeddedStores({ dir, vaultKey });
    await stores.state.putResource({ id: 'db1', type: 'postgresql', site: 'cloud', tags: ['prod'], host: 'db1.example' });
    const secretId = await stores.credentials.createSecret('db1/admin', first);
    await stores.close();

    const reopened = await openEmbeddedStores({ dir, vaultKey });
    try {
      expect(await reopened.state.getResource('db1')).toMatchObject({ id: 'db1', tags: ['prod'] });
      expect((await reopened.credentials.getValue(secretId)).value.equals(first)).toBe(true);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    } finally {
      await reopened.close();
    }
  });

  it('refuses a second open of the folder while the first holds it, naming the folder; after close it opens', async () => {
    const vaultKey = randomBytes(32);
    const stores = await openEmbeddedStores({ dir, vaultKey });
    await stores.state.putResource({ id: 'db1', type: 'postgresql', site: 'cloud', tags: [], host: 'db1.example' });

    const e = await openEmbeddedStores({ dir, vaultKey }).then(() => 'opened', (e: unknown) => e);

    expect(e).toBeInstanceOf(StoreInUseError);
    expect((e as StoreInUseError).field).toBe('dir');
    expect((e as Error).message).toContain(dir);
    expect(await stores.state.getResource('db1')).toBeDefined();
    await stores.close();
    const reopened = await openEmbeddedStores({ dir, vaultKey });
    expect(await reopened.state.getResource('db1')).toBeDefined();
    await reopened.close();
  });

  it('refuses a folder another live process holds, and takes over the lock of a process that is gone', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'state.lock'), `${process.ppid}\n`);
    const e = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) }).then(() => 'opened', (e: unknown) => e);
    expect(e).toBeInstanceOf(StoreInUseError);
    expect((e as Error).message).toContain(`process ${process.ppid}`);

    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, 'state.lock'), `${gone}\n`);
    const stores = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });
    expect(readFileSync(join(dir, 'state.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await stores.close();
    expect(existsSync(join(dir, 'state.lock'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('state.lock'))).toEqual([]);
  });

  it("takes over a lock with this process's id that this process did not take (an earlier process with the same id, as a container's first process after a crash)", async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'state.lock'), `${process.pid}\n`);

    const stores = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });

    // And the lock it holds now is refused to a second opener in this process, as before.
    const e = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) }).then(() => 'opened', (e: unknown) => e);
    expect(e).toBeInstanceOf(StoreInUseError);
    expect((e as Error).message).toContain('(this one)');
    await stores.close();
    expect(existsSync(join(dir, 'state.lock'))).toBe(false);
  });

  it('migrates a folder configured before the journal (dynalite under state/): everything is found, state/ is kept renamed', async () => {
    // Configured by the code before: a DynamoStateStore on dynalite at <dir>/state.
    const old = await openDynaliteState(join(dir, 'state'));
    const resource = { id: 'db1', type: 'postgresql', site: 'site-a', tags: ['prod'], host: 'db1.example', port: 5432 };
    const accounts = ['admin', 'app'].map((u) => ({ id: `db1/${u}`, resourceId: 'db1', username: u, secretId: `rpr/db1/${u}`, tags: [] }));
    const run = { runId: 'run-1', status: 'succeeded' as const, selector: { resourceIds: ['db1'] }, startedAt: '2026-01-01T00:00:00.000Z', counts: { total: 2, succeeded: 2 } };
    const results = accounts.map((a) => ({ runId: 'run-1', accountId: a.id, resourceId: 'db1', outcome: 'succeeded' as const, step: 'finish', startedAt: run.startedAt, endedAt: run.startedAt }));
    const trail: AuditRecord[] = accounts.map((a, i) => ({ at: `2026-01-01T00:00:0${i}.000Z`, accountId: a.id, resourceId: 'db1', runId: 'run-1', event: 'password-reset', outcome: 'succeeded' }));
    const hostKey: HostKeyRecord = { resourceId: 'db1', sha256: randomBytes(32).toString('base64').replace(/=+$/, ''), source: 'first-use', recordedAt: run.startedAt };
    await old.store.putResource(resource);
    for (const a of accounts) await old.store.putAccount(a);
    await old.store.createRun(run);
    for (const [i, r] of results.entries()) await old.store.recordAccountResult(r, trail[i]!);
    await old.store.recordHostKey(hostKey, undefined);
    await old.store.markSetAttempt('db1/app', 'v1');
    await old.store.markReconcileSet('db1/admin', 'v2');
    await old.store.acquire('db1/app', 'run-1', 600_000);
    await old.close();

    const stores = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });
    try {
      const { state } = stores;
      expect(await state.listResources()).toEqual([resource]);
      expect(await state.listAccounts()).toEqual(accounts);
      expect(await state.listRuns()).toEqual([run]);
      expect(await state.listAccountResults('run-1')).toEqual(results);
      expect(await state.listAudit()).toEqual(trail);
      expect(await state.getHostKey('db1')).toEqual(hostKey);
      expect(await state.markSetAttempt('db1/app', 'v1')).toEqual({ earlier: true });
      expect(await state.markReconcileSet('db1/admin', 'v2')).toBe(false);
      // Leases are transient: not brought over.
      expect(await state.acquire('db1/app', 'run-2', 60_000)).toMatchObject({ owner: 'run-2' });
      expect(existsSync(join(dir, 'state'))).toBe(false);
      expect(readdirSync(dir).filter((f) => f.startsWith('state.migrated-'))).toHaveLength(1);
      expect(statSync(join(dir, 'state.jsonl')).mode & 0o777).toBe(0o600);
    } finally {
      await stores.close();
    }
    const reopened = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });
    expect(await reopened.state.listAudit()).toEqual(trail);
    await reopened.close();
  });
});
