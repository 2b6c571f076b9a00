import { describe, expect, it } from 'vitest';
import { ilom } from '../../simulators/device/ilom.js';
import { MemoryTerminal, runSession } from '../../simulators/device/memory-terminal.js';

const device = () =>
  ilom({
    users: [
      { name: 'root', password: 'changeme', privileges: 'aucros' },
      { name: 'oper', password: 'OperPass1', privileges: 'cro' },
    ],
  });
const root = { username: 'root', password: 'changeme' };

describe('ilom simulator', () => {
  it('logs in only with the account password, prompts as ILOM does', async () => {
    const sp = device();
    expect(sp.login.usernamePrompt).toBe('login: ');
    expect(sp.login.passwordPrompt).toBe('Password: ');
    expect(sp.login.authenticate('root', 'changeme')).toBeTruthy();
    expect(sp.login.authenticate('root', 'changeme!')).toBeUndefined();
    await expect(runSession(sp, { username: 'oper', password: 'x' }, [])).rejects.toThrow(/refused/);
  });

  it('shows the users and a user, never its password', async () => {
    const sp = device();
    const { output } = await runSession(sp, root, ['show /SP/users', 'show /SP/users/oper']);
    expect(output).toContain('-> ');
    expect(output).toMatch(/ \/SP\/users\n {4}Targets:\n {8}root\n {8}oper\n/);
    expect(output).toContain('role = cro');
    expect(output).toContain('password = *****');
    expect(output).not.toContain('OperPass1');
    expect(sp.hashOf('oper')).not.toContain('OperPass1');
  });

  it('changes another user password with the two hidden prompts, applied at once', async () => {
    const sp = device();
    const { output, term } = await runSession(sp, root, ['set /SP/users/oper password', 'NewPass12', 'NewPass12']);
    expect(term.secretPrompts).toEqual(['Enter new password: ', 'Enter new password again: ']);
    expect(output).toContain('Changing password for user /SP/users/oper...');
    expect(output).toContain('New password was successfully set for user /SP/users/oper');
    expect(term.appliedChanges).toEqual(['password of oper']);
    expect(sp.checkPassword('oper', 'NewPass12')).toBe(true);
    expect(sp.login.authenticate('oper', 'OperPass1')).toBeUndefined();
  });

  it('takes password=VALUE with the confirming prompt, and cd with a relative target', async () => {
    const sp = device();
    const { term } = await runSession(sp, root, ['cd /SP/users', 'set oper password=Value1234', 'Value1234']);
    expect(term.secretPrompts).toEqual(['Enter new password again: ']);
    expect(sp.checkPassword('oper', 'Value1234')).toBe(true);
  });

  it('refuses a mismatch, a short or long password, a colon and a space', async () => {
    const sp = device();
    const { output, term } = await runSession(sp, root, [
      'set /SP/users/oper password', 'NewPass12', 'NewPass13',
      'set /SP/users/oper password', 'short1', 'short1',
      'set /SP/users/oper password', 'a'.repeat(17), 'a'.repeat(17),
      'set /SP/users/oper password', 'abc:defgh', 'abc:defgh',
      'set /SP/users/oper password="abc defgh"',
    ]);
    expect(output).toContain('set: Passwords do not match');
    expect(output.match(/must be 8 to 16 characters/g)).toHaveLength(2);
    expect(output.match(/colons and spaces are not allowed/g)).toHaveLength(2);
    expect(term.appliedChanges).toEqual([]);
    expect(sp.checkPassword('oper', 'OperPass1')).toBe(true);
  });

  it('lets an operator change its own password but not another', async () => {
    const sp = device();
    const { output } = await runSession(sp, { username: 'oper', password: 'OperPass1' }, [
      'set /SP/users/root password',
      'set /SP/users/oper password', 'Mine12345', 'Mine12345',
    ]);
    expect(output).toContain('set: Permission denied');
    expect(sp.checkPassword('root', 'changeme')).toBe(true);
    expect(sp.checkPassword('oper', 'Mine12345')).toBe(true);
  });

  it('prints an armed refusal instead of applying', async () => {
    const sp = device();
    const term = new MemoryTerminal();
    term.refuseNext = 'Unable to set password';
    const { output } = await runSession(sp, root, ['set /SP/users/oper password', 'NewPass12', 'NewPass12'], term);
    expect(output).toContain('set: Unable to set password');
    expect(term.appliedChanges).toEqual([]);
    expect(sp.checkPassword('oper', 'OperPass1')).toBe(true);
  });

  it('creates a user in both documented forms, needing the u role', async () => {
    const sp = device();
    const { output } = await runSession(sp, root, [
      'create /SP/users/alice role=administrator', 'AlicePw12', 'AlicePw12',
      'create /SP/users bobby password=BobbyPw12 role=aucr', 'BobbyPw12',
    ]);
    expect(output).toContain('Created /SP/users/alice');
    expect(output).toContain('Created /SP/users/bobby');
    expect(sp.privilegesOf('alice')).toBe('aucro');
    expect(sp.privilegesOf('bobby')).toBe('aucr');
    expect(sp.checkPassword('bobby', 'BobbyPw12')).toBe(true);
    const denied = await runSession(sp, { username: 'oper', password: 'OperPass1' }, ['create /SP/users/carol']);
    expect(denied.output).toContain('create: Permission denied');
    expect(sp.privilegesOf('carol')).toBeUndefined();
  });

  it('a session that ends at the second prompt changes nothing', async () => {
    const sp = device();
    const { term, done } = await runSession(sp, root, ['set /SP/users/oper password', 'NewPass12']);
    term.close();
    await done;
    expect(term.appliedChanges).toEqual([]);
    expect(sp.checkPassword('oper', 'OperPass1')).toBe(true);
  });

  it('records unknown commands and exits', async () => {
    const sp = device();
    const { output, term } = await runSession(sp, root, ['write memory', 'exit']);
    expect(output).toContain("Invalid command 'write' - type help for a list of commands.");
    expect(sp.unexpected).toEqual(['write memory']);
    expect(term.closed).toBe(true);
  });
});
