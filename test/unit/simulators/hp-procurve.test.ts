import { describe, expect, it } from 'vitest';
import { hpProcurve, type HpProcurve } from '../../simulators/device/hp-procurve.js';
import { sha1Hex } from '../../simulators/device/hp-procurve-config.js';
import { MemoryTerminal, runSession } from '../../simulators/device/memory-terminal.js';

const MANAGER = { username: 'admin', password: 'Old-Pass1' };

function switchWithManager(): HpProcurve {
  return hpProcurve({ manager: MANAGER, operator: { username: 'ops', password: 'Op-Pass1' } });
}

/** Logs in (answering "Press any key to continue" with a space) and types `lines`. */
function session(
  sim: HpProcurve,
  lines: readonly string[],
  login: { username?: string; password: string } = MANAGER,
  transport: 'ssh' | 'telnet' = 'ssh',
) {
  return runSession(sim, login, [' ', ...lines], new MemoryTerminal(transport));
}

describe('hp-procurve login', () => {
  it('shows the banner and "Press any key to continue" after SSH authentication, then the manager prompt', async () => {
    const { output } = await session(switchWithManager(), []);
    expect(output).toMatch(/^\nHP J9850A Switch 5406Rzl2\nSoftware revision KB\./);
    expect(output).toContain('Please register your products now at:');
    expect(output.indexOf('Press any key to continue')).toBeGreaterThan(output.indexOf('register'));
    expect(output.endsWith('Press any key to continue\nHP-Switch# ')).toBe(true);
  });

  it('gives the banner and the key prompt to the Telnet login, before its prompts, and nothing more to the session', async () => {
    const sim = switchWithManager();
    expect(sim.login.banner?.()).toContain('RESTRICTED RIGHTS LEGEND');
    const before = new MemoryTerminal('telnet');
    const asked = sim.login.beforeLogin!(before);
    before.type(' ');
    expect(await asked).toBe('ask');
    expect(before.output).toBe('Press any key to continue\n');
    const { output } = await runSession(sim, MANAGER, [], new MemoryTerminal('telnet'));
    expect(output).toBe('HP-Switch# ');
  });

  it('logs a Telnet client in without asking anything when no password is set', async () => {
    const term = new MemoryTerminal('telnet');
    const asked = hpProcurve().login.beforeLogin!(term);
    term.type(' ');
    expect(await asked).toEqual({ username: undefined, grant: { level: 'manager' } });
  });

  it('asks for a user name over Telnet only when a manager or operator user name is set', () => {
    expect(switchWithManager().login.usernameRequired()).toBe(true);
    const passwordOnly = hpProcurve({ manager: { password: 'Old-Pass1' } });
    expect(passwordOnly.login.usernameRequired()).toBe(false);
    expect(passwordOnly.login.usernamePrompt).toBe('Username: ');
    expect(passwordOnly.login.passwordPrompt).toBe('Password: ');
  });

  it('enforces the credentials: manager login at #, operator at >, anything else refused', async () => {
    const sim = switchWithManager();
    expect(sim.login.authenticate('admin', 'Old-Pass1')).toEqual({ level: 'manager' });
    expect(sim.login.authenticate('ops', 'Op-Pass1')).toEqual({ level: 'operator' });
    expect(sim.login.authenticate('admin', 'Op-Pass1')).toBeUndefined();
    expect(sim.login.authenticate('ops', 'Old-Pass1')).toBeUndefined();
    expect(sim.login.authenticate('admin', 'wrong')).toBeUndefined();
    const { output } = await session(sim, [], { username: 'ops', password: 'Op-Pass1' });
    expect(output.endsWith('HP-Switch> ')).toBe(true);
  });

  it('logs in with the password alone when no user name is set', () => {
    const sim = hpProcurve({ manager: { password: 'Old-Pass1' } });
    expect(sim.login.authenticate(undefined, 'Old-Pass1')).toEqual({ level: 'manager' });
    expect(sim.login.authenticate(undefined, 'nope')).toBeUndefined();
  });

  it('allows three Telnet tries, answering a refused one', () => {
    expect(switchWithManager().login).toMatchObject({ attempts: 3, failed: 'Invalid password\n' });
  });

  it('lets anyone in at the manager level when no password is set', () => {
    expect(hpProcurve().login.authenticate(undefined, '')).toEqual({ level: 'manager' });
  });
});

describe('hp-procurve enable', () => {
  it('asks the operator for the manager user name and password, and refuses wrong ones', async () => {
    const sim = switchWithManager();
    const { output, term } = await session(sim, ['enable', 'admin', 'bad', 'en', 'admin', 'Old-Pass1'], {
      username: 'ops',
      password: 'Op-Pass1',
    });
    expect(output).toContain('HP-Switch> Username: Password: \nInvalid password\nHP-Switch> ');
    expect(output.endsWith('HP-Switch> Username: Password: \nHP-Switch# ')).toBe(true);
    expect(term.secretPrompts).toEqual(['Password: ', 'Password: ']);
  });

  it('gives the manager level without a password when only an operator password is set', async () => {
    const sim = hpProcurve({ operator: { password: 'Op-Pass1' } });
    expect(sim.login.authenticate(undefined, 'Op-Pass1')).toEqual({ level: 'operator' });
    const { output } = await session(sim, ['enable'], { password: 'Op-Pass1' });
    expect(output.endsWith('HP-Switch> HP-Switch# ')).toBe(true);
  });

  it('does not take manager commands at the operator level', async () => {
    const sim = switchWithManager();
    const { output } = await session(sim, ['configure'], { username: 'ops', password: 'Op-Pass1' });
    expect(output).toContain('HP-Switch> Invalid input: configure\n');
    expect(sim.unexpected).toEqual(['configure']);
  });
});

describe('hp-procurve configuration context', () => {
  it.each(['configure', 'config', 'conf t', 'configure terminal'])('enters it with %j and leaves with exit', async (cmd) => {
    const { output } = await session(switchWithManager(), [cmd, 'exit']);
    expect(output.endsWith('HP-Switch# HP-Switch(config)# HP-Switch# ')).toBe(true);
  });

  it('changes the manager password with its two prompts, echo off, in the running configuration only', async () => {
    const sim = switchWithManager();
    const { output, term } = await session(sim, [
      'configure',
      'password manager user-name admin',
      'New-Pass2',
      'New-Pass2',
    ]);
    expect(output).toContain(
      'HP-Switch(config)# New password for manager: \nPlease retype new password for manager: \nHP-Switch(config)# ',
    );
    expect(term.secretPrompts).toEqual(['New password for manager: ', 'Please retype new password for manager: ']);
    expect(term.appliedChanges).toEqual(['password manager']);
    expect(sim.login.authenticate('admin', 'New-Pass2')).toEqual({ level: 'manager' });
    expect(sim.login.authenticate('admin', 'Old-Pass1')).toBeUndefined();
    expect(sim.running().manager).toEqual({ username: 'admin', sha1: sha1Hex('New-Pass2') });
    expect(sim.startup().manager?.sha1).toBe(sha1Hex('Old-Pass1'));
  });

  it('renames the account with user-name and keeps the name when none is given', async () => {
    const sim = switchWithManager();
    await session(sim, ['config', 'password operator user-name night-ops', 'P1', 'P1', 'pass oper', 'P2', 'P2']);
    expect(sim.running().operator).toEqual({ username: 'night-ops', sha1: sha1Hex('P2') });
    expect(sim.login.authenticate('night-ops', 'P2')).toEqual({ level: 'operator' });
  });

  it('refuses a retyped password that differs, changing nothing', async () => {
    const sim = switchWithManager();
    const { output, term } = await session(sim, ['config', 'password manager', 'New-Pass2', 'New-Pass3']);
    expect(output).toContain('Password mismatch. The password was not changed.\nHP-Switch(config)# ');
    expect(term.appliedChanges).toEqual([]);
    expect(sim.login.authenticate('admin', 'Old-Pass1')).toEqual({ level: 'manager' });
  });

  it('prints an armed refusal instead of applying the change', async () => {
    const sim = switchWithManager();
    const term = new MemoryTerminal('ssh');
    term.refuseNext = 'Password policy violation.';
    const { output } = await runSession(sim, MANAGER, [' ', 'config', 'password manager', 'N-1', 'N-1'], term);
    expect(output).toContain('Please retype new password for manager: \nPassword policy violation.\nHP-Switch(config)# ');
    expect(term.appliedChanges).toEqual([]);
    expect(sim.login.authenticate('admin', 'N-1')).toBeUndefined();
  });

  it('takes the password on the line with plaintext or sha1', async () => {
    const sim = switchWithManager();
    const hash = sha1Hex('Hashed-3');
    const { term } = await session(sim, [
      'config',
      'password operator user-name ops plaintext Plain-2',
      `password manager user-name admin sha1 ${hash.toUpperCase()}`,
    ]);
    expect(term.appliedChanges).toEqual(['password operator', 'password manager']);
    expect(term.secretPrompts).toEqual([]);
    expect(sim.login.authenticate('ops', 'Plain-2')).toEqual({ level: 'operator' });
    expect(sim.login.authenticate('admin', 'Hashed-3')).toEqual({ level: 'manager' });
  });

  it('asks for the operator then the manager password with "password all"', async () => {
    const sim = switchWithManager();
    const { term } = await session(sim, ['config', 'password all', 'O-9', 'O-9', 'M-9', 'M-9']);
    expect(term.secretPrompts).toEqual([
      'New password for operator: ',
      'Please retype new password for operator: ',
      'New password for manager: ',
      'Please retype new password for manager: ',
    ]);
    expect(sim.login.authenticate('admin', 'M-9')).toEqual({ level: 'manager' });
    expect(sim.login.authenticate('ops', 'O-9')).toEqual({ level: 'operator' });
  });

  it('deletes the passwords with "no password" only after a y', async () => {
    const sim = switchWithManager();
    const { output, term } = await session(sim, ['config', 'no password', 'n', 'no password all', 'y']);
    expect(output).toContain('Password protection will be deleted, do you want to continue [y/n]? n\n');
    expect(term.appliedChanges).toEqual(['no password all']);
    expect(sim.running().manager).toBeUndefined();
    expect(sim.login.usernameRequired()).toBe(false);
    expect(sim.startup().manager).toBeDefined();
  });

  it('does not take the password command outside the configuration context', async () => {
    const sim = switchWithManager();
    const { output } = await session(sim, ['password manager']);
    expect(output).toContain('HP-Switch# Invalid input: password\n');
    expect(sim.unexpected).toEqual(['password manager']);
  });

  it('changes the prompt with hostname', async () => {
    const { output } = await session(switchWithManager(), ['conf', 'hostname core-1', 'end']);
    expect(output.endsWith('HP-Switch(config)# core-1(config)# core-1# ')).toBe(true);
  });
});

describe('hp-procurve save and show', () => {
  it('shows the hash in show running-config, never the clear text', async () => {
    const sim = switchWithManager();
    const { output } = await session(sim, ['config', 'password manager user-name admin', 'Clear-Text7', 'Clear-Text7', 'sh run']);
    expect(output).toContain('Running configuration:\n\n; J9850A Configuration Editor');
    expect(output).toContain(`password manager user-name "admin" sha1 "${sha1Hex('Clear-Text7')}"\n`);
    expect(output).not.toContain('Clear-Text7');
  });

  it('leaves the credentials out of the configuration after no include-credentials', async () => {
    const sim = switchWithManager();
    const { output } = await session(sim, ['config', 'no include-credentials', 'show running-config']);
    expect(output).toContain('hostname "HP-Switch"\n');
    expect(output).not.toContain('password manager');
    expect(sim.login.authenticate('admin', 'Old-Pass1')).toEqual({ level: 'manager' });
  });

  it.each(['write memory', 'wr mem', 'write mem'])('copies running to startup with %j', async (save) => {
    const sim = switchWithManager();
    await session(sim, ['config', 'password manager', 'New-Pass2', 'New-Pass2']);
    expect(sim.startup().manager?.sha1).toBe(sha1Hex('Old-Pass1'));
    await session(sim, [save], { username: 'admin', password: 'New-Pass2' });
    expect(sim.startup().manager?.sha1).toBe(sha1Hex('New-Pass2'));
    expect(sim.startupText()).toBe(sim.runningText().replace('Running', 'Startup'));
  });

  it('loses an unsaved change on reload and keeps a saved one', async () => {
    const sim = switchWithManager();
    await session(sim, ['config', 'password manager', 'Unsaved-1', 'Unsaved-1']);
    sim.reload();
    expect(sim.login.authenticate('admin', 'Old-Pass1')).toEqual({ level: 'manager' });
    await session(sim, ['config', 'password manager', 'Saved-1', 'Saved-1', 'write memory']);
    sim.reload();
    expect(sim.login.authenticate('admin', 'Saved-1')).toEqual({ level: 'manager' });
  });

  it('shows the startup configuration with show config', async () => {
    const sim = switchWithManager();
    const { output } = await session(sim, ['config', 'hostname edge-2', 'show config']);
    expect(output).toContain('Startup configuration:\n\n');
    expect(output).toContain('hostname "HP-Switch"');
  });

  it('turns paging off with no page and on again with page', async () => {
    const sim = switchWithManager();
    expect(sim.paging).toMatchObject({ lines: 24, more: '-- MORE --, next page: Space, next line: Enter, quit: Control-C' });
    const term = new MemoryTerminal('ssh');
    await runSession(sim, MANAGER, [' ', 'page'], term);
    expect(term.pageLength).toBe(24);
    term.type('no page');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(term.pageLength).toBe(0);
  });

  it('answers unknown commands and arguments with "Invalid input" and records them', async () => {
    const sim = switchWithManager();
    const { output } = await session(sim, ['xyz', 'show foo', 'write', 'copy running-config startup-config']);
    expect(output).toContain('HP-Switch# Invalid input: xyz\n');
    expect(output).toContain('HP-Switch# Invalid input: foo\n');
    expect(output).toContain('HP-Switch# Incomplete input: write\n');
    expect(output).toContain('HP-Switch# Invalid input: copy\n');
    expect(sim.unexpected).toEqual(['xyz', 'show foo', 'write', 'copy running-config startup-config']);
  });
});

describe('hp-procurve logout', () => {
  it('stays logged in when the log out question is answered n', async () => {
    const { output, term } = await session(switchWithManager(), ['logout', 'n']);
    expect(output.endsWith('HP-Switch# Do you want to log out [y/n]? n\nHP-Switch# ')).toBe(true);
    expect(term.closed).toBe(false);
  });

  it('logs out without the save question when nothing changed', async () => {
    const { output, term } = await session(switchWithManager(), ['exit', 'y']);
    expect(output.endsWith('Do you want to log out [y/n]? y\n')).toBe(true);
    expect(term.closed).toBe(true);
  });

  it('does not save an unsaved change when the save question is answered n, and ignores other keys', async () => {
    const sim = switchWithManager();
    const { output, term } = await session(sim, ['config', 'password manager', 'N-2', 'N-2', 'exit', 'logout', '\r', 'y', 'x', 'n']);
    expect(output).toContain('Do you want to log out [y/n]? y\nDo you want to save the current configuration [y/n/^C]? n\n');
    expect(term.closed).toBe(true);
    expect(sim.startup().manager?.sha1).toBe(sha1Hex('Old-Pass1'));
  });

  it('saves when the save question is answered y', async () => {
    const sim = switchWithManager();
    const { term } = await session(sim, ['config', 'password manager', 'N-3', 'N-3', 'logout', 'y', 'y']);
    expect(term.closed).toBe(true);
    expect(sim.startup().manager?.sha1).toBe(sha1Hex('N-3'));
  });

  it('does not ask an operator to save, who cannot', async () => {
    const sim = switchWithManager();
    await session(sim, ['conf', 'hostname unsaved']);
    const { output, term } = await session(sim, ['exit', 'y'], { username: 'ops', password: 'Op-Pass1' });
    expect(output.endsWith('unsaved> Do you want to log out [y/n]? y\n')).toBe(true);
    expect(term.closed).toBe(true);
    expect(sim.startup().hostname).toBe('HP-Switch');
  });

  it('stays logged in when the save question is answered ^C', async () => {
    const sim = switchWithManager();
    const { output, term } = await session(sim, ['conf', 'hostname x', 'logout', 'y', '\x03']);
    expect(term.closed).toBe(false);
    expect(output.endsWith('[y/n/^C]? \nx(config)# ')).toBe(true);
    expect(sim.startup().hostname).toBe('HP-Switch');
  });
});
