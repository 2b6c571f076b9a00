/**
 * The ALOM and XSCF dialects (test/simulators/device/alom.ts, xscf.ts) through the simulator
 * core, over SSH and Telnet: the login (enforced), the admin reset and the own change at their
 * prompts, a refusal, and the new password proven by a fresh login.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { alom } from '../../simulators/device/alom.js';
import { startDeviceSimulator, type DeviceSimulator } from '../../simulators/device/index.js';
import { xscf } from '../../simulators/device/xscf.js';
import { sshShell, telnetLogin, type Conversation } from './clients.js';

const running: DeviceSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function started(dialect: Parameters<typeof startDeviceSimulator>[0]): Promise<DeviceSimulator> {
  const sim = await startDeviceSimulator(dialect);
  running.push(sim);
  return sim;
}

/** Sends a line, returns what came back up to `until`. */
async function say(c: Conversation, line: string, until: RegExp | string): Promise<string> {
  c.send(`${line}\r`);
  return c.expect(until);
}

describe('ALOM through the simulator core', () => {
  const users = [
    { name: 'admin', password: 'admin123', privileges: 'cuar' },
    { name: 'oper', password: 'oper123x', privileges: 'cr' },
  ];
  const prompts = { user: 'Please login: ', password: 'Please Enter password: ' };

  it('over SSH: userpassword as an admin with u, proven by a fresh login; the rules refuse a weak one', async () => {
    const sp = alom({ users });
    const sim = await started(sp);
    await expect(sshShell(sim.sshPort, { username: 'admin', password: 'wrong123' })).rejects.toThrow(/authentication/i);
    const c = await sshShell(sim.sshPort, { username: 'admin', password: 'admin123' });
    await c.expect('sc> ');
    await say(c, 'userpassword oper', 'New password: ');
    await say(c, 'abcdef', 'Re-enter new password: ');
    expect(await say(c, 'abcdef', 'sc> ')).toContain('Error: Invalid password entered.');
    expect(sp.checkPassword('oper', 'oper123x')).toBe(true);
    await say(c, 'userpassword oper', 'New password: ');
    await say(c, 'n3w-Pass', 'Re-enter new password: ');
    const answer = await say(c, 'n3w-Pass', 'sc> ');
    expect(answer).not.toContain('n3w-Pass');
    expect(answer).not.toMatch(/Error/);
    c.send('logout\r');
    await c.waitClosed();
    const fresh = await sshShell(sim.sshPort, { username: 'oper', password: 'n3w-Pass' });
    await fresh.expect('sc> ');
    fresh.end();
  });

  it('over Telnet: password changes the login\'s own account after its current one', async () => {
    const sp = alom({ users });
    const sim = await started(sp);
    const c = await telnetLogin(sim.telnetPort, prompts, 'oper', 'oper123x', 'sc> ');
    expect(c.output).toContain('Advanced Lights Out Manager');
    await say(c, 'password', 'Enter current password: ');
    await say(c, 'wrong12x', 'sc> ');
    await say(c, 'password', 'Enter current password: ');
    await say(c, 'oper123x', 'Enter new password: ');
    await say(c, 'Fresh-9z', 'Re-enter new password: ');
    expect(await say(c, 'Fresh-9z', 'sc> ')).not.toMatch(/Error/);
    expect(c.output).not.toContain('Fresh-9z');
    c.send('logout\r');
    await c.waitClosed();
    expect(sp.checkPassword('oper', 'Fresh-9z')).toBe(true);
    const again = await telnetLogin(sim.telnetPort, prompts, 'oper', 'Fresh-9z', 'sc> ');
    again.end();
    const old = await telnetLogin(sim.telnetPort, prompts, 'oper', 'oper123x', 'Login incorrect');
    old.end();
    expect(sp.unexpected).toEqual([]);
  });
});

describe('XSCF through the simulator core', () => {
  const users = [
    { name: 'admin', password: 'Adm1n-pass', privileges: 'useradm,platadm' },
    { name: 'oper', password: 'Oper-pass1', privileges: 'platop' },
  ];
  const prompts = { user: 'login: ', password: 'Password: ' };

  it('over SSH: password NAME as useradm, proven by a fresh login; a user without useradm is refused', async () => {
    const sp = xscf({ users });
    const sim = await started(sp);
    const c = await sshShell(sim.sshPort, { username: 'admin', password: 'Adm1n-pass' });
    await c.expect('XSCF> ');
    await say(c, 'password oper', 'New XSCF password: ');
    await say(c, 'Reset-pw-42', 'Retype new XSCF password: ');
    expect(await say(c, 'Reset-pw-42', 'XSCF> ')).not.toMatch(/BAD|Sorry|password:/);
    c.send('exit\r');
    await c.waitClosed();
    const oper = await sshShell(sim.sshPort, { username: 'oper', password: 'Reset-pw-42' });
    await oper.expect('XSCF> ');
    expect(await say(oper, 'password admin', 'XSCF> ')).toContain('Permission denied');
    oper.end();
    expect(sp.checkPassword('admin', 'Adm1n-pass')).toBe(true);
  });

  it('over Telnet: password for the own account, current first; the policy refuses a weak one', async () => {
    const sp = xscf({ users });
    const sim = await started(sp);
    const c = await telnetLogin(sim.telnetPort, prompts, 'oper', 'Oper-pass1', 'XSCF> ');
    await say(c, 'password', 'Current password: ');
    await say(c, 'Oper-pass1', 'New XSCF password: ');
    expect(await say(c, 'short', 'New XSCF password: ')).toContain('BAD PASSWORD');
    await say(c, 'Own-new-pass7', 'Retype new XSCF password: ');
    expect(await say(c, 'Own-new-pass7', 'XSCF> ')).not.toMatch(/BAD|Sorry/);
    c.send('exit\r');
    await c.waitClosed();
    const again = await telnetLogin(sim.telnetPort, prompts, 'oper', 'Own-new-pass7', 'XSCF> ');
    again.end();
    expect(sp.checkPassword('oper', 'Oper-pass1')).toBe(false);
    expect(sp.unexpected).toEqual([]);
  });
});
