import { describe, expect, it } from 'vitest';
import { ciscoCatos, type CiscoCatos } from '../../simulators/device/cisco-catos.js';
import { catosHash, catosVerify, md5CryptDigest } from '../../simulators/device/cisco-hashes.js';
import { MemoryTerminal, runSession } from '../../simulators/device/memory-terminal.js';

/** Logs in with the login password and types `lines`; returns what the switch printed and the terminal. */
async function run(dev: CiscoCatos, lines: readonly string[], login: { username?: string; password: string } = { password: 'login1' }, term = new MemoryTerminal()) {
  const r = await runSession(dev, login, lines, term);
  return { out: r.output, term: r.term };
}

function device(): CiscoCatos {
  return ciscoCatos({ loginPassword: 'login1', enablePassword: 'enable1' });
}

describe('CatOS password hashes', () => {
  it('computes MD5-crypt as openssl passwd -1 does', () => {
    expect(md5CryptDigest('password', 'saltsalt')).toBe('qjXMvbEw8oaL.CzflDtaK/');
  });

  it('stores $2$ hashes with a salt and verifies only the right password', () => {
    const h = catosHash('s3cret');
    expect(h).toMatch(/^\$2\$[./0-9A-Za-z]{4}\$[./0-9A-Za-z]{22}$/);
    expect(catosVerify('s3cret', h)).toBe(true);
    expect(catosVerify('s3cret!', h)).toBe(false);
  });
});

describe('CatOS login and enable', () => {
  it('logs in with the login password alone, whatever SSH user name is given', () => {
    const dev = device();
    expect(dev.login.usernameRequired()).toBe(false);
    expect(dev.login.passwordPrompt).toBe('Enter password: ');
    expect(dev.login.authenticate(undefined, 'login1')).toBeTruthy();
    expect(dev.login.authenticate('anyone', 'login1')).toBeTruthy();
    expect(dev.login.authenticate(undefined, 'enable1')).toBeUndefined();
    expect(dev.login.authenticate(undefined, '')).toBeUndefined();
  });

  it('starts at the factory default empty passwords', () => {
    const dev = ciscoCatos();
    expect(dev.login.authenticate(undefined, '')).toBeTruthy();
    expect(dev.enablePasswordIs('')).toBe(true);
  });

  it('shows the normal and enable prompts, with the system name when one is set', async () => {
    const { out, term } = await run(device(), ['enable', 'enable1', 'disable']);
    expect(out).toBe('Console> Enter password: Console> (enable) Console> ');
    expect(term.secretPrompts).toEqual(['Enter password: ']);
    const named = await run(ciscoCatos({ systemName: 'sw-core', loginPassword: 'login1' }), []);
    expect(named.out).toBe('sw-core> ');
  });

  it('refuses a wrong enable password and stays in normal mode', async () => {
    const { out } = await run(device(), ['enable', 'wrong', 'show config']);
    expect(out).toContain('Enter password: Sorry password incorrect.\nConsole> ');
    expect(out).not.toContain('(enable)');
    expect(out).toContain('Unknown command "show config".');
  });

  it('takes abbreviations: en, sh conf, q', async () => {
    const dev = device();
    const { out, term } = await run(dev, ['en', 'enable1', 'sh conf', 'q']);
    expect(out).toContain('Console> (enable) ');
    expect(out).toContain('begin\n!\n# ***** NON-DEFAULT CONFIGURATION *****');
    expect(term.closed).toBe(true);
    expect(dev.unexpected).toEqual([]);
  });

  it('logs out on quit, exit and logout', async () => {
    for (const cmd of ['quit', 'exit', 'logout']) {
      const { term } = await run(device(), [cmd]);
      expect(term.closed).toBe(true);
    }
  });

  it('uses local users once set authentication login local enable is on', async () => {
    const dev = device();
    await run(dev, ['enable', 'enable1', 'set localuser user ops password opsPass1 privilege 15', 'set authentication login local enable']);
    expect(dev.login.usernameRequired()).toBe(true);
    expect(dev.login.usernamePrompt).toBe('Username: ');
    expect(dev.login.passwordPrompt).toBe('Password: ');
    expect(dev.login.authenticate('ops', 'opsPass1')).toBeTruthy();
    expect(dev.login.authenticate('ops', 'login1')).toBeUndefined();
    expect(dev.login.authenticate(undefined, 'login1')).toBeUndefined();
    expect(dev.running()).toContain('set authentication login local enable');
  });
});

describe('CatOS set password and set enablepass', () => {
  it('changes the login password after old, new and retype, at once in NVRAM', async () => {
    const dev = device();
    const before = dev.startup();
    const { out, term } = await run(dev, ['enable', 'enable1', 'set password', 'login1', 'N3w-login', 'N3w-login']);
    expect(out).toContain('Console> (enable) Enter old password: Enter new password: Retype new password: Password changed.\nConsole> (enable) ');
    expect(term.secretPrompts).toEqual(['Enter password: ', 'Enter old password: ', 'Enter new password: ', 'Retype new password: ']);
    expect(term.appliedChanges).toEqual(['login password']);
    expect(dev.login.authenticate(undefined, 'N3w-login')).toBeTruthy();
    expect(dev.login.authenticate(undefined, 'login1')).toBeUndefined();
    expect(dev.startup()).not.toBe(before);
    expect(dev.startup()).toBe(dev.running());
    expect(dev.running()).not.toContain('N3w-login');
    expect(dev.running()).toMatch(/^set password \$2\$/m);
  });

  it('refuses a wrong old password without asking for the new one, and changes nothing', async () => {
    const dev = device();
    const before = dev.startup();
    const { out, term } = await run(dev, ['enable', 'enable1', 'set password', 'nope', 'N3w-login', 'N3w-login']);
    expect(out).toContain('Enter old password: Sorry password incorrect.\nConsole> (enable) ');
    expect(out).not.toContain('Enter new password: ');
    expect(term.appliedChanges).toEqual([]);
    expect(dev.loginPasswordIs('login1')).toBe(true);
    expect(dev.startup()).toBe(before);
  });

  it('refuses a retype that does not match', async () => {
    const dev = device();
    const { out, term } = await run(dev, ['enable', 'enable1', 'set enablepass', 'enable1', 'N3w-en', 'N3w-em']);
    expect(out).toContain('Retype new password: Sorry password do not match.\nConsole> (enable) ');
    expect(term.appliedChanges).toEqual([]);
    expect(dev.enablePasswordIs('enable1')).toBe(true);
  });

  it('changes the enable password, proven by the next enable', async () => {
    const dev = device();
    const first = await run(dev, ['enable', 'enable1', 'set enablepass', 'enable1', 'N3w-en', 'N3w-en']);
    expect(first.out).toContain('Password changed.\n');
    expect(first.term.appliedChanges).toEqual(['enable password']);
    const old = await run(dev, ['enable', 'enable1']);
    expect(old.out).toContain('Sorry password incorrect.');
    const fresh = await run(dev, ['enable', 'N3w-en']);
    expect(fresh.out).toMatch(/Console> \(enable\) $/);
  });

  it('asks for the privileged mode: set password in normal mode is unknown', async () => {
    const dev = device();
    const { out } = await run(dev, ['set password']);
    expect(out).toContain(`Unknown command "set password".  Use 'help' for more info.`);
    expect(dev.unexpected).toEqual(['set password']);
  });

  it('prints an armed refusal instead of changing the password', async () => {
    const dev = device();
    const term = new MemoryTerminal();
    term.refuseNext = 'Password rejected: too short.';
    const { out } = await run(dev, ['enable', 'enable1', 'set password', 'login1', 'x', 'x'], undefined, term);
    expect(out).toContain('Retype new password: Password rejected: too short.\nConsole> (enable) ');
    expect(out).not.toContain('Password changed.');
    expect(term.appliedChanges).toEqual([]);
    expect(dev.loginPasswordIs('login1')).toBe(true);
  });

  it('prints nothing more when the connection is cut right after the change applies', async () => {
    const dev = device();
    const term = new MemoryTerminal();
    term.applied = (what: string): void => {
      term.appliedChanges.push(what);
      term.close();
    };
    const { out } = await run(dev, ['enable', 'enable1', 'set password', 'login1', 'Cut-1', 'Cut-1'], undefined, term);
    expect(out.endsWith('Retype new password: ')).toBe(true);
    expect(dev.loginPasswordIs('Cut-1')).toBe(true);
    expect(dev.startup()).toBe(dev.running());
  });
});

describe('CatOS set localuser', () => {
  it('adds and updates a local user, storing the hash and never the clear text', async () => {
    const dev = device();
    const { out, term } = await run(dev, [
      'enable',
      'enable1',
      'set localuser user admin password Adm1n-pw privilege 15',
      'set localuser user admin password Adm1n-pw2',
      'set localuser user admin privilege 0',
      'show config',
    ]);
    expect(out).toContain('Added local user admin.\n');
    expect(out).toContain('Updated local user admin.\n');
    expect(term.appliedChanges).toEqual(['localuser admin', 'localuser admin', 'localuser admin']);
    expect(dev.userPasswordIs('admin', 'Adm1n-pw2')).toBe(true);
    expect(dev.userPasswordIs('admin', 'Adm1n-pw')).toBe(false);
    expect(out).toMatch(/^set localuser user admin password \$2\$\S+ privilege 0$/m);
    expect(out).not.toContain('Adm1n-pw');
    expect(dev.startup()).toBe(dev.running());
  });

  it('answers a malformed line with its usage and records it', async () => {
    const dev = device();
    const { out, term } = await run(dev, ['enable', 'enable1', 'set localuser user admin password', 'set localuser user ghost privilege 1']);
    expect(out).toContain('Usage: set localuser user <username> password <password> [privilege <level>]');
    expect(out).toContain('Local user ghost does not exist.');
    expect(dev.unexpected).toEqual(['set localuser user admin password', 'set localuser user ghost privilege 1']);
    expect(term.appliedChanges).toEqual([]);
  });

  it('clears a local user', async () => {
    const dev = device();
    dev.addUser('temp', 'Temp-pw1');
    const { out } = await run(dev, ['enable', 'enable1', 'clear localuser temp']);
    expect(out).toContain('Local user temp cleared.');
    expect(dev.userPasswordIs('temp', 'Temp-pw1')).toBe(false);
    expect(dev.startup()).not.toContain('set localuser user temp');
  });

  it('consults the refusal before clearing a user', async () => {
    const dev = device();
    dev.addUser('keep', 'Keep-pw1');
    const term = new MemoryTerminal();
    term.refuseNext = 'Cannot clear the last local user.';
    const { out } = await run(dev, ['enable', 'enable1', 'clear localuser keep'], undefined, term);
    expect(out).toContain('Cannot clear the last local user.\n');
    expect(term.appliedChanges).toEqual([]);
    expect(dev.userPasswordIs('keep', 'Keep-pw1')).toBe(true);
  });

  it('consults the refusal before adding a user', async () => {
    const dev = device();
    const term = new MemoryTerminal();
    term.refuseNext = 'Local user table is full.';
    const { out } = await run(dev, ['enable', 'enable1', 'set localuser user u1 password P-1'], undefined, term);
    expect(out).toContain('Local user table is full.\n');
    expect(dev.userPasswordIs('u1', 'P-1')).toBe(false);
  });
});

describe('CatOS set length, set system name, clear config, unknown commands', () => {
  it('turns paging off for the session and sets the default for new ones', async () => {
    const dev = device();
    const term = new MemoryTerminal();
    const { out } = await run(dev, ['set length 0'], undefined, term);
    expect(out).toContain('Screen length for this session set to 0.\n');
    expect(term.pageLength).toBe(0);
    expect(dev.paging.lines).toBe(24);
    const second = new MemoryTerminal();
    const r = await run(dev, ['enable', 'enable1', 'set length 40 default'], undefined, second);
    expect(r.out).toContain('Screen length set to 40.\n');
    expect(second.pageLength).toBe(40);
    expect(dev.paging.lines).toBe(40);
    expect(dev.startup()).toContain('set length 40 default');
  });

  it('refuses a bad length', async () => {
    const dev = device();
    const { out } = await run(dev, ['set length 3', 'set length 40 default']);
    expect(out).toContain('Usage: set length <screen_length> [default]');
    expect(dev.unexpected).toEqual(['set length 3', 'set length 40 default']);
  });

  it('sets the system name, which the prompt shows', async () => {
    const dev = device();
    const { out } = await run(dev, ['enable', 'enable1', 'set system name edge7']);
    expect(out).toMatch(/System name set\.\nedge7> \(enable\) $/);
    expect(dev.startup()).toContain('set system name  edge7');
  });

  it('clears the configuration only when confirmed', async () => {
    const dev = device();
    await run(dev, ['enable', 'enable1', 'clear config all', 'n']);
    expect(dev.loginPasswordIs('login1')).toBe(true);
    const { out, term } = await run(dev, ['enable', 'enable1', 'clear config all', 'y']);
    expect(out).toContain('Do you want to continue (y/n) [n]? ');
    expect(out).toContain('System configuration cleared.');
    expect(term.appliedChanges).toEqual(['configuration cleared']);
    expect(dev.loginPasswordIs('')).toBe(true);
    expect(dev.enablePasswordIs('')).toBe(true);
  });

  it('answers an unknown command with the CatOS error and records it', async () => {
    const dev = device();
    const { out } = await run(dev, ['xyz', 'configure terminal']);
    expect(out).toContain(`Unknown command "xyz".  Use 'help' for more info.\nConsole> `);
    expect(dev.unexpected).toEqual(['xyz', 'configure terminal']);
  });

  it('takes an ambiguous abbreviation as unknown', async () => {
    const dev = device();
    await run(dev, ['e']);
    expect(dev.unexpected).toEqual(['e']);
  });
});
