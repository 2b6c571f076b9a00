import { describe, expect, it } from 'vitest';
import { AuthenticationError, OutcomeUnknownError, TargetTimeoutError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Redactor } from '../../../layers/engine/redact.js';
import { Secret } from '../../../layers/engine/secret.js';
import { DeviceSession, type DeviceDialect, type DeviceLogin } from '../../../layers/expect/device.js';
import { FAKE_DIALECT, FakeDevice, type FakeDeviceOptions } from './fake-device.js';

const LOGIN = 'Lp9!qZ-login';
const ENABLE = 'En4@bleXyz';

async function open(device: FakeDeviceOptions, login: DeviceLogin | undefined, options: { dialect?: DeviceDialect; timeoutMs?: number } = {}): Promise<{ d: FakeDevice; s: DeviceSession }> {
  const d = new FakeDevice(device);
  const opening = DeviceSession.open(d.stream, options.dialect ?? FAKE_DIALECT, { redactor: new Redactor(), timeoutMs: options.timeoutMs ?? 500, name: 'fake device', ...(login ? { login } : {}) });
  d.start();
  return { d, s: await opening };
}

async function openPrivileged(options: Partial<FakeDeviceOptions> = {}): Promise<{ d: FakeDevice; s: DeviceSession }> {
  const r = await open({ username: 'admin', password: LOGIN, enable: ENABLE, pagingOff: true, ...options }, { username: 'admin', password: new Secret(LOGIN) });
  await r.s.enable(new Secret(ENABLE));
  return r;
}

describe('device session: login', () => {
  it('answers a user name and password, finds the user prompt and turns paging off', async () => {
    const { d, s } = await open({ username: 'admin', password: LOGIN, pagingOff: true }, { username: 'admin', password: new Secret(LOGIN) });
    expect(s.mode).toBe('user');
    expect(d.paging).toBe(false);
    expect(d.lines).toEqual(['terminal length 0']);
    expect(s.transcript()).not.toContain(LOGIN);
    await s.close();
    expect(d.lines.at(-1)).toBe('exit');
  });

  it('logs in with the password alone (a line password)', async () => {
    const { s } = await open({ password: LOGIN, pagingOff: true }, { password: new Secret(LOGIN) });
    expect(s.mode).toBe('user');
    expect(s.transcript()).toContain('Password: ');
    expect(s.transcript()).not.toContain('Username');
  });

  it('finds the prompt of a session the transport authenticated, in the privileged mode it starts in', async () => {
    const { s } = await open({ password: LOGIN, noLogin: true, privileged: true, pagingOff: true }, undefined);
    expect(s.mode).toBe('privileged');
  });

  it('dismisses "Press any key to continue" before the login', async () => {
    const { s, d } = await open({ username: 'admin', password: LOGIN, pressAnyKey: true, pagingOff: true }, { username: 'admin', password: new Secret(LOGIN) });
    expect(s.mode).toBe('user');
    expect(d.stream.sent.startsWith(' admin\n')).toBe(true);
  });

  it('a refused password is AuthenticationError, without the password, and the stream is closed', async () => {
    const d = new FakeDevice({ username: 'admin', password: LOGIN });
    const opening = DeviceSession.open(d.stream, FAKE_DIALECT, { redactor: new Redactor(), timeoutMs: 500, login: { username: 'admin', password: new Secret('wrong-pass-1') } });
    d.start();
    const e = await opening.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as Error).message).toContain('% Login invalid');
    expect((e as Error).message).not.toContain('wrong-pass-1');
    expect(d.stream.closeCalls).toBe(1);
    // Nothing was typed at the login prompt after the refusal (no "exit" taken for a user name).
    expect(d.stream.sent).toBe('admin\nwrong-pass-1\n');
  });

  it('a user name the device asks for and the login lacks is AuthenticationError', async () => {
    const d = new FakeDevice({ username: 'admin', password: LOGIN });
    const opening = DeviceSession.open(d.stream, FAKE_DIALECT, { redactor: new Redactor(), timeoutMs: 500, login: { password: new Secret(LOGIN) } });
    d.start();
    await expect(opening).rejects.toThrow(/asks for a user name/);
  });

  it('a banner that speaks of refusals is not taken for one before anything was typed', async () => {
    const dialect: DeviceDialect = { ...FAKE_DIALECT, login: { ...FAKE_DIALECT.login, failed: /Access denied/ } };
    const d = new FakeDevice({ username: 'admin', password: LOGIN, pagingOff: true });
    const opening = DeviceSession.open(d.stream, dialect, { redactor: new Redactor(), timeoutMs: 500, login: { username: 'admin', password: new Secret(LOGIN) } });
    d.stream.push('WARNING: Access denied to unauthorized users.\r\n');
    d.start();
    expect((await opening).mode).toBe('user');
  });

  it('no prompt at all is TargetTimeoutError', async () => {
    const d = new FakeDevice({ username: 'admin', password: LOGIN });
    await expect(DeviceSession.open(d.stream, FAKE_DIALECT, { redactor: new Redactor(), timeoutMs: 50 })).rejects.toBeInstanceOf(TargetTimeoutError);
  });

  it('answers --More-- when paging cannot be turned off', async () => {
    const { s, d } = await open({ username: 'admin', password: LOGIN }, { username: 'admin', password: new Secret(LOGIN) });
    expect(d.paging).toBe(true);
    const { output } = await s.command('show long');
    const lines = output.split(/\r?\n/).map((l) => l.replace(/[\b ]+/g, ' ').trim()).filter(Boolean);
    expect(lines).toEqual(Array.from({ length: 25 }, (_, i) => `line ${i + 1}`));
    expect(output).not.toContain('--More--');
    expect(output).not.toContain('show long');
  });
});

describe('device session: modes', () => {
  it('enable with the right password reaches privileged mode; again is a no-op', async () => {
    const { s, d } = await openPrivileged();
    expect(s.mode).toBe('privileged');
    const sent = d.stream.sent;
    await s.enable(new Secret(ENABLE));
    expect(d.stream.sent).toBe(sent);
    expect(s.transcript()).not.toContain(ENABLE);
  });

  it('a refused enable password is AuthenticationError with the device words, redacted, and the session stays usable', async () => {
    const { s } = await open({ username: 'admin', password: LOGIN, enable: ENABLE, pagingOff: true }, { username: 'admin', password: new Secret(LOGIN) });
    const e = await s.enable(new Secret('Bad-enable-9')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as Error).message).toContain('% Access denied');
    expect((e as Error).message).not.toContain('Bad-enable-9');
    expect(s.mode).toBe('user');
    await expect(s.command('show long')).resolves.toBeDefined();
  });

  it('enters and leaves configuration mode', async () => {
    const { s, d } = await openPrivileged();
    await s.configure();
    expect(s.mode).toBe('configuration');
    expect(d.mode).toBe('configuration');
    await s.leaveConfiguration();
    expect(s.mode).toBe('privileged');
    expect(d.mode).toBe('privileged');
  });

  it('configure from user mode (the device refuses it) is TargetUnchangedError', async () => {
    const { s } = await open({ username: 'admin', password: LOGIN, pagingOff: true }, { username: 'admin', password: new Secret(LOGIN) });
    await expect(s.configure()).rejects.toBeInstanceOf(TargetUnchangedError);
  });
});

describe('device session: commands', () => {
  it('answers the prompts of a command with Secrets, and returns the output without the echo', async () => {
    const { s, d } = await openPrivileged();
    await s.configure();
    const pw = new Secret('N3w-Manager-Pw');
    const { output } = await s.command('password manager', {
      change: true,
      answers: [
        { pattern: /New password: $/, reply: pw, once: true },
        { pattern: /retype new password: $/, reply: pw, once: true },
      ],
      success: [/Password updated/],
      refusals: [/do not match/],
    });
    expect(d.users.get('manager')).toEqual({ form: 'password', value: 'N3w-Manager-Pw' });
    expect(output).toContain('Password updated.');
    expect(output).not.toContain('password manager');
    expect(s.transcript()).not.toContain('N3w-Manager-Pw');
  });

  it('reads a large output (a whole configuration) to the prompt', async () => {
    const { s, d } = await openPrivileged();
    const config = Array.from({ length: 4000 }, (_, i) => `interface GigabitEthernet0/${i}\r\n description port ${i} of the core switch`).join('\r\n');
    d.custom = (line, dev) => line === 'show running-config' && (dev.say(`${config}\r\n`), dev.prompt(), true);
    const { output } = await s.command('show running-config');
    expect(output.length).toBeGreaterThan(200_000);
    expect(output.endsWith('port 3999 of the core switch\r\n')).toBe(true);
  });

  it('before a change, an error marker is TargetUnchangedError with the device words', async () => {
    const { s } = await openPrivileged();
    const e = await s.command('show nonsense').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toContain('% Invalid input detected');
  });

  it('a known refusal after the change is TargetUnchangedError, redacted, and the session goes on', async () => {
    const { s, d } = await openPrivileged();
    d.users.set('bob', { form: 'password', value: 'old' });
    await s.configure();
    const e = await s.command(['username bob secret ', new Secret('Conflict-Pw-1')], { change: true, refusals: [/Can not have both a user password and a user secret/] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toContain('Can not have both');
    expect((e as Error).message).not.toMatch(/Conf|flic|t-Pw/);
    await expect(s.command('end')).resolves.toBeDefined();
  });

  it('an error marker not among the refusals after the change is OutcomeUnknownError', async () => {
    const { s } = await openPrivileged();
    await s.configure();
    const e = await s.command(['username bob sekret ', new Secret('Unknown-Pw-1')], { change: true, refusals: [/Can not have both/] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect((e as Error).message).not.toContain('Unknown-Pw-1');
  });

  it('output that is not the known success is OutcomeUnknownError', async () => {
    const { s } = await openPrivileged();
    await s.configure();
    await expect(s.command(['username bob secret ', new Secret('Quiet-Pw-1')], { change: true, success: [/Password updated/] })).rejects.toBeInstanceOf(OutcomeUnknownError);
  });

  it("a secret whose echo contains the success marker is not read as success", async () => {
    const { s } = await openPrivileged();
    await s.configure();
    const e = await s.command(['username bob secret ', new Secret('x[OK]y-Pw-1')], { change: true, success: [/\[OK\]/] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OutcomeUnknownError);
  });

  it('a command on a session the device closed, before any change, is not an unknown outcome', async () => {
    const { s, d } = await openPrivileged();
    d.hangUp();
    await expect(s.command(['username bob secret ', new Secret('Late-Pw-1')], { change: true })).rejects.toBeInstanceOf(TargetUnchangedError);
  });

  it('a close right after the change command is OutcomeUnknownError; close() afterwards does not throw', async () => {
    const { s, d } = await openPrivileged();
    await s.configure();
    d.custom = (line, dev) => (line.startsWith('username') ? (dev.hangUp(), true) : false);
    await expect(s.command(['username bob secret ', new Secret('Cut-Pw-1')], { change: true })).rejects.toBeInstanceOf(OutcomeUnknownError);
    await expect(s.close()).resolves.toBeUndefined();
  });

  it('no prompt after the change is OutcomeUnknownError; before a change TargetTimeoutError', async () => {
    const { s, d } = await openPrivileged();
    d.custom = (line) => line === 'hang' || line.startsWith('username');
    await expect(s.command('hang', { timeoutMs: 50 })).rejects.toBeInstanceOf(TargetTimeoutError);
    d.custom = (line) => line.startsWith('username');
    await expect(s.command(['username bob secret ', new Secret('Hang-Pw-1')], { change: true, timeoutMs: 50 })).rejects.toBeInstanceOf(OutcomeUnknownError);
  });

  it('a question nobody answers after the change is OutcomeUnknownError', async () => {
    const { s } = await openPrivileged();
    await s.configure();
    await expect(s.command('password manager', { change: true, timeoutMs: 80 })).rejects.toBeInstanceOf(OutcomeUnknownError);
  });

  it('save answers the destination question and succeeds on [OK]', async () => {
    const { s, d } = await openPrivileged();
    await s.configure();
    await s.command(['username bob secret ', new Secret('Saved-Pw-1')], { change: true });
    await s.leaveConfiguration();
    await s.save();
    expect(d.startup).toBe('changed bob');
  });
});

describe('device session: close', () => {
  it('from configuration mode after an error: leaves it, logs out answering the question, never saves', async () => {
    const { s, d } = await openPrivileged();
    d.askOnLogout = true;
    await s.configure();
    await s.command(['username bob sekret ', new Secret('Err-Pw-1')], { change: true }).catch(() => undefined);
    await s.close();
    expect(d.lines.slice(-2)).toEqual(['end', 'exit']);
    expect(d.stream.sent.endsWith('exit\ny')).toBe(true);
    expect(d.startup).toBe('');
  });

  it('is idempotent and never throws on a dead stream', async () => {
    const { s, d } = await openPrivileged();
    await s.configure();
    d.hangUp();
    await expect(s.close()).resolves.toBeUndefined();
    await expect(s.close()).resolves.toBeUndefined();
  });

  it('is bounded when the device stops answering', async () => {
    const { s, d } = await open({ username: 'admin', password: LOGIN, pagingOff: true }, { username: 'admin', password: new Secret(LOGIN) }, { timeoutMs: 100 });
    d.custom = () => true;
    const t0 = Date.now();
    await s.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(d.stream.closeCalls).toBe(1);
  });
});
