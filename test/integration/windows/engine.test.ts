import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openEmbeddedStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT, AWSPREVIOUS, type AccountResult } from '../../../layers/engine/stores/types.js';
import { createWindowsAdapter } from '../../../layers/resources/windows/adapter.js';
import { captureOutput, filesText, findLeaks, recordingStore } from '../../support/leaks.js';
import { WindowsOpenSshSimulator, type SimulatorOptions } from '../../simulators/windows-openssh/server.js';
import { loginWorks } from './support.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

/**
 * The whole product path for the windows type: configuration validated and stored, passwords in
 * the embedded store and vault, the engine's steps and reconcile, and the windows adapter against
 * the simulated Windows OpenSSH host. Outcomes are proven with fresh SSH logins as the accounts.
 * The cuts around a change, the gauntlet and the rotation steps are the adapter contract's
 * (test/contracts/fixtures/windows.ts).
 */
describe('reset engine on a simulated Windows OpenSSH host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-windows-'));
  let stores: EmbeddedStores;
  let credentials: EmbeddedStores['credentials'];
  let written: Set<string>;
  let engine: ResetEngine;
  let config: Configurator;
  const sims: WindowsOpenSshSimulator[] = [];
  const logs: string[] = [];
  const results: AccountResult[] = [];

  beforeAll(async () => {
    stores = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });
    ({ store: credentials, written } = recordingStore(stores.credentials));
    engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials, adapters: { windows: createWindowsAdapter }, log: new Log({ level: 'DEBUG' }), timeoutMs: 10_000 });
    config = new Configurator(stores.state, credentials, REGISTRY);
  });
  afterAll(async () => {
    for (const s of sims) await s.close();
    await stores?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function host(options: SimulatorOptions = {}) {
    const sim = await WindowsOpenSshSimulator.start(options);
    sims.push(sim);
    return sim;
  }

  async function addAccount(resourceId: string, username: string, password: string) {
    const secretId = `win-it/${resourceId}/${username.replace(/[^A-Za-z0-9._@-]/g, "_")}`;
    await config.putAccount({ resourceId, username, secretId }, { password: new Secret(password) });
    return { id: `${resourceId}/${username}`, secretId };
  }

  const current = async (secretId: string) => (await credentials.getValue(secretId, { stage: AWSCURRENT })).value.reveal();
  const previous = async (secretId: string) => (await credentials.getValue(secretId, { stage: AWSPREVIOUS })).value.reveal();

  async function run(selector: Parameters<ResetEngine['run']>[0]) {
    const out = captureOutput();
    try {
      const record = await engine.run(selector);
      const mine = await stores.state.listAccountResults(record.runId);
      results.push(...mine);
      return { record, results: mine };
    } finally {
      out.restore();
      logs.push(out.text());
    }
  }

  for (const powershell of ['available', 'absent'] as const) {
    const method = powershell === 'available' ? 'PowerShell Set-LocalUser' : 'net user';
    it(`${method}: resets three local accounts and the local admin itself (last); new passwords log in, old ones are refused, labels moved`, async () => {
      const sim = await host({ powershell });
      const id = `win-${powershell}`;
      sim.sam.add('Administrator', 'Admin-Start-1!', { admin: true });
      await config.putResource({ id, type: 'windows', host: sim.host, port: sim.port, hostKeySha256: sim.hostKeySha256, adminAccount: `${id}/Administrator` });
      const adminAccount = await addAccount(id, 'Administrator', 'Admin-Start-1!');
      const users = ['svc-backup', 'kiosk', 'Ünïcødé'];
      const accounts = [];
      for (const u of users) {
        sim.sam.add(u, `${u}-Start-1!`);
        accounts.push(await addAccount(id, u, `${u}-Start-1!`));
      }

      const { record, results: rs } = await run({ resourceIds: [id] });

      expect(record.status, JSON.stringify(rs)).toBe('succeeded');
      expect(new Set(rs.map((r) => r.method))).toEqual(new Set([`admin reset (${method})`]));
      for (const [i, a] of accounts.entries()) {
        expect(await previous(a.secretId)).toBe(`${users[i]}-Start-1!`);
        expect(await loginWorks(sim, users[i]!, await current(a.secretId))).toBe(true);
        expect(await loginWorks(sim, users[i]!, `${users[i]}-Start-1!`)).toBe(false);
      }
      expect(await loginWorks(sim, 'Administrator', await current(adminAccount.secretId))).toBe(true);
      expect(await loginWorks(sim, 'Administrator', 'Admin-Start-1!')).toBe(false);
      // The admin's own change came last, so every other change used the login it opened with.
      const changes = sim.execs.filter((e) => (e.script ?? e.command).match(/Set-LocalUser -Name|net user "/));
      expect(changes.at(-1)!.script ?? changes.at(-1)!.command).toMatch(/Administrator/);
      expect(sim.unexpected).toEqual([]);
      expect(findLeaks(written, { 'command lines': sim.commandText() })).toEqual([]);
    });
  }

  it('a domain admin (a windows-domain account, by UPN) resets local accounts', async () => {
    const sim = await host({ domain: { netbios: 'CORP', dns: 'corp.example.com' } });
    sim.domain!.add('ops', 'Domain-Ops-1!', { admin: true });
    await config.putResource({ id: 'corp', type: 'windows-domain', host: '127.0.0.1', domain: 'corp.example.com' });
    await addAccount('corp', 'ops@corp.example.com', 'Domain-Ops-1!');
    await config.putResource({ id: 'win-dom', type: 'windows', host: sim.host, port: sim.port, adminAccount: 'corp/ops@corp.example.com' });
    sim.sam.add('lab', 'Lab-Start-1!');
    const a = await addAccount('win-dom', 'lab', 'Lab-Start-1!');

    const { record, results: rs } = await run({ resourceIds: ['win-dom'] });

    expect(record.status, JSON.stringify(rs)).toBe('succeeded');
    expect(await loginWorks(sim, 'lab', await current(a.secretId))).toBe(true);
    expect(await loginWorks(sim, 'lab', 'Lab-Start-1!')).toBe(false);
    expect(sim.logins.filter((l) => l.accepted).map((l) => l.login)).toContain('ops@corp.example.com');
  });

  it('a domain admin given by its sAMAccountName logs in qualified with its domain, never as a same-named local account', async () => {
    const sim = await host({ domain: { netbios: 'CORP', dns: 'corp.example.com' } });
    sim.domain!.add('svcadmin', 'Domain-Svc-1!', { admin: true });
    // A local account of the same name, with another password: a bare-name login would reach it instead.
    sim.sam.add('svcadmin', 'Local-Other-1!', { admin: true });
    await config.putResource({ id: 'corp2', type: 'windows-domain', host: '127.0.0.1', domain: 'corp.example.com' });
    await addAccount('corp2', 'svcadmin', 'Domain-Svc-1!');
    await config.putResource({ id: 'win-sam', type: 'windows', host: sim.host, port: sim.port, adminAccount: 'corp2/svcadmin' });
    sim.sam.add('lab2', 'Lab-Start-2!');
    const a = await addAccount('win-sam', 'lab2', 'Lab-Start-2!');

    const { record, results: rs } = await run({ resourceIds: ['win-sam'] });

    expect(record.status, JSON.stringify(rs)).toBe('succeeded');
    expect(await loginWorks(sim, 'lab2', await current(a.secretId))).toBe(true);
    expect(sim.logins.filter((l) => l.accepted).map((l) => l.login)).toContain('svcadmin@corp.example.com');
    expect(sim.logins.map((l) => l.login)).not.toContain('svcadmin');
  });

  it("a password the host's policy refuses: the run fails with the reason, nothing is stored as current, the old password still works", async () => {
    const sim = await host({ policy: { minLength: 30, complexity: true } });
    sim.sam.add('Administrator', 'Admin-Start-3!', { admin: true });
    await config.putResource({ id: 'win-policy', type: 'windows', host: sim.host, port: sim.port, adminAccount: 'win-policy/Administrator' });
    await addAccount('win-policy', 'Administrator', 'Admin-Start-3!');
    sim.sam.add('strict', 'Strict-Start-1!');
    const a = await addAccount('win-policy', 'strict', 'Strict-Start-1!');

    const { record, results: rs } = await run({ accountIds: [a.id] });

    expect(record.status).toBe('failed');
    expect(rs[0]!.outcome).not.toBe('succeeded');
    expect(rs[0]!.message).toMatch(/does not meet the host's password policy/);
    expect(await current(a.secretId)).toBe('Strict-Start-1!');
    expect(await loginWorks(sim, 'strict', 'Strict-Start-1!')).toBe(true);
  });

  it('no password appears in logs, results, audit records, store items, vault files or any command line the host received', async () => {
    expect(results.length).toBeGreaterThanOrEqual(10);
    expect(written.size).toBeGreaterThanOrEqual(20);
    const stored = JSON.stringify({
      resources: await stores.state.listResources(),
      accounts: await stores.state.listAccounts(),
      runs: await stores.state.listRuns(50),
      results,
      audit: await stores.state.listAudit({ limit: 1000 }),
    });
    expect(logs.join('')).toContain('account reset ended');
    expect(
      findLeaks(written, {
        logs: logs.join('\n'),
        'results and store items': stored,
        'command lines': sims.map((s) => s.commandText()).join('\n'),
        'store files': filesText(dir),
      }),
    ).toEqual([]);
  });
});
