import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { ALL_PRINTABLE_ASCII, unixPasswordWorks, withRootPassword } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { account, credential, installKey, passwordOfBytes, resource, sshHostKeySha256, unixAdapter, Users } from './support.js';

// An admin reset and a self change proven by logins, and one login serving a group, are the
// adapter contract's (test/contracts/fixtures/unix.ts); here, what is the Unix adapter's own.
const PROTOCOLS = ['ssh', 'telnet'] as const;

for (const protocol of PROTOCOLS) {
  describeServer(protocol, `Unix adapter over ${protocol}`, (info) => {
    const users = new Users();
    let proxy: FaultProxy;
    beforeEach(async () => {
      proxy = await FaultProxy.start(info);
    });
    afterEach(async () => {
      await proxy.close();
    });
    afterAll(() => users.deleteAll());

    /** The resource reached through the proxy, so tests can count connections. */
    const through = (over: Record<string, unknown>) => resource({ protocol, host: proxy.host, port: proxy.port, login: { account: 'unix-test/admin' }, ...over });

    describe('privilege sudo', () => {
      const adminPassword = `Sudo-admin "${protocol}" \\ 1`;
      let admin: string;
      beforeEach(async () => {
        admin ??= await users.create('ux_sudo', adminPassword, { sudo: true });
      });
      const sudoAdapter = () => unixAdapter(through({ privilege: { mode: 'sudo' } }), { login: credential(admin, adminPassword) });

      it('takes every printable ASCII character, a space, quotes, backslash, Unicode and 511 bytes', async () => {
        const name = await users.create('ux_gaunt', 'Old-gauntlet-1');
        const adapter = sudoAdapter();
        const passwords = [
          ALL_PRINTABLE_ASCII,
          ' leading and trailing space ',
          `'"\\'\\"\\\\ $(id) \`id\` ; | & > < * ? ~ # !`,
          '-n -e \\c %s %d',
          'pässwörd-日本語-😀-ÿ',
          passwordOfBytes(511),
        ];
        for (const password of passwords) {
          await adapter.change({ account: account(name), newPassword: new Secret(password) });
          expect(await unixPasswordWorks(name, password), JSON.stringify(password.slice(0, 20))).toBe(true);
        }
        await adapter.close();
        expect(proxy.connections).toBe(1);
        expect(await unixPasswordWorks(name, 'Old-gauntlet-1')).toBe(false);
      });

      it('refuses a newline, a NUL or 512 bytes before connecting; the old password still works', async () => {
        const name = await users.create('ux_refuse', 'Old-refuse-1');
        const adapter = sudoAdapter();
        for (const password of ['Abc\nroot:x', 'Abc\0def', passwordOfBytes(512), 'tab\there', '']) {
          const e = await adapter.change({ account: account(name), newPassword: new Secret(password) }).catch((x: unknown) => x);
          expect(e).toBeInstanceOf(InvalidConfigurationError);
          expect((e as InvalidConfigurationError).field).toBe('newPassword');
        }
        await adapter.close();
        expect(proxy.connections).toBe(0);
        expect(await unixPasswordWorks(name, 'Old-refuse-1')).toBe(true);
      });

      it('refuses user names that a shell would read as more, before connecting, and runs nothing', async () => {
        const flag = `/tmp/rpr-pwned-${randomBytes(4).toString('hex')}`;
        const adapter = sudoAdapter();
        for (const username of ['x;id', `$(touch ${flag})`, '`id`', `a b`, '../root', '-r', `x\ntouch ${flag}`, 'root:x']) {
          const e = await adapter.change({ account: account(username), newPassword: new Secret('Injected-1') }).catch((x: unknown) => x);
          expect(e, username).toBeInstanceOf(InvalidConfigurationError);
          expect((e as InvalidConfigurationError).field).toBe('username');
        }
        await adapter.close();
        expect(proxy.connections).toBe(0);
        expect(existsSync(flag)).toBe(false);
      });

      it('an unknown user is TargetUnchangedError with what chpasswd said', async () => {
        const adapter = sudoAdapter();
        const e = await adapter.change({ account: account('rpr_no_such_user'), newPassword: new Secret('Never-set-1') }).catch((x: unknown) => x);
        await adapter.close();
        expect(e).toBeInstanceOf(TargetUnchangedError);
        expect((e as Error).message).toMatch(/chpasswd/);
        expect((e as Error).message).not.toContain('Never-set-1');
        expect((e as Error).message).not.toContain(adminPassword);
      });

      it('a wrong login (and sudo) password is AuthenticationError, and nothing changes', async () => {
        const name = await users.create('ux_wrong', 'Old-wrong-1');
        const adapter = unixAdapter(through({ privilege: { mode: 'sudo' } }), { login: credential(admin, 'Not-the-password') });
        const e = await adapter.change({ account: account(name), newPassword: new Secret('New-wrong-1') }).catch((x: unknown) => x);
        await adapter.close();
        expect(e).toBeInstanceOf(AuthenticationError);
        expect((e as Error).message).not.toContain('Not-the-password');
        expect(await unixPasswordWorks(name, 'Old-wrong-1')).toBe(true);
      });

      it('runs a custom command set that prompts for the password twice (passwd USER, as on Solaris, HP-UX, macOS, ESXi)', async () => {
        const name = await users.create('ux_twice', 'Old-twice-1');
        const adapter = unixAdapter(through({ privilege: { mode: 'sudo' }, commandSet: { adminChange: '/usr/bin/passwd {user}', input: 'password-twice' } }), {
          login: credential(admin, adminPassword),
        });
        const password = `Twice ${ALL_PRINTABLE_ASCII} ü`;
        expect((await adapter.change({ account: account(name), newPassword: new Secret(password) })).method).toBe('admin reset (sudo passwd)');
        await adapter.close();
        expect(await unixPasswordWorks(name, password)).toBe(true);
      });

      it('verify: a fresh login as the account, valid or not; an unreachable target throws', async () => {
        const name = await users.create('ux_verify', 'Verify-pass-1');
        const adapter = sudoAdapter();
        expect(await adapter.verify({ account: account(name), password: new Secret('Verify-pass-1') })).toEqual({ valid: true });
        const refused = await adapter.verify({ account: account(name), password: new Secret('Verify-wrong-1') });
        expect(refused.valid).toBe(false);
        expect(refused.detail).not.toContain('Verify-wrong-1');
        expect(proxy.connections).toBe(2);
        proxy.refuseNew(true);
        await expect(adapter.verify({ account: account(name), password: new Secret('Verify-pass-1') })).rejects.toBeInstanceOf(TargetUnchangedError);
        await adapter.close();
      });
    });

    describe('privilege su', () => {
      const rootPassword = `Root-su "${protocol}" \\ ü`;
      const loginPassword = 'Su-login-1';
      let login: string;
      beforeEach(async () => {
        login ??= await users.create('ux_sulogin', loginPassword);
      });
      const suAdapter = (root: string) =>
        unixAdapter(through({ privilege: { mode: 'su', rootAccount: 'unix-test/root' } }), { login: credential(login, loginPassword), root: credential('root', root) });

      it('resets another account through su with the root password', async () => {
        const name = await users.create('ux_su_t', 'Old-su-1');
        const adapter = suAdapter(rootPassword);
        const result = await withRootPassword(rootPassword, () => adapter.change({ account: account(name), newPassword: new Secret(`New su ${ALL_PRINTABLE_ASCII}`) }));
        await adapter.close();
        expect(result.method).toBe('admin reset (su chpasswd)');
        expect(await unixPasswordWorks(name, `New su ${ALL_PRINTABLE_ASCII}`)).toBe(true);
        expect(await unixPasswordWorks(name, 'Old-su-1')).toBe(false);
      });

      it('runs a custom password-twice command set through su', async () => {
        const name = await users.create('ux_su_twice', 'Old-su-twice');
        const adapter = unixAdapter(
          through({ privilege: { mode: 'su', rootAccount: 'unix-test/root' }, commandSet: { adminChange: '/usr/bin/passwd {user}', input: 'password-twice' } }),
          { login: credential(login, loginPassword), root: credential('root', rootPassword) },
        );
        const result = await withRootPassword(rootPassword, () => adapter.change({ account: account(name), newPassword: new Secret('New su twice ü') }));
        await adapter.close();
        expect(result.method).toBe('admin reset (su passwd)');
        expect(await unixPasswordWorks(name, 'New su twice ü')).toBe(true);
      });

      it('a wrong root password is AuthenticationError, and nothing changes', async () => {
        const name = await users.create('ux_su_w', 'Old-su-2');
        const adapter = suAdapter('Wrong-root-1');
        const e = await withRootPassword(rootPassword, () => adapter.change({ account: account(name), newPassword: new Secret('New-su-2') })).catch((x: unknown) => x);
        await adapter.close();
        expect(e).toBeInstanceOf(AuthenticationError);
        expect((e as Error).message).toMatch(/su refused/);
        expect((e as Error).message).not.toContain('Wrong-root-1');
        expect(await unixPasswordWorks(name, 'Old-su-2')).toBe(true);
      });
    });

    describe('privilege none (self change)', () => {
      it('changes its own password with passwd; later logins use the new one', async () => {
        const name = await users.create('ux_self', 'Old-self-1');
        const adapter = unixAdapter(through({ privilege: { mode: 'none' } }), { login: credential(name, 'Old-self-1') });
        const first = `Self "1" \\ ${ALL_PRINTABLE_ASCII}`;
        expect((await adapter.change({ account: account(name), newPassword: new Secret(first), currentPassword: new Secret('Old-self-1') })).method).toBe(
          'self change (passwd)',
        );
        // A new login (the old connection is cut) must use the password just set.
        proxy.cutAll();
        await adapter.change({ account: account(name), newPassword: new Secret('Self-2-ü'), currentPassword: new Secret(first) });
        await adapter.close();
        expect(proxy.connections).toBe(2);
        expect(await unixPasswordWorks(name, 'Self-2-ü')).toBe(true);
        expect(await unixPasswordWorks(name, 'Old-self-1')).toBe(false);
      });

      it("refuses to change another account's password, naming privilege, before connecting", async () => {
        const name = await users.create('ux_self_o', 'Old-self-o');
        const adapter = unixAdapter(through({ privilege: { mode: 'none' } }), { login: credential(name, 'Old-self-o') });
        const e = await adapter.change({ account: account('someone_else'), newPassword: new Secret('New-self-o') }).catch((x: unknown) => x);
        await adapter.close();
        expect(e).toBeInstanceOf(InvalidConfigurationError);
        expect((e as InvalidConfigurationError).field).toBe('privilege');
        expect(proxy.connections).toBe(0);
      });

      it('a wrong current password is AuthenticationError, and nothing changes', async () => {
        const name = await users.create('ux_self_w', 'Old-self-w');
        const adapter = unixAdapter(through({ privilege: { mode: 'none' } }), { login: credential(name, 'Old-self-w') });
        const e = await adapter.change({ account: account(name), newPassword: new Secret('New-self-w'), currentPassword: new Secret('Wrong-current') }).catch((x: unknown) => x);
        await adapter.close();
        expect(e).toBeInstanceOf(AuthenticationError);
        expect(await unixPasswordWorks(name, 'Old-self-w')).toBe(true);
      });
    });
  });
}

describeServer('ssh', 'Unix adapter over SSH: keys, host keys, sudoers', (info) => {
  const users = new Users();
  afterAll(() => users.deleteAll());
  const ssh = (over: Record<string, unknown>) => resource({ protocol: 'ssh', host: info.host, port: info.port, login: { account: 'unix-test/admin' }, ...over });

  it('logs in with a private key (no password at hand) and changes its own password', async () => {
    const name = await users.create('ux_key', 'Old-key-1');
    const key = await installKey(name);
    const adapter = unixAdapter(ssh({ auth: 'key', privateKeySecret: 'secret/key', privilege: { mode: 'none' } }), { login: credential(name, undefined, key) });
    await adapter.change({ account: account(name), newPassword: new Secret('New-key-1'), currentPassword: new Secret('Old-key-1') });
    await adapter.close();
    expect(await unixPasswordWorks(name, 'New-key-1')).toBe(true);
  });

  it('a wrong sudo password (login by key) is AuthenticationError from sudo, and nothing changes', async () => {
    const admin = await users.create('ux_keysudo', 'Key-sudo-1', { sudo: true });
    const key = await installKey(admin);
    const name = await users.create('ux_keysudo_t', 'Old-keysudo-1');
    const adapter = unixAdapter(ssh({ auth: 'key', privateKeySecret: 'secret/key', privilege: { mode: 'sudo' } }), { login: credential(admin, 'Wrong-sudo-1', key) });
    const e = await adapter.change({ account: account(name), newPassword: new Secret('New-keysudo-1') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as Error).message).toMatch(/sudo refused/);
    expect((e as Error).message).not.toContain('Wrong-sudo-1');
    expect(await unixPasswordWorks(name, 'Old-keysudo-1')).toBe(true);
  });

  it('with a password-twice command set, a wrong sudo password (login by key) is AuthenticationError and nothing changes', async () => {
    const admin = await users.create('ux_twice_k', 'Twice-admin-1', { sudo: true });
    const key = await installKey(admin);
    const name = await users.create('ux_twice_w', 'Old-twice-w');
    const adapter = unixAdapter(
      ssh({ auth: 'key', privateKeySecret: 'secret/key', privilege: { mode: 'sudo' }, commandSet: { adminChange: '/usr/bin/passwd {user}', input: 'password-twice' } }),
      { login: credential(admin, 'Wrong-twice-sudo', key) },
    );
    const e = await adapter.change({ account: account(name), newPassword: new Secret('New-twice-w') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as Error).message).not.toContain('Wrong-twice-sudo');
    expect(await unixPasswordWorks(name, 'Old-twice-w')).toBe(true);
  });

  it('a login account sudo does not allow is InvalidConfigurationError naming privilege', async () => {
    const admin = await users.create('ux_nosudo', 'No-sudo-1');
    const name = await users.create('ux_nosudo_t', 'Old-nosudo-1');
    const adapter = unixAdapter(ssh({ privilege: { mode: 'sudo' } }), { login: credential(admin, 'No-sudo-1') });
    const e = await adapter.change({ account: account(name), newPassword: new Secret('New-nosudo-1') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('privilege');
    expect(await unixPasswordWorks(name, 'Old-nosudo-1')).toBe(true);
  });

  it('checks a pinned host key: the right one logs in, another is InvalidConfigurationError naming hostKeySha256', async () => {
    const name = await users.create('ux_pin', 'Pin-pass-1');
    const pin = await sshHostKeySha256();
    const good = unixAdapter(ssh({ hostKeySha256: pin }), { login: credential(name, 'Pin-pass-1') });
    expect(await good.verify({ account: account(name), password: new Secret('Pin-pass-1') })).toEqual({ valid: true });
    const wrongPin = Buffer.alloc(32, 7).toString('base64');
    const bad = unixAdapter(ssh({ hostKeySha256: wrongPin }), { login: credential(name, 'Pin-pass-1') });
    const e = await bad.change({ account: account(name), newPassword: new Secret('Pin-new-1'), currentPassword: new Secret('Pin-pass-1') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('hostKeySha256');
    expect(await unixPasswordWorks(name, 'Pin-pass-1')).toBe(true);
  });
});
