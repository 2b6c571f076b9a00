/**
 * The CatOS driver through the device adapter against the CatOS simulator
 * (test/simulators/device/cisco-catos.ts) over SSH and Telnet: local users, the login password
 * and the enable password reset and proven by fresh logins (and `enable`), a login with no user
 * name, paging, a wrong enable password and a wrong old password unchanged, a cut right after the
 * change reconciled, a custom command set, the legacy SSH algorithms. CatOS has no save step.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { ciscoCatos, type CiscoCatos, type CiscoCatosOptions } from '../../simulators/device/cisco-catos.js';
import { startDeviceSimulator, type DeviceSimulator } from '../../simulators/device/index.js';
import { account, credential, deviceAdapter } from './cisco-adapter-support.js';
import { sshShell, telnet } from './clients.js';

const ID = 'sw1';
const running: DeviceSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function device(options: CiscoCatosOptions, legacySsh = false): Promise<{ sw: CiscoCatos; sim: DeviceSimulator }> {
  const sw = ciscoCatos({ systemName: 'sw1', ...options });
  const sim = await startDeviceSimulator(sw, { legacySsh });
  running.push(sim);
  return { sw, sim };
}

/** A Telnet login with the login password alone, then `enable` with the enable password. */
function telnetResource(sim: DeviceSimulator, over: Record<string, unknown> = {}) {
  return { id: ID, host: sim.host, port: sim.telnetPort, protocol: 'telnet', usernameRequired: false, loginAccount: `${ID}/login`, loginPasswordAccount: `${ID}/login`, enablePasswordAccount: `${ID}/enable`, ...over };
}

/** An SSH login as a local user (`set authentication login local enable`). */
function sshResource(sim: DeviceSimulator, over: Record<string, unknown> = {}) {
  return { id: ID, host: sim.host, port: sim.sshPort, protocol: 'ssh', loginAccount: `${ID}/admin`, enablePasswordAccount: `${ID}/enable`, ...over };
}

describe('cisco-catos over Telnet, the login password alone', () => {
  it('resets the login password and then the enable password, each proven by a fresh login; nothing unexpected', async () => {
    const { sw, sim } = await device({ loginPassword: 'Login-old1', enablePassword: 'Enable-old1' });
    const adapter = await deviceAdapter('cisco-catos', telnetResource(sim), { login: credential(ID, 'login', 'Login-old1'), enablePassword: credential(ID, 'enable', 'Enable-old1') });
    await adapter.change({ account: account(ID, 'login'), newPassword: new Secret('Login-new2'), currentPassword: new Secret('Login-old1') });
    await adapter.change({ account: account(ID, 'enable'), newPassword: new Secret('Enable-new2'), currentPassword: new Secret('Enable-old1') });
    expect(sw.loginPasswordIs('Login-new2')).toBe(true);
    expect(sw.enablePasswordIs('Enable-new2')).toBe(true);
    expect(await adapter.verify({ account: account(ID, 'login'), password: new Secret('Login-new2') })).toEqual({ valid: true });
    expect(await adapter.verify({ account: account(ID, 'enable'), password: new Secret('Enable-new2') })).toEqual({ valid: true });
    expect((await adapter.verify({ account: account(ID, 'enable'), password: new Secret('Enable-old1') })).valid).toBe(false);
    expect((await adapter.verify({ account: account(ID, 'login'), password: new Secret('Login-old1') })).valid).toBe(false);
    await adapter.close();
    // One session served both changes; the proofs logged in afresh.
    expect(sim.sessions[0]!.transport).toBe('telnet');
    expect(sim.openSessions()).toBe(0);
    expect(sw.unexpected).toEqual([]);
  });

  it('a wrong enable password is unchanged (AuthenticationError) and nothing changes', async () => {
    const { sw, sim } = await device({ loginPassword: 'Login-old1', enablePassword: 'Enable-old1' });
    const adapter = await deviceAdapter('cisco-catos', telnetResource(sim), { login: credential(ID, 'login', 'Login-old1'), enablePassword: credential(ID, 'enable', 'Not-the-enable') });
    const e = await adapter.change({ account: account(ID, 'login'), newPassword: new Secret('Login-new2'), currentPassword: new Secret('Login-old1') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as Error).message).toContain('Sorry password incorrect');
    expect((e as Error).message).not.toContain('Not-the-enable');
    await adapter.close();
    expect(sw.loginPasswordIs('Login-old1')).toBe(true);
  });

  it('a wrong old password at set enablepass is unchanged, in the switch\'s words', async () => {
    const { sw, sim } = await device({ loginPassword: 'Login-old1', enablePassword: 'Enable-old1' });
    const adapter = await deviceAdapter('cisco-catos', telnetResource(sim), { login: credential(ID, 'login', 'Login-old1'), enablePassword: credential(ID, 'enable', 'Enable-old1') });
    const e = await adapter.change({ account: account(ID, 'login'), newPassword: new Secret('Login-new2'), currentPassword: new Secret('Wrong-old-9') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toContain('Sorry password incorrect');
    // The session goes on: the next change on it works.
    await adapter.change({ account: account(ID, 'enable'), newPassword: new Secret('Enable-new2'), currentPassword: new Secret('Enable-old1') });
    await adapter.close();
    expect(sw.loginPasswordIs('Login-old1')).toBe(true);
    expect(sw.enablePasswordIs('Enable-new2')).toBe(true);
    expect(sim.sessions).toHaveLength(1);
  });

  it('a cut right after set enablepass is outcome unknown, and a proof reconciles it', async () => {
    const { sw, sim } = await device({ loginPassword: 'Login-old1', enablePassword: 'Enable-old1' });
    const adapter = await deviceAdapter('cisco-catos', telnetResource(sim), { login: credential(ID, 'login', 'Login-old1'), enablePassword: credential(ID, 'enable', 'Enable-old1') });
    sim.setFaults({ cut: { cut: 'applied' } });
    const e = await adapter.change({ account: account(ID, 'enable'), newPassword: new Secret('Enable-new2'), currentPassword: new Secret('Enable-old1') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(sw.enablePasswordIs('Enable-new2')).toBe(true);
    expect(await adapter.verify({ account: account(ID, 'enable'), password: new Secret('Enable-new2') })).toEqual({ valid: true });
    await adapter.close();
  });
});

describe('cisco-catos over SSH, local users', () => {
  it('resets a local user keeping its privilege, proven by a fresh SSH login', async () => {
    const users = [{ name: 'admin', password: 'Admin-pw1', privilege: 15 }, { name: 'oper', password: 'Oper-old1', privilege: 7 }];
    const { sw, sim } = await device({ localLogin: true, enablePassword: 'Enable-old1', localUsers: users });
    const adapter = await deviceAdapter('cisco-catos', sshResource(sim), { login: credential(ID, 'admin', 'Admin-pw1'), enablePassword: credential(ID, 'enable', 'Enable-old1') });
    await adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new2'), currentPassword: new Secret('Oper-old1') });
    await adapter.change({ account: account(ID, 'admin'), newPassword: new Secret('Admin-new2'), currentPassword: new Secret('Admin-pw1') });
    expect(sw.userPasswordIs('oper', 'Oper-new2')).toBe(true);
    expect(sw.running()).toMatch(/set localuser user oper password \S+ privilege 7\n/);
    expect(sw.running()).toMatch(/set localuser user admin password \S+ privilege 15\n/);
    expect(await adapter.verify({ account: account(ID, 'oper'), password: new Secret('Oper-new2') })).toEqual({ valid: true });
    // The login's own new password serves the proof of the enable password that follows.
    expect(await adapter.verify({ account: account(ID, 'enable'), password: new Secret('Enable-old1') })).toEqual({ valid: true });
    expect((await adapter.verify({ account: account(ID, 'oper'), password: new Secret('Oper-old1') })).valid).toBe(false);
    await adapter.close();
    expect(sw.unexpected).toEqual([]);
    // `set length 0` for the session only: the default screen length is not written.
    expect(sw.startup()).not.toContain('set length');
  });

  it('does not create a local user the switch does not have', async () => {
    const { sw, sim } = await device({ localLogin: true, enablePassword: 'Enable-old1', localUsers: [{ name: 'admin', password: 'Admin-pw1', privilege: 15 }] });
    const adapter = await deviceAdapter('cisco-catos', sshResource(sim), { login: credential(ID, 'admin', 'Admin-pw1'), enablePassword: credential(ID, 'enable', 'Enable-old1') });
    await expect(adapter.change({ account: account(ID, 'ghost'), newPassword: new Secret('Ghost-new2') })).rejects.toThrow(TargetUnchangedError);
    await adapter.close();
    expect(sw.running()).not.toContain('ghost');
  });

  it('runs a custom command set, its refusal unchanged', async () => {
    const { sw, sim } = await device({ localLogin: true, enablePassword: 'Enable-old1', localUsers: [{ name: 'admin', password: 'Admin-pw1', privilege: 15 }, { name: 'oper', password: 'Oper-old1' }] });
    const commandSet = { change: ['set localuser user {username} password {password} privilege 3'], passwordOnCommandLine: true, success: ['Updated local user'], refusals: ['Unknown command', 'Usage:', 'table full'] };
    const adapter = await deviceAdapter('cisco-catos', sshResource(sim, { commandSet }), { login: credential(ID, 'admin', 'Admin-pw1'), enablePassword: credential(ID, 'enable', 'Enable-old1') });
    await adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new2') });
    expect(sw.running()).toMatch(/set localuser user oper password \S+ privilege 3\n/);
    sim.setFaults({ refuse: 'Local user table full.' });
    await expect(adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new3') })).rejects.toThrow(TargetUnchangedError);
    await adapter.close();
    expect(sw.userPasswordIs('oper', 'Oper-new2')).toBe(true);
  });

  it('refuses a local user on a switch whose logins take no user name, before connecting', async () => {
    const { sim } = await device({ loginPassword: 'Login-old1', enablePassword: 'Enable-old1' });
    const adapter = await deviceAdapter('cisco-catos', telnetResource(sim), { login: credential(ID, 'login', 'Login-old1'), enablePassword: credential(ID, 'enable', 'Enable-old1') });
    const e = await adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new2') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('usernameRequired');
    await adapter.close();
    expect(sim.sessions).toHaveLength(0);
  });

  it('connects with the legacy algorithms named in sshAlgorithms to a legacy-only server, and not without them', async () => {
    const { sw, sim } = await device({ localLogin: true, enablePassword: 'Enable-old1', localUsers: [{ name: 'admin', password: 'Admin-pw1', privilege: 15 }, { name: 'oper', password: 'Oper-old1' }] }, true);
    const creds = { login: credential(ID, 'admin', 'Admin-pw1'), enablePassword: credential(ID, 'enable', 'Enable-old1') };
    const plain = await deviceAdapter('cisco-catos', sshResource(sim), creds);
    await expect(plain.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new2') })).rejects.toThrow();
    await plain.close();
    const legacy = { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] };
    const adapter = await deviceAdapter('cisco-catos', sshResource(sim, { sshAlgorithms: legacy }), creds);
    await adapter.change({ account: account(ID, 'oper'), newPassword: new Secret('Oper-new2') });
    await adapter.close();
    expect(sw.userPasswordIs('oper', 'Oper-new2')).toBe(true);
  });
});

describe('the CatOS simulator over the server core', () => {
  it('serves Telnet with "Enter password: " and SSH by local user, with its prompts and paging', async () => {
    const { sim } = await device({ loginPassword: 'Login-old1', enablePassword: 'Enable-old1', localUsers: [{ name: 'admin', password: 'Admin-pw1', privilege: 15 }] });
    const t = await telnet(sim.telnetPort);
    await t.expect('Enter password: ');
    t.send('Login-old1\r');
    await t.expect('sw1> ');
    t.send('enable\r');
    await t.expect('Enter password: ');
    t.send('Enable-old1\r');
    await t.expect('sw1> (enable) ');
    t.send('set length 5\r');
    await t.expect('Screen length for this session set to 5.');
    t.send('show config\r');
    await t.expect('--More--');
    t.send('q');
    await t.expect('sw1> (enable) ');
    expect(t.output).not.toContain('Login-old1');
    t.send('exit\r');
    await t.waitClosed();
    // Without local authentication an SSH login is the switch's password, whatever the name.
    const s = await sshShell(sim.sshPort, { username: 'anyone', password: 'Login-old1' });
    await s.expect('sw1> ');
    s.send('set password\r');
    await s.expect(/Unknown command "set password"/);
    s.end();
  });
});
