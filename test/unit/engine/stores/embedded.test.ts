import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccountBusyError, InvalidConfigurationError, StoreInUseError } from '../../../../layers/engine/errors.js';
import { openDynaliteState } from '../../../../layers/engine/stores/dynalite-state.js';
import { openEmbeddedStores } from '../../../../layers/engine/stores/embedded.js';
import { LocalStateStore } from '../../../../layers/engine/stores/local-state.js';
import { LocalVault } from '../../../../layers/engine/stores/local-vault.js';
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

  it('lets two openers of one folder work at once, each seeing the other\'s changes (as two rpr processes do)', async () => {
    const vaultKey = randomBytes(32);
    const [a, b] = [await openEmbeddedStores({ dir, vaultKey }), await openEmbeddedStores({ dir, vaultKey })];
    try {
      await a.state.putResource({ id: 'db1', type: 'postgresql', site: 'cloud', tags: [], host: 'db1.example' });
      const first = password('first');
      const secretId = await b.credentials.createSecret('db1/admin', first);
      expect(await b.state.getResource('db1')).toBeDefined();
      expect((await a.credentials.getValue(secretId)).value.equals(first)).toBe(true);
      await a.state.acquire('db1/admin', 'run-a', 60_000);
      await expect(b.state.acquire('db1/admin', 'run-b', 60_000)).rejects.toBeInstanceOf(AccountBusyError);
      expect(readdirSync(dir).filter((f) => f.startsWith('rpr.db'))).toContain('rpr.db');
      for (const f of readdirSync(dir).filter((f) => f.startsWith('rpr.db'))) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    } finally {
      await a.close();
      await b.close();
    }
  });

  describe('a folder of the journal format (state.jsonl, vault/vault.jsonl)', () => {
    const resource = { id: 'db1', type: 'postgresql', site: 'site-a', tags: ['prod'], host: 'db1.example', port: 5432 };
    const account = { id: 'db1/app', resourceId: 'db1', username: 'app', secretId: 'rpr/db1/app', tags: [] };
    const run = { runId: 'run-1', status: 'succeeded' as const, selector: { resourceIds: ['db1'] }, startedAt: '2026-01-01T00:00:00.000Z', counts: { total: 1, succeeded: 1 } };
    const trail: AuditRecord = { at: '2026-01-01T00:00:01.000Z', accountId: 'db1/app', resourceId: 'db1', runId: 'run-1', event: 'password-reset', outcome: 'succeeded' };
    const pendingId = 'a'.repeat(36);
    const current = password('current');
    const pendingValue = password('pending');
    let vaultKey: Buffer;

    /** Writes the folder as the journal stores wrote it. */
    async function journalFolder(): Promise<void> {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const state = LocalStateStore.open(join(dir, 'state.jsonl'));
      await state.putResource(resource);
      await state.putAccount(account);
      await state.createRun(run);
      await state.recordAccountResult({ runId: 'run-1', accountId: 'db1/app', resourceId: 'db1', outcome: 'succeeded', step: 'finish', startedAt: run.startedAt, endedAt: run.startedAt }, trail);
      await state.markSetAttempt('db1/app', pendingId);
      await state.close();
      const vault = new LocalVault({ dir: join(dir, 'vault'), key: vaultKey });
      await vault.createSecret('rpr/db1/app', current);
      await vault.putPending('rpr/db1/app', pendingId, pendingValue);
      await vault.close();
    }
    beforeEach(() => {
      vaultKey = randomBytes(32);
    });

    it('is migrated into rpr.db on its first open: every record and every secret version, the old files kept renamed; a second open does not migrate again', async () => {
      await journalFolder();
      const stores = await openEmbeddedStores({ dir, vaultKey });
      try {
        expect(await stores.state.listResources()).toEqual([resource]);
        expect(await stores.state.listAccounts()).toEqual([account]);
        expect(await stores.state.listRuns()).toEqual([run]);
        expect(await stores.state.listAudit()).toEqual([trail]);
        expect(await stores.state.hasSetAttempt('db1/app', pendingId)).toBe(true);
        expect((await stores.credentials.getValue('rpr/db1/app')).value.equals(current)).toBe(true);
        const pending = await stores.credentials.getValue('rpr/db1/app', { stage: 'AWSPENDING' });
        expect([pending.versionId, pending.value.equals(pendingValue)]).toEqual([pendingId, true]);
      } finally {
        await stores.close();
      }
      const names = readdirSync(dir);
      expect(names).not.toContain('state.jsonl');
      expect(names).not.toContain('vault');
      expect(names.filter((f) => /^state\.jsonl\.migrated-/.test(f))).toHaveLength(1);
      expect(names.filter((f) => /^vault\.migrated-/.test(f))).toHaveLength(1);

      const again = await openEmbeddedStores({ dir, vaultKey });
      expect(await again.state.listAudit()).toEqual([trail]);
      await again.close();
      expect(readdirSync(dir).filter((f) => f.includes('.migrated-'))).toHaveLength(2);
    });

    it('is refused while an rpr from before the database holds the folder, and nothing is moved', async () => {
      await journalFolder();
      writeFileSync(join(dir, 'state.lock'), `${process.ppid}\n`);
      const e = await openEmbeddedStores({ dir, vaultKey }).then(() => 'opened', (e: unknown) => e);
      expect(e).toBeInstanceOf(StoreInUseError);
      expect((e as Error).message).toContain(`process ${process.ppid}`);
      expect(readdirSync(dir)).toEqual(expect.arrayContaining(['state.jsonl', 'vault']));
      rmSync(join(dir, 'state.lock'));
      const stores = await openEmbeddedStores({ dir, vaultKey });
      expect(await stores.state.listAccounts()).toEqual([account]);
      await stores.close();
    });

    it('is finished by the next open when a migration stopped half way (files staged, nothing committed)', async () => {
      await journalFolder();
      renameSync(join(dir, 'state.jsonl'), join(dir, 'state.jsonl.migrating'));
      renameSync(join(dir, 'vault'), join(dir, 'vault.migrating'));
      const stores = await openEmbeddedStores({ dir, vaultKey });
      expect(await stores.state.listAccounts()).toEqual([account]);
      expect((await stores.credentials.getValue('rpr/db1/app')).value.equals(current)).toBe(true);
      await stores.close();
      expect(readdirSync(dir).filter((f) => f.endsWith('.migrating'))).toEqual([]);
    });

    it('refuses journal files written again after the migration (by an older rpr), naming them and the way out', async () => {
      await journalFolder();
      await (await openEmbeddedStores({ dir, vaultKey })).close();
      writeFileSync(join(dir, 'state.jsonl'), '');
      const e = await openEmbeddedStores({ dir, vaultKey }).then(() => 'opened', (e: unknown) => e);
      expect(e).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe('dataDir');
      expect((e as Error).message).toMatch(/state\.jsonl.*Move them aside.*rpr account list --json/);
    });
  });

  it('migrates a folder configured before the journal (dynalite under state/) through a journal into rpr.db: everything is found, state/ and the journal are kept renamed', async () => {
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
      expect(readdirSync(dir).filter((f) => f.startsWith('state.jsonl.migrated-'))).toHaveLength(1);
    } finally {
      await stores.close();
    }
    const reopened = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });
    expect(await reopened.state.listAudit()).toEqual(trail);
    await reopened.close();
  });
});
