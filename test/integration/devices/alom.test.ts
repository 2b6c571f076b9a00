/**
 * The ALOM driver (layers/resources/service-processor/alom-driver.ts) through the device adapter
 * against the ALOM simulator over SSH and Telnet: `userpassword NAME` as an admin with `u`,
 * `password` as the account itself, the admin changing its own password last and proven while
 * its session is open, ALOM's rules, refusals, a cut right after the change, a custom command set
 * and the legacy SSH algorithms.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { generatePassword } from '../../../layers/engine/policy.js';
import { Secret } from '../../../layers/engine/secret.js';
import { policyOf } from '../../../layers/resources/registry.js';
import { alomDriver } from '../../../layers/resources/service-processor/alom-driver.js';
import { alom, alomPasswordOk } from '../../simulators/device/alom.js';
import type { DeviceSimulator } from '../../simulators/device/index.js';
import { sshLoginWorks } from './clients.js';
import { account, credential, openAfterSettling, rejection, RESOURCE_ID, Simulators, spAdapter, spResource } from './service-processor-support.js';

const devices = new Simulators();
afterEach(() => devices.stopAll());

const USERS = [
  { name: 'admin', password: 'Admin-01', privileges: 'cuar' },
  { name: 'oper', password: 'Oper-123', privileges: 'cr' },
  { name: 'guest', password: 'Guest-12', privileges: '' },
  { name: 'ab12cd', password: 'Ab12cd-x', privileges: '' },
];

async function device(options: { legacySsh?: boolean } = {}) {
  const sp = alom({ users: USERS });
  const sim = await devices.start(sp, options);
  return { sp, sim };
}

/** An independent login over SSH (ssh2, not the adapter): does the password reach the sc> prompt? */
const sshLogin = (sim: DeviceSimulator, username: string, password: string) => sshLoginWorks(sim.sshPort, username, password, 'sc> ');

const admin = { adminAccount: `${RESOURCE_ID}/admin` };

describe('alom driver', () => {
  it('admin reset over SSH (userpassword): the new password logs in with a fresh login, the old one does not', async () => {
    const { sp, sim } = await device();
    const a = spAdapter(alomDriver, spResource('alom', sim, admin), { admin: credential('admin', 'Admin-01') });
    const result = await a.change({ account: account('oper'), newPassword: new Secret('N3w-oper') });
    expect(result.method).toMatch(/admin reset/);
    expect(await sshLogin(sim, 'oper', 'N3w-oper')).toBe(true);
    expect(await sshLogin(sim, 'oper', 'Oper-123')).toBe(false);
    expect(await a.verify({ account: account('oper'), password: new Secret('N3w-oper') })).toEqual({ valid: true });
    await a.close();
    expect(sp.unexpected).toEqual([]);
  });

  it('self change over Telnet (password: current, new, re-enter), proven by a fresh Telnet login', async () => {
    const { sp, sim } = await device();
    const a = spAdapter(alomDriver, spResource('alom', sim, { protocol: 'telnet' }));
    const result = await a.change({ account: account('guest'), newPassword: new Secret('Tel-n3t!'), currentPassword: new Secret('Guest-12') });
    expect(result.method).toMatch(/self change/);
    expect(await a.verify({ account: account('guest'), password: new Secret('Tel-n3t!') })).toEqual({ valid: true });
    expect((await a.verify({ account: account('guest'), password: new Secret('Guest-12') })).valid).toBe(false);
    expect(sp.checkPassword('guest', 'Tel-n3t!')).toBe(true);
    expect(sim.sessions.every((s) => s.transport === 'telnet')).toBe(true);
    await a.close();
    expect(await openAfterSettling(sim)).toBe(0);
  });

  it('the admin changes its own password on its session, proven by a fresh login while that session is open; the next reset uses it', async () => {
    const { sp, sim } = await device();
    const a = spAdapter(alomDriver, spResource('alom', sim, admin), { admin: credential('admin', 'Admin-01') });
    await a.change({ account: account('oper'), newPassword: new Secret('First-o1') });
    const own = await a.change({ account: account('admin'), newPassword: new Secret('Adm-new2'), currentPassword: new Secret('Admin-01') });
    expect(own.method).toMatch(/self change/);
    expect(sim.openSessions()).toBe(1);
    expect(await a.verify({ account: account('admin'), password: new Secret('Adm-new2') })).toEqual({ valid: true });
    expect(sp.checkPassword('admin', 'Admin-01')).toBe(false);
    await a.change({ account: account('guest'), newPassword: new Secret('After-g3') });
    // One admin session served all three changes; each proof was its own login.
    expect(sim.sessions.filter((s) => s.username === 'admin').length).toBe(2);
    await a.close();
    expect(sp.checkPassword('guest', 'After-g3')).toBe(true);
  });

  it('a wrong admin password is refused at the login: unchanged, nothing typed', async () => {
    const { sp, sim } = await device();
    const a = spAdapter(alomDriver, spResource('alom', sim, admin), { admin: credential('admin', 'Wrong-01') });
    const e = await rejection(a.change({ account: account('oper'), newPassword: new Secret('Never-o1') }));
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as AuthenticationError).targetMayHaveChanged).toBe(false);
    expect(e.message).not.toContain('Wrong-01');
    expect(sp.checkPassword('oper', 'Oper-123')).toBe(true);
    await a.close();
  });

  it("ALOM's own refusal (too close to the old password) is unchanged with its words; its rules a length cannot say are refused before typing", async () => {
    const { sp, sim } = await device();
    const a = spAdapter(alomDriver, spResource('alom', sim));
    const close = await rejection(a.change({ account: account('guest'), newPassword: new Secret('Guest-13'), currentPassword: new Secret('Guest-12') }));
    expect(close).toBeInstanceOf(TargetUnchangedError);
    expect(close.message).toMatch(/Invalid password entered/);
    expect(close.message).not.toContain('Guest-1');
    const noDigit = await rejection(a.change({ account: account('guest'), newPassword: new Secret('abcdefgh'), currentPassword: new Secret('Guest-12') }));
    expect(noDigit).toBeInstanceOf(InvalidConfigurationError);
    expect((noDigit as InvalidConfigurationError).field).toBe('newPassword');
    // A circular shift of the login name "ab12cd" (ALOM compares the same length, any case).
    const shift = await rejection(a.change({ account: account('ab12cd'), newPassword: new Secret('CDAB12'), currentPassword: new Secret('Ab12cd-x') }));
    expect(shift).toBeInstanceOf(InvalidConfigurationError);
    expect(shift.message).toMatch(/login name/);
    expect(sp.checkPassword('guest', 'Guest-12')).toBe(true);
    await a.close();
  });

  it('generated passwords keep within ALOM\'s rules, and the policy bounds the length to the 8 characters that count', () => {
    const policy = policyOf({ type: 'alom' });
    expect(policy.maxLength).toBe(8);
    for (let i = 0; i < 300; i++) expect(alomPasswordOk(generatePassword(policy).reveal(), 'admin')).toBe(true);
  });

  it('a cut right after the change is applied: outcome unknown, and a fresh login settles it', async () => {
    const { sim } = await device();
    const a = spAdapter(alomDriver, spResource('alom', sim, admin), { admin: credential('admin', 'Admin-01') });
    sim.setFaults({ cut: { cut: 'applied' } });
    const e = await rejection(a.change({ account: account('oper'), newPassword: new Secret('Cut-op3r') }));
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(await a.verify({ account: account('oper'), password: new Secret('Cut-op3r') })).toEqual({ valid: true });
    expect((await a.verify({ account: account('oper'), password: new Secret('Oper-123') })).valid).toBe(false);
    await a.close();
  });

  it('a custom command set runs in place of the built-in change', async () => {
    const { sp, sim } = await device();
    const commandSet = { change: ['userpassword {username}', '{password}', '{password}'], refusals: ['Error: '] };
    const a = spAdapter(alomDriver, spResource('alom', sim, { ...admin, commandSet }), { admin: credential('admin', 'Admin-01') });
    expect((await a.change({ account: account('oper'), newPassword: new Secret('Cust-0m1') })).method).toBe('custom command set');
    expect(await sshLogin(sim, 'oper', 'Cust-0m1')).toBe(true);
    const e = await rejection(a.change({ account: account('nobody'), newPassword: new Secret('Cust-0m2') }));
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toMatch(/does not exist/);
    await a.close();
    expect(sp.unexpected).toEqual([]);
  });

  it('the legacy SSH algorithms, named in the resource, reach a legacy-only ALOM', async () => {
    const { sim } = await device({ legacySsh: true });
    const legacy = { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] };
    const plain = spAdapter(alomDriver, spResource('alom', sim, admin), { admin: credential('admin', 'Admin-01') });
    expect(await rejection(plain.change({ account: account('oper'), newPassword: new Secret('Leg-acy1') }))).toBeInstanceOf(TargetUnchangedError);
    await plain.close();
    const a = spAdapter(alomDriver, spResource('alom', sim, { ...admin, sshAlgorithms: legacy }), { admin: credential('admin', 'Admin-01') });
    await a.change({ account: account('oper'), newPassword: new Secret('Leg-acy1') });
    expect(await a.verify({ account: account('oper'), password: new Secret('Leg-acy1') })).toEqual({ valid: true });
    await a.close();
  });
});
