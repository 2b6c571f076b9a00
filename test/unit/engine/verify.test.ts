// Verify runs and dry runs with an in-process target: every classification, and "changes nothing"
// (the credential store's versions and labels and the target's passwords identical before and after).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT, AWSPREVIOUS, keptLabel } from '../../../layers/engine/stores/types.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const log = new Log({ level: 'SILENT' });
const USERS = ['admin', 'alice', 'bob'];

describe('verify runs with an in-process target', () => {
  let stores: EmbeddedStores;
  let target: MemoryTarget;
  let engine: ResetEngine;

  beforeEach(async () => {
    // Prepare: a PostgreSQL-typed resource with an admin and two accounts, each reset once so it has AWSPREVIOUS.
    stores = await openMemoryStores();
    target = new MemoryTarget();
    target.adminPassword = 'admin-start-pw';
    const config = new Configurator(stores.state, stores.credentials, REGISTRY);
    await config.putResource({ id: 'db1', type: 'postgresql', host: 'db1.example', adminAccount: 'db1/admin' });
    for (const u of USERS) {
      target.passwords.set(u, `${u}-start-pw`);
      await config.putAccount({ resourceId: 'db1', username: u, secretId: `s/${u}` }, { password: new Secret(`${u}-start-pw`) });
    }
    engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { postgresql: target.adapter('postgresql') }, log });
    expect((await engine.run({ accountIds: ['db1/alice', 'db1/bob'] })).status).toBe('succeeded');
    target.calls.length = 0;
    target.verifies = 0;
  });
  afterEach(async () => stores.close());

  /** Every secret's versions, labels and values, and the target's passwords: what "changes nothing" compares. */
  async function snapshot() {
    const secrets: Record<string, unknown> = {};
    for (const u of USERS) {
      const versions = await stores.credentials.listVersions(`s/${u}`);
      secrets[u] = await Promise.all(versions.map(async (v) => ({ id: v.versionId, stages: [...v.stages].sort(), value: (await stores.credentials.getValue(`s/${u}`, { versionId: v.versionId })).value.reveal() })));
    }
    return { secrets, target: Object.fromEntries(target.passwords), changes: target.changes };
  }
  const secretOf = async (u: string, stage: string) => (await stores.credentials.getValue(`s/${u}`, { stage })).value.reveal();
  async function verify(selector: Parameters<ResetEngine['run']>[0]) {
    const before = await snapshot();
    const run = await engine.run(selector, { mode: 'verify' });
    // Changes nothing, whatever it finds.
    expect(await snapshot()).toEqual(before);
    const results = await stores.state.listAccountResults(run.runId);
    return { run, results, byId: Object.fromEntries(results.map((r) => [r.accountId, r])) };
  }

  it('in sync: every AWSCURRENT logs in; the run is recorded as a verify run, with audit entries, and nothing changes', async () => {
    const { run, byId } = await verify({ resourceIds: ['db1'] });

    expect(run).toMatchObject({ mode: 'verify', status: 'succeeded', counts: { total: 3, 'in-sync': 3 } });
    for (const u of USERS) expect(byId[`db1/${u}`]).toMatchObject({ outcome: 'in-sync', step: 'verify', proof: 'logged in' });
    expect(target.calls.sort()).toEqual(['verify admin', 'verify alice', 'verify bob']);
    expect((await stores.state.listRuns()).find((r) => r.runId === run.runId)).toMatchObject({ mode: 'verify' });
    const audit = await stores.state.listAudit({ runId: run.runId });
    expect(audit.map((a) => [a.accountId, a.event, a.outcome]).sort()).toEqual(USERS.map((u) => [`db1/${u}`, 'password-verify', 'in-sync']).sort());
  });

  it('out of sync: the target holds AWSPREVIOUS (someone put the old password back); the result names it', async () => {
    target.passwords.set('alice', 'alice-start-pw');

    const { run, byId } = await verify({ resourceIds: ['db1'] });

    expect(byId['db1/alice']).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'previous' });
    expect(byId['db1/alice']!.message).toMatch(/AWSCURRENT is refused; the AWSPREVIOUS version \S+ works \(logged in\)/);
    expect(byId['db1/bob']).toMatchObject({ outcome: 'in-sync' });
    expect(run).toMatchObject({ status: 'partial', counts: { 'out-of-sync': 1, 'in-sync': 2 } });
  });

  it('out of sync: the target holds a version kept as rpr-kept-… or one still AWSPENDING; the result names it', async () => {
    // Prepare: alice's next reset went astray (kept version); bob has a pending version the target took.
    target.faults.push('scramble', 'scramble');
    const astray = (await stores.state.listAccountResults((await engine.run({ accountIds: ['db1/alice'] })).runId))[0]!;
    expect(astray).toMatchObject({ outcome: 'out-of-sync', keptVersion: keptLabel(astray.versionId!) });
    target.passwords.set('alice', (await stores.credentials.getValue('s/alice', { versionId: astray.versionId! })).value.reveal());
    await stores.credentials.putPending('s/bob', 'f00dfeed-0000-4000-8000-000000000001', new Secret('bob-pending-pw'));
    target.passwords.set('bob', 'bob-pending-pw');

    const { byId } = await verify({ accountIds: ['db1/alice', 'db1/bob'] });

    expect(byId['db1/alice']).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'kept', keptVersion: keptLabel(astray.versionId!) });
    expect(byId['db1/bob']).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'pending' });
    expect(byId['db1/bob']!.message).toContain('AWSPENDING version f00dfeed-0000-4000-8000-000000000001 works');
  });

  it('drifted: no version rpr holds works, so the password was changed outside rpr', async () => {
    target.passwords.set('bob', 'set-by-hand');

    const { run, byId } = await verify({ accountIds: ['db1/bob'] });

    expect(byId['db1/bob']).toMatchObject({ outcome: 'drifted', workingVersion: 'none' });
    expect(byId['db1/bob']!.message).toMatch(/AWSCURRENT and the 1 other version\(s\) rpr holds \(previous\) are refused: the password was changed outside rpr/);
    expect(run).toMatchObject({ status: 'failed', counts: { drifted: 1 } });
    expect(target.calls).toEqual(['verify bob', 'verify bob']);
  });

  it('the lockout budget: a probe of AWSCURRENT it cannot afford is not made (failed, ThrottledError); with AWSCURRENT refused and the budget spent, the target\'s passwordLastSet tells drift', async () => {
    target.lockoutThreshold = 5;
    target.failedLogons.set('alice', 3);
    target.passwordSetAt = new Map([['bob', new Date(Date.now() + 60_000)]]);
    target.failedLogons.set('bob', 2);
    target.passwords.set('bob', 'set-by-hand');

    const { byId } = await verify({ accountIds: ['db1/alice', 'db1/bob'] });

    expect(byId['db1/alice']).toMatchObject({ outcome: 'failed', errorClass: 'ThrottledError' });
    expect(byId['db1/alice']!.message).toMatch(/to protect the account from lockout/);
    // bob: one probe affordable (AWSCURRENT, refused), none for AWSPREVIOUS; the target says it was set after rpr's reset.
    expect(byId['db1/bob']).toMatchObject({ outcome: 'drifted', workingVersion: 'unknown' });
    expect(byId['db1/bob']!.message).toMatch(/after rpr's last reset .*1 other version\(s\) rpr holds were not tried/);
    expect(target.calls).toEqual(['verify bob']);
    expect(target.failedLogons.get('bob')).toBe(3);
  });

  it('a type that cannot prove a password is never probed: skipped ("cannot be verified without a change"), or drifted when the target says it was changed outside rpr', async () => {
    target.verification = 'none';
    target.passwordSetAt = new Map([['bob', new Date(Date.now() + 60_000)]]);

    const { run, byId } = await verify({ resourceIds: ['db1'] });

    expect(target.verifies).toBe(0);
    expect(byId['db1/alice']).toMatchObject({ outcome: 'skipped' });
    expect(byId['db1/alice']!.message).toMatch(/cannot be verified without a change/);
    expect(byId['db1/bob']).toMatchObject({ outcome: 'drifted' });
    expect(run.status).toBe('failed');
  });

  it('an unreachable target: each account failed with the error, nothing changed', async () => {
    target.unreachable = true;
    const { run, byId } = await verify({ resourceIds: ['db1'] });
    expect(run.status).toBe('failed');
    for (const u of USERS) expect(byId[`db1/${u}`]).toMatchObject({ outcome: 'failed', errorClass: 'TargetTimeoutError' });
  });

  it('a verify of an account a reset holds waits its turn: failed with AccountBusyError, nothing probed', async () => {
    await stores.state.acquire('db1/alice', 'run-other', 60_000);
    const { byId } = await verify({ accountIds: ['db1/alice'] });
    expect(byId['db1/alice']).toMatchObject({ outcome: 'failed', step: 'lease', errorClass: 'AccountBusyError' });
    expect(target.calls).toEqual([]);
  });

  describe('dry runs', () => {
    async function dryRun(selector: Parameters<ResetEngine['dryRun']>[0]) {
      const before = await snapshot();
      const runs = (await stores.state.listRuns()).length;
      const report = await engine.dryRun(selector);
      // Nothing changed on the target or in the store, and no run recorded.
      expect(await snapshot()).toEqual(before);
      expect((await stores.state.listRuns()).length).toBe(runs);
      return report;
    }

    it('with the adapter\'s preflight: a failed finding for one account fails that account only; the others say what a real run would do', async () => {
      target.preflightFindings = [
        { check: 'CREATE USER', ok: true, detail: 'the admin may change other accounts' },
        { accountId: 'db1/bob', check: 'account exists', ok: false, detail: 'no such role on the target' },
      ];

      const report = await dryRun({ resourceIds: ['db1'] });

      expect(target.calls).toEqual(['preflight']);
      const [r] = report.resources;
      expect(report.ok).toBe(false);
      expect(r!.findings.map((f) => [f.check, f.ok])).toEqual([['password policy', true], ['CREATE USER', true], ['account exists', false]]);
      const rows = Object.fromEntries(r!.accounts.map((a) => [a.accountId, a]));
      expect(rows['db1/alice']).toMatchObject({ ok: true, wouldDo: 'reset with the login(s) adminAccount (db1/admin), proven by a fresh login', failures: [] });
      expect(rows['db1/admin']).toMatchObject({ ok: true, wouldDo: expect.stringContaining('changed last') });
      expect(rows['db1/bob']).toMatchObject({ ok: false, failures: ['account exists: no such role on the target'] });
    });

    it('a resource-wide failed finding (a missing right) fails every account', async () => {
      target.preflightFindings = [{ check: 'sudo rights', ok: false, detail: 'the login may not run chpasswd through sudo' }];
      const report = await dryRun({ resourceIds: ['db1'] });
      expect(report.resources[0]!.accounts.every((a) => !a.ok && a.failures[0] === 'sudo rights: the login may not run chpasswd through sudo')).toBe(true);
    });

    it('without a preflight, the logins are authenticated: a refused admin login fails every account, and costs one probe', async () => {
      target.passwords.set('admin', 'changed-by-hand');
      const report = await dryRun({ resourceIds: ['db1'] });
      expect(target.calls).toEqual(['verify admin']);
      const login = report.resources[0]!.findings.find((f) => f.check === 'login')!;
      expect(login).toMatchObject({ ok: false, detail: 'db1/admin: AWSCURRENT is refused, so a real run could not log in (AuthenticationError)' });
      expect(report.resources[0]!.accounts.map((a) => a.ok)).toEqual([false, false, false]);
    });

    it('an unreachable target: a failed connection finding, and every account would fail', async () => {
      target.unreachable = true;
      const report = await dryRun({ resourceIds: ['db1'] });
      expect(report.resources[0]!.findings).toContainEqual({ check: 'connection', ok: false, detail: expect.stringMatching(/^db1\/admin: TargetTimeoutError: connect ETIMEDOUT/) });
      expect(report.resources[0]!.accounts.every((a) => !a.ok)).toBe(true);
    });

    it('a resource whose login account is missing: a failed configuration finding naming the field', async () => {
      await stores.state.putResource({ ...(await stores.state.getResource('db1'))!, adminAccount: 'db1/nobody' });
      const report = await dryRun({ accountIds: ['db1/alice'] });
      expect(report.resources[0]!.findings).toEqual([{ check: 'configuration', ok: false, detail: expect.stringContaining('adminAccount') }]);
      expect(report.resources[0]!.accounts[0]).toMatchObject({ ok: false, wouldDo: 'nothing: the resource cannot be opened' });
    });
  });

  it('a reset after a verify is unaffected: AWSPREVIOUS and AWSCURRENT move as usual', async () => {
    const before = await secretOf('alice', AWSCURRENT);
    await verify({ accountIds: ['db1/alice'] });
    expect((await engine.run({ accountIds: ['db1/alice'] })).status).toBe('succeeded');
    expect(await secretOf('alice', AWSPREVIOUS)).toBe(before);
  });
});
