import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openEmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { captureOutput, everyStoredPassword, filesText, findLeaks, recordingStore } from '../../support/leaks.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

describe('secrets never leak from the engine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-leaks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('no password appears in logs at DEBUG, results, audit records, store items or vault files, through every outcome', async () => {
    // Prepare: an embedded store on disk, and a target that will fail in every way the engine handles.
    const stores = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });
    const { store: credentials, written } = recordingStore(stores.credentials);
    const target = new MemoryTarget();
    const config = new Configurator(stores.state, credentials, REGISTRY);
    await config.putResource({ id: 'db1', type: 'postgresql', host: 'db1.example', adminAccount: 'db1/admin' });
    const secretIds: string[] = [];
    const users = ['admin', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
    for (const u of users) {
      const pw = `start-${u}-${randomBytes(8).toString('hex')}`;
      target.passwords.set(u, pw);
      await config.putAccount({ resourceId: 'db1', username: u, secretId: `leak/${u}` }, { password: new Secret(pw) });
      secretIds.push(`leak/${u}`);
    }
    target.faults.push('drop-after-applied', 'drop-after-lost', 'scramble');
    const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials, adapters: { postgresql: target.adapter('postgresql') }, log: new Log({ level: 'DEBUG' }) });

    // Act: two runs with all logs captured.
    const out = captureOutput();
    let runs;
    try {
      runs = [await engine.run({ resourceIds: ['db1'] })];
      // scramble's reconcile retries the change once more, so the next fault goes in after the first run.
      target.faults.push('drop-before');
      runs.push(await engine.run({ resourceIds: ['db1'] }));
    } finally {
      out.restore();
    }

    // Assess: the run exercised success and failure, and no password is anywhere but the vault.
    const results = (await Promise.all(runs.map((r) => stores.state.listAccountResults(r.runId)))).flat();
    expect(new Set(results.map((r) => r.outcome)), JSON.stringify(results.map((r) => [r.accountId, r.outcome, r.step, r.errorClass]))).toEqual(new Set(['succeeded', 'rolled-back', 'failed']));
    const passwords = [...written];
    // 7 first passwords, then 7 per run generated (discarded ones included).
    expect(passwords.length).toBe(users.length * 3);
    // The recorder saw every value the vault holds.
    expect((await everyStoredPassword(stores.credentials, secretIds)).filter((pw) => !written.has(pw))).toEqual([]);
    const stored = JSON.stringify({
      resources: await stores.state.listResources(),
      accounts: await stores.state.listAccounts(),
      runs: await stores.state.listRuns(10),
      results,
      audit: await stores.state.listAudit({ limit: 1000 }),
    });
    expect(out.text()).toContain('account reset ended');
    await stores.close();
    expect(findLeaks(passwords, { logs: out.text(), 'store items': stored, 'store and vault files': filesText(dir) })).toEqual([]);
  });
});
