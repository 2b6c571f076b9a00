import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Credential, TargetAdapter } from '../../../layers/engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createUnixAdapter } from '../../../layers/resources/unix/adapter.js';
import { unixSchema, type UnixType } from '../../../layers/resources/unix/schema.js';
import { unixPasswordWorks } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { UnixShellSimulator } from '../../simulators/unix-shells/server.js';
import type { SystemName } from '../../simulators/unix-shells/systems.js';
import { account, credential, shellLoginWorks, unixAdapter, resource as linuxResource, Users } from './support.js';

/**
 * Each built-in command set of layers/resources/unix/commands.ts, run where its command exists:
 * linux's `chpasswd` on the real OpenSSH server (Debian 12); AIX's `chpasswd -c`, and `passwd
 * USER` of HP-UX, Solaris, macOS and ESXi, on the simulator of that system's shell
 * (test/simulators/unix-shells), since Debian has no such commands. The admin reset through sudo
 * (on the simulators, and `passwd USER` on the real OpenSSH too) and the self change are the
 * adapter contract's (test/contracts/fixtures/unix.ts, unix-shells.ts). Here: the reset through
 * su with the root password, and the systems' own refusals, each ending as the error class the
 * engine acts on.
 */

describeServer('ssh', 'linux: the built-in command set on the real OpenSSH server (Debian 12)', (info) => {
  const users = new Users();
  const adminPassword = 'Cmdset-linux-admin-1';
  let admin: string;
  beforeAll(async () => {
    admin = await users.create('cs_ladm', adminPassword, { sudo: true });
  });
  afterAll(() => users.deleteAll());
  const sudo = () => unixAdapter(linuxResource({ host: info.host, port: info.port, login: { account: 'unix-test/admin' }, privilege: { mode: 'sudo' } }), { login: credential(admin, adminPassword) });

  it('chpasswd\'s "password not changed" for an unknown user is TargetUnchangedError', async () => {
    const adapter = sudo();
    const e = await adapter.change({ account: account('cs_nosuch_user'), newPassword: new Secret('Never-cs-1') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toMatch(/password not changed/);
  });

  it("passwd's quality refusal (pam_unix: a password too short for a user) is TargetUnchangedError; the old password still works", async () => {
    const name = await users.create('cs_lq', 'Old-cs-lq-1');
    const adapter = unixAdapter(linuxResource({ host: info.host, port: info.port, login: { account: 'unix-test/self' } }), { login: credential(name, 'Old-cs-lq-1') });
    const e = await adapter.change({ account: account(name), newPassword: new Secret('a1'), currentPassword: new Secret('Old-cs-lq-1') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(await unixPasswordWorks(name, 'Old-cs-lq-1')).toBe(true);
  });
});

/** What an AIX root sees with `pwdadm -q USER`: the account's password flags. */
function pwdadmQuery(sim: UnixShellSimulator, username: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('ready', () => {
      client.exec(`/usr/bin/pwdadm -q ${username}`, (err, channel) => {
        if (err) return reject(err);
        let out = '';
        channel.on('data', (d: Buffer) => (out += d.toString()));
        channel.on('close', () => {
          client.end();
          resolve(out);
        });
      });
    });
    client.on('error', reject);
    client.connect({ host: sim.host, port: sim.port, username: 'root', password: sim.accounts.get('root')!.password, readyTimeout: 10_000 });
  });
}

interface Case {
  readonly type: Exclude<UnixType, 'linux'>;
  /** What the admin reset reports as its method. */
  readonly method: string;
  /** Whether the system has sudo. */
  readonly sudo: boolean;
  /** The system's words for an unknown user, which the error must quote. */
  readonly unknownUser: RegExp;
  /** Whether a self change is held to a minimum length (a too-short password is refused). */
  readonly minLength: number;
}

const CASES: readonly Case[] = [
  { type: 'aix', method: 'chpasswd', sudo: true, unknownUser: /3004-687 User \\?"cs_nosuch\\?" does not exist/, minLength: 6 },
  { type: 'hp-ux', method: 'passwd', sudo: true, unknownUser: /Unknown user name cs_nosuch/, minLength: 6 },
  { type: 'solaris', method: 'passwd', sudo: true, unknownUser: /passwd: User unknown: cs_nosuch/, minLength: 6 },
  { type: 'macos', method: 'passwd', sudo: true, unknownUser: /Unknown user name 'cs_nosuch'/, minLength: 0 },
  { type: 'esxi', method: 'passwd', sudo: false, unknownUser: /passwd: unknown user cs_nosuch/, minLength: 7 },
];

for (const c of CASES) {
  describe(`${c.type}: the built-in command set on the simulated shell`, () => {
    let sim: UnixShellSimulator;
    const rootPassword = `Root-${c.type}-pw1`;
    const adminPassword = `Admin-${c.type}-pw1`;
    beforeAll(async () => {
      sim = await UnixShellSimulator.start({ system: c.type as SystemName });
      sim.accounts.get('root')!.password = rootPassword;
      sim.add('ops', adminPassword, { sudoer: true });
    });
    afterAll(async () => {
      expect(sim.unexpected).toEqual([]);
      await sim.close();
    });

    const adapterWith = (privilege: Record<string, unknown>, login: Credential, root?: Credential): TargetAdapter => {
      const r = unixSchema(c.type).parse({ id: 'unix-test', type: c.type, host: sim.host, port: sim.port, login: { account: 'unix-test/login' }, privilege });
      return createUnixAdapter(adapterContext(r, { login, ...(root ? { root } : {}) }));
    };
    const viaSu = () => adapterWith({ mode: 'su', rootAccount: 'unix-test/root' }, credential('ops', adminPassword), credential('root', rootPassword));
    const viaSudo = () => adapterWith({ mode: 'sudo' }, credential('ops', adminPassword));

    async function proves(name: string, now: string, before: string): Promise<void> {
      expect(await shellLoginWorks(sim, name, now), 'the new password logs in').toBe(true);
      expect(await shellLoginWorks(sim, name, before), 'the old password is refused').toBe(false);
      if (c.type === 'aix') expect(await pwdadmQuery(sim, name)).not.toMatch(/flags = .*ADMCHG/);
    }

    it('admin reset through su: the new password logs in, the old one is refused', async () => {
      sim.add('app1', 'Old-app1-pw');
      const adapter = viaSu();
      const result = await adapter.change({ account: account('app1'), newPassword: new Secret(`New ${c.type} app1 "pw" \\ $x`) });
      await adapter.close();
      expect(result.method).toBe(`admin reset (su ${c.method})`);
      await proves('app1', `New ${c.type} app1 "pw" \\ $x`, 'Old-app1-pw');
      expect(sim.commandText()).not.toContain(`New ${c.type} app1`);
    });

    if (c.sudo) {
      it("sudo's wrong password is AuthenticationError, and nothing changes", async () => {
        sim.add('app3', 'Old-app3-pw');
        const adapter = adapterWith({ mode: 'sudo' }, credential('ops', 'Not-the-ops-pw'));
        const e = await adapter.change({ account: account('app3'), newPassword: new Secret('New-app3-pw') }).catch((x: unknown) => x);
        await adapter.close().catch(() => undefined);
        expect(e).toBeInstanceOf(AuthenticationError);
        expect(sim.accounts.get('app3')!.password).toBe('Old-app3-pw');
      });
    } else {
      it('sudo, which the system lacks, is InvalidConfigurationError naming privilege', async () => {
        sim.add('app2', 'Old-app2-pw');
        const adapter = viaSudo();
        const e = await adapter.change({ account: account('app2'), newPassword: new Secret('New-app2-pw') }).catch((x: unknown) => x);
        await adapter.close();
        expect(e).toBeInstanceOf(InvalidConfigurationError);
        expect((e as InvalidConfigurationError).field).toBe('privilege');
        // The shell's "not found" is what the system says; the simulator records it as asked for.
        sim.unexpected.splice(0);
        expect(await shellLoginWorks(sim, 'app2', 'Old-app2-pw')).toBe(true);
      });
    }

    it("su's refusal of a wrong root password is AuthenticationError, and nothing changes", async () => {
      sim.add('app4', 'Old-app4-pw');
      const adapter = adapterWith({ mode: 'su', rootAccount: 'unix-test/root' }, credential('ops', adminPassword), credential('root', 'Wrong-root-pw'));
      const e = await adapter.change({ account: account('app4'), newPassword: new Secret('New-app4-pw') }).catch((x: unknown) => x);
      await adapter.close();
      expect(e).toBeInstanceOf(AuthenticationError);
      expect((e as Error).message).not.toContain('Wrong-root-pw');
      expect(await shellLoginWorks(sim, 'app4', 'Old-app4-pw')).toBe(true);
    });

    it("an unknown user is TargetUnchangedError quoting the system's words", async () => {
      const adapter = viaSu();
      const e = await adapter.change({ account: account('cs_nosuch'), newPassword: new Secret('Never-set-pw1') }).catch((x: unknown) => x);
      await adapter.close();
      expect(e).toBeInstanceOf(TargetUnchangedError);
      expect((e as Error).message).toMatch(c.unknownUser);
      expect((e as Error).message).not.toContain('Never-set-pw1');
    });

    it("passwd's refusal of a wrong current password is AuthenticationError, and nothing changes", async () => {
      sim.add('self2', 'Old-self2-pw');
      const adapter = adapterWith({ mode: 'none' }, credential('self2', 'Old-self2-pw'));
      const e = await adapter.change({ account: account('self2'), newPassword: new Secret('New-self2-pw'), currentPassword: new Secret('Wrong-self2-pw') }).catch((x: unknown) => x);
      await adapter.close();
      expect(e).toBeInstanceOf(AuthenticationError);
      expect(sim.accounts.get('self2')!.password).toBe('Old-self2-pw');
    });

    if (c.minLength > 0) {
      it(`passwd's refusal of a password shorter than ${c.minLength} characters is TargetUnchangedError, and nothing changes`, async () => {
        sim.add('self3', 'Old-self3-pw');
        const adapter = adapterWith({ mode: 'none' }, credential('self3', 'Old-self3-pw'));
        const e = await adapter.change({ account: account('self3'), newPassword: new Secret('Ab1'), currentPassword: new Secret('Old-self3-pw') }).catch((x: unknown) => x);
        await adapter.close();
        expect(e).toBeInstanceOf(TargetUnchangedError);
        expect(await shellLoginWorks(sim, 'self3', 'Old-self3-pw')).toBe(true);
      });
    }

    if (c.type === 'macos') {
      it('a passwd USER that asks root for the current password (a directory node that requires it): InvalidConfigurationError naming commandSet, nothing typed at it', async () => {
        const strict = await UnixShellSimulator.start({ system: 'macos', rootAsksCurrentPassword: true });
        try {
          strict.accounts.get('root')!.password = rootPassword;
          strict.add('ops', adminPassword, { sudoer: true });
          strict.add('dir1', 'Old-dir1-pw');
          const r = unixSchema('macos').parse({ id: 'unix-test', type: 'macos', host: strict.host, port: strict.port, login: { account: 'unix-test/login' }, privilege: { mode: 'sudo' } });
          const adapter = createUnixAdapter(adapterContext(r, { login: credential('ops', adminPassword) }));
          const e = await adapter.change({ account: account('dir1'), newPassword: new Secret('New-dir1-pw') }).catch((x: unknown) => x);
          await adapter.close();
          expect(e).toBeInstanceOf(InvalidConfigurationError);
          expect((e as InvalidConfigurationError).field).toBe('commandSet');
          expect(await shellLoginWorks(strict, 'dir1', 'Old-dir1-pw')).toBe(true);
          expect(strict.unexpected).toEqual([]);
        } finally {
          await strict.close();
        }
      });
    }

    if (c.type === 'aix') {
      it('without -c, AIX chpasswd sets ADMCHG: the account cannot log in until it changes its password (why the built-in set uses -c)', async () => {
        sim.add('app5', 'Old-app5-pw');
        const r = unixSchema('aix').parse({
          id: 'unix-test',
          type: 'aix',
          host: sim.host,
          port: sim.port,
          login: { account: 'unix-test/login' },
          privilege: { mode: 'su', rootAccount: 'unix-test/root' },
          commandSet: { adminChange: '/usr/bin/chpasswd', input: 'chpasswd' },
        });
        const adapter = createUnixAdapter(adapterContext(r, { login: credential('ops', adminPassword), root: credential('root', rootPassword) }));
        await adapter.change({ account: account('app5'), newPassword: new Secret('New-app5-pw') });
        await adapter.close();
        expect(await pwdadmQuery(sim, 'app5')).toMatch(/flags = ADMCHG/);
        expect(await shellLoginWorks(sim, 'app5', 'New-app5-pw')).toBe(false);
      });
    }
  });
}
