/**
 * The Cisco IOS dialect (test/simulators/device/cisco-ios.ts) through the simulator core, over
 * SSH and Telnet: logins by local user and by line password, `enable`, configuration commands
 * with IOS abbreviations, errors, help, paging, saving, and the stored hashes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ciscoIos, type CiscoIos, type CiscoIosOptions } from '../../simulators/device/cisco-ios.js';
import { decodeType7, encodeType7, md5Crypt, verifySecret } from '../../simulators/device/cisco-secrets.js';
import { startDeviceSimulator, type DeviceSimulator } from '../../simulators/device/index.js';
import { available, type Conversation, hasTelnetlib, openSsh, python, sshShell, telnet } from './clients.js';

const running: DeviceSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function device(setup: string, options: CiscoIosOptions = {}): Promise<{ ios: CiscoIos; sim: DeviceSimulator }> {
  const ios = ciscoIos({ hostname: 'R1', ...options });
  const printed = ios.configure(setup);
  expect(printed).toBe('');
  const sim = await startDeviceSimulator(ios);
  running.push(sim);
  return { ios, sim };
}

const ADMIN = 'username admin privilege 15 secret Adm1n-pw\nusername oper password 0 Oper-pw\n';

async function ssh(sim: DeviceSimulator, username: string, password: string, prompt = /R1[>#]$/): Promise<Conversation> {
  const c = await sshShell(sim.sshPort, { username, password });
  await c.expect(prompt);
  return c;
}

/** Sends a line and returns what came back up to the next prompt. */
async function run(c: Conversation, line: string, prompt: RegExp = /R1(\([a-z-]+\))?[>#]$/m): Promise<string> {
  c.send(`${line}\r`);
  return c.expect(prompt);
}

describe('stored secrets', () => {
  it('match published vectors: type 5 from an IOS configuration, types 8 and 9 from hashcat, type 7 both ways', () => {
    expect(md5Crypt('cisco', 'mERr')).toBe('$1$mERr$hx5rVt7rPNoS4wqbXKX7m0');
    expect(verifySecret(8, '$8$TnGX/fE4KGHOVU$pEhnEvxrvaynpi8j4f.EMHr6M.FzU8xnZnBr/tJdFWk', 'hashcat')).toBe(true);
    expect(verifySecret(9, '$9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6', 'hashcat')).toBe(true);
    expect(verifySecret(9, '$9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6', 'hashcaT')).toBe(false);
    expect(decodeType7('0822455D0A16')).toBe('cisco');
    expect(encodeType7('cisco', 8)).toBe('0822455D0A16');
  });
});

describe('logins', () => {
  it('logs a local user in over SSH with the privilege of the account, and refuses a wrong password', async () => {
    const { sim } = await device(ADMIN);
    const admin = await ssh(sim, 'admin', 'Adm1n-pw');
    expect(await run(admin, 'show privilege')).toContain('Current privilege level is 15');
    expect(admin.output.trimEnd().endsWith('R1#')).toBe(true);
    const oper = await ssh(sim, 'oper', 'Oper-pw');
    expect(oper.output.trimEnd().endsWith('R1>')).toBe(true);
    await expect(sshShell(sim.sshPort, { username: 'admin', password: 'Oper-pw' })).rejects.toThrow(/authentication/i);
    admin.end();
    oper.end();
  });

  it('asks Telnet users for a user name and a password (not echoed), and says % Login invalid', async () => {
    const { sim } = await device(ADMIN);
    const c = await telnet(sim.telnetPort);
    expect(await c.expect('Username: ')).toContain('User Access Verification');
    c.send('admin\r');
    await c.expect('Password: ');
    c.send('wrong\r');
    await c.expect('% Login invalid');
    await c.expect('Username: ');
    c.send('admin\r');
    await c.expect('Password: ');
    c.send('Adm1n-pw\r');
    await c.expect('R1#');
    expect(c.output).not.toContain('Adm1n-pw');
    c.end();
  });

  it('takes the line password alone where the vty has login and a password, over Telnet and SSH', async () => {
    const { sim, ios } = await device('line vty 0 15\n password Line-pw\n login\n');
    expect(ios.login.usernameRequired()).toBe(false);
    const c = await telnet(sim.telnetPort);
    const before = await c.expect('Password: ');
    expect(before).not.toContain('Username:');
    c.send('Line-pw\r');
    await c.expect('R1>');
    c.end();
    const s = await ssh(sim, 'anyone', 'Line-pw');
    // SSH always sends a user name; the line password alone is checked.
    expect(sim.sessions.at(-1)!.username).toBe('anyone');
    s.end();
    await expect(sshShell(sim.sshPort, { username: 'anyone', password: 'wrong' })).rejects.toThrow(/authentication/i);
  });
});

describe('enable', () => {
  it('takes the enable secret, refuses a wrong one three times with % Bad secrets, and disable drops back', async () => {
    const { sim } = await device(`${ADMIN}enable secret En-secret\nenable password En-pw\n`);
    const c = await ssh(sim, 'oper', 'Oper-pw');
    c.send('enable\r');
    for (let i = 0; i < 3; i++) {
      await c.expect('Password: ');
      c.send(i === 0 ? 'En-pw\r' : 'nope\r');
    }
    expect(await c.expect('R1>')).toContain('% Bad secrets');
    c.send('en\r');
    await c.expect('Password: ');
    c.send('En-secret\r');
    await c.expect('R1#');
    expect(c.output).not.toContain('En-secret');
    await run(c, 'disable');
    expect(c.output.trimEnd().endsWith('R1>')).toBe(true);
    c.end();
  });

  it('takes the enable password when no secret is set (% Bad passwords otherwise), and says % No password set with neither', async () => {
    const withPassword = await device(`${ADMIN}enable password 7 ${'0822455D0A16'}\n`);
    expect(withPassword.ios.checkEnable('cisco')).toBe(true);
    const c = await ssh(withPassword.sim, 'oper', 'Oper-pw');
    c.send('enable\r');
    for (let i = 0; i < 3; i++) {
      await c.expect('Password: ');
      c.send('bad\r');
    }
    expect(await c.expect('R1>')).toContain('% Bad passwords');
    c.send('enable\r');
    await c.expect('Password: ');
    c.send('cisco\r');
    await c.expect('R1#');
    c.end();
    const bare = await device(ADMIN);
    const b = await ssh(bare.sim, 'oper', 'Oper-pw');
    expect(await run(b, 'enable')).toContain('% No password set');
    b.end();
  });
});

describe('configuration commands', () => {
  it('takes abbreviations and changes the startup configuration only on copy or write', async () => {
    const { sim, ios } = await device(ADMIN);
    const c = await ssh(sim, 'admin', 'Adm1n-pw');
    expect(await run(c, 'conf t')).toContain('Enter configuration commands, one per line.  End with CNTL/Z.');
    expect(c.output.trimEnd().endsWith('R1(config)#')).toBe(true);
    await run(c, 'userna newbie priv 5 sec New-pw');
    await run(c, 'end');
    expect(ios.checkUser('newbie', 'New-pw')).toBe(true);
    expect(ios.config.users.get('newbie')!.privilege).toBe(5);
    expect(ios.startup()).not.toContain('newbie');
    c.send('copy run start\r');
    await c.expect('Destination filename [startup-config]? ');
    expect(await run(c, '')).toContain('Building configuration...\r\n[OK]');
    expect(ios.startup()).toContain('username newbie privilege 5 secret 5 $1$');
    await run(c, 'configure terminal');
    await run(c, 'no username newbie');
    await run(c, 'exit');
    expect(ios.running()).not.toContain('newbie');
    expect(ios.startup()).toContain('newbie');
    expect(await run(c, 'wr mem')).toContain('[OK]');
    expect(ios.startup()).not.toContain('newbie');
    c.send('configure\r');
    await c.expect('Configuring from terminal, memory, or network [terminal]? ');
    expect(await run(c, '')).toMatch(/R1\(config\)#$/);
    c.end();
    expect(ios.unexpected).toEqual([]);
  });

  it('refuses a secret for a user with a password, and a password for a user with a secret', async () => {
    const { sim, ios } = await device(ADMIN);
    const c = await ssh(sim, 'admin', 'Adm1n-pw');
    await run(c, 'configure terminal');
    expect(await run(c, 'username oper secret Other')).toContain('Can not have both a user password and a user secret');
    expect(await run(c, 'username admin password Other')).toContain('Can not have both a user password and a user secret');
    expect(ios.checkUser('oper', 'Oper-pw')).toBe(true);
    expect(ios.checkUser('admin', 'Adm1n-pw')).toBe(true);
    expect(await run(c, 'username oper password 0 Changed-pw')).not.toContain('ERROR');
    expect(ios.checkUser('oper', 'Changed-pw')).toBe(true);
    c.end();
  });

  it('stores secrets as type 5, 8 and 9 hashes and passwords as type 7 under service password-encryption', async () => {
    const { sim, ios } = await device(ADMIN, { secretType: 9 });
    const c = await ssh(sim, 'admin', 'Adm1n-pw');
    await run(c, 'configure terminal');
    await run(c, 'enable secret Ena-9');
    await run(c, 'username md5 algorithm-type md5 secret Md5-pw');
    await run(c, 'username pb algorithm-type sha256 secret Pb-pw');
    await run(c, 'line vty 0 4');
    await run(c, 'password Vty-pw');
    await run(c, 'service password-encryption');
    c.send('\x1a');
    await c.expect(/R1#$/);
    await run(c, 'terminal length 0');
    const config = await run(c, 'show running-config');
    const secret = /enable secret 9 (\S+)/.exec(config)![1]!;
    expect(verifySecret(9, secret, 'Ena-9')).toBe(true);
    expect(verifySecret(5, /username md5 secret 5 (\S+)/.exec(config)![1]!, 'Md5-pw')).toBe(true);
    expect(verifySecret(8, /username pb secret 8 (\S+)/.exec(config)![1]!, 'Pb-pw')).toBe(true);
    expect(decodeType7(/username oper password 7 (\S+)/.exec(config)![1]!)).toBe('Oper-pw');
    expect(config).toMatch(/line vty 0 4\r\n password 7 \S+\r\n login local\r\nline vty 5 15\r\n login local/);
    expect(config).not.toMatch(/Vty-pw|Oper-pw|Ena-9/);
    expect(config).toMatch(/^Building configuration\.\.\.\r\n\r\nCurrent configuration : \d+ bytes/m);
    expect(ios.checkLine('vty', 'Vty-pw')).toBe(true);
    c.end();
  });

  it('filters show running-config with | include, keeping the trailing space of the regex', async () => {
    const { sim } = await device(`${ADMIN}username admin2 privilege 15 secret X2\n`);
    const c = await ssh(sim, 'admin', 'Adm1n-pw');
    const out = await run(c, 'show running-config | include ^username admin ');
    expect(out).toMatch(/username admin privilege 15 secret 5 \$1\$/);
    expect(out).not.toContain('admin2');
    expect(out).not.toContain('Building configuration');
    await run(c, 'conf t');
    expect(await run(c, 'do sh run | i ^username oper')).toContain('username oper password 0 Oper-pw');
    c.end();
  });

  it('says ambiguous, incomplete and invalid as IOS does, with the caret under the bad word', async () => {
    const { sim, ios } = await device(ADMIN);
    const c = await ssh(sim, 'admin', 'Adm1n-pw');
    expect(await run(c, 's')).toContain('% Ambiguous command:  "s"');
    expect(await run(c, 'show')).toContain('% Incomplete command.');
    const invalid = await run(c, 'show runing-config');
    expect(invalid).toContain(`\r\n${' '.repeat('R1#show '.length)}^\r\n% Invalid input detected at '^' marker.`);
    await run(c, 'conf t');
    expect(await run(c, 'en')).toContain('% Ambiguous command:  "en"');
    expect(await run(c, 'username bob')).toContain('% Incomplete command.');
    expect(await run(c, 'enable secret 5 notahash')).toContain('ERROR: The secret you entered is not a valid encrypted secret.');
    expect(ios.unexpected).toEqual(['show runing-config']);
    await run(c, 'interface Gi0/1');
    expect(ios.unexpected).toContain('interface Gi0/1');
    c.end();
  });

  it('answers ? with the words that may follow, and types the line again', async () => {
    const { sim } = await device(ADMIN);
    const c = await ssh(sim, 'admin', 'Adm1n-pw');
    await run(c, 'terminal length 0');
    c.send('show ?');
    const help = await c.expect('R1#show ');
    expect(help).toMatch(/running-config\s+Current operating configuration/);
    expect(help).toMatch(/startup-config\s+Contents of startup configuration/);
    c.send('priv\r');
    expect(await c.expect('R1#')).toContain('Current privilege level is 15');
    c.send('wr?');
    expect(await c.expect('R1#wr')).toContain('write');
    c.send('\x15?');
    expect(await c.expect('R1#')).toContain('Exec commands:');
    c.end();
  });

  it('leaves line and configuration modes with exit, end and Ctrl-Z, and takes global commands in line mode', async () => {
    const { sim, ios } = await device(ADMIN);
    const c = await ssh(sim, 'admin', 'Adm1n-pw');
    await run(c, 'conf t');
    expect(await run(c, 'line con 0')).toMatch(/R1\(config-line\)#$/);
    await run(c, 'password Con-pw');
    await run(c, 'exec-timeout 5 30');
    expect(await run(c, 'exit')).toMatch(/R1\(config\)#$/);
    await run(c, 'line vty 0 15');
    expect(await run(c, 'hostname Edge', /Edge\(config\)#$/)).toContain('hostname Edge');
    expect(await run(c, 'end', /Edge#$/)).toMatch(/Edge#$/);
    expect(ios.running()).toContain('line con 0\n exec-timeout 5 30\n password Con-pw\n');
    await run(c, 'conf t', /Edge\(config\)#$/);
    expect(await run(c, 'hostname R1\x1a', /R1#$/)).toContain('^Z');
    c.end();
  });

  it('pages show running-config at the terminal length and not after terminal length 0', async () => {
    const users = Array.from({ length: 30 }, (_, i) => `username u${i} password 0 P${i}`).join('\n');
    const { sim } = await device(`${ADMIN}${users}\n`);
    const c = await ssh(sim, 'admin', 'Adm1n-pw');
    await run(c, 'terminal length 10');
    c.send('show running-config\r');
    // The echoed command, then a page: the length less the line the more prompt takes.
    const page = await c.expect(' --More-- ');
    expect(page.split('\r\n')).toHaveLength(1 + 9 + 1);
    expect(page).toContain('Building configuration...');
    c.send('q');
    await c.expect('R1#');
    await run(c, 'term len 0');
    const all = await run(c, 'show running-config');
    expect(all).not.toContain('--More--');
    expect(all).toContain('username u29 password 0 P29');
    c.end();
  });

  it('boots from a startup configuration, which show startup-config prints', async () => {
    const startup = 'hostname Core\n!\nenable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0\nusername admin privilege 15 password 0 Pw\n!\nline vty 0 15\n login local\n!\nend\n';
    const ios = ciscoIos({ config: startup });
    expect(ios.checkEnable('cisco')).toBe(true);
    const sim = await startDeviceSimulator(ios);
    running.push(sim);
    const c = await ssh(sim, 'admin', 'Pw', /Core#$/);
    expect(await run(c, 'show startup-config', /Core#$/)).toContain('enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0');
    c.end();
    expect(ios.unexpected).toEqual([]);
  });
});

describe('faults and logout', () => {
  it('prints an armed refusal instead of changing a user, and a cut after the change leaves it applied but unsaved', async () => {
    const { sim, ios } = await device(ADMIN);
    const c = await ssh(sim, 'admin', 'Adm1n-pw');
    await run(c, 'conf t');
    sim.setFaults({ refuse: '% Password policy violation' });
    expect(await run(c, 'username oper password 0 Refused-pw')).toContain('% Password policy violation');
    expect(ios.checkUser('oper', 'Oper-pw')).toBe(true);
    sim.setFaults({ cut: { cut: 'applied' } });
    c.send('enable secret Cut-pw\r');
    await c.waitClosed();
    expect(ios.checkEnable('Cut-pw')).toBe(true);
    expect(ios.startup()).toBe('');
    expect(sim.openSessions()).toBe(0);
  });

  it('ends the session on logout, quit and exit', async () => {
    const { sim } = await device(ADMIN);
    for (const word of ['logout', 'quit', 'exit']) {
      const c = await ssh(sim, 'admin', 'Adm1n-pw');
      c.send(`${word}\r`);
      await c.waitClosed();
      expect(c.output.trimEnd().endsWith(word)).toBe(true);
    }
    expect(sim.openSessions()).toBe(0);
  });
});

describe('independent clients', () => {
  it('changes a user over OpenSSH ssh -tt', async (ctx) => {
    if (!available('ssh', ['-V'])) {
      console.log('skipped: OpenSSH client (ssh) not installed');
      return ctx.skip();
    }
    const { sim, ios } = await device(ADMIN);
    const c = await openSsh(sim.sshPort, 'admin', 'Adm1n-pw');
    await c.expect('R1#', 10000);
    await run(c, 'conf t');
    await run(c, 'username admin secret Via-openssh');
    await run(c, 'end');
    c.send('exit\r');
    await c.waitClosed(10000);
    expect(ios.checkUser('admin', 'Via-openssh')).toBe(true);
  });

  it('logs in and saves over Python telnetlib', async (ctx) => {
    if (!hasTelnetlib()) {
      console.log('skipped: python3 telnetlib not available (removed in Python 3.13)');
      return ctx.skip();
    }
    const { sim, ios } = await device(ADMIN);
    const r = await python(`
import telnetlib
t = telnetlib.Telnet('127.0.0.1', ${sim.telnetPort}, 5)
t.read_until(b'Username: ', 5); t.write(b'admin\\r\\n')
t.read_until(b'Password: ', 5); t.write(b'Adm1n-pw\\r\\n')
t.read_until(b'R1#', 5); t.write(b'write memory\\r\\n')
print(t.read_until(b'R1#', 5).decode())
t.write(b'exit\\r\\n'); t.read_all()
`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Building configuration...');
    expect(ios.startup()).toContain('username admin privilege 15 secret 5 ');
  });
});
