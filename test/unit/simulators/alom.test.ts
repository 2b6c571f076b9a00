import { describe, expect, it } from 'vitest';
import { alom, alomPasswordOk } from '../../simulators/device/alom.js';
import { MemoryTerminal, runSession } from '../../simulators/device/memory-terminal.js';

const device = () =>
  alom({
    users: [
      { name: 'admin', password: 'adm1n.pw', privileges: 'cuar' },
      { name: 'msmith', password: 'smith42x', privileges: 'cr' },
    ],
  });
const admin = { username: 'admin', password: 'adm1n.pw' };

describe('alom simulator', () => {
  it('logs in with ALOM prompts, only with the account password', async () => {
    const sc = device();
    expect(sc.login.usernamePrompt).toBe('Please login: ');
    expect(sc.login.passwordPrompt).toBe('Please Enter password: ');
    expect(sc.login.authenticate('admin', 'adm1n.pw')).toBeTruthy();
    expect(sc.login.authenticate('admin', 'adm1n.px')).toBeUndefined();
    await expect(runSession(sc, { username: 'msmith', password: 'nope' }, [])).rejects.toThrow(/refused/);
  });

  it('userpassword, with u permission: two hidden prompts, no current password, live at once', async () => {
    const sc = device();
    const { output, term } = await runSession(sc, admin, ['userpassword msmith', 'newpw9xy', 'newpw9xy']);
    expect(output).toContain('sc> ');
    expect(term.secretPrompts).toEqual(['New password: ', 'Re-enter new password: ']);
    expect(term.appliedChanges).toEqual(['password of msmith']);
    expect(sc.login.authenticate('msmith', 'newpw9xy')).toBeTruthy();
    expect(sc.login.authenticate('msmith', 'smith42x')).toBeUndefined();
  });

  it('password changes the login own account after the current one', async () => {
    const sc = device();
    const { output, term } = await runSession(sc, { username: 'msmith', password: 'smith42x' }, [
      'password', 'wrong', // wrong current password: refused
      'password', 'smith42x', 'fresh7pw', 'fresh7pw',
    ]);
    expect(output).toContain('Error: Invalid password.');
    expect(term.secretPrompts.slice(0, 4)).toEqual([
      'Enter current password: ', 'Enter current password: ', 'Enter new password: ', 'Re-enter new password: ',
    ]);
    expect(sc.checkPassword('msmith', 'fresh7pw')).toBe(true);
    expect(term.appliedChanges).toEqual(['password of msmith']);
  });

  it('only the first eight characters count', async () => {
    const sc = device();
    await runSession(sc, admin, ['userpassword msmith', 'abcdef12-and-more', 'abcdef12-and-more']);
    expect(sc.checkPassword('msmith', 'abcdef12')).toBe(true);
    expect(sc.checkPassword('msmith', 'abcdef12-anything')).toBe(true);
    expect(sc.checkPassword('msmith', 'abcdef1')).toBe(false);
  });

  it('enforces the documented restrictions', async () => {
    expect(alomPasswordOk('ab1cd', 'msmith')).toBe(false); // under six
    expect(alomPasswordOk('1234567', 'msmith')).toBe(false); // fewer than two letters
    expect(alomPasswordOk('abcdefgh', 'msmith')).toBe(false); // no digit or special
    expect(alomPasswordOk('abcdefgh9', 'msmith')).toBe(false); // the ninth does not count
    expect(alomPasswordOk('ith1msm', 'ith1msm')).toBe(false);
    expect(alomPasswordOk('MSMITH1', 'msmith1')).toBe(false); // the login name, any case
    expect(alomPasswordOk('1htimsm', 'msmith1')).toBe(false); // its reverse
    expect(alomPasswordOk('ith1msm', 'msmith1')).toBe(false); // a circular shift
    expect(alomPasswordOk('smith42y', 'msmith', 'smith42x')).toBe(false); // one character off the old
    expect(alomPasswordOk('fresh7pw', 'msmith', 'smith42x')).toBe(true);
    const sc = device();
    const { output, term } = await runSession(sc, admin, [
      'userpassword msmith', 'abcdefgh', 'abcdefgh',
      'userpassword msmith', 'abc1de9x', 'abc1de9y',
    ]);
    expect(output).toContain('Error: Invalid password entered. Password must be 6-8 characters');
    expect(output).toContain('Error: The passwords you entered did not match.');
    expect(term.appliedChanges).toEqual([]);
    expect(sc.checkPassword('msmith', 'smith42x')).toBe(true);
  });

  it('refuses userpassword without u permission', async () => {
    const sc = device();
    const { output, term } = await runSession(sc, { username: 'msmith', password: 'smith42x' }, ['userpassword admin']);
    expect(output).toContain('Error: Insufficient permissions for this command.');
    expect(term.secretPrompts).toEqual([]);
    expect(sc.checkPassword('admin', 'adm1n.pw')).toBe(true);
  });

  it('prints an armed refusal instead of applying', async () => {
    const sc = device();
    const term = new MemoryTerminal('telnet');
    term.refuseNext = 'Unable to set password.';
    const { output } = await runSession(sc, admin, ['userpassword msmith', 'newpw9xy', 'newpw9xy'], term);
    expect(output).toContain('Error: Unable to set password.');
    expect(term.appliedChanges).toEqual([]);
    expect(sc.checkPassword('msmith', 'smith42x')).toBe(true);
  });

  it('useradd, userperm and usershow, with the password status and never the password', async () => {
    const sc = device();
    const { output } = await runSession(sc, admin, ['useradd joeuser', 'userperm joeuser cr', 'usershow', 'usershow joeuser', 'useradd 9bad']);
    expect(output).toMatch(/admin {12}cuar {12}Assigned\n/);
    expect(output).toMatch(/joeuser {10}--cr {12}None\n/);
    expect(output).toContain('Error: Invalid username string.');
    expect(output).not.toContain('smith42x');
    expect(sc.hashOf('joeuser')).toBeUndefined();
    expect(sc.hashOf('msmith')).not.toContain('smith42x');
    expect(sc.login.authenticate('joeuser', '')).toBeUndefined();
  });

  it('a session that ends at the second prompt changes nothing', async () => {
    const sc = device();
    const { term, done } = await runSession(sc, admin, ['userpassword msmith', 'newpw9xy']);
    term.close();
    await done;
    expect(term.appliedChanges).toEqual([]);
    expect(sc.checkPassword('msmith', 'smith42x')).toBe(true);
  });

  it('showusers lists the session; unknown commands are recorded; logout ends it', async () => {
    const sc = device();
    const { output, term } = await runSession(sc, admin, ['showusers', 'exit', 'logout']);
    expect(output).toMatch(/\nadmin +ssh-1/);
    expect(output).toContain("Invalid command. Type 'help' for list of commands.");
    expect(sc.unexpected).toEqual(['exit']);
    expect(term.closed).toBe(true);
  });
});
