import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { OutcomeUnknownError, TargetTimeoutError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createPostgresqlAdapter } from '../../../layers/resources/postgresql/adapter.js';
import { pgPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { account, context, createRole, credential, dropRole, resource } from './support.js';

// Faults are injected by a TCP proxy, so these connections are plain (the proxy must see the statements).
describeServer('postgresql', 'PostgreSQL adapter when the connection breaks', (info) => {
  const roles: string[] = [];
  const adminName = uniqueName('pgfadm');
  const adminPassword = 'Fault-admin-1';
  let proxy: FaultProxy;

  async function role(password: string): Promise<string> {
    const name = uniqueName('pgfault');
    roles.push(name);
    await createRole(name, password);
    return name;
  }

  function adapterThroughProxy(timeoutMs = 5_000) {
    const ctx = context(resource(info, { host: proxy.host, port: proxy.port, ssl: false }), credential(adminName, adminPassword));
    return createPostgresqlAdapter({ ...ctx, timeoutMs });
  }

  beforeAll(async () => {
    roles.push(adminName);
    await createRole(adminName, adminPassword, 'CREATEROLE');
  });
  afterAll(async () => {
    for (const r of roles.reverse()) await dropRole(r);
  });
  beforeEach(async () => {
    proxy = await FaultProxy.start({ host: info.host, port: info.port });
  });
  afterEach(async () => {
    await proxy.close();
  });

  it('connection cut before ALTER ROLE reaches the server: nothing changed, and the error says a retry is safe', async () => {
    const name = await role('Cut-old-1');
    const adapter = adapterThroughProxy();
    proxy.cutWhenClientSends(/ALTER ROLE/, 'before');

    const error = await adapter.change({ account: account(name), newPassword: new Secret('Cut-new-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as TargetUnchangedError).targetMayHaveChanged).toBe(false);
    expect(await pgPasswordWorks(name, 'Cut-old-1')).toBe(true);
    expect(await pgPasswordWorks(name, 'Cut-new-1')).toBe(false);
  });

  it('connection cut after ALTER ROLE was sent but before COMMIT: the server rolls it back, nothing changed', async () => {
    const name = await role('Cut-old-2');
    const adapter = adapterThroughProxy();
    proxy.cutWhenClientSends(/ALTER ROLE/, 'after');

    const error = await adapter.change({ account: account(name), newPassword: new Secret('Cut-new-2') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect(await pgPasswordWorks(name, 'Cut-old-2')).toBe(true);
    expect(await pgPasswordWorks(name, 'Cut-new-2')).toBe(false);
  });

  it('connection cut after COMMIT was sent, before its answer: OutcomeUnknownError, and exactly one of the two passwords works', async () => {
    const name = await role('Cut-old-3');
    const adapter = adapterThroughProxy();
    proxy.cutWhenClientSends(/COMMIT/, 'after');

    const error = await adapter.change({ account: account(name), newPassword: new Secret('Cut-new-3') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect((error as Error).message).not.toContain('Cut-new-3');
    // What the engine's reconcile finds: the COMMIT usually arrives, but the cut may also beat
    // the server to reading it. Either way the role is in one consistent state.
    const newWorks = await pgPasswordWorks(name, 'Cut-new-3');
    expect(await pgPasswordWorks(name, 'Cut-old-3')).toBe(!newWorks);
  });

  it('connection cut as COMMIT is sent, before it reaches the server: still OutcomeUnknownError (the client cannot tell), and nothing changed', async () => {
    const name = await role('Cut-old-4');
    const adapter = adapterThroughProxy();
    proxy.cutWhenClientSends(/COMMIT/, 'before');

    await expect(adapter.change({ account: account(name), newPassword: new Secret('Cut-new-4') })).rejects.toBeInstanceOf(OutcomeUnknownError);
    await adapter.close();

    expect(await pgPasswordWorks(name, 'Cut-old-4')).toBe(true);
  });

  it('a target that stops answering is a TargetTimeoutError, and nothing changed', async () => {
    const name = await role('Hang-old-1');
    const warm = await role('Hang-warm-1');
    const adapter = adapterThroughProxy(1_000);
    await adapter.change({ account: account(warm), newPassword: new Secret('Hang-warm-2') });
    proxy.blackhole(true);

    await expect(adapter.change({ account: account(name), newPassword: new Secret('Hang-new-1') })).rejects.toBeInstanceOf(TargetTimeoutError);
    proxy.blackhole(false);
    await adapter.close();

    expect(await pgPasswordWorks(name, 'Hang-old-1')).toBe(true);
  });

  it('a refused connection is a retryable error and nothing changed', async () => {
    const name = await role('Refused-old-1');
    proxy.refuseNew(true);
    const adapter = adapterThroughProxy();

    const error = await adapter.change({ account: account(name), newPassword: new Secret('Refused-new-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as TargetUnchangedError).retryable).toBe(true);
    expect(await pgPasswordWorks(name, 'Refused-old-1')).toBe(true);
  });

  it('verify throws when the target is unreachable, rather than calling the password wrong', async () => {
    const name = await role('Verify-old-1');
    proxy.refuseNew(true);
    const adapter = adapterThroughProxy();

    await expect(adapter.verify({ account: account(name), password: new Secret('Verify-old-1') })).rejects.toBeInstanceOf(TargetUnchangedError);
    proxy.refuseNew(false);
    expect(await adapter.verify({ account: account(name), password: new Secret('Verify-old-1') })).toMatchObject({ valid: true });
    expect(await adapter.verify({ account: account(name), password: new Secret('Verify-wrong-1') })).toMatchObject({ valid: false });
    await adapter.close();
  });

  it('one admin connection serves every account, and the SQL on the wire holds verifiers, never a password', async () => {
    const names = [await role('Reuse-old-1'), await role('Reuse-old-2'), await role('Reuse-old-3')];
    let wire = '';
    proxy.onClientData((chunk) => {
      wire += chunk.toString('latin1');
    });
    const adapter = adapterThroughProxy();
    const passwords = names.map((_, i) => `Reuse-new-${i}-${uniqueName('p')}`);
    try {
      for (const [i, name] of names.entries()) {
        await adapter.change({ account: account(name), newPassword: new Secret(passwords[i]!) });
      }
    } finally {
      await adapter.close();
    }

    expect(proxy.connections).toBe(1);
    for (const [i, name] of names.entries()) {
      expect(await pgPasswordWorks(name, passwords[i]!)).toBe(true);
      expect(wire).not.toContain(passwords[i]);
    }
    expect(wire.match(/ALTER ROLE "[^"]+" PASSWORD 'SCRAM-SHA-256\$4096:/g)).toHaveLength(3);
  });
});
