import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidConfigurationError, NotSupportedError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { ALL_PRINTABLE_ASCII } from '../../../harness/servers/fixtures.js';
import { findLeaks } from '../../support/leaks.js';
import { WindowsOpenSshSimulator, type SimulatorOptions } from '../../simulators/windows-openssh/server.js';
import { account, credential, loginWorks, passwordOfLength, resource, windowsAdapter } from './support.js';

/**
 * The windows adapter against the simulated Windows OpenSSH host (test/simulators/windows-openssh):
 * every outcome is proven by a fresh SSH login as the account, the way a user would see it.
 */

const ADMIN_PASSWORD = 'Adm1n-start "pw" \\ $x';

let sims: WindowsOpenSshSimulator[] = [];
afterEach(async () => {
  for (const s of sims) await s.close();
  sims = [];
});

async function host(options: SimulatorOptions = {}): Promise<WindowsOpenSshSimulator> {
  const sim = await WindowsOpenSshSimulator.start(options);
  sims.push(sim);
  sim.sam.add('Administrator', ADMIN_PASSWORD, { admin: true });
  return sim;
}

const admin = () => credential('Administrator', ADMIN_PASSWORD);

/** Nothing the simulator did not expect, and no password on any command line. */
function clean(sim: WindowsOpenSshSimulator, passwords: string[]): void {
  expect(sim.unexpected).toEqual([]);
  expect(findLeaks(passwords, { 'command lines': sim.commandText() })).toEqual([]);
}

describe('windows adapter: PowerShell Set-LocalUser over OpenSSH (simulated host)', () => {
  it('resets a local account: the new password logs in, the old one is refused; one login serves every account', async () => {
    const sim = await host();
    sim.sam.add('alice', 'Old-alice-1');
    sim.sam.add('bob', 'Old-bob-1');
    const adapter = windowsAdapter(resource(sim), admin());
    const r1 = await adapter.change({ account: account('alice'), newPassword: new Secret('New-alice-1') });
    const r2 = await adapter.change({ account: account('bob'), newPassword: new Secret('New-bob-1') });
    await adapter.close();

    expect(r1.method).toBe('admin reset (PowerShell Set-LocalUser)');
    expect(r2.method).toBe(r1.method);
    expect(await loginWorks(sim, 'alice', 'New-alice-1')).toBe(true);
    expect(await loginWorks(sim, 'alice', 'Old-alice-1')).toBe(false);
    expect(await loginWorks(sim, 'bob', 'New-bob-1')).toBe(true);
    expect(await loginWorks(sim, 'bob', 'Old-bob-1')).toBe(false);
    // One admin login; one probe and one exec per account, all PowerShell with the script encoded.
    expect(sim.logins.filter((l) => l.login === 'Administrator')).toEqual([{ login: 'Administrator', accepted: true }]);
    expect(sim.execs.map((e) => e.command.split(' ').slice(0, 4).join(' '))).toEqual(Array(3).fill('powershell.exe -NoProfile -NonInteractive -EncodedCommand'));
    expect(sim.execs[1]!.script).toContain("Set-LocalUser -Name 'alice' -Password $p");
    clean(sim, ['New-alice-1', 'New-bob-1', ADMIN_PASSWORD]);
  });

  it('the password gauntlet: every printable ASCII character, spaces, quotes, backtick, $, backslash, Unicode, 127 characters', async () => {
    const sim = await host();
    sim.sam.add('gauntlet', 'Old-gauntlet-1');
    const adapter = windowsAdapter(resource(sim), admin());
    const passwords = [
      ALL_PRINTABLE_ASCII,
      ' leading and trailing space ',
      `'"\`$(whoami)\`"' ; & | > < ^ % ! ~ # @ ''`,
      `\\\\server\\share\\ "C:\\Program Files\\" \\`,
      'pässwörd-日本語-😀-ÿ-Ω-€',
      'Ä'.repeat(127),
      passwordOfLength(127),
    ];
    for (const password of passwords) {
      await adapter.change({ account: account('gauntlet'), newPassword: new Secret(password) });
      expect(sim.passwordOf('gauntlet') === password, JSON.stringify(password.slice(0, 20))).toBe(true);
      expect(await loginWorks(sim, 'gauntlet', password)).toBe(true);
    }
    await adapter.close();
    expect(await loginWorks(sim, 'gauntlet', 'Old-gauntlet-1')).toBe(false);
    clean(sim, [...passwords, ADMIN_PASSWORD]);
  });

  it('refuses 128 characters, a newline, a carriage return or a NUL before connecting; the old password still works', async () => {
    const sim = await host();
    sim.sam.add('refuse', 'Old-refuse-1');
    const adapter = windowsAdapter(resource(sim), admin());
    for (const password of [passwordOfLength(128), 'Abc\nAdministrator', 'Abc\rdef', 'Abc\0def', '']) {
      const e = await adapter.change({ account: account('refuse'), newPassword: new Secret(password) }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe('newPassword');
    }
    await adapter.close();
    expect(sim.logins).toEqual([]);
    expect(await loginWorks(sim, 'refuse', 'Old-refuse-1')).toBe(true);
  });

  it('refuses user names that try injection, naming the field, before connecting', async () => {
    const sim = await host();
    const adapter = windowsAdapter(resource(sim), admin());
    const names = ["x' ; Set-LocalUser Administrator", 'a;b', '$(whoami)', 'a`b', 'a\nAdministrator', 'a"b', 'a&b', 'a|b', 'a%PATH%', "it's", 'a\rb', '', ' lead', 'x'.repeat(21)];
    for (const name of names) {
      const e = await adapter.change({ account: account(name), newPassword: new Secret('New-inj-1') }).catch((x: unknown) => x);
      expect(e, JSON.stringify(name)).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe('username');
    }
    await adapter.close();
    expect(sim.logins).toEqual([]);
    expect(sim.execs).toEqual([]);
  });

  it('quotes names the schema takes but a shell could misread (typographic quotes, ^, braces, spaces): only that account changes', async () => {
    const sim = await host();
    // Names Windows allows; each has a neighbour a mis-quoting would reach instead.
    const tricky = ['ad\u2019min', 'x\u2018 Administrator', 'ad^min', 'a{b}#~', 'John Smith', 'Ünïcødé'];
    for (const name of tricky) sim.sam.add(name, `Old-${name}`);
    for (const victim of ['admin', 'x', 'ad', 'John']) sim.sam.add(victim, 'Victim-unchanged-1');
    const adapter = windowsAdapter(resource(sim), admin());
    for (const name of tricky) await adapter.change({ account: account(name), newPassword: new Secret(`New-${name}-1`) });
    await adapter.close();
    for (const name of tricky) expect(await loginWorks(sim, name, `New-${name}-1`), name).toBe(true);
    for (const victim of ['admin', 'x', 'ad', 'John']) expect(sim.passwordOf(victim)).toBe('Victim-unchanged-1');
    expect(sim.passwordOf('Administrator')).toBe(ADMIN_PASSWORD);
    clean(sim, tricky.map((n) => `New-${n}-1`));
  });

  it("a password the host's policy refuses: TargetUnchangedError saying so, and the old password still works", async () => {
    const sim = await host({ policy: { minLength: 14, complexity: true } });
    sim.sam.add('carol', 'Old-Carol-Policy-1');
    const adapter = windowsAdapter(resource(sim), admin());
    for (const weak of ['short-1A', 'alllowercaseletters', 'Carol-My-Own-Name-1']) {
      const e = await adapter.change({ account: account('carol'), newPassword: new Secret(weak) }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TargetUnchangedError);
      expect((e as Error).message).toMatch(/does not meet the host's password policy/);
      expect((e as Error).message).toMatch(/InvalidPassword,Microsoft\.PowerShell\.Commands\.SetLocalUserCommand/);
      expect((e as Error).message).not.toContain(weak);
    }
    await adapter.close();
    expect(await loginWorks(sim, 'carol', 'Old-Carol-Policy-1')).toBe(true);
  });

  it('an account the host does not have: InvalidConfigurationError on the user name', async () => {
    const sim = await host();
    const adapter = windowsAdapter(resource(sim), admin());
    const e = await adapter.change({ account: account('nosuch'), newPassword: new Secret('New-nosuch-1') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('username');
    expect((e as Error).message).toMatch(/has no local account "nosuch".*UserNotFound/);
  });

  it('an admin login that is not an administrator: AuthenticationError (access denied), nothing changed; a wrong admin password: AuthenticationError', async () => {
    const sim = await host();
    sim.sam.add('plain', 'Plain-user-1');
    sim.sam.add('dave', 'Old-dave-1');
    const notAdmin = windowsAdapter(resource(sim, { adminAccount: 'win-test/plain' }), credential('plain', 'Plain-user-1'));
    const e1 = await notAdmin.change({ account: account('dave'), newPassword: new Secret('New-dave-1') }).catch((x: unknown) => x);
    await notAdmin.close();
    expect(e1).toBeInstanceOf(AuthenticationError);
    expect((e1 as Error).message).toMatch(/access denied/i);

    const wrong = windowsAdapter(resource(sim), credential('Administrator', 'not-the-password'));
    const e2 = await wrong.change({ account: account('dave'), newPassword: new Secret('New-dave-1') }).catch((x: unknown) => x);
    await wrong.close();
    expect(e2).toBeInstanceOf(AuthenticationError);
    expect((e2 as Error).message).not.toContain('not-the-password');
    expect(await loginWorks(sim, 'dave', 'Old-dave-1')).toBe(true);
  });

  it('verify: a fresh login as the account; true for its password, false for another; an unreachable host throws', async () => {
    const sim = await host();
    sim.sam.add('erin', 'Erin-pw-1');
    const adapter = windowsAdapter(resource(sim), admin());
    expect(await adapter.verify({ account: account('erin'), password: new Secret('Erin-pw-1') })).toMatchObject({ valid: true });
    const refused = await adapter.verify({ account: account('erin'), password: new Secret('Erin-wrong-1') });
    expect(refused.valid).toBe(false);
    expect(refused.detail ?? '').not.toContain('Erin-wrong-1');
    expect(sim.logins.map((l) => l.login)).toEqual(['erin', 'erin']);
    await adapter.close();

    // A port nothing listens on.
    const free = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const gone = windowsAdapter(resource(sim, { port: free }), admin());
    const e = await gone.verify({ account: account('erin'), password: new Secret('Erin-pw-1') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
  });

  it('refuses transport "winrm-https" with NotSupportedError naming the field; a pinned host key that does not match is refused', async () => {
    const sim = await host();
    sim.sam.add('frank', 'Old-frank-1');
    const winrm = windowsAdapter(resource(sim, { transport: 'winrm-https', hostKeySha256: undefined }), admin());
    const e1 = await winrm.change({ account: account('frank'), newPassword: new Secret('New-frank-1') }).catch((x: unknown) => x);
    expect(e1).toBeInstanceOf(NotSupportedError);
    expect((e1 as NotSupportedError).field).toBe('transport');
    const e2 = await winrm.verify({ account: account('frank'), password: new Secret('Old-frank-1') }).catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(NotSupportedError);

    const pinned = windowsAdapter(resource(sim, { hostKeySha256: 'A'.repeat(43) }), admin());
    const e3 = await pinned.change({ account: account('frank'), newPassword: new Secret('New-frank-1') }).catch((x: unknown) => x);
    expect(e3).toBeInstanceOf(InvalidConfigurationError);
    expect((e3 as InvalidConfigurationError).field).toBe('hostKeySha256');
    expect(await loginWorks(sim, 'frank', 'Old-frank-1')).toBe(true);
  });

  it("resets the admin's own password, keeps working on the open login, and logs in again with the new one", async () => {
    const sim = await host();
    sim.sam.add('gina', 'Old-gina-1');
    sim.sam.add('hank', 'Old-hank-1');
    const adapter = windowsAdapter(resource(sim), admin());
    await adapter.change({ account: account('gina'), newPassword: new Secret('New-gina-1') });
    await adapter.change({ account: account('Administrator'), newPassword: new Secret('New-Admin-pw-1') });
    await adapter.change({ account: account('hank'), newPassword: new Secret('New-hank-1') });
    sim.dropAll();
    await new Promise((r) => setTimeout(r, 50));
    await adapter.change({ account: account('hank'), newPassword: new Secret('New-hank-2') });
    await adapter.close();
    expect(await loginWorks(sim, 'Administrator', 'New-Admin-pw-1')).toBe(true);
    expect(await loginWorks(sim, 'hank', 'New-hank-2')).toBe(true);
    expect(sim.logins.filter((l) => l.login === 'Administrator').map((l) => l.accepted)).toEqual([true, true, true]);
  });

  it('a domain admin logs in by its user principal name, or by sAMAccountName@domain when the credential carries the domain', async () => {
    const sim = await host({ domain: { netbios: 'CORP', dns: 'corp.example.com' } });
    sim.domain!.add('ops', 'Domain-ops-pw-1', { admin: true });
    sim.sam.add('ops', 'Local-ops-is-another-account-1'); // a local namesake the bare name would reach
    sim.sam.add('ivan', 'Old-ivan-1');
    const upn = windowsAdapter(resource(sim, { adminAccount: 'corp/ops@corp.example.com' }), credential('ops@corp.example.com', 'Domain-ops-pw-1', 'corp/ops@corp.example.com'));
    await upn.change({ account: account('ivan'), newPassword: new Secret('New-ivan-1') });
    await upn.close();
    const sam = windowsAdapter(resource(sim, { adminAccount: 'corp/ops' }), credential('ops', 'Domain-ops-pw-1', 'corp/ops', { domain: 'corp.example.com' }));
    await sam.change({ account: account('ivan'), newPassword: new Secret('New-ivan-2') });
    await sam.close();
    expect(sim.logins.filter((l) => l.accepted).map((l) => l.login)).toEqual(['ops@corp.example.com', 'ops@corp.example.com']);
    expect(await loginWorks(sim, 'ivan', 'New-ivan-2')).toBe(true);
    expect(sim.passwordOf('ops')).toBe('Local-ops-is-another-account-1');
  });
});

describe('windows adapter: net user fallback (simulated host without PowerShell)', () => {
  for (const mode of ['absent', 'no-set-localuser'] as const) {
    it(`PowerShell ${mode}: probes once, then resets with net user on a terminal; ASCII, Unicode and long passwords`, async () => {
      const sim = await host({ powershell: mode });
      sim.sam.add('judy', 'Old-judy-1');
      const adapter = windowsAdapter(resource(sim), admin());
      const passwords = ['Short-1!', ALL_PRINTABLE_ASCII.slice(0, 127), 'pässwörd-日本語-😀', `'"\`$(x) ^ & | % ! \\`, passwordOfLength(127)];
      for (const password of passwords) {
        const r = await adapter.change({ account: account('judy'), newPassword: new Secret(password) });
        expect(r.method).toBe('admin reset (net user)');
        expect(await loginWorks(sim, 'judy', password), JSON.stringify(password.slice(0, 20))).toBe(true);
      }
      await adapter.close();
      expect(await loginWorks(sim, 'judy', 'Old-judy-1')).toBe(false);
      expect(sim.execs.filter((e) => e.command.startsWith('powershell.exe'))).toHaveLength(1);
      expect(sim.execs.filter((e) => e.command === 'net user "judy" *' && e.pty)).toHaveLength(passwords.length);
      clean(sim, [...passwords, ADMIN_PASSWORD]);
    });
  }

  it('net user: a policy refusal (2245) is TargetUnchangedError, an unknown account (2221) InvalidConfigurationError, a non-admin AuthenticationError', async () => {
    const sim = await host({ powershell: 'absent', policy: { minLength: 10, complexity: true } });
    sim.sam.add('kate', 'Old-Kate-pw-1');
    sim.sam.add('plain', 'Plain-User-pw-1');
    const adapter = windowsAdapter(resource(sim), admin());
    const e1 = await adapter.change({ account: account('kate'), newPassword: new Secret('weakpass') }).catch((x: unknown) => x);
    expect(e1).toBeInstanceOf(TargetUnchangedError);
    expect((e1 as Error).message).toMatch(/does not meet the host's password policy/);
    const e2 = await adapter.change({ account: account('nosuch'), newPassword: new Secret('New-Nosuch-pw-1') }).catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(InvalidConfigurationError);
    expect((e2 as InvalidConfigurationError).field).toBe('username');
    await adapter.close();
    const notAdmin = windowsAdapter(resource(sim, { adminAccount: 'win-test/plain' }), credential('plain', 'Plain-User-pw-1'));
    const e3 = await notAdmin.change({ account: account('kate'), newPassword: new Secret('New-Kate-pw-1') }).catch((x: unknown) => x);
    await notAdmin.close();
    expect(e3).toBeInstanceOf(AuthenticationError);
    expect(await loginWorks(sim, 'kate', 'Old-Kate-pw-1')).toBe(true);
    clean(sim, ['weakpass', 'New-Kate-pw-1', 'New-Nosuch-pw-1']);
  });

  it('net user: quotes ^ and spaces, and refuses a typographic double quote, which it cannot quote for every shell', async () => {
    const sim = await host({ powershell: 'absent' });
    sim.sam.add('ad^min', 'Old-caret-1');
    sim.sam.add('admin', 'Victim-unchanged-1');
    sim.sam.add('John Smith', 'Old-john-1');
    sim.sam.add('a\u201db', 'Old-quote-1');
    const adapter = windowsAdapter(resource(sim), admin());
    await adapter.change({ account: account('ad^min'), newPassword: new Secret('New-caret-1') });
    await adapter.change({ account: account('John Smith'), newPassword: new Secret('New-john-1') });
    const e = await adapter.change({ account: account('a\u201db'), newPassword: new Secret('New-quote-1') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('username');
    expect(sim.passwordOf('ad^min')).toBe('New-caret-1');
    expect(sim.passwordOf('John Smith')).toBe('New-john-1');
    expect(sim.passwordOf('admin')).toBe('Victim-unchanged-1');
    expect(sim.passwordOf('a\u201db')).toBe('Old-quote-1');
    clean(sim, ['New-caret-1', 'New-john-1', 'New-quote-1']);
  });
});

describe('windows adapter: the connection breaks around the change (simulated host)', () => {
  for (const mode of ['available', 'absent'] as const) {
    const how = mode === 'available' ? 'Set-LocalUser' : 'net user';
    it(`${how}: cut after the change was applied: OutcomeUnknownError, and the new password is the one that works`, async () => {
      const sim = await host({ powershell: mode });
      sim.sam.add('liam', 'Old-liam-1');
      const adapter = windowsAdapter(resource(sim), admin());
      sim.faults.dropAfterChange = 1;
      const e = await adapter.change({ account: account('liam'), newPassword: new Secret('New-liam-1') }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OutcomeUnknownError);
      expect((e as Error).message).not.toContain('New-liam-1');
      // The engine's reconcile asks verify which password works.
      expect((await adapter.verify({ account: account('liam'), password: new Secret('New-liam-1') })).valid).toBe(true);
      expect((await adapter.verify({ account: account('liam'), password: new Secret('Old-liam-1') })).valid).toBe(false);
      // The adapter logs in again for the next account.
      sim.sam.add('mia', 'Old-mia-1');
      await adapter.change({ account: account('mia'), newPassword: new Secret('New-mia-1') });
      await adapter.close();
      expect(await loginWorks(sim, 'mia', 'New-mia-1')).toBe(true);
    });

    it(`${how}: cut once the password was sent, before the change: OutcomeUnknownError, and the old password still works`, async () => {
      const sim = await host({ powershell: mode });
      sim.sam.add('noah', 'Old-noah-1');
      const adapter = windowsAdapter(resource(sim), admin());
      sim.faults.dropBeforeChange = 1;
      const e = await adapter.change({ account: account('noah'), newPassword: new Secret('New-noah-1') }).catch((x: unknown) => x);
      await adapter.close();
      expect(e).toBeInstanceOf(OutcomeUnknownError);
      expect(await loginWorks(sim, 'noah', 'Old-noah-1')).toBe(true);
      expect(await loginWorks(sim, 'noah', 'New-noah-1')).toBe(false);
    });
  }

  it('a login dropped while idle between accounts: the next change logs in again and succeeds', async () => {
    const sim = await host();
    sim.sam.add('olga', 'Old-olga-1');
    sim.sam.add('paul', 'Old-paul-1');
    const adapter = windowsAdapter(resource(sim), admin());
    await adapter.change({ account: account('olga'), newPassword: new Secret('New-olga-1') });
    sim.dropAll();
    await new Promise((r) => setTimeout(r, 50));
    await adapter.change({ account: account('paul'), newPassword: new Secret('New-paul-1') });
    await adapter.close();
    expect(await loginWorks(sim, 'paul', 'New-paul-1')).toBe(true);
    expect(sim.logins.filter((l) => l.login === 'Administrator')).toHaveLength(2);
  });
});

describe('windows adapter: a host whose OpenSSH DefaultShell is PowerShell (simulated)', () => {
  it('the same command lines mean the same there: Set-LocalUser, then net user where Set-LocalUser is missing', async () => {
    const names = ['ad^min', 'John Smith', 'a{b}#~', 'ad\u2019min'];
    const passwords = [ALL_PRINTABLE_ASCII, 'pässwörd-日本語-😀', passwordOfLength(127)];
    for (const powershell of ['available', 'no-set-localuser'] as const) {
      const sim = await host({ defaultShell: 'powershell', powershell });
      for (const n of names) sim.sam.add(n, `Old-${n}`);
      sim.sam.add('admin', 'Victim-unchanged-1');
      const adapter = windowsAdapter(resource(sim), admin());
      for (const n of names) {
        for (const password of passwords) {
          const r = await adapter.change({ account: account(n), newPassword: new Secret(password) });
          expect(r.method).toBe(powershell === 'available' ? 'admin reset (PowerShell Set-LocalUser)' : 'admin reset (net user)');
          expect(await loginWorks(sim, n, password), `${powershell} ${n}`).toBe(true);
        }
      }
      await adapter.close();
      expect(sim.passwordOf('admin')).toBe('Victim-unchanged-1');
      clean(sim, [...passwords, ADMIN_PASSWORD]);
    }
  });
});
