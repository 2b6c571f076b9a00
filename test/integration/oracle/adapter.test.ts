// The oracle adapter with the real node-oracledb (Thin mode) against the Oracle Net simulator
// (test/simulators/oracle): what the contract suite does not show on its own. The refusals with
// what Oracle meant, the driver's password change for a self change and for the admin's own (no
// SQL carries either password), a locked account that verification does not call a wrong
// password, and what reached the server. Each password is checked by a login through node-oracledb
// directly (the contract fixture's check), not the adapter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import type { Credential } from '../../../layers/engine/adapter.js';
import { AuthenticationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createOracleAdapter } from '../../../layers/resources/oracle/adapter.js';
import type { OracleResource } from '../../../layers/resources/oracle/schema.js';
import { parseResource } from '../../../layers/resources/registry.js';
import { oraclePasswordWorks } from '../../contracts/fixtures/oracle.js';
import { startOracleSimulator, type OracleSimulator } from '../../simulators/oracle/server.js';

describe('oracle adapter on the Oracle Net simulator', () => {
  let sim: OracleSimulator;
  let n = 0;
  const resource = () => parseResource({ id: 'ora1', type: 'oracle', host: sim.host, port: sim.port }) as OracleResource;
  const account = (username: string) => ({ id: `ora1/${username}`, resourceId: 'ora1', username, secretId: `rpr/ora1/${username}`, tags: [] });
  const credential = (username: string, password: string): Credential => ({ accountId: `ora1/${username}`, username, password: new Secret(password) });
  const user = (password: string, extra: { alterUser?: boolean; locked?: boolean; profile?: Parameters<OracleSimulator['users']['add']>[0]['profile'] } = {}) => {
    const name = `ora_t${++n}`;
    sim.users.add({ name: name.toUpperCase(), password, ...extra });
    return name;
  };
  const works = (name: string, password: string) => oraclePasswordWorks(sim, name, password);

  beforeAll(async () => {
    sim = await startOracleSimulator({ users: [] });
  });
  afterAll(async () => sim?.close());

  it('admin reset: ALTER USER on one admin session for the group; the new passwords log in, the old do not, and no statement keeps a password', async () => {
    const admin = user('Adm1n-Pass-0', { alterUser: true });
    const a = user('Old-Pass-a1'), b = user('Old-Pass-b1');
    const before = sim.records.length;
    const adapter = createOracleAdapter(adapterContext(resource(), { admin: credential(admin, 'Adm1n-Pass-0') }));
    try {
      expect(await adapter.change({ account: account(a), newPassword: new Secret("N'x' ]] \\ 'q' ünï") })).toEqual({ method: 'admin reset (ALTER USER)' });
      expect(await adapter.change({ account: account(b), newPassword: new Secret('New-Pass-b1') })).toEqual({ method: 'admin reset (ALTER USER)' });
      expect(await adapter.verify({ account: account(a), password: new Secret("N'x' ]] \\ 'q' ünï") })).toEqual({ valid: true });
      expect(await adapter.verify({ account: account(a), password: new Secret('Old-Pass-a1') })).toMatchObject({ valid: false, detail: expect.stringContaining('ORA-01017') });
    } finally {
      await adapter.close();
    }
    const adminSessions = sim.records.slice(before).filter((r) => r.user === admin.toUpperCase());
    expect(adminSessions).toHaveLength(1);
    expect(adminSessions[0]!.statements.map((s) => s.sql)).toEqual([`ALTER USER "${a.toUpperCase()}" IDENTIFIED BY ***`, `ALTER USER "${b.toUpperCase()}" IDENTIFIED BY ***`]);
    expect(await works(a, "N'x' ]] \\ 'q' ünï")).toBe(true);
    expect(await works(a, 'Old-Pass-a1')).toBe(false);
    expect(await works(b, 'New-Pass-b1')).toBe(true);
  });

  it("self change and the admin's own change go through the driver's password change, never SQL; the admin's next login uses its new password", async () => {
    const self = user('Old-Self-1');
    const selfAdapter = createOracleAdapter(adapterContext(resource(), {}));
    expect(await selfAdapter.change({ account: account(self), newPassword: new Secret('New-Self-1'), currentPassword: new Secret('Old-Self-1') })).toEqual({ method: 'self change (driver password change)' });
    await selfAdapter.close();
    expect(await works(self, 'New-Self-1')).toBe(true);
    expect(await works(self, 'Old-Self-1')).toBe(false);

    const admin = user('Adm1n-Pass-0', { alterUser: true });
    const other = user('Old-Other-1');
    const before = sim.records.length;
    const adapter = createOracleAdapter(adapterContext(resource(), { admin: credential(admin, 'Adm1n-Pass-0') }));
    try {
      expect(await adapter.change({ account: account(admin), newPassword: new Secret('Adm1n-Pass-1') })).toEqual({ method: 'self change (admin, driver password change)' });
      expect(await adapter.change({ account: account(other), newPassword: new Secret('New-Other-1') })).toEqual({ method: 'admin reset (ALTER USER)' });
    } finally {
      await adapter.close();
    }
    const records = sim.records.slice(before);
    expect(records.flatMap((r) => r.passwordChanges)).toEqual([{ user: admin.toUpperCase() }]);
    expect(records.flatMap((r) => r.statements.map((s) => s.sql)).some((s) => /Adm1n/.test(s))).toBe(false);
    expect(await works(admin, 'Adm1n-Pass-1')).toBe(true);
    expect(await works(other, 'New-Other-1')).toBe(true);
  });

  it("refusals say what Oracle meant and change nothing: the profile's verify function, reuse, a missing user, an admin without ALTER USER, a wrong admin password", async () => {
    const admin = user('Adm1n-Pass-0', { alterUser: true });
    const strict = user('Old-Strict-1', { profile: { verify: (p) => (p.length < 12 ? 'Password length less than 12' : undefined), noReuse: true } });
    const weak = user('Weak-Adm1n-0');
    const adapter = createOracleAdapter(adapterContext(resource(), { admin: credential(admin, 'Adm1n-Pass-0') }));
    const refused = async (username: string, password: string, by = adapter) => {
      const e = await by.change({ account: account(username), newPassword: new Secret(password) }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TargetUnchangedError);
      return (e as Error).message;
    };
    try {
      expect(await refused(strict, 'Short-1')).toMatch(/verify function refused it \(ORA-28003\)/);
      expect(await refused(strict, 'Old-Strict-1')).toMatch(/PASSWORD_REUSE_MAX forbids it again \(ORA-28007\)/);
      expect(await refused('nobody_here', 'Whatever-Pass-1')).toMatch(/no such user \(ORA-01918\)/);
    } finally {
      await adapter.close();
    }
    const weakAdapter = createOracleAdapter(adapterContext(resource(), { admin: credential(weak, 'Weak-Adm1n-0') }));
    expect(await refused(strict, 'New-Strict-Long-1', weakAdapter)).toMatch(/lacks the ALTER USER system privilege \(ORA-01031\)/);
    await weakAdapter.close();
    const wrong = createOracleAdapter(adapterContext(resource(), { admin: credential(admin, 'Not-The-Pass-1') }));
    await expect(wrong.change({ account: account(strict), newPassword: new Secret('New-Strict-Long-2') })).rejects.toBeInstanceOf(AuthenticationError);
    await wrong.close();
    expect(await works(strict, 'Old-Strict-1')).toBe(true);
  });

  it('verification of a locked account throws (ORA-28000 proves nothing about the password) rather than calling the password wrong', async () => {
    const locked = user('Locked-Pass-1', { locked: true });
    const adapter = createOracleAdapter(adapterContext(resource(), {}));
    const e = await adapter.verify({ account: account(locked), password: new Secret('Locked-Pass-1') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as Error).message).toMatch(/ORA-28000/);
  });
});
