import { describe, expect, it } from 'vitest';
import { adminChangeRefusals, adminCommand, documentedRefusals, PRIVILEGE_REFUSED, refusalIn, SUDO_NOT_ALLOWED } from '../../../layers/resources/unix/commands.js';
import { UNIX_TYPES } from '../../../layers/resources/unix/schema.js';
import { SYSTEMS } from '../../simulators/unix-shells/systems.js';

/** What real hosts print around a change that is not a refusal of it. */
const MISLEADING = [
  'error',
  'failed',
  'try again',
  'error: site profile failed; try again later',
  'bash: /opt/site/env.sh: No such file or directory',
  'sudo: unable to resolve host web1: Name or service not known',
  'Last login: Tue Dec  1 23:00:00 2026 from 10.0.0.1',
  'You have new mail.',
  'WARNING: Your password has expired.',
  'Authentication token manipulation error',
  'passwd: password updated successfully',
  'passwd: all authentication tokens updated successfully.',
  // A refusal cut mid-line by a dropped connection is not that refusal.
  'chpasswd: (line 1, user app) password not chan',
  'chpasswd: (user app) pam_chauthtok() failed, error:',
  "3004-687 User \"app\" does not exi",
  'NOTICE: the change failed on the secondary; try again later',
];

describe('Unix refusals: only documented words, on whole lines, say a change did not happen', () => {
  for (const type of UNIX_TYPES) {
    it(`${type}: each documented refusal is recognised in its own words`, () => {
      for (const r of documentedRefusals(type)) {
        expect(refusalIn(`some profile noise\n${r.example}\r\n`, documentedRefusals(type)), `${r.program}: ${r.example}`).toBeDefined();
        expect(r.says.test(r.example), `${r.program}: ${r.example} (${r.source})`).toBe(true);
      }
    });

    it(`${type}: what a login profile, a PAM module or a cut connection prints is no refusal`, () => {
      for (const text of MISLEADING) expect(refusalIn(text, documentedRefusals(type)), text).toBeUndefined();
    });
  }

  it('a custom command set is the operator\'s program: only sudo\'s and su\'s refusals are known for it', () => {
    const custom = adminChangeRefusals({ type: 'linux', commandSet: { adminChange: '/usr/local/sbin/chpw {user}', input: 'chpasswd' } });
    expect(custom.every((r) => ['sudo', 'su', 'sh'].includes(r.program))).toBe(true);
    expect(refusalIn('chpasswd: (line 1, user app) password not changed', custom)).toBeUndefined();
  });

  it("sudo's and su's refusals of their password are what the adapter waits for; its lecture is 'not allowed'", () => {
    for (const text of ['Sorry, try again.', 'su: Authentication failure', 'su: Sorry', 'su: incorrect password', '3004-300 You entered an invalid login name or password.']) {
      expect(PRIVILEGE_REFUSED.test(text), text).toBe(true);
    }
    for (const text of ['alice is not in the sudoers file.  This incident will be reported.', '-sh: sudo: not found', 'bash: sudo: command not found']) {
      expect(SUDO_NOT_ALLOWED.test(text), text).toBe(true);
    }
    for (const text of MISLEADING) expect(PRIVILEGE_REFUSED.test(text) || SUDO_NOT_ALLOWED.test(text), text).toBe(false);
  });

  it("each simulated system's refusal words are on that type's list (the simulator and the adapter agree)", () => {
    for (const [type, t] of Object.entries(SYSTEMS) as [keyof typeof SYSTEMS, (typeof SYSTEMS)[keyof typeof SYSTEMS]][]) {
      const list = documentedRefusals(type);
      const words = [t.suRefused, t.wrongOld, t.unknownUser('nosuch'), t.mismatch, ...(t.minLength ? [t.tooShort(t.minLength)] : [])];
      for (const w of words) expect(refusalIn(w, list), `${type}: ${w}`).toBeDefined();
    }
  });
});

describe('Unix built-in command sets', () => {
  it('follow the vendors: AIX chpasswd clears ADMCHG with -c; the others prompt with passwd USER; linux reads chpasswd', () => {
    expect(adminCommand({ type: 'linux', commandSet: undefined }, 'app')).toEqual({ command: '/usr/sbin/chpasswd', input: 'chpasswd' });
    expect(adminCommand({ type: 'aix', commandSet: undefined }, 'app')).toEqual({ command: '/usr/bin/chpasswd -c', input: 'chpasswd' });
    for (const type of ['solaris', 'hp-ux', 'macos'] as const) expect(adminCommand({ type, commandSet: undefined }, 'app')).toEqual({ command: '/usr/bin/passwd app', input: 'password-twice' });
    expect(adminCommand({ type: 'esxi', commandSet: undefined }, 'app')).toEqual({ command: 'passwd app', input: 'password-twice' });
  });
});
