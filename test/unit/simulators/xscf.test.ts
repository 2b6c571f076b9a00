import { describe, expect, it } from 'vitest';
import { MemoryTerminal, runSession } from '../../simulators/device/memory-terminal.js';
import { XSCF_DEFAULT_POLICY, xscf, xscfCharactersOk, xscfPolicyProblem } from '../../simulators/device/xscf.js';

const device = () =>
  xscf({
    users: [
      { name: 'admin', password: 'Adm1n-pass', privileges: 'useradm,platadm' },
      { name: 'jsmith', password: 'Js-pass123', privileges: 'platop' },
    ],
  });
const admin = { username: 'admin', password: 'Adm1n-pass' };

describe('xscf simulator', () => {
  it('logs in only with the account password', async () => {
    const sp = device();
    expect(sp.login.usernamePrompt).toBe('login: ');
    expect(sp.login.authenticate('admin', 'Adm1n-pass')).toBeTruthy();
    expect(sp.login.authenticate('admin', 'adm1n-pass')).toBeUndefined();
    await expect(runSession(sp, { username: 'jsmith', password: 'x' }, [])).rejects.toThrow(/refused/);
  });

  it('password USER with useradm: two hidden prompts, live at once, reported applied', async () => {
    const sp = device();
    const { output, term } = await runSession(sp, admin, ['password jsmith', 'Other#Pw42', 'Other#Pw42']);
    expect(output).toContain('XSCF> ');
    expect(term.secretPrompts).toEqual(['New XSCF password: ', 'Retype new XSCF password: ']);
    expect(term.appliedChanges).toEqual(['password of jsmith']);
    expect(sp.login.authenticate('jsmith', 'Other#Pw42')).toBeTruthy();
    expect(sp.login.authenticate('jsmith', 'Js-pass123')).toBeUndefined();
  });

  it('with the user operand the policy is not enforced, the character set is', async () => {
    const sp = device();
    const { output } = await runSession(sp, admin, ['password jsmith', 'a_b', 'short', 'short']);
    expect(output).toContain('BAD PASSWORD: it contains characters that are not allowed');
    expect(sp.checkPassword('jsmith', 'short')).toBe(true);
  });

  it('password for oneself asks the current one and enforces the policy, with retries', async () => {
    const sp = device();
    const { output, term } = await runSession(sp, { username: 'jsmith', password: 'Js-pass123' }, [
      'password', 'Js-pass123', 'abc', 'Js-pass124', 'Fresh#Pw77', 'Fresh#Pw77',
    ]);
    expect(output).toContain('Changing password for jsmith.');
    expect(output).toContain('BAD PASSWORD: it is WAY too short');
    expect(output).toContain('BAD PASSWORD: is too similar to the old one');
    expect(term.secretPrompts[0]).toBe('Current password: ');
    expect(sp.checkPassword('jsmith', 'Fresh#Pw77')).toBe(true);
  });

  it('gives up after Retry refusals and on a mismatch asks again', async () => {
    const sp = device();
    const { output, term } = await runSession(sp, { username: 'jsmith', password: 'Js-pass123' }, [
      'password', 'Js-pass123', 'Fresh#Pw77', 'Fresh#Pw78', 'abc', 'abcd',
    ]);
    expect(output).toContain('Sorry, passwords do not match.');
    expect(output).toContain('Have exhausted maximum number of retries');
    expect(term.appliedChanges).toEqual([]);
    expect(sp.checkPassword('jsmith', 'Js-pass123')).toBe(true);
  });

  it('a wrong current password changes nothing', async () => {
    const sp = device();
    const { output } = await runSession(sp, { username: 'jsmith', password: 'Js-pass123' }, ['password', 'nope']);
    expect(output).toContain('Authentication token manipulation error');
    expect(sp.checkPassword('jsmith', 'Js-pass123')).toBe(true);
  });

  it('refuses password USER without useradm', async () => {
    const sp = device();
    const { output, term } = await runSession(sp, { username: 'jsmith', password: 'Js-pass123' }, ['password admin']);
    expect(output).toContain('password: Permission denied.');
    expect(term.secretPrompts).toEqual([]);
    expect(sp.checkPassword('admin', 'Adm1n-pass')).toBe(true);
  });

  it('prints an armed refusal instead of applying', async () => {
    const sp = device();
    const term = new MemoryTerminal();
    term.refuseNext = 'Unable to update the password.';
    const { output } = await runSession(sp, admin, ['password jsmith', 'Other#Pw42', 'Other#Pw42'], term);
    expect(output).toContain('password: Unable to update the password.');
    expect(term.appliedChanges).toEqual([]);
    expect(sp.checkPassword('jsmith', 'Js-pass123')).toBe(true);
  });

  it('the policy with credits, and showpasswordpolicy', async () => {
    expect(xscfPolicyProblem('abcdefg', XSCF_DEFAULT_POLICY)).toBe('BAD PASSWORD: it is too short'); // 7 + 1 credit < 9
    expect(xscfPolicyProblem('abcdef1', XSCF_DEFAULT_POLICY)).toBeUndefined(); // 7 + 2 credits
    expect(xscfCharactersOk('x'.repeat(33))).toBe(false);
    expect(xscfCharactersOk('with space!')).toBe(true);
    const { output } = await runSession(xscf({ policy: { minlen: 12 } }), { username: 'admin', password: 'Adm1n-pass' }, ['showpasswordpolicy']);
    expect(output).toContain('Minlen:             12\n');
    expect(output).toContain('Dcredit:            1\n');
  });

  it('adduser makes an account with no password; showuser never shows one', async () => {
    const sp = device();
    const { output } = await runSession(sp, admin, ['adduser bob_1', 'setprivileges bob_1 platop', 'showuser -p bob_1', 'adduser Bob', 'showuser -l']);
    expect(output).toContain('User Name:          bob_1\n');
    expect(output).toContain('Status:             Locked\n');
    expect(output).toContain('Privileges:         platop\n');
    expect(output).toContain('adduser: Invalid user name.');
    expect(output).not.toContain('Js-pass123');
    expect(sp.hashOf('bob_1')).toBeUndefined();
    expect(sp.hashOf('jsmith')).not.toContain('Js-pass123');
    const denied = await runSession(sp, { username: 'jsmith', password: 'Js-pass123' }, ['adduser carol']);
    expect(denied.output).toContain('adduser: Permission denied.');
    expect(sp.privilegesOf('carol')).toBeUndefined();
  });

  it('a session that ends at the second prompt changes nothing', async () => {
    const sp = device();
    const { term, done } = await runSession(sp, admin, ['password jsmith', 'Other#Pw42']);
    term.close();
    await done;
    expect(term.appliedChanges).toEqual([]);
    expect(sp.checkPassword('jsmith', 'Js-pass123')).toBe(true);
  });

  it('records unknown commands and exits', async () => {
    const sp = device();
    const { output, term } = await runSession(sp, admin, ['logout', 'exit']);
    expect(output).toContain('logout: command not found');
    expect(sp.unexpected).toEqual(['logout']);
    expect(term.closed).toBe(true);
  });
});
