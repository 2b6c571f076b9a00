/**
 * The ProCurve and ScreenOS dialects served by the device simulator core (startDeviceSimulator),
 * driven by the independent test clients (ssh2's Client, a raw Telnet socket), not our adapter:
 * the login conversations as each vendor runs them, echo, paging, the save and logout questions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hpProcurve } from '../../simulators/device/hp-procurve.js';
import { sha1Hex } from '../../simulators/device/hp-procurve-config.js';
import { startDeviceSimulator, type DeviceSimulator, type Dialect } from '../../simulators/device/index.js';
import { juniperNetscreen } from '../../simulators/device/juniper-netscreen.js';
import { checkPassword } from '../../simulators/device/juniper-netscreen-config.js';
import { sshShell, telnet } from './clients.js';

const sims: DeviceSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function serve(dialect: Dialect): Promise<DeviceSimulator> {
  const sim = await startDeviceSimulator(dialect);
  sims.push(sim);
  return sim;
}

describe('hp-procurve served over the core', () => {
  it('Telnet: banner and "Press any key" before the login, the password not echoed, abbreviations, logout that saves only on y', async () => {
    const sw = hpProcurve({ manager: { username: 'admin', password: 'Mgr-Pw-1' } });
    const sim = await serve(sw);
    const c = await telnet(sim.telnetPort);
    const first = await c.expect('Press any key to continue');
    expect(first).toContain('RESTRICTED RIGHTS LEGEND');
    expect(first).not.toContain('Username:');
    c.send(' ');
    await c.expect('Username: ');
    c.send('admin\r');
    await c.expect('Password: ');
    c.send('Mgr-Pw-1\r');
    await c.expect('HP-Switch# ');
    expect(c.output).not.toContain('Mgr-Pw-1');
    c.send('conf\r');
    await c.expect('HP-Switch(config)# ');
    c.send('password manager user-name admin\r');
    await c.expect('New password for manager: ');
    c.send('Mgr-Pw-2\r');
    await c.expect('Please retype new password for manager: ');
    c.send('Mgr-Pw-2\r');
    await c.expect('HP-Switch(config)# ');
    expect(c.output).not.toContain('Mgr-Pw-2');
    expect(sw.running().manager?.sha1).toBe(sha1Hex('Mgr-Pw-2'));
    c.send('logout\r');
    await c.expect('Do you want to log out [y/n]? ');
    c.send('y');
    await c.expect('Do you want to save the current configuration [y/n/^C]? ');
    c.send('n');
    await c.waitClosed();
    expect(sw.startup().manager?.sha1).toBe(sha1Hex('Mgr-Pw-1'));
    expect(sim.sessions[0]?.window).toEqual({ columns: 132, rows: 50 });
  });

  it('SSH: authenticated by SSH, then the banner and the key; wr mem saves; a second login needs the new password', async () => {
    const sw = hpProcurve({ manager: { username: 'admin', password: 'Mgr-Pw-1' } });
    const sim = await serve(sw);
    const c = await sshShell(sim.sshPort, { username: 'admin', password: 'Mgr-Pw-1' });
    await c.expect('Press any key to continue');
    c.send(' ');
    await c.expect('HP-Switch# ');
    c.send('configure terminal\r');
    await c.expect('(config)# ');
    c.send('password operator user-name ops\r');
    await c.expect('New password for operator: ');
    c.send('Op-Pw-1\r');
    await c.expect('Please retype new password for operator: ');
    c.send('Op-Pw-1\r');
    await c.expect('(config)# ');
    c.send('wr mem\r');
    await c.expect('(config)# ');
    expect(sw.startup().operator).toEqual({ username: 'ops', sha1: sha1Hex('Op-Pw-1') });
    c.end();
    const o = await sshShell(sim.sshPort, { username: 'ops', password: 'Op-Pw-1' });
    await o.expect('Press any key to continue');
    o.send(' ');
    await o.expect('HP-Switch> ');
    o.end();
  });
});

describe('juniper-netscreen served over the core', () => {
  it('Telnet: login:/password:, the echoed set admin line, "--- more ---" paging, and exit\'s save question answered n', async () => {
    const admins = Array.from({ length: 30 }, (_, i) => ({ name: `a${i}`, password: `Pw-${i}`, privilege: 'all' as const }));
    const ns = juniperNetscreen({ rootPassword: 'Root-Pw-1', admins });
    const sim = await serve(ns);
    const c = await telnet(sim.telnetPort, { naws: { columns: 80, rows: 10 } });
    await c.expect('login: ');
    c.send('netscreen\r');
    await c.expect('password: ');
    c.send('Root-Pw-1\r');
    await c.expect('ns-> ');
    expect(c.output).not.toContain('Root-Pw-1');
    c.send('get admin user\r');
    await c.expect('--- more --- ');
    c.send(' ');
    await c.expect('ns-> ');
    expect(c.output).toContain('a9 ');
    c.send('set ad us a1 password "New-Pw-1" privilege all\r');
    await c.expect('ns-> ');
    expect(checkPassword(ns.running().users.get('a1')!, 'New-Pw-1')).toBe(true);
    c.send('exit\r');
    await c.expect('Configuration modified, save? [y]/n ');
    c.send('n');
    await c.waitClosed();
    expect(checkPassword(ns.startup().users.get('a1')!, 'Pw-1')).toBe(true);
  });

  it('SSH: the license question on a factory device, a refusal ends the session and the next login asks again', async () => {
    const ns = juniperNetscreen({ licensePending: true });
    const sim = await serve(ns);
    const c = await sshShell(sim.sshPort, { username: 'netscreen', password: 'netscreen' });
    await c.expect('Accept this agreement y/[n] ');
    c.send('n');
    await c.waitClosed();
    expect(ns.licenseAccepted).toBe(false);
    const again = await sshShell(sim.sshPort, { username: 'netscreen', password: 'netscreen' });
    await again.expect('Accept this agreement y/[n] ');
    again.send('y');
    await again.expect('ns-> ');
    expect(ns.licenseAccepted).toBe(true);
    again.send('save\r');
    await again.expect('Done');
    again.end();
  });
});
