/**
 * The device simulators' shared core (test/simulators/device/{server,terminal,index}.ts) with a
 * vendor-free test dialect: SSH and Telnet logins, echo, line editing, Telnet negotiation, paging
 * and every fault switch; OpenSSH's ssh and Python's telnetlib as independent clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect, Terminal } from '../../simulators/device/dialect.js';
import { startDeviceSimulator, type DeviceSimulator } from '../../simulators/device/index.js';
import { TelnetServerCodec } from '../../simulators/device/server.js';
import { available, hasTelnetlib, openSsh, python, sshShell, telnet } from './clients.js';

const accounts = new Map([['op', 'op-pass']]);
let askUsername = true;
const seen: string[] = [];
let value = 'initial';

/** A small CLI: `lines N`, `len N`, `set X` (a change), `secret`, `key`, `quit`, anything else echoed back. */
const testDialect: Dialect = {
  name: 'testbox',
  login: {
    usernameRequired: () => askUsername,
    usernamePrompt: 'login: ',
    passwordPrompt: 'Password: ',
    failed: 'Login incorrect\n',
    attempts: 2,
    banner: () => 'Welcome to testbox\n',
    authenticate: (username, password) => {
      if (!askUsername) return password === 'line-pass' ? { who: 'line' } : undefined;
      return username !== undefined && accounts.get(username) === password ? { who: username } : undefined;
    },
  },
  paging: { lines: 24, more: '-- more --', erase: '\r          \r' },
  idleLogout: 'Session timed out\n',
  async session(term: Terminal) {
    for (;;) {
      const line = await term.read('box> ', { help: true });
      if (line === undefined) return;
      seen.push(line);
      const [word, arg] = line.trim().split(/\s+/);
      if (line.endsWith('?')) await term.print(`help for [${line.slice(0, -1)}]\n`);
      else if (word === 'lines') await term.print(Array.from({ length: Number(arg) }, (_, i) => `line ${i + 1}\n`).join(''));
      else if (word === 'len') term.pageLength = Number(arg);
      else if (word === 'set') {
        const refused = term.refusal();
        if (refused) await term.print(`${refused}\n`);
        else {
          value = arg ?? '';
          term.applied('value');
          await term.print('done\n');
        }
      } else if (word === 'secret') {
        const s = await term.read('Secret: ', { echo: false });
        await term.print(`secret has ${s?.length} characters\n`);
      } else if (word === 'key') {
        const k = await term.key('Press any key');
        await term.print(`\nkey ${JSON.stringify(k)}\n`);
      } else if (word === 'quit') return term.close();
      else await term.print(`you said ${JSON.stringify(line)}\n`);
    }
  },
};

let sim: DeviceSimulator;
beforeAll(async () => {
  sim = await startDeviceSimulator(testDialect);
});
afterAll(async () => {
  await sim.stop();
});

async function telnetLogin(options: Parameters<typeof telnet>[1] = {}) {
  const c = await telnet(sim.telnetPort, options);
  await c.expect('login: ');
  c.send('op\r\n');
  await c.expect('Password: ');
  c.send('op-pass\r\n');
  await c.expect('box> ');
  return c;
}

describe('SSH', () => {
  it('logs in with the password the dialect accepts, records the pty, and refuses a wrong one', async () => {
    const c = await sshShell(sim.sshPort, { username: 'op', password: 'op-pass', pty: { rows: 40, cols: 100, term: 'vt220' } });
    await c.expect('box> ');
    c.send('hello\r');
    expect(await c.expect('box> ')).toContain('you said "hello"');
    const record = sim.sessions.at(-1)!;
    expect(record).toMatchObject({ transport: 'ssh', username: 'op', window: { columns: 100, rows: 40 }, terminalType: 'vt220', closed: false });
    c.send('quit\r');
    await c.waitClosed();
    expect(record.closed).toBe(true);
    await expect(sshShell(sim.sshPort, { username: 'op', password: 'wrong' })).rejects.toThrow(/authentication/i);
  });

  it('offers only the legacy algorithms in legacy mode, so a modern-only client cannot connect', async () => {
    const legacy = await startDeviceSimulator(testDialect, { legacySsh: true });
    try {
      await expect(sshShell(legacy.sshPort, { username: 'op', password: 'op-pass' })).rejects.toThrow(/handshake|no matching/i);
      const c = await sshShell(legacy.sshPort, {
        username: 'op',
        password: 'op-pass',
        algorithms: { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] },
      });
      await c.expect('box> ');
      c.send('quit\r');
      await c.waitClosed();
      if (!available('ssh', ['-V'])) return console.log('skipped the OpenSSH half: ssh not installed');
      const refused = await openSsh(legacy.sshPort, 'op', 'op-pass');
      await refused.waitClosed(10000);
      expect(refused.stderr()).toMatch(/no matching/i);
      const named = await openSsh(legacy.sshPort, 'op', 'op-pass', [
        '-o', 'KexAlgorithms=+diffie-hellman-group14-sha1',
        '-o', 'HostKeyAlgorithms=+ssh-rsa',
        '-o', 'Ciphers=+aes128-cbc',
        '-o', 'MACs=+hmac-sha1',
      ]);
      await named.expect('box> ', 10000);
      named.send('quit\r');
      await named.waitClosed(10000);
    } finally {
      await legacy.stop();
    }
  });

  it('serves OpenSSH ssh -tt with a password from SSH_ASKPASS', async (ctx) => {
    if (!available('ssh', ['-V'])) {
      console.log('skipped: OpenSSH client (ssh) not installed');
      return ctx.skip();
    }
    const c = await openSsh(sim.sshPort, 'op', 'op-pass');
    await c.expect('box> ', 10000);
    c.send('lines 2\r');
    expect(await c.expect('box> ')).toContain('line 2');
    c.send('quit\r');
    await c.waitClosed(10000);
    const bad = await openSsh(sim.sshPort, 'op', 'nope');
    await bad.waitClosed(10000);
    expect(bad.stderr()).toMatch(/Permission denied/);
  });
});

describe('Telnet', () => {
  it('negotiates ECHO, SGA, NAWS and TTYPE, records the window and terminal type, and pages at the window height', async () => {
    const c = await telnetLogin({ naws: { columns: 255, rows: 12 }, ttype: 'VT100' });
    expect(c.commands.slice(0, 4)).toEqual(['WILL 1', 'WILL 3', 'DO 31', 'DO 24']);
    expect(c.commands).toContain('SB 24 1');
    expect(sim.sessions.at(-1)).toMatchObject({ transport: 'telnet', username: 'op', window: { columns: 255, rows: 12 }, terminalType: 'VT100' });
    c.send('lines 20\r');
    const page = await c.expect('-- more --');
    expect(page).toContain('line 11\r\n');
    expect(page).not.toContain('line 12');
    c.send('q');
    const rest = await c.expect('box> ');
    expect(rest).not.toContain('line 12');
    c.end();
  });

  it('does not echo the password and asks only for it when no user name is required', async () => {
    askUsername = false;
    try {
      const c = await telnet(sim.telnetPort);
      const before = await c.expect('Password: ');
      expect(before).toContain('Welcome to testbox');
      expect(before).not.toContain('login: ');
      c.send('line-pass\r');
      await c.expect('box> ');
      expect(c.output).not.toContain('line-pass');
      expect(sim.sessions.at(-1)!.username).toBeUndefined();
      c.send('secret\r');
      await c.expect('Secret: ');
      c.send('hunter2\r');
      expect(await c.expect('box> ')).toContain('secret has 7 characters');
      expect(c.output).not.toContain('hunter2');
      c.end();
    } finally {
      askUsername = true;
    }
  });

  it('prints the failed message after each wrong login and hangs up after the allowed tries', async () => {
    const c = await telnet(sim.telnetPort);
    for (let i = 0; i < 2; i++) {
      await c.expect('login: ');
      c.send('op\r');
      await c.expect('Password: ');
      c.send('bad\r');
      await c.expect('Login incorrect');
    }
    await c.waitClosed();
    expect(c.output).not.toContain('box> ');
  });

  it('gives a client that refuses NAWS the dialect default paging, and no paging after the page length is 0', async () => {
    const c = await telnetLogin({ naws: false, ttype: false });
    expect(sim.sessions.at(-1)!.window).toBeUndefined();
    c.send('lines 30\r');
    const page = await c.expect('-- more --');
    expect(page).toContain('line 23\r\n');
    expect(page).not.toContain('line 24');
    c.send('\r');
    const one = await c.expect('-- more --');
    expect(one).toContain('line 24');
    expect(one).not.toContain('line 25');
    c.send(' ');
    const last = await c.expect('box> ');
    expect(last).toContain('line 30');
    c.send('len 0\r');
    await c.expect('box> ');
    c.send('lines 60\r');
    const all = await c.expect('box> ');
    expect(all).toContain('line 60');
    expect(all).not.toContain('-- more --');
    c.end();
  });

  it('edits lines with backspace, DEL and Ctrl-U, and takes CR, LF, CR LF and CR NUL as one line end each', async () => {
    const c = await telnetLogin();
    c.send('abx\bc\r\n');
    expect(await c.expect('box> ')).toContain('you said "abc"');
    c.send('zzz\x15ok\x7f\x7fyes\n');
    expect(await c.expect('box> ')).toContain('you said "yes"');
    c.send('one\r\0two\rthree\r\n');
    await c.expect('you said "three"');
    expect(seen.slice(-3)).toEqual(['one', 'two', 'three']);
    c.end();
  });

  it('ends a line at ? on request and types the text before it again after the next prompt', async () => {
    const c = await telnetLogin();
    c.send('sho?');
    expect(await c.expect('box> sho')).toContain('help for [sho]');
    c.send('w\r');
    expect(await c.expect('box> ')).toContain('you said "show"');
    c.send('key\r');
    await c.expect('Press any key');
    c.send('y');
    expect(await c.expect('box> ')).toContain('key "y"');
    c.end();
  });

  it('undoubles IAC in a subnegotiation and doubles it on output', () => {
    const codec = new TelnetServerCodec();
    codec.decode(Buffer.from([255, 250, 31, 0, 255, 255, 0, 30, 255, 240]));
    expect(codec.window).toEqual({ columns: 255, rows: 30 });
    expect([...codec.decode(Buffer.from([65, 255, 255, 66])).data]).toEqual([65, 255, 66]);
    expect([...codec.encode('a\rb')]).toEqual([97, 13, 0, 98]);
  });

  it('serves Python telnetlib, which refuses every option', async (ctx) => {
    if (!hasTelnetlib()) {
      console.log('skipped: python3 telnetlib not available (removed in Python 3.13)');
      return ctx.skip();
    }
    const r = await python(`
import telnetlib
t = telnetlib.Telnet('127.0.0.1', ${sim.telnetPort}, 5)
t.read_until(b'login: ', 5); t.write(b'op\\r\\n')
t.read_until(b'Password: ', 5); t.write(b'op-pass\\r\\n')
t.read_until(b'box> ', 5); t.write(b'lines 3\\r\\n')
print(t.read_until(b'box> ', 5).decode())
t.write(b'quit\\r\\n'); t.read_all(); print('CLOSED')
`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('line 3');
    expect(r.stdout.trim().endsWith('CLOSED')).toBe(true);
    expect(sim.sessions.at(-1)).toMatchObject({ transport: 'telnet', username: 'op', closed: true });
    expect(sim.sessions.at(-1)!.window).toBeUndefined();
  });
});

describe('faults', () => {
  it('cuts on a received line before the dialect sees it', async () => {
    const c = await telnetLogin();
    sim.setFaults({ cut: { cut: 'received', line: /^set / } });
    const before = seen.length;
    c.send('set cut-received\r');
    await c.waitClosed();
    expect(seen.length).toBe(before);
    expect(value).not.toBe('cut-received');
    expect(sim.sessions.at(-1)!.closed).toBe(true);
  });

  it('cuts right after the change is applied, before the answer', async () => {
    const c = await telnetLogin();
    sim.setFaults({ cut: { cut: 'applied' } });
    c.send('set cut-applied\r');
    await c.waitClosed();
    expect(value).toBe('cut-applied');
    expect(c.output).not.toContain('done');
    const again = await telnetLogin();
    again.send('set after\r');
    expect(await again.expect('box> ')).toContain('done');
    again.end();
  });

  it('refuses the next change once with the armed message', async () => {
    const c = await telnetLogin();
    sim.setFaults({ refuse: 'policy says no' });
    c.send('set refused\r');
    expect(await c.expect('box> ')).toContain('policy says no');
    expect(value).not.toBe('refused');
    c.send('set accepted\r');
    expect(await c.expect('box> ')).toContain('done');
    expect(value).toBe('accepted');
    c.end();
  });

  it('holds slow output and sends it in small pieces', async () => {
    const c = await telnetLogin();
    sim.setFaults({ slowOutputMs: 40 });
    const start = Date.now();
    const chunksBefore = c.chunks.length;
    c.send('lines 2\r');
    await c.expect('box> ');
    expect(Date.now() - start).toBeGreaterThanOrEqual(40 * 8);
    expect(c.chunks.length - chunksBefore).toBeGreaterThan(4);
    sim.setFaults({});
    c.end();
  });

  it('logs an idle session out with the dialect words', async () => {
    sim.setFaults({ idleTimeoutMs: 200 });
    try {
      const c = await telnetLogin();
      const open = sim.openSessions();
      expect(open).toBeGreaterThan(0);
      await c.expect('Session timed out');
      await c.waitClosed();
      expect(sim.openSessions()).toBe(open - 1);
    } finally {
      sim.setFaults({});
    }
  });
});
