/**
 * The cisco-ios driver through the device adapter against the simulated IOS device
 * (test/simulators/device/cisco-ios.ts): every kind of account reset and proven by a fresh login
 * (and `enable`), the login with no user name, the password/secret conflict, a wrong enable
 * secret, `copyToStartup` on and off, a cut right after the change, a custom command set, the
 * legacy SSH algorithms, Telnet, and no password in any log, error or device log. Every outcome
 * is read from the simulator's own configuration (checkUser, checkEnable, checkLine, startup).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Credential } from '../../../layers/engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { CiscoResource } from '../../../layers/resources/cisco/schema.js';
import { Redactor } from '../../../layers/engine/redact.js';
import { DeviceSession } from '../../../layers/expect/device.js';
import { openDeviceStream } from '../../../layers/expect/device-stream.js';
import { iosDialect, withoutErasure } from '../../../layers/resources/cisco/cisco-ios-driver.js';
import { captureOutput } from '../../support/leaks.js';
import { account, credential, iosAdapter, iosDevice, iosResource, type IosDevice } from './cisco-ios-support.js';

const devices: IosDevice[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) {
    await d.sim.stop();
    expect(d.ios.unexpected, 'lines the IOS simulator did not take').toEqual([]);
  }
});

async function device(setup: string, options: Parameters<typeof iosDevice>[1] = {}): Promise<IosDevice> {
  const d = await iosDevice(setup, options);
  devices.push(d);
  return d;
}

const ADMIN = 'username admin privilege 15 secret Adm1n-pw\n';

async function withAdapter<T>(r: CiscoResource, creds: Record<string, Credential>, fn: (a: ReturnType<typeof iosAdapter>['adapter']) => Promise<T>): Promise<T> {
  const { adapter } = iosAdapter(r, creds);
  try {
    return await fn(adapter);
  } finally {
    await adapter.close();
  }
}

const change = (username: string, password: string) => ({ account: account(username), newPassword: new Secret(password) });
const verify = (username: string, password: string) => ({ account: account(username), password: new Secret(password) });
/** The stored form of a user, without its hash. */
const userLine = (d: IosDevice, name: string) => /^username .*$/m.exec(d.ios.running().split('\n').filter((l) => l.startsWith(`username ${name} `)).join('\n'))?.[0].replace(/\$\S+/, 'HASH');

describe('local users', () => {
  it('keep their form, privilege and algorithm; a name that is a prefix of another changes that user only; proven by a fresh login', async () => {
    const d = await device(`${ADMIN}username bo privilege 5 algorithm-type sha256 secret Bo-start-1\nusername bob algorithm-type scrypt secret Bob-start-1\nusername bobby password 0 Bobby-start-1\n`);
    const r = iosResource(d, { copyToStartup: false });
    await withAdapter(r, { login: credential('admin', 'Adm1n-pw') }, async (a) => {
      expect((await a.change(change('bo', 'Bo-new-1'))).method).toBe('admin reset (username bo privilege 5 algorithm-type sha256 secret …)');
      await a.change(change('bobby', 'Bobby-new-1'));
      expect((await a.verify(verify('bo', 'Bo-new-1'))).valid).toBe(true);
      expect((await a.verify(verify('bo', 'Bo-start-1'))).valid).toBe(false);
      expect((await a.verify(verify('bobby', 'Bobby-new-1'))).valid).toBe(true);
    });
    expect(userLine(d, 'bo')).toBe('username bo privilege 5 secret 8 HASH');
    expect(userLine(d, 'bob')).toBe('username bob secret 9 HASH');
    expect(userLine(d, 'bobby')).toBe('username bobby password 0 Bobby-new-1');
    expect(d.ios.checkUser('bob', 'Bob-start-1')).toBe(true);
    expect(d.ios.checkUser('bo', 'Bo-new-1')).toBe(true);
  });

  it('a name with IOS regex characters ("_", ".") is found, and a password holding "#" and ">" is not taken for a prompt as it echoes', async () => {
    const d = await device(`${ADMIN}username svc_b.x secret Svc-start-1\nusername svcXb.x secret Other-start-1\n`);
    await withAdapter(iosResource(d), { login: credential('admin', 'Adm1n-pw') }, async (a) => {
      await a.change(change('svc_b.x', 'Svc#new>1(config)#'));
      expect((await a.verify(verify('svc_b.x', 'Svc#new>1(config)#'))).valid).toBe(true);
    });
    expect(d.ios.checkUser('svcXb.x', 'Other-start-1')).toBe(true);
  });

  it('a type 5 secret stays type 5 on a release whose clear-text secrets are type 9', async () => {
    const d = await device(`${ADMIN}username md algorithm-type md5 secret Md-start-1\n`, { secretType: 9 });
    await withAdapter(iosResource(d), { login: credential('admin', 'Adm1n-pw') }, (a) => a.change(change('md', 'Md-new-1')));
    expect(userLine(d, 'md')).toBe('username md secret 5 HASH');
    expect(d.ios.checkUser('md', 'Md-new-1')).toBe(true);
  });

  it('a user the device does not have is an InvalidConfigurationError naming username, and no user is created', async () => {
    const d = await device(`${ADMIN}username bobby secret Bobby-start-1\n`);
    const before = d.ios.running();
    const e = await withAdapter(iosResource(d), { login: credential('admin', 'Adm1n-pw') }, (a) => a.change(change('bob', 'Bob-new-1')).catch((x: unknown) => x));
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('username');
    expect(d.ios.running()).toBe(before);
  });

  it('the password/secret conflict (a custom `secret` command on a password user) is unchanged with the device words, and nothing is saved', async () => {
    const d = await device(`${ADMIN}username oper password 0 Oper-start-1\n`);
    d.ios.configure('do write memory');
    const startup = d.ios.startup();
    const r = iosResource(d, {
      copyToStartup: true,
      commandSet: { change: ['username {username} secret {password}'], passwordOnCommandLine: true, configurationMode: true, refusals: ['Can not have both a user password and a user secret'] },
    });
    const e = await withAdapter(r, { login: credential('admin', 'Adm1n-pw') }, (a) => a.change(change('oper', 'Oper-new-1')).catch((x: unknown) => x));
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(String(e)).toMatch(/Can not have both a user password and a user secret/);
    expect(d.ios.checkUser('oper', 'Oper-start-1')).toBe(true);
    expect(d.ios.startup()).toBe(startup);
  });
});

describe('enable secret, enable password, line password', () => {
  it('the enable secret (a privilege-1 login enables with it) keeps its algorithm and is proven by a fresh login and enable', async () => {
    const d = await device('username ops secret Ops-start-1\nenable algorithm-type scrypt secret En-start-1\n');
    const r = iosResource(d, { loginAccount: 'ios-test/ops', enableSecretAccount: 'ios-test/enable' });
    const creds = { login: credential('ops', 'Ops-start-1'), enableSecret: credential('enable', 'En-start-1') };
    await withAdapter(r, creds, async (a) => {
      await a.change(change('enable', 'En-new-1'));
      expect((await a.verify(verify('enable', 'En-new-1'))).valid).toBe(true);
      expect((await a.verify(verify('enable', 'En-start-1'))).valid).toBe(false);
    });
    expect(d.ios.checkEnable('En-new-1')).toBe(true);
    expect(d.ios.running()).toMatch(/^enable secret 9 \$9\$/m);
  });

  it('an enable password proven with `disable` then `enable` even when the login lands privileged', async () => {
    const d = await device(`${ADMIN}enable password En-start-1\n`);
    const r = iosResource(d, { enablePasswordAccount: 'ios-test/enable' });
    await withAdapter(r, { login: credential('admin', 'Adm1n-pw'), enablePassword: credential('enable', 'En-start-1') }, async (a) => {
      await a.change(change('enable', 'En-new-1'));
      expect((await a.verify(verify('enable', 'En-new-1'))).valid).toBe(true);
      expect((await a.verify(verify('enable', 'En-start-1'))).valid).toBe(false);
    });
    expect(d.ios.running()).toMatch(/^enable password En-new-1$/m);
  });

  it('a wrong enable secret is unchanged (the login is refused), nothing is changed or saved', async () => {
    const d = await device('username ops secret Ops-start-1\nusername bob secret Bob-start-1\nenable secret En-start-1\n');
    d.ios.configure('do write memory');
    const startup = d.ios.startup();
    const r = iosResource(d, { loginAccount: 'ios-test/ops', enableSecretAccount: 'ios-test/enable', copyToStartup: true });
    const e = await withAdapter(r, { login: credential('ops', 'Ops-start-1'), enableSecret: credential('enable', 'Wrong-1') }, (a) => a.change(change('bob', 'Bob-new-1')).catch((x: unknown) => x));
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(String(e)).toMatch(/refused the enable password/);
    expect(d.ios.checkUser('bob', 'Bob-start-1')).toBe(true);
    expect(d.ios.startup()).toBe(startup);
  });

  it('over Telnet with no user name: the vty line password logs in, is changed (vty 0 15) and proven by a fresh login with it', async () => {
    const d = await device('line vty 0 15\n password 0 Vty-start-1\n login\nenable secret En-start-1\n');
    const r = iosResource(d, { protocol: 'telnet', usernameRequired: false, loginAccount: 'ios-test/vty', linePasswords: [{ line: 'vty 0 15', account: 'ios-test/vty' }], enableSecretAccount: 'ios-test/enable' });
    await withAdapter(r, { login: credential('vty', 'Vty-start-1'), enableSecret: credential('enable', 'En-start-1') }, async (a) => {
      expect((await a.change(change('vty', 'Vty-new-1'))).method).toBe('admin reset (line vty 0 15 / password 0 …)');
      expect((await a.verify(verify('vty', 'Vty-new-1'))).valid).toBe(true);
      expect((await a.verify(verify('vty', 'Vty-start-1'))).valid).toBe(false);
    });
    expect(d.ios.checkLine('vty', 'Vty-new-1')).toBe(true);
    expect(d.sim.sessions.every((s) => s.transport === 'telnet' && s.username === undefined)).toBe(true);
  });
});

describe('saving', () => {
  for (const copyToStartup of [true, false]) {
    it(`copyToStartup ${copyToStartup}: the startup configuration ${copyToStartup ? 'holds the new password' : 'is unchanged'}`, async () => {
      const d = await device(`${ADMIN}username bob secret Bob-start-1\n`);
      d.ios.configure('do write memory');
      const before = d.ios.startup();
      await withAdapter(iosResource(d, { copyToStartup }), { login: credential('admin', 'Adm1n-pw') }, (a) => a.change(change('bob', 'Bob-new-1')));
      expect(d.ios.checkUser('bob', 'Bob-new-1')).toBe(true);
      if (copyToStartup) {
        expect(d.ios.startup()).not.toBe(before);
        expect(d.ios.startup()).toBe(d.ios.running());
      } else expect(d.ios.startup()).toBe(before);
    });
  }

  it('a cut right after the change is applied is outcome unknown, nothing saved, and a fresh login shows which password holds', async () => {
    const d = await device(`${ADMIN}username bob secret Bob-start-1\n`);
    d.ios.configure('do write memory');
    const startup = d.ios.startup();
    d.sim.setFaults({ cut: { cut: 'applied' } });
    await withAdapter(iosResource(d, { copyToStartup: true }), { login: credential('admin', 'Adm1n-pw') }, async (a) => {
      await expect(a.change(change('bob', 'Bob-new-1'))).rejects.toBeInstanceOf(OutcomeUnknownError);
      expect((await a.verify(verify('bob', 'Bob-new-1'))).valid).toBe(true);
      expect((await a.verify(verify('bob', 'Bob-start-1'))).valid).toBe(false);
    });
    expect(d.ios.startup()).toBe(startup);
  });
});

describe('paging', () => {
  it('where `terminal length 0` is not sent, the dialect answers " --More-- " and reads the whole output over Telnet (600 lines, past the 512 rows our NAWS gives)', async () => {
    const users = Array.from({ length: 600 }, (_, i) => `username u${i} secret U-start-${i}`);
    const d = await device(`${ADMIN}${users.join('\n')}\n`);
    const dialect = { ...iosDialect(iosResource(d, { protocol: 'telnet' })), paging: { more: iosDialect(iosResource(d)).paging!.more! } };
    const stream = await openDeviceStream({ protocol: 'telnet', host: d.sim.host, port: d.sim.telnetPort, hostKey: { trusted: undefined } as never, timeoutMs: 5_000 });
    const session = await DeviceSession.open(stream.stream, dialect, { redactor: new Redactor(['Adm1n-pw']), timeoutMs: 5_000, login: { username: 'admin', password: new Secret('Adm1n-pw') } });
    try {
      const { output } = await session.command('show running-config | include ^username u');
      expect(withoutErasure(output).split('\n').filter((l) => /^username u\d+ secret 5 /.test(l))).toHaveLength(600);
      expect(output).not.toContain('--More--');
    } finally {
      await session.close();
      await stream.close();
    }
    // The control: without the more prompt in the dialect, the same command waits at the first page.
    const bare = await openDeviceStream({ protocol: 'telnet', host: d.sim.host, port: d.sim.telnetPort, hostKey: { trusted: undefined } as never, timeoutMs: 5_000 });
    const stuck = await DeviceSession.open(bare.stream, { ...dialect, paging: {} }, { redactor: new Redactor(['Adm1n-pw']), timeoutMs: 1_000, login: { username: 'admin', password: new Secret('Adm1n-pw') } });
    try {
      await expect(stuck.command('show running-config | include ^username u')).rejects.toThrow(/no answer within/);
    } finally {
      await stuck.close();
      await bare.close();
    }
  });
});

describe('transports and policy', () => {
  it('legacy SSH: refused without sshAlgorithms, reset with the algorithms the device needs', async () => {
    const d = await device(`${ADMIN}username bob secret Bob-start-1\n`, { legacySsh: true });
    const creds = { login: credential('admin', 'Adm1n-pw') };
    await expect(withAdapter(iosResource(d), creds, (a) => a.change(change('bob', 'Bob-new-1')))).rejects.toThrow();
    const r = iosResource(d, { sshAlgorithms: { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] } });
    await withAdapter(r, creds, (a) => a.change(change('bob', 'Bob-new-1')));
    expect(d.ios.checkUser('bob', 'Bob-new-1')).toBe(true);
  });

  it('a leading "!" or "#" or digit is refused by the policy before anything is sent', async () => {
    const d = await device(`${ADMIN}username bob secret Bob-start-1\n`);
    await withAdapter(iosResource(d), { login: credential('admin', 'Adm1n-pw') }, async (a) => {
      for (const p of ['!Bob-new-1', '#Bob-new-1', '1Bob-new']) await expect(a.change(change('bob', p))).rejects.toBeInstanceOf(InvalidConfigurationError);
    });
    expect(d.sim.sessions).toHaveLength(0);
  });

  it('no password reaches a log line, an error, the result or the device log (hidekeys)', async () => {
    const d = await device(`${ADMIN}username bob secret Bob-start-1\nenable secret En-start-1\n`);
    const r = iosResource(d, { enableSecretAccount: 'ios-test/enable', copyToStartup: true });
    const passwords = ['Adm1n-pw', 'Bob-start-1', 'En-start-1', 'Bob-New-pw-1', 'En-New-pw-1', 'Adm1n-New-1'];
    const out = captureOutput();
    const seen: string[] = [];
    try {
      const { adapter } = iosAdapter(r, { login: credential('admin', 'Adm1n-pw'), enableSecret: credential('enable', 'En-start-1') }, { debug: true });
      try {
        seen.push(JSON.stringify(await adapter.change(change('bob', 'Bob-New-pw-1'))));
        seen.push(JSON.stringify(await adapter.verify(verify('bob', 'Bob-New-pw-1'))));
        seen.push(JSON.stringify(await adapter.verify(verify('bob', 'Bob-start-1'))));
        d.sim.setFaults({ cut: { cut: 'applied' } });
        seen.push(String(await adapter.change(change('enable', 'En-New-pw-1')).catch((e: unknown) => `${String(e)} ${JSON.stringify(e)}`)));
        seen.push(JSON.stringify(await adapter.change(change('admin', 'Adm1n-New-1'))));
      } finally {
        await adapter.close();
      }
    } finally {
      out.restore();
    }
    expect(d.ios.checkUser('admin', 'Adm1n-New-1')).toBe(true);
    const haystack = { logs: out.text(), results: seen.join('\n'), 'device log': d.ios.log.join('\n') };
    expect(haystack.logs.length).toBeGreaterThan(500);
    expect(haystack['device log']).toMatch(/logged command:username bob algorithm-type md5 secret \*\*\*\*\*/);
    for (const [where, text] of Object.entries(haystack)) for (const p of passwords) expect(text.includes(p), `${where} holds a password`).toBe(false);
  });
});
