/**
 * The XSCF driver (layers/resources/service-processor/xscf-driver.ts) through the device adapter
 * against the XSCF simulator over SSH and Telnet: `password NAME` as a useradm account,
 * `password` as the account itself (where XSCF's password policy applies and its refusals are
 * "unchanged"), the admin changing its own password last and proven while its session is open, a
 * cut right after the change, a custom command set and the legacy SSH algorithms.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { generatePassword } from '../../../layers/engine/policy.js';
import { Secret } from '../../../layers/engine/secret.js';
import { policyOf } from '../../../layers/resources/registry.js';
import { xscfDriver } from '../../../layers/resources/service-processor/xscf-driver.js';
import type { DeviceSimulator } from '../../simulators/device/index.js';
import { xscf, xscfCharactersOk, xscfPolicyProblem, XSCF_DEFAULT_POLICY } from '../../simulators/device/xscf.js';
import { sshLoginWorks } from './clients.js';
import { account, credential, rejection, RESOURCE_ID, Simulators, spAdapter, spResource } from './service-processor-support.js';

const devices = new Simulators();
afterEach(() => devices.stopAll());

const USERS = [
  { name: 'admin', password: 'Adm1n-pass', privileges: 'useradm,platadm' },
  { name: 'oper', password: 'Oper-pass1', privileges: 'platop' },
  { name: 'guest', password: 'Guest-pass2', privileges: '' },
];

async function device(options: { legacySsh?: boolean } = {}) {
  const sp = xscf({ users: USERS });
  const sim = await devices.start(sp, options);
  return { sp, sim };
}

/** An independent login over SSH (ssh2, not the adapter): does the password reach the XSCF> prompt? */
const sshLogin = (sim: DeviceSimulator, username: string, password: string) => sshLoginWorks(sim.sshPort, username, password, 'XSCF> ');

const admin = { adminAccount: `${RESOURCE_ID}/admin` };

describe('xscf driver', () => {
  it('admin reset over SSH (password NAME): the new password logs in with a fresh login, the old one does not', async () => {
    const { sp, sim } = await device();
    const a = spAdapter(xscfDriver, spResource('xscf', sim, admin), { admin: credential('admin', 'Adm1n-pass') });
    expect((await a.change({ account: account('oper'), newPassword: new Secret('N3w-oper-pw') })).method).toMatch(/admin reset/);
    expect(await sshLogin(sim, 'oper', 'N3w-oper-pw')).toBe(true);
    expect(await sshLogin(sim, 'oper', 'Oper-pass1')).toBe(false);
    expect(await a.verify({ account: account('oper'), password: new Secret('N3w-oper-pw') })).toEqual({ valid: true });
    await a.close();
    expect(sp.unexpected).toEqual([]);
  });

  it('self change over Telnet (password: current, new, retype), proven by a fresh Telnet login', async () => {
    const { sp, sim } = await device();
    const a = spAdapter(xscfDriver, spResource('xscf', sim, { protocol: 'telnet' }));
    expect((await a.change({ account: account('guest'), newPassword: new Secret('Telnet-own-9'), currentPassword: new Secret('Guest-pass2') })).method).toMatch(/self change/);
    expect(await a.verify({ account: account('guest'), password: new Secret('Telnet-own-9') })).toEqual({ valid: true });
    expect((await a.verify({ account: account('guest'), password: new Secret('Guest-pass2') })).valid).toBe(false);
    expect(sp.checkPassword('guest', 'Telnet-own-9')).toBe(true);
    expect(sim.sessions.every((s) => s.transport === 'telnet')).toBe(true);
    await a.close();
  });

  it('the admin changes its own password on its session, proven by a fresh login while that session is open; the next reset uses it', async () => {
    const { sp, sim } = await device();
    const a = spAdapter(xscfDriver, spResource('xscf', sim, admin), { admin: credential('admin', 'Adm1n-pass') });
    await a.change({ account: account('oper'), newPassword: new Secret('First-oper-1') });
    expect((await a.change({ account: account('admin'), newPassword: new Secret('Adm1n-new-2'), currentPassword: new Secret('Adm1n-pass') })).method).toMatch(/self change/);
    expect(sim.openSessions()).toBe(1);
    expect(await a.verify({ account: account('admin'), password: new Secret('Adm1n-new-2') })).toEqual({ valid: true });
    await a.change({ account: account('guest'), newPassword: new Secret('After-guest-3') });
    expect(sim.sessions.filter((s) => s.username === 'admin').length).toBe(2);
    await a.close();
    expect(sp.checkPassword('admin', 'Adm1n-pass')).toBe(false);
    expect(sp.checkPassword('guest', 'After-guest-3')).toBe(true);
  });

  it('a wrong admin password is refused at the login: unchanged, nothing typed', async () => {
    const { sp, sim } = await device();
    const a = spAdapter(xscfDriver, spResource('xscf', sim, admin), { admin: credential('admin', 'Wrong-pass1') });
    const e = await rejection(a.change({ account: account('oper'), newPassword: new Secret('Never-oper-1') }));
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as AuthenticationError).targetMayHaveChanged).toBe(false);
    expect(e.message).not.toContain('Wrong-pass1');
    expect(sp.checkPassword('oper', 'Oper-pass1')).toBe(true);
    await a.close();
  });

  it("XSCF's password policy refusing an own change is unchanged with its words, and the session goes on", async () => {
    const { sp, sim } = await device();
    const a = spAdapter(xscfDriver, spResource('xscf', sim));
    const short = await rejection(a.change({ account: account('guest'), newPassword: new Secret('abcdef'), currentPassword: new Secret('Guest-pass2') }));
    expect(short).toBeInstanceOf(TargetUnchangedError);
    expect(short.message).toMatch(/BAD PASSWORD/);
    const same = await rejection(a.change({ account: account('guest'), newPassword: new Secret('Guest-pass2'), currentPassword: new Secret('Guest-pass2') }));
    expect(same).toBeInstanceOf(TargetUnchangedError);
    await a.change({ account: account('guest'), newPassword: new Secret('Fine-now-42'), currentPassword: new Secret('Guest-pass2') });
    expect(sp.checkPassword('guest', 'Fine-now-42')).toBe(true);
    await a.close();
    expect(sp.unexpected).toEqual([]);
  });

  it('generated passwords keep to the characters password(8) takes and pass the default policy', () => {
    const policy = policyOf({ type: 'xscf' });
    for (let i = 0; i < 300; i++) {
      const p = generatePassword(policy).reveal();
      expect(xscfCharactersOk(p)).toBe(true);
      expect(xscfPolicyProblem(p, XSCF_DEFAULT_POLICY)).toBeUndefined();
    }
  });

  it('a cut right after the change is applied: outcome unknown, and a fresh login settles it', async () => {
    const { sim } = await device();
    const a = spAdapter(xscfDriver, spResource('xscf', sim, admin), { admin: credential('admin', 'Adm1n-pass') });
    sim.setFaults({ cut: { cut: 'applied' } });
    const e = await rejection(a.change({ account: account('oper'), newPassword: new Secret('Cut-oper-33') }));
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(await a.verify({ account: account('oper'), password: new Secret('Cut-oper-33') })).toEqual({ valid: true });
    expect((await a.verify({ account: account('oper'), password: new Secret('Oper-pass1') })).valid).toBe(false);
    await a.close();
  });

  it('a custom command set runs in place of the built-in change', async () => {
    const { sp, sim } = await device();
    const commandSet = { change: ['password {username}', '{password}', '{password}'], refusals: ['BAD PASSWORD', '(?:^|\\n)password: '] };
    const a = spAdapter(xscfDriver, spResource('xscf', sim, { ...admin, commandSet }), { admin: credential('admin', 'Adm1n-pass') });
    expect((await a.change({ account: account('oper'), newPassword: new Secret('Custom-set-1') })).method).toBe('custom command set');
    expect(await sshLogin(sim, 'oper', 'Custom-set-1')).toBe(true);
    const e = await rejection(a.change({ account: account('nobody'), newPassword: new Secret('Custom-set-2') }));
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toMatch(/Unknown user/);
    await a.close();
    expect(sp.unexpected).toEqual([]);
  });

  it('the legacy SSH algorithms, named in the resource, reach a legacy-only XSCF', async () => {
    const { sim } = await device({ legacySsh: true });
    const legacy = { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] };
    const plain = spAdapter(xscfDriver, spResource('xscf', sim, admin), { admin: credential('admin', 'Adm1n-pass') });
    expect(await rejection(plain.change({ account: account('oper'), newPassword: new Secret('Legacy-ssh-1') }))).toBeInstanceOf(TargetUnchangedError);
    await plain.close();
    const a = spAdapter(xscfDriver, spResource('xscf', sim, { ...admin, sshAlgorithms: legacy }), { admin: credential('admin', 'Adm1n-pass') });
    await a.change({ account: account('oper'), newPassword: new Secret('Legacy-ssh-1') });
    expect(await a.verify({ account: account('oper'), password: new Secret('Legacy-ssh-1') })).toEqual({ valid: true });
    await a.close();
  });
});
