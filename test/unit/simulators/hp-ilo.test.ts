import { describe, expect, it } from 'vitest';
import { hpIlo } from '../../simulators/device/hp-ilo.js';
import { parseClp } from '../../simulators/device/service-processor.js';
import { MemoryTerminal, runSession } from '../../simulators/device/memory-terminal.js';

const now = (): Date => new Date(Date.UTC(2026, 11, 2, 13, 5, 25));
const device = () =>
  hpIlo({
    now,
    users: [
      { name: 'Administrator', password: 'AdminPass1', privileges: 'admin,config,oemhp_power,oemhp_rc,oemhp_vm' },
      { name: 'bob', password: 'BobPass12', privileges: 'config' },
    ],
  });
const admin = { username: 'Administrator', password: 'AdminPass1' };

describe('hp-ilo simulator (SMASH CLP)', () => {
  it('logs in only with the account password', async () => {
    const ilo = device();
    expect(ilo.login.authenticate('Administrator', 'AdminPass1')).toBeTruthy();
    expect(ilo.login.authenticate('Administrator', 'wrong')).toBeUndefined();
    expect(ilo.login.authenticate('nobody', 'AdminPass1')).toBeUndefined();
    await expect(runSession(ilo, { username: 'bob', password: 'nope' }, [])).rejects.toThrow(/refused/);
  });

  it('shows the accounts with the CLP status lines and never the password', async () => {
    const ilo = device();
    const { output } = await runSession(ilo, admin, ['show /map1/accounts1', 'show /map1/accounts1/bob']);
    expect(output).toContain('</>hpiLO-> ');
    expect(output).toContain('status=0\nstatus_tag=COMMAND COMPLETED\nWed Dec  2 13:05:25 2026\n\n\n\n/map1/accounts1\n');
    expect(output).toMatch(/Targets\n {4}Administrator\n {4}bob\n/);
    expect(output).toContain('username=bob\n    password=******\n');
    expect(output).toContain('group=config');
    expect(output).not.toContain('BobPass12');
    expect(ilo.hashOf('bob')).not.toContain('BobPass12');
  });

  it('an administrator sets another user password, live at once, reported applied', async () => {
    const ilo = device();
    const { output, term } = await runSession(ilo, admin, ['set /map1/accounts1/bob password=NewPass99']);
    expect(output).toContain('status=0\nstatus_tag=COMMAND COMPLETED');
    expect(term.appliedChanges).toEqual(['password of bob']);
    expect(ilo.checkPassword('bob', 'NewPass99')).toBe(true);
    expect(ilo.checkPassword('bob', 'BobPass12')).toBe(false);
    expect(ilo.login.authenticate('bob', 'NewPass99')).toBeTruthy();
  });

  it('takes cd and relative targets, and a double-quoted value with spaces', async () => {
    const ilo = device();
    const { output } = await runSession(ilo, admin, ['cd /map1/accounts1', 'set bob password="two words here"']);
    expect(output).toContain('/map1/accounts1\n');
    expect(ilo.checkPassword('bob', 'two words here')).toBe(true);
  });

  it('refuses a password the CLP cannot carry (a double quote) as a syntax error, changing nothing', async () => {
    const ilo = device();
    const { output, term } = await runSession(ilo, admin, [
      'set /map1/accounts1/bob password=ab"cdefgh',
      'set /map1/accounts1/bob password="abc defgh',
    ]);
    expect(output.match(/error_tag=COMMAND SYNTAX ERROR/g)).toHaveLength(2);
    expect(output).toContain('status=2\nstatus_tag=COMMAND PROCESSING FAILED\n');
    expect(term.appliedChanges).toEqual([]);
    expect(ilo.checkPassword('bob', 'BobPass12')).toBe(true);
    expect(parseClp('set x password=a"b')).toBeUndefined();
  });

  it('enforces the length rules with the documented messages', async () => {
    const ilo = device();
    const { output } = await runSession(ilo, admin, [
      'set /map1/accounts1/bob password=short',
      `set /map1/accounts1/bob password=${'x'.repeat(40)}`,
    ]);
    expect(output).toContain('Password is too short. Minimum length is 8 characters.');
    expect(output).toContain('Password is too long. Maximum length is 39 characters.');
    expect(ilo.checkPassword('bob', 'BobPass12')).toBe(true);
  });

  it('lets a user without Administer User Accounts change only its own password', async () => {
    const ilo = device();
    const { output, term } = await runSession(ilo, { username: 'bob', password: 'BobPass12' }, [
      'set /map1/accounts1/Administrator password=Hijacked1',
      'set /map1/accounts1/bob password=MyOwnPass1',
    ]);
    expect(output).toContain('required privilege (Administer User Accounts)');
    expect(ilo.checkPassword('Administrator', 'AdminPass1')).toBe(true);
    expect(ilo.checkPassword('bob', 'MyOwnPass1')).toBe(true);
    expect(term.appliedChanges).toEqual(['password of bob']);
  });

  it('prints an armed refusal instead of applying the change', async () => {
    const ilo = device();
    const term = new MemoryTerminal();
    term.refuseNext = 'Unable to modify user.';
    const { output } = await runSession(ilo, admin, ['set /map1/accounts1/bob password=NewPass99'], term);
    expect(output).toContain('error_tag=COMMAND ERROR-UNSPECIFIED');
    expect(output).toContain('error_tag=COMMAND ERROR-UNSPECIFIED\nWed Dec  2 13:05:25 2026\n\nUnable to modify user.\n\n\n');
    expect(term.appliedChanges).toEqual([]);
    expect(ilo.checkPassword('bob', 'BobPass12')).toBe(true);
  });

  it('creates a user with a group, admin only', async () => {
    const ilo = device();
    await runSession(ilo, admin, ['create /map1/accounts1 username=carol password=CarolPass1 group=admin,config']);
    expect(ilo.checkPassword('carol', 'CarolPass1')).toBe(true);
    expect(ilo.privilegesOf('carol')).toBe('admin,config');
    const { output } = await runSession(ilo, { username: 'bob', password: 'BobPass12' }, [
      'create /map1/accounts1 username=dave password=DavePass1',
    ]);
    expect(output).toContain('status=2');
    expect(ilo.privilegesOf('dave')).toBeUndefined();
  });

  it('records and refuses unknown commands, and exit ends the session', async () => {
    const ilo = device();
    const { output, term } = await runSession(ilo, admin, ['copy running-config startup-config', 'exit']);
    expect(output).toContain('error_tag=COMMAND NOT RECOGNIZED');
    expect(ilo.unexpected).toEqual(['copy running-config startup-config']);
    expect(term.closed).toBe(true);
  });
});
