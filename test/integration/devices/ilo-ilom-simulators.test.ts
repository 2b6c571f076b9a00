/**
 * The iLO and ILOM dialects (test/simulators/device/hp-ilo.ts, ilom.ts) served by the device
 * simulator core, over SSH and Telnet, typed at by raw clients (clients.ts), not by our adapter:
 * the login each transport asks for, the banner and prompt, the echo (iLO echoes the CLP line,
 * ILOM's password prompts echo nothing), and a change that a fresh login then proves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hpIlo } from '../../simulators/device/hp-ilo.js';
import { ilom } from '../../simulators/device/ilom.js';
import { sshLoginWorks, sshShell, telnet, telnetLogin } from './clients.js';
import { Simulators } from './service-processor-support.js';

const sims = new Simulators();
afterEach(() => sims.stopAll());

describe('iLO SMASH CLP over the simulator core', () => {
  const users = [
    { name: 'Administrator', password: 'Admin-pw-1', privileges: 'admin,config' },
    { name: 'bob', password: 'Bob-pw-22' },
  ];

  it('over SSH: banner, prompt, the echoed CLP line, status lines, and a quoted password a fresh login proves', async () => {
    const ilo = hpIlo({ users });
    const sim = await sims.start(ilo);
    const c = await sshShell(sim.sshPort, { username: 'Administrator', password: 'Admin-pw-1' });
    expect(await c.expect('</>hpiLO-> ')).toContain('User:Administrator logged-in to ILO.');
    c.send('set /map1/accounts1/bob password="with a space"\r');
    const answer = await c.expect('</>hpiLO-> ');
    expect(answer).toContain('set /map1/accounts1/bob password="with a space"\r\n');
    expect(answer).toMatch(/status=0\r\nstatus_tag=COMMAND COMPLETED\r\n/);
    c.send('exit\r');
    await c.waitClosed();
    expect(await sshLoginWorks(sim.sshPort, 'bob', 'with a space', /<\/>hpiLO-> $/)).toBe(true);
    expect(sim.sessions[0]).toMatchObject({ transport: 'ssh', username: 'Administrator' });
  });

  it('over Telnet: the login prompts (the password not echoed), a refused login, and a refusal with status=2', async () => {
    const ilo = hpIlo({ users });
    const sim = await sims.start(ilo);
    const bad = await telnet(sim.telnetPort);
    await bad.expect('Login Name: ');
    bad.send('bob\r');
    await bad.expect('Password: ');
    bad.send('wrong-one\r');
    await bad.expect('Invalid login.');
    bad.end();
    const c = await telnetLogin(sim.telnetPort, { user: 'Login Name: ', password: 'Password: ' }, 'bob', 'Bob-pw-22', /<\/>hpiLO-> $/);
    expect(c.output).not.toContain('Bob-pw-22');
    c.send('set /map1/accounts1/Administrator password=Taken-over-1\r');
    const refused = await c.expect('</>hpiLO-> ');
    expect(refused).toMatch(/status=2\r\nstatus_tag=COMMAND PROCESSING FAILED\r\nerror_tag=COMMAND ERROR-UNSPECIFIED/);
    expect(ilo.checkPassword('Administrator', 'Admin-pw-1')).toBe(true);
    c.end();
    expect(sim.sessions.filter((s) => s.transport === 'telnet').map((s) => s.username)).toContain('bob');
  });
});

describe('ILOM CLI over the simulator core', () => {
  const users = [
    { name: 'root', password: 'Root-pw-1', privileges: 'aucros' },
    { name: 'bobby', password: 'Bobby-pw-2', privileges: 'o' },
  ];

  for (const transport of ['ssh', 'telnet'] as const) {
    it(`over ${transport}: the two password prompts echo nothing, and a fresh login proves the change`, async () => {
      const sp = ilom({ users });
      const sim = await sims.start(sp);
      const c = transport === 'ssh' ? await sshShell(sim.sshPort, { username: 'root', password: 'Root-pw-1' }) : await telnetLogin(sim.telnetPort, { user: 'login: ', password: 'Password: ' }, 'root', 'Root-pw-1', /-> $/);
      if (transport === 'ssh') await c.expect('-> ');
      expect(c.output).toContain('Oracle(R) Integrated Lights Out Manager');
      c.send('set /SP/users/bobby password\r');
      await c.expect('Enter new password: ');
      c.send('Next-pw-33\r');
      await c.expect('Enter new password again: ');
      c.send('Next-pw-33\r');
      const done = await c.expect('-> ');
      expect(done).toContain('New password was successfully set for user /SP/users/bobby');
      expect(c.output).not.toContain('Next-pw-33');
      c.send('exit\r');
      await c.waitClosed();
      expect(await sshLoginWorks(sim.sshPort, 'bobby', 'Next-pw-33', /-> $/)).toBe(true);
      expect(sp.unexpected).toEqual([]);
    });
  }
});
