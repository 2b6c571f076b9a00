import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { OutcomeUnknownError, TargetTimeoutError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createPostgresqlAdapter } from '../../../layers/resources/postgresql/adapter.js';
import { pgPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { account, context, createRole, credential, dropRole, resource } from './support.js';

/**
 * What PostgreSQL's transaction decides when the connection breaks, and what its wire carries:
 * the cases the adapter contract (test/contracts/adapter.ts: a cut before ALTER ROLE and after
 * COMMIT, an unreachable target, one connection per group) does not know. Faults are injected by
 * a TCP proxy, so these connections are plain (the proxy must see the statements).
 */
describeServer('postgresql', 'PostgreSQL adapter: the transaction and the wire when the connection breaks', (info) => {
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
