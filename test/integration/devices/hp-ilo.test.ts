/**
 * HPE iLO through the device adapter and the iLO driver (layers/resources/hp-ilo/driver.ts),
 * against the SMASH CLP simulator served by the device simulator core over SSH and Telnet: an
 * admin reset and a self change, each proven by a fresh login; CLP quoting; status lines that
 * tell success, refusal and an unknown outcome apart; a wrong admin password; a cut right after
 * the change; the admin changed last on its own session; a custom command set; legacy SSH.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { hpIloDriver } from '../../../layers/resources/hp-ilo/driver.js';
import { hpIloDefinition, hpIloSchema, type HpIloResource } from '../../../layers/resources/hp-ilo/schema.js';
import { policyOf } from '../../../layers/resources/registry.js';
import { hpIlo } from '../../simulators/device/hp-ilo.js';
import type { DeviceSimulator } from '../../simulators/device/index.js';
import type { ServiceProcessor } from '../../simulators/device/service-processor.js';
import { account, credential, openAfterSettling, RESOURCE_ID, Simulators, spAdapter } from './service-processor-support.js';
import { sshLoginWorks, telnetLoginWorks as telnetWorks } from './clients.js';

const sims = new Simulators();
afterEach(() => sims.stopAll());

const PROMPT = /<\/>hpiLO-> $/;
const ADMIN_PW = 'Admin-pass-1';
const BOB_PW = 'Bob-pass-12';

function device(): ServiceProcessor {
  return hpIlo({
    users: [
      { name: 'Administrator', password: ADMIN_PW, privileges: 'admin,config,oemhp_power,oemhp_rc,oemhp_vm' },
      { name: 'bob', password: BOB_PW, privileges: 'config' },
    ],
  });
}

function resource(sim: DeviceSimulator, over: Record<string, unknown> = {}): HpIloResource {
  const protocol = (over['protocol'] as string | undefined) ?? 'ssh';
  return hpIloSchema.parse({ id: RESOURCE_ID, type: 'hp-ilo', host: sim.host, port: protocol === 'telnet' ? sim.telnetPort : sim.sshPort, adminAccount: `${RESOURCE_ID}/Administrator`, ...over });
}

const adapter = (r: HpIloResource, adminPassword: string | undefined = ADMIN_PW) => spAdapter(hpIloDriver, r, adminPassword === undefined ? {} : { admin: credential('Administrator', adminPassword) });

/** A fresh login over Telnet, typed by a raw client (not the adapter). */
const telnetLoginWorks = (port: number, username: string, password: string) =>
  telnetWorks(port, { user: 'Login Name: ', password: 'Password: ' }, username, password, { ready: PROMPT, refused: /Invalid login\./ });

describe('hp-ilo through the device adapter', () => {
  for (const protocol of ['ssh', 'telnet'] as const) {
    it(`over ${protocol}: the admin resets another account, proven by a fresh login (the adapter's and an independent client's)`, async () => {
      const ilo = device();
      const sim = await sims.start(ilo);
      const r = resource(sim, { protocol });
      const a = adapter(r);
      const result = await a.change({ account: account('bob'), newPassword: new Secret('Fresh pass 99') });
      expect(result.method).toBe('admin reset');
      expect(ilo.checkPassword('bob', 'Fresh pass 99')).toBe(true);
      expect(await a.verify({ account: account('bob'), password: new Secret('Fresh pass 99') })).toEqual({ valid: true });
      expect((await a.verify({ account: account('bob'), password: new Secret(BOB_PW) })).valid).toBe(false);
      await a.close();
      const independent = protocol === 'ssh' ? await sshLoginWorks(sim.sshPort, 'bob', 'Fresh pass 99', PROMPT) : await telnetLoginWorks(sim.telnetPort, 'bob', 'Fresh pass 99');
      expect(independent).toBe(true);
      expect(ilo.unexpected).toEqual([]);
      expect(await openAfterSettling(sim)).toBe(0);
      expect(sim.sessions.every((s) => s.transport === protocol)).toBe(true);
    });

    it(`over ${protocol}: an account without an admin changes its own password, proven by a fresh login`, async () => {
      const ilo = device();
      const sim = await sims.start(ilo);
      const r = resource(sim, { protocol, adminAccount: undefined });
      const a = adapter(r, undefined);
      const result = await a.change({ account: account('bob'), newPassword: new Secret('Own-new-pass-7'), currentPassword: new Secret(BOB_PW) });
      expect(result.method).toBe('self change');
      await a.close();
      expect(protocol === 'ssh' ? await sshLoginWorks(sim.sshPort, 'bob', 'Own-new-pass-7', PROMPT) : await telnetLoginWorks(sim.telnetPort, 'bob', 'Own-new-pass-7')).toBe(true);
      expect(ilo.checkPassword('bob', BOB_PW)).toBe(false);
      expect(sim.sessions.map((s) => s.username)).toContain('bob');
    });
  }

  it('quotes a password with spaces (leading and trailing too) and takes every character but the double quote', async () => {
    const ilo = device();
    const sim = await sims.start(ilo);
    const a = adapter(resource(sim));
    for (const pw of ['  two words  ', "a'b\\c=d;e$(f)`g!#%&*?", 'plainpass1']) {
      await a.change({ account: account('bob'), newPassword: new Secret(pw) });
      expect(ilo.checkPassword('bob', pw), JSON.stringify(pw.length)).toBe(true);
    }
    await a.close();
    expect(ilo.unexpected).toEqual([]);
  });

  it('the policy refuses a double quote before anything is sent', async () => {
    const ilo = device();
    const sim = await sims.start(ilo);
    const r = resource(sim);
    expect(policyOf(r).forbidden).toContain('"');
    const a = adapter(r);
    await expect(a.change({ account: account('bob'), newPassword: new Secret('has"quote-123') })).rejects.toBeInstanceOf(InvalidConfigurationError);
    expect(sim.sessions).toHaveLength(0);
    expect(ilo.checkPassword('bob', BOB_PW)).toBe(true);
  });

  it("a refusal (status=2, COMMAND PROCESSING FAILED) is unchanged with the device's words", async () => {
    const ilo = hpIlo({ minPasswordLength: 12, users: [{ name: 'Administrator', password: ADMIN_PW, privileges: 'admin' }, { name: 'bob', password: BOB_PW }] });
    const sim = await sims.start(ilo);
    const a = adapter(resource(sim));
    const e = await a.change({ account: account('bob'), newPassword: new Secret('Xq7-zz-k9') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toContain('Password is too short. Minimum length is 12 characters.');
    expect((e as Error).message).not.toContain('Xq7-zz-k9');
    // The session goes on after a known refusal.
    await a.change({ account: account('bob'), newPassword: new Secret('long-enough-pw-1') });
    expect(ilo.checkPassword('bob', 'long-enough-pw-1')).toBe(true);
    await a.close();
  });

  it('an account that is not an admin cannot reset another: the privilege refusal is unchanged', async () => {
    const ilo = device();
    const sim = await sims.start(ilo);
    ilo.addUser({ name: 'carol', password: 'Carol-pass-1', privileges: 'config' });
    const r = resource(sim, { adminAccount: `${RESOURCE_ID}/carol` });
    const a = spAdapter(hpIloDriver, r, { admin: credential('carol', 'Carol-pass-1') });
    const e = await a.change({ account: account('bob'), newPassword: new Secret('Another-pass-3') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toContain('Administer User Accounts');
    expect(ilo.checkPassword('bob', BOB_PW)).toBe(true);
    await a.close();
  });

  it('a custom command set runs with its own success and refusals; an answer it does not list is outcome unknown', async () => {
    const ilo = device();
    const sim = await sims.start(ilo);
    const r = resource(sim, {
      commandSet: { change: ['set /map1/accounts1/{username} password={password}'], passwordOnCommandLine: true, refusals: ['never-printed-refusal'], success: ['status=0'] },
    });
    const a = adapter(r);
    // The set's success (status=0) passes...
    await a.change({ account: account('bob'), newPassword: new Secret('Custom-set-pw1') });
    expect(ilo.checkPassword('bob', 'Custom-set-pw1')).toBe(true);
    // ...and a refusal the set does not list is not a success: outcome unknown.
    sim.setFaults({ refuse: 'Unexpected firmware condition.' });
    await expect(a.change({ account: account('bob'), newPassword: new Secret('Custom-set-pw2') })).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(ilo.checkPassword('bob', 'Custom-set-pw1')).toBe(true);
    await a.close();
  });

  it('a wrong admin password is unchanged: nothing is sent past the login', async () => {
    const ilo = device();
    const sim = await sims.start(ilo);
    for (const protocol of ['ssh', 'telnet'] as const) {
      const a = adapter(resource(sim, { protocol }), 'not-the-admin-pw');
      const e = await a.change({ account: account('bob'), newPassword: new Secret('Never-set-pw-1') }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AuthenticationError);
      expect((e as AuthenticationError).targetMayHaveChanged).toBe(false);
      await a.close();
    }
    expect(ilo.checkPassword('bob', BOB_PW)).toBe(true);
  });

  it('a cut right after the change is applied is outcome unknown, and the new password is the one that works', async () => {
    const ilo = device();
    const sim = await sims.start(ilo);
    const a = adapter(resource(sim));
    sim.setFaults({ cut: { cut: 'applied' } });
    await expect(a.change({ account: account('bob'), newPassword: new Secret('Cut-after-pw-1') })).rejects.toBeInstanceOf(OutcomeUnknownError);
    // Reconcile: a fresh login tells which password holds.
    expect(await a.verify({ account: account('bob'), password: new Secret('Cut-after-pw-1') })).toEqual({ valid: true });
    expect((await a.verify({ account: account('bob'), password: new Secret(BOB_PW) })).valid).toBe(false);
    await a.close();
  });

  it('the admin is a reference (changed last by the engine), changes its own on its session, and the new one is proven before it closes', async () => {
    const ilo = device();
    const sim = await sims.start(ilo);
    const r = resource(sim);
    expect(hpIloDefinition.references(r).map((x) => x.accountId)).toEqual([`${RESOURCE_ID}/Administrator`]);
    const a = adapter(r);
    await a.change({ account: account('bob'), newPassword: new Secret('Bob-next-pw-1') });
    const own = await a.change({ account: account('Administrator'), newPassword: new Secret('Admin-next-pw-1'), currentPassword: new Secret(ADMIN_PW) });
    expect(own.method).toBe('self change');
    expect(await a.verify({ account: account('Administrator'), password: new Secret('Admin-next-pw-1') })).toEqual({ valid: true });
    // One admin session served both changes; the proofs were fresh logins.
    expect(sim.sessions.filter((s) => s.username === 'Administrator').length).toBe(2);
    await a.close();
    expect(await sshLoginWorks(sim.sshPort, 'Administrator', 'Admin-next-pw-1', PROMPT)).toBe(true);
  });

  it('logs in over SSH with the legacy algorithms the resource names', async () => {
    const ilo = device();
    const sim = await sims.start(ilo, { legacySsh: true });
    const modern = adapter(resource(sim));
    await expect(modern.change({ account: account('bob'), newPassword: new Secret('Legacy-pw-1') })).rejects.toThrow();
    await modern.close();
    const legacy = adapter(resource(sim, { sshAlgorithms: { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] } }));
    await legacy.change({ account: account('bob'), newPassword: new Secret('Legacy-pw-1') });
    await legacy.close();
    expect(ilo.checkPassword('bob', 'Legacy-pw-1')).toBe(true);
  });
});
