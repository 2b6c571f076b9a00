// Verification by capability: the protocol probes only where a probe means something, records what
// proved the new password, and keeps a version it cannot prove wrong under a label of its own
// (never AWSPENDING, which holds off Secrets Manager's rotation; never none, which loses it).
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT, AWSPENDING, keptLabel, type CredentialStore, type StateStore } from '../../../layers/engine/stores/types.js';
import { REGISTRY } from '../../../layers/resources/registry.js';
import { describeServer } from '../../../harness/servers/index.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { engineOnMoto } from './support.js';

const log = new Log({ level: 'SILENT' });

/** A resource of three accounts on an in-process target, on the given stores. */
async function setUp(state: StateStore, credentials: CredentialStore, target: MemoryTarget, secret = (u: string) => `s/${u}`) {
  const config = new Configurator(state, credentials, REGISTRY);
  await config.putResource({ id: 'db1', type: 'postgresql', host: 'db1.example', adminAccount: 'db1/admin' });
  for (const u of ['admin', 'alice', 'bob']) {
    target.passwords.set(u, `${u}-start-pw`);
    await config.putAccount({ resourceId: 'db1', username: u, secretId: secret(u) }, { password: new Secret(`${u}-start-pw`) });
  }
  return new ResetEngine({ registry: REGISTRY, state, credentials, adapters: { postgresql: target.adapter('postgresql') }, log });
}

/**
 * Secrets Manager starts a rotation only when no version but AWSCURRENT's holds AWSPENDING ("If
 * the AWSPENDING staging label is present but not attached to the same version as AWSCURRENT,
 * then any later invocation of RotateSecret assumes that a previous rotation request is still in
 * progress and returns an error", AWS Secrets Manager API reference, RotateSecret). Every version
 * has at least one label, or Secrets Manager may delete it.
 */
function rotatableAndNothingLost(stages: Record<string, readonly string[]>): void {
  const current = Object.entries(stages).find(([, s]) => s.includes(AWSCURRENT))?.[0];
  expect(current).toBeDefined();
  for (const [version, s] of Object.entries(stages)) {
    if (version !== current) expect(s, version).not.toContain(AWSPENDING);
  }
}

describe('verification by capability (embedded stores)', () => {
  let stores: EmbeddedStores;
  let target: MemoryTarget;
  let engine: ResetEngine;
  beforeEach(async () => {
    stores = await openMemoryStores();
    target = new MemoryTarget();
    target.adminPassword = 'admin-start-pw';
  });
  afterEach(async () => stores.close());
  const stagesOf = async (u: string) => Object.fromEntries((await stores.credentials.listVersions(`s/${u}`)).map((v) => [v.versionId, [...v.stages]]));
  const current = async (u: string) => (await stores.credentials.getValue(`s/${u}`)).value.reveal();

  it('a type that logs in records "logged in"; one that attests records "confirmed by the target", in the result and the audit', async () => {
    engine = await setUp(stores.state, stores.credentials, target);
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'succeeded', proof: 'logged in' });
    expect((await stores.state.listAudit({ accountId: 'db1/alice' }))[0]!.detail).toContain('proven: logged in');

    target.verification = 'attestation';
    const attested = await engine.run({ accountIds: ['db1/bob'] });
    expect((await stores.state.listAccountResults(attested.runId))[0]).toMatchObject({ outcome: 'succeeded', proof: 'confirmed by the target' });
  });

  it('a type that cannot prove a password is never probed: it succeeds on the provider\'s answer, and says so', async () => {
    target.verification = 'none';
    engine = await setUp(stores.state, stores.credentials, target);
    const run = await engine.run({ resourceIds: ['db1'] });
    expect(run.counts).toMatchObject({ total: 3, succeeded: 3 });
    expect(target.verifies).toBe(0);
    for (const r of await stores.state.listAccountResults(run.runId)) expect(r.proof).toBe('confirmed by the provider');
    for (const u of ['alice', 'bob', 'admin']) expect(target.passwords.get(u)).toBe(await current(u));
  });

  it('a type that cannot prove a password, cut off after the change: out of sync with the pending version kept under its own label, never read as wrong', async () => {
    target.verification = 'none';
    engine = await setUp(stores.state, stores.credentials, target);
    target.faults.push('drop-after-applied');
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'unknown', step: 'reconcile' });
    expect(result!.message).toContain(`kept as ${keptLabel(result!.versionId!)}`);
    expect(target.verifies).toBe(0);
    const stages = await stagesOf('alice');
    expect(stages[result!.versionId!]).toEqual([keptLabel(result!.versionId!)]);
    rotatableAndNothingLost(stages);
    // The next reset changes the password anew and leaves the kept version readable: it cannot tell it wrong.
    const next = await engine.run({ accountIds: ['db1/alice'] });
    expect((await stores.state.listAccountResults(next.runId))[0]).toMatchObject({ outcome: 'succeeded' });
    expect(target.passwords.get('alice')).toBe(await current('alice'));
    expect((await stagesOf('alice'))[result!.versionId!]).toEqual([keptLabel(result!.versionId!)]);
  });

  it('a type that cannot prove a password but whose change is repeatable, cut off after the change: reconcile sends the same pending password again, never another, and promotes it on the provider\'s answer', async () => {
    target.verification = 'none';
    target.repeatableChange = true;
    engine = await setUp(stores.state, stores.credentials, target);
    target.faults.push('drop-after-lost');
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'succeeded', workingVersion: 'pending', step: 'reconcile', errorClass: 'OutcomeUnknownError' });
    expect(result!.message).toContain('the same pending password was set again');
    expect(target.verifies).toBe(0);
    expect(target.changesOf.get('alice')).toBe(2);
    expect(target.passwords.get('alice')).toBe(await current('alice'));
    expect((await stores.credentials.getValue('s/alice')).versionId).toBe(result!.versionId);
  });

  it('a repeatable type whose second send fails too: out of sync, the pending version kept under its own label', async () => {
    target.verification = 'none';
    target.repeatableChange = true;
    engine = await setUp(stores.state, stores.credentials, target);
    target.faults.push('drop-after-lost', 'drop-before');
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'unknown', step: 'reconcile' });
    expect(result!.message).toContain('setting the same pending password again failed (TargetUnchangedError');
    expect((await stagesOf('alice'))[result!.versionId!]).toEqual([keptLabel(result!.versionId!)]);
  });

  it('a login type whose change went astray: the pending version is kept; the next reset probes it, and promotes it once the target holds it', async () => {
    engine = await setUp(stores.state, stores.credentials, target);
    target.faults.push('scramble', 'scramble');
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(result).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'none' });
    const token = result!.versionId!;
    // The record names the version to try, as a field of its own.
    expect(result!.keptVersion).toBe(keptLabel(token));
    expect((await stagesOf('alice'))[token]).toEqual([keptLabel(token)]);
    rotatableAndNothingLost(await stagesOf('alice'));

    // Someone puts the kept password on the target by hand (the record named the version to try).
    target.passwords.set('alice', (await stores.credentials.getValue('s/alice', { versionId: token })).value.reveal());
    const next = await engine.run({ accountIds: ['db1/alice'] });
    expect((await stores.state.listAccountResults(next.runId))[0]).toMatchObject({ outcome: 'succeeded' });
    // create promoted the kept version first (its label released), then this reset moved on from it.
    const after = await stagesOf('alice');
    expect(Object.values(after).flat().filter((s) => s.startsWith('rpr-kept-'))).toEqual([]);
    expect(target.passwords.get('alice')).toBe(await current('alice'));
  });

  it('the lockout budget is the protocol\'s: with a threshold of 5, probes stop while 2 failed logons remain, and what they could not prove is kept, never called wrong', async () => {
    target.lockoutThreshold = 5;
    engine = await setUp(stores.state, stores.credentials, target);
    // Two failed logons already (someone mistyped); the change is lost on the way. Reconcile's probe
    // of the pending password fails (3 of 5); a probe of the current one would leave one, so it is
    // not made, although the current password works.
    target.failedLogons.set('alice', 2);
    target.faults.push('drop-after-lost');
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(target.failedLogons.get('alice')).toBe(3);
    expect(target.calls).toEqual(['change alice', 'verify alice']);
    expect(result).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'unknown' });
    expect(result!.message).toMatch(/to protect the account from lockout/);
    expect(result!.message).toContain(`kept as ${keptLabel(result!.versionId!)}`);

    // Already at the budget's end: the next reset's probe of the kept version is not made, so nothing is called wrong or dropped.
    const verifies = target.verifies;
    const next = await engine.run({ accountIds: ['db1/alice'] });
    expect(target.verifies).toBe(verifies);
    expect((await stores.state.listAccountResults(next.runId))[0]).toMatchObject({ outcome: 'failed', errorClass: 'ThrottledError' });
    expect((await stagesOf('alice'))[result!.versionId!]).toEqual([keptLabel(result!.versionId!)]);
  });

  it('a kept version the target refuses is dropped by the next reset: proven wrong', async () => {
    engine = await setUp(stores.state, stores.credentials, target);
    target.faults.push('scramble', 'scramble');
    const first = (await stores.state.listAccountResults((await engine.run({ accountIds: ['db1/alice'] })).runId))[0]!;
    target.passwords.set('alice', 'alice-start-pw'); // an operator restored the current password
    await engine.run({ accountIds: ['db1/alice'] });
    expect((await stagesOf('alice'))[first.versionId!]).toBeUndefined();
    expect(target.passwords.get('alice')).toBe(await current('alice'));
  });
});

describeServer('moto', 'kept versions on Secrets Manager (moto)', (moto) => {
  it('an out-of-sync reset leaves the secret rotatable as AWS documents it, and the kept version readable', async () => {
    const h = await engineOnMoto(moto.endpoint);
    const target = new MemoryTarget();
    target.adminPassword = 'admin-start-pw';
    const engine = await setUp(h.stores.state, h.credentials, target, h.secretName);
    target.faults.push('scramble', 'scramble');
    const run = await engine.run({ accountIds: ['db1/alice'] });
    const [result] = await h.results(run.runId);
    expect(result).toMatchObject({ outcome: 'out-of-sync' });
    const sm = new SecretsManagerClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const described = await sm.send(new DescribeSecretCommand({ SecretId: h.secretName('alice') }));
    sm.destroy();
    const stages = described.VersionIdsToStages ?? {};
    expect(stages[result!.versionId!]).toEqual([keptLabel(result!.versionId!)]);
    rotatableAndNothingLost(stages);
    expect((await h.credentials.getValue(h.secretName('alice'), { versionId: result!.versionId! })).value.reveal().length).toBeGreaterThanOrEqual(24);
  });
});
