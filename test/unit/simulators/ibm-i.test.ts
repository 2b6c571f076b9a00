import { describe, expect, it } from 'vitest';
import { ibmI, type IbmISimulator } from '../../simulators/device/ibm-i.js';
import { MemoryTerminal, runSession } from '../../simulators/device/memory-terminal.js';
import type { SystemValues } from '../../simulators/device/ibm-i-security.js';

// The chosen method (see ibm-i.ts): passwords read with `read -rs`, the SQL statement built by
// the printf builtin and piped to QShell's db2, so no program's argv carries them.
const CALL = `printf "CALL QSYS.QSYCHGPW('%s', '%s', '%s', X'00000000', %d, 0, %d, 0)\\n" "$WHO" "$CUR" "$NEW" \${#CUR} \${#NEW} | qsh -c db2`;

function change(who: string, current: string, next: string): string[] {
  return [`WHO='${who}'`, 'read -rs CUR', current, 'read -rs NEW', next, CALL];
}

function system(): IbmISimulator {
  const sim = ibmI();
  sim.addProfile('BOB', 'Old-pass1');
  sim.addProfile('SECOFR2', 'Officer-pw9', { special: ['*SECADM', '*ALLOBJ'] });
  return sim;
}

/** Every place the simulated system keeps a command or a log line. */
function traces(sim: IbmISimulator): string {
  return [...sim.commandLines, ...sim.joblog, ...sim.history].join('\n');
}

describe('IBM i simulator: a password change over SSH', () => {
  it('changes its own password with QSYCHGPW, the passwords on no command line and in no job log', async () => {
    const sim = system();
    const { output, term } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, change('*CURRENT', 'Old-pass1', 'New-pass2'));
    expect(output).toContain('DB20000I');
    expect(sim.checkPassword('BOB', 'New-pass2')).toBe(true);
    expect(sim.checkPassword('BOB', 'Old-pass1')).toBe(false);
    expect(term.appliedChanges).toEqual(['password of user profile BOB']);
    expect(term.secretPrompts).toHaveLength(2);
    expect(sim.commandLines).toEqual(['qsh -c db2', 'db2']);
    for (const secret of ['Old-pass1', 'New-pass2']) expect(traces(sim)).not.toContain(secret);
    // The one residue the header names: the statement text, as a database monitor sees it.
    expect(sim.statements.join('\n')).toContain('New-pass2');
    expect(sim.unexpected).toEqual([]);
  });

  it('reads as bash does: blanks around the value stripped, backslashes escapes unless -r', async () => {
    const sim = system();
    const { output } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, ['read X', '  a\\b c  ', 'echo "[$X]"', 'read -r Y', '  a\\b c  ', 'echo "[$Y]"']);
    expect(output).toContain('[ab c]');
    expect(output).toContain('[a\\b c]');
  });

  it('takes a password holding printf and shell characters whole', async () => {
    const sim = system();
    const next = 'Pc%s\\t$HOME*1';
    await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, change('*CURRENT', 'Old-pass1', next));
    expect(sim.checkPassword('BOB', next)).toBe(true);
  });

  it('refuses an SSH login whose password is expired (PWDEXP(*YES))', async () => {
    const sim = ibmI({ systemValues: { QPWDLVL: 0 } });
    sim.addProfile('BOB', 'OLDPASS1');
    sim.addProfile('SECOFR2', 'OFFICER9', { special: ['*SECADM'] });
    expect(sim.dialect.login.authenticate('bob', 'oldpass1')).toBe('BOB');
    const { output } = await runSession(sim.dialect, { username: 'secofr2', password: 'officer9' }, ['system CHGUSRPRF USRPRF(BOB) PWDEXP(*YES)']);
    expect(output).toContain('CPC2205: User profile BOB changed.');
    expect(sim.dialect.login.authenticate('bob', 'oldpass1')).toBeUndefined();
  });

  it('runs the method on one line, each command expanded when it runs, with && and ||', async () => {
    const sim = system();
    const line = `WHO='*CURRENT'; read -rs CUR; read -rs NEW; ${CALL} && echo changed || echo "failed $?"`;
    const ok = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, [line, 'Old-pass1', 'New-pass2']);
    expect(ok.output).toContain('changed');
    expect(sim.checkPassword('BOB', 'New-pass2')).toBe(true);
    const bad = await runSession(sim.dialect, { username: 'bob', password: 'New-pass2' }, [line, 'Wrong-one1', 'Other-pw3']);
    expect(bad.output).toContain('failed 1');
    expect(traces(sim)).not.toMatch(/Old-pass1|New-pass2|Wrong-one1|Other-pw3/);
  });

  it('sets $? as bash does: 127 for a missing command, non-zero for a CL escape message', async () => {
    const sim = system();
    const { output } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, ['nosuch; echo "rc=$?"', 'system CHKPWD PASSWORD(bad) # a comment', 'echo "rc=$?"', 'echo "rc=$?"']);
    expect(output).toContain('rc=127');
    expect(output).toContain('CPF2362: Password not correct.');
    expect(output.match(/rc=\d+/g)).toEqual(['rc=127', 'rc=1', 'rc=0']);
  });

  it('refuses a wrong current password with CPF22E2 and changes nothing', async () => {
    const sim = system();
    const { output, term } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, change('*CURRENT', 'Wrong-one1', 'New-pass2'));
    expect(output).toContain('CPF22E2: Password not correct for user profile BOB.');
    expect(sim.checkPassword('BOB', 'Old-pass1')).toBe(true);
    expect(term.appliedChanges).toEqual([]);
    expect(sim.joblog).toContain('CPF22E2 Password not correct for user profile BOB.');
  });

  const rules: readonly [string, Partial<SystemValues>, string, string][] = [
    ['QPWDMINLEN', { QPWDMINLEN: 12 }, 'Short-pw3', 'CPF22C2'],
    ['QPWDMAXLEN', { QPWDMAXLEN: 10 }, 'Much-too-long-4', 'CPF22C3'],
    ['QPWDLMTCHR', { QPWDLMTCHR: 'XYZ' }, 'Box-pass5', 'CPF22C5'],
    ['QPWDLMTAJC', { QPWDLMTAJC: true }, 'New-pass55', 'CPF22C6'],
    ['QPWDLMTREP 1', { QPWDLMTREP: '1' }, 'Abcdefga', 'CPF22C7'],
    ['QPWDLMTREP 2', { QPWDLMTREP: '2' }, 'Abccdef7', 'CPF22D0'],
    ['QPWDPOSDIF', { QPWDPOSDIF: true }, 'Oxxxxxxx', 'CPF22C8'],
    ['QPWDRQDDGT', { QPWDRQDDGT: true }, 'No-digits-here', 'CPF22C9'],
    ['QPWDLVL 0 syntax', { QPWDLVL: 0 }, 'has-dash1', 'CPF22C1'],
  ];
  it.each(rules)('refuses what %s forbids', async (_name, values, next, id) => {
    const sim = ibmI({ systemValues: values });
    sim.addProfile('BOB', values.QPWDLVL === 0 ? 'OLDPASS1' : 'Old-pass1');
    const current = values.QPWDLVL === 0 ? 'oldpass1' : 'Old-pass1';
    const { output, term } = await runSession(sim.dialect, { username: 'bob', password: current }, change('*CURRENT', current, next));
    expect(output).toContain(`${id}: `);
    expect(sim.checkPassword('BOB', current)).toBe(true);
    expect(term.appliedChanges).toEqual([]);
  });

  it('refuses a password used before while QPWDRQDDIF asks for a different one', async () => {
    const sim = ibmI({ systemValues: { QPWDRQDDIF: 1 } });
    sim.addProfile('BOB', 'Old-pass1');
    const { output } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, [
      ...change('*CURRENT', 'Old-pass1', 'New-pass2'),
      ...change('*CURRENT', 'New-pass2', 'Old-pass1'),
    ]);
    expect(output).toContain('CPF22C4: ');
    expect(sim.checkPassword('BOB', 'New-pass2')).toBe(true);
  });

  it('compares passwords without case at QPWDLVL 1', async () => {
    const sim = ibmI({ systemValues: { QPWDLVL: 1 } });
    sim.addProfile('BOB', 'OLDPASS1');
    await runSession(sim.dialect, { username: 'BOB', password: 'oldpass1' }, change('*CURRENT', 'oldpass1', 'newpass2'));
    expect(sim.checkPassword('BOB', 'NEWPASS2')).toBe(true);
  });

  it('refuses a non-officer changing another profile, by QSYCHGPW or CHGUSRPRF', async () => {
    const sim = system();
    const { output, term } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, [
      ...change('SECOFR2', '*NOPWD', 'Stolen-pw1'),
      "system \"CHGUSRPRF USRPRF(SECOFR2) PASSWORD('Stolen-pw2')\"",
    ]);
    expect(output.match(/CPF2217: Not authorized to user profile SECOFR2\./g)).toHaveLength(2);
    expect(sim.checkPassword('SECOFR2', 'Officer-pw9')).toBe(true);
    expect(term.appliedChanges).toEqual([]);
  });

  it('lets a *SECADM officer change another profile with *NOPWD', async () => {
    const sim = system();
    const { output, term } = await runSession(sim.dialect, { username: 'secofr2', password: 'Officer-pw9' }, change('BOB', '*NOPWD', 'Reset-pw4'));
    expect(output).toContain('DB20000I');
    expect(sim.checkPassword('BOB', 'Reset-pw4')).toBe(true);
    expect(term.appliedChanges).toEqual(['password of user profile BOB']);
    expect(traces(sim)).not.toContain('Reset-pw4');
  });

  it('runs CHGUSRPRF through system without the QPWD* rules, its password on argv and in the job log', async () => {
    const sim = ibmI({ systemValues: { QPWDMINLEN: 12 } });
    sim.addProfile('SECOFR2', 'Officer-pw9', { special: ['*SECADM'] });
    sim.addProfile('BOB', 'Old-pass1');
    const { output } = await runSession(sim.dialect, { username: 'secofr2', password: 'Officer-pw9' }, ["system \"CHGUSRPRF USRPRF(BOB) PASSWORD('Tiny1')\""]);
    expect(output).toContain('CPC2205: User profile BOB changed.');
    expect(sim.checkPassword('BOB', 'Tiny1')).toBe(true);
    // Why the chosen method is not this one.
    expect(sim.commandLines.join('\n')).toContain('Tiny1');
    expect(sim.joblog.join('\n')).toContain('Tiny1');
  });

  it('folds an unquoted CL password to uppercase', async () => {
    const sim = system();
    await runSession(sim.dialect, { username: 'secofr2', password: 'Officer-pw9' }, ['system CHGUSRPRF USRPRF(BOB) PASSWORD(lower9)']);
    expect(sim.checkPassword('BOB', 'LOWER9')).toBe(true);
    expect(sim.checkPassword('BOB', 'lower9')).toBe(false);
  });

  it('consults refusal() before applying and prints the armed refusal', async () => {
    const sim = system();
    const term = new MemoryTerminal();
    term.refuseNext = 'CPF22C2: Password too short.';
    const { output } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, change('*CURRENT', 'Old-pass1', 'New-pass2'), term);
    expect(output).toContain('CPF22C2: Password too short.');
    expect(sim.checkPassword('BOB', 'Old-pass1')).toBe(true);
    expect(term.appliedChanges).toEqual([]);
  });

  it('says CHGPWD is not allowed in a PASE job', async () => {
    const sim = system();
    const { output } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, ['system CHGPWD']);
    expect(output).toContain('CPD0031: Command CHGPWD not allowed in this setting.');
  });

  it('answers an unknown command as bash (or bsh) would and records it', async () => {
    const sim = system();
    const { output } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, ['passwd bob']);
    expect(output).toContain('bash: passwd: command not found');
    expect(sim.unexpected).toEqual(['passwd bob']);
    const bsh = ibmI({ shell: 'bsh' });
    bsh.addProfile('BOB', 'Old-pass1');
    const r = await runSession(bsh.dialect, { username: 'bob', password: 'Old-pass1' }, ['xyz']);
    expect(r.output).toMatch(/^\$ bsh: xyz: not found\.\n\$ $/);
  });

  it('starts bash from a bsh login shell, where the method then works', async () => {
    const sim = ibmI({ shell: 'bsh' });
    sim.addProfile('BOB', 'Old-pass1');
    const { output, term } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, ['/QOpenSys/pkgs/bin/bash', ...change('*CURRENT', 'Old-pass1', 'New-pass2'), 'exit']);
    expect(output.startsWith('$ bash-5.1$ ')).toBe(true);
    expect(output).toContain('DB20000I');
    expect(output.endsWith('$ ')).toBe(true);
    expect(term.closed).toBe(false);
    expect(traces(sim)).not.toContain('New-pass2');
  });

  it('has no read -s, ${#NAME} or printf builtin in bsh', async () => {
    const sim = ibmI({ shell: 'bsh', bashInstalled: false });
    sim.addProfile('BOB', 'Old-pass1');
    const { output } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, ['bash', 'read -s CUR', 'echo ${#CUR}', "printf '%s' secret1"]);
    expect(output).toContain('bsh: bash: not found.');
    expect(output).toContain('bsh: read: -s: invalid option');
    expect(output).toContain('bsh: ${#CUR}: bad substitution');
    expect(sim.commandLines).toEqual(['printf %s secret1']);
  });

  it('offers no line-mode shell over Telnet (TN5250 is out of scope)', async () => {
    const sim = system();
    const { output, term } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, ['echo hi'], new MemoryTerminal('telnet'));
    expect(output).toBe('');
    expect(term.closed).toBe(true);
  });

  it('logs out on exit', async () => {
    const sim = system();
    const { term } = await runSession(sim.dialect, { username: 'bob', password: 'Old-pass1' }, ['exit']);
    expect(term.closed).toBe(true);
  });
});

describe('IBM i simulator: the SSH sign-on', () => {
  it('checks the profile password and disables the profile after QMAXSIGN failures', () => {
    const sim = system();
    const { authenticate } = sim.dialect.login;
    expect(authenticate('bob', 'Old-pass1')).toBe('BOB');
    expect(authenticate('nobody', 'Old-pass1')).toBeUndefined();
    for (let i = 0; i < 3; i++) expect(authenticate('bob', 'wrong')).toBeUndefined();
    expect(sim.security.profile('BOB')?.status).toBe('*DISABLED');
    expect(authenticate('bob', 'Old-pass1')).toBeUndefined();
    expect(sim.dialect.login.usernameRequired()).toBe(true);
  });
});
