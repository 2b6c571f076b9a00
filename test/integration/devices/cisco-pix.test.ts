/**
 * The PIX driver through the device adapter against the PIX 6.3 simulator
 * (test/simulators/device/cisco-pix.ts) over SSH and Telnet: local users (privilege kept), the
 * enable password and the `passwd` login password reset and proven by fresh logins (SSH as "pix",
 * Telnet at "PIX passwd: " with no user name, and `enable`), `write memory` with copyToStartup on
 * and off proven by the configuration in Flash, `<--- More --->` answered, a wrong enable password
 * unchanged with nothing saved, a cut right after the change reconciled and not saved, a custom
 * command set, the legacy SSH algorithms.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { pixHash } from '../../simulators/device/cisco-hashes.js';
import { ciscoPix, type CiscoPix, type CiscoPixOptions } from '../../simulators/device/cisco-pix.js';
import { startDeviceSimulator, type DeviceSimulator } from '../../simulators/device/index.js';
import { account, credential, deviceAdapter } from './cisco-adapter-support.js';
import { sshShell, telnet } from './clients.js';

const ID = 'fw1';
const running: DeviceSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function device(options: CiscoPixOptions, legacySsh = false): Promise<{ fw: CiscoPix; sim: DeviceSimulator }> {
  const fw = ciscoPix({ hostname: 'fw1', ...options });
  const sim = await startDeviceSimulator(fw, { legacySsh });
  running.push(sim);
  return { fw, sim };
}

/** The passwd login (Telnet with no user name, or SSH as "pix"), then `enable`. */
function passwdResource(sim: DeviceSimulator, protocol: 'ssh' | 'telnet', over: Record<string, unknown> = {}) {
  return {
    id: ID,
    host: sim.host,
    port: protocol === 'ssh' ? sim.sshPort : sim.telnetPort,
    protocol,
    usernameRequired: false,
    loginAccount: `${ID}/telnet`,
    loginPasswordAccount: `${ID}/telnet`,
    enablePasswordAccount: `${ID}/enable`,
    copyToStartup: false,
    ...over,
  };
}

/** A local-user login (`aaa authentication ssh|telnet console LOCAL`). */
function localResource(sim: DeviceSimulator, protocol: 'ssh' | 'telnet', over: Record<string, unknown> = {}) {
  return { id: ID, host: sim.host, port: protocol === 'ssh' ? sim.sshPort : sim.telnetPort, protocol, loginAccount: `${ID}/admin`, enablePasswordAccount: `${ID}/enable`, ...over };
}

const passwdCreds = (passwd = 'Passwd-old1', enable = 'Enable-old1') => ({ login: credential(ID, 'telnet', passwd), enablePassword: credential(ID, 'enable', enable) });
const localCreds = (enable = 'Enable-old1') => ({ login: credential(ID, 'admin', 'Adm-pw-1'), enablePassword: credential(ID, 'enable', enable) });
const USERS = [
  { name: 'admin', password: 'Adm-pw-1', privilege: 15 },
  { name: 'oper', password: 'Oper-old1', privilege: 5 },
];

describe.each(['ssh', 'telnet'] as const)('cisco-pix over %s, the passwd login', (protocol) => {
  it('resets passwd and the enable password, proven by fresh logins and enable; copyToStartup off saves nothing', async () => {
    const { fw, sim } = await device({ passwd: 'Passwd-old1', enablePassword: 'Enable-old1' });
    const adapter = await deviceAdapter('cisco-pix', passwdResource(sim, protocol), passwdCreds());
    await adapter.change({ account: account(ID, 'telnet'), newPassword: new Secret('Passwd-new2'), currentPassword: new Secret('Passwd-old1') });
    await adapter.change({ account: account(ID, 'enable'), newPassword: new Secret('Enable-new2'), currentPassword: new Secret('Enable-old1') });
    expect(fw.passwdIs('Passwd-new2')).toBe(true);
    expect(fw.enablePasswordIs('Enable-new2')).toBe(true);
    expect(await adapter.verify({ account: account(ID, 'telnet'), password: new Secret('Passwd-new2') })).toEqual({ valid: true });
    expect(await adapter.verify({ account: account(ID, 'enable'), password: new Secret('Enable-new2') })).toEqual({ valid: true });
    expect((await adapter.verify({ account: account(ID, 'telnet'), password: new Secret('Passwd-old1') })).valid).toBe(false);
    expect((await adapter.verify({ account: account(ID, 'enable'), password: new Secret('Enable-old1') })).valid).toBe(false);
    await adapter.close();
    expect(fw.startup()).toContain(`passwd ${pixHash('Passwd-old1')} encrypted`);
    expect(fw.running()).toContain(`passwd ${pixHash('Passwd-new2')} encrypted`);
    expect(sim.sessions[0]!.transport).toBe(protocol);
    expect(sim.openSessions()).toBe(0);
    expect(fw.unexpected).toEqual([]);
  });
});

describe('cisco-pix, local users and write memory', () => {
  it('resets a local user over SSH keeping its privilege, answers the pager, and saves with copyToStartup', async () => {
    const { fw, sim } = await device({ enablePassword: 'Enable-old1', users: USERS, aaaLocal: ['ssh', 'telnet'] });
    const adapter = await deviceAdapter('cisco-pix', localResource(sim, 'ssh'), localCreds());
    await adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new2') });
    expect(fw.userPasswordIs('oper', 'Oper-new2')).toBe(true);
    // `show running-config` is longer than the 24-line pager: its pages were answered.
    expect(fw.running().split('\n').length).toBeGreaterThan(24);
    expect(fw.startup()).toContain(`username oper password ${pixHash('Oper-new2')} encrypted privilege 5`);
    expect(await adapter.verify({ account: account(ID, 'oper'), password: new Secret('Oper-new2') })).toEqual({ valid: true });
    expect((await adapter.verify({ account: account(ID, 'oper'), password: new Secret('Oper-old1') })).valid).toBe(false);
    await adapter.close();
    expect(fw.unexpected).toEqual([]);
  });

  it('resets a local user over Telnet ("Username: ", "Password: ")', async () => {
    const { fw, sim } = await device({ enablePassword: 'Enable-old1', users: USERS, aaaLocal: ['telnet'] });
    const adapter = await deviceAdapter('cisco-pix', localResource(sim, 'telnet', { copyToStartup: false }), localCreds());
    await adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new2') });
    expect(await adapter.verify({ account: account(ID, 'oper'), password: new Secret('Oper-new2') })).toEqual({ valid: true });
    await adapter.close();
    expect(fw.startup()).toContain(`username oper password ${pixHash('Oper-old1')} encrypted privilege 5`);
    expect(fw.unexpected).toEqual([]);
  });

  it('a wrong enable password is unchanged (AuthenticationError) and nothing is changed or saved', async () => {
    const { fw, sim } = await device({ enablePassword: 'Enable-old1', users: USERS, aaaLocal: ['ssh'] });
    const before = fw.startup();
    const adapter = await deviceAdapter('cisco-pix', localResource(sim, 'ssh'), localCreds('Not-enable-1'));
    const e = await adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new2') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as Error).message).toContain('Invalid password');
    await adapter.close();
    expect(fw.userPasswordIs('oper', 'Oper-old1')).toBe(true);
    expect(fw.startup()).toBe(before);
  });

  it('a cut right after the change is outcome unknown, reconciled by a proof, and nothing is saved', async () => {
    const { fw, sim } = await device({ enablePassword: 'Enable-old1', users: USERS, aaaLocal: ['ssh'] });
    const before = fw.startup();
    const adapter = await deviceAdapter('cisco-pix', localResource(sim, 'ssh'), localCreds());
    sim.setFaults({ cut: { cut: 'applied' } });
    const e = await adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new2') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(fw.startup()).toBe(before);
    expect(await adapter.verify({ account: account(ID, 'oper'), password: new Secret('Oper-new2') })).toEqual({ valid: true });
    await adapter.close();
  });

  it('a refusal the firewall prints is not saved: an ERROR: line is unchanged, words the driver does not know are outcome unknown', async () => {
    const { fw, sim } = await device({ enablePassword: 'Enable-old1', users: USERS, aaaLocal: ['ssh'] });
    const before = fw.startup();
    const adapter = await deviceAdapter('cisco-pix', localResource(sim, 'ssh'), localCreds());
    sim.setFaults({ refuse: 'ERROR: user table full' });
    await expect(adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new2') })).rejects.toThrow(TargetUnchangedError);
    sim.setFaults({ refuse: 'Something the driver does not know' });
    await expect(adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new3') })).rejects.toThrow(OutcomeUnknownError);
    await adapter.close();
    expect(fw.startup()).toBe(before);
    expect(fw.userPasswordIs('oper', 'Oper-old1')).toBe(true);
  });

  it('runs a custom command set in configuration mode and its save', async () => {
    const { fw, sim } = await device({ enablePassword: 'Enable-old1', users: USERS, aaaLocal: ['ssh'] });
    const commandSet = { change: ['username {username} password {password} privilege 9'], passwordOnCommandLine: true, configurationMode: true, save: 'wr mem', refusals: ['Usage:', "Type help or '\\?'"] };
    const adapter = await deviceAdapter('cisco-pix', localResource(sim, 'ssh', { commandSet }), localCreds());
    await adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new2') });
    await adapter.close();
    expect(fw.startup()).toContain(`username oper password ${pixHash('Oper-new2')} encrypted privilege 9`);
    expect(fw.unexpected).toEqual([]);
  });

  it('connects with the legacy algorithms named in sshAlgorithms to a legacy-only server', async () => {
    const { fw, sim } = await device({ passwd: 'Passwd-old1', enablePassword: 'Enable-old1' }, true);
    const legacy = { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] };
    const adapter = await deviceAdapter('cisco-pix', passwdResource(sim, 'ssh', { sshAlgorithms: legacy }), passwdCreds());
    await adapter.change({ account: account(ID, 'telnet'), newPassword: new Secret('Passwd-new2') });
    await adapter.close();
    expect(fw.passwdIs('Passwd-new2')).toBe(true);
  });
});

describe('the PIX simulator over the server core', () => {
  it('asks "PIX passwd: " over Telnet, takes "pix" over SSH, and counts only 16 characters', async () => {
    const { sim } = await device({ passwd: 'Sixteen-chars-16', enablePassword: 'Enable-old1' });
    const t = await telnet(sim.telnetPort);
    await t.expect('PIX passwd: ');
    t.send('Sixteen-chars-16 and more\r');
    await t.expect('fw1> ');
    t.send('en\r');
    await t.expect('Password: ');
    t.send('Enable-old1\r');
    await t.expect('fw1# ');
    t.send('co t\r');
    await t.expect('fw1(config)# ');
    t.send('bogus\r');
    await t.expect("Type help or '?' for a list of available commands.");
    t.send('exit\r');
    await t.expect('fw1# ');
    t.send('exit\r');
    await t.expect('Logoff');
    await t.waitClosed();
    expect(t.output).not.toContain('Sixteen-chars');
    const s = await sshShell(sim.sshPort, { username: 'pix', password: 'Sixteen-chars-16' });
    await s.expect('fw1> ');
    s.end();
    await expect(sshShell(sim.sshPort, { username: 'admin', password: 'Sixteen-chars-16' })).rejects.toThrow(/authentication/i);
  });
});
