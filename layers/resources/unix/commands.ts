import type { UnixResource, UnixType } from './schema.js';

/**
 * How a command run as root takes the new password:
 * - `chpasswd`: one line "user:password" on standard input, then EOF;
 * - `password-twice`: the password at each of the two prompts on the terminal.
 * Either way the password never goes on a command line (argv is visible in `ps`).
 */
export type PasswordInput = 'chpasswd' | 'password-twice';

export interface AdminCommand {
  /** Shell command run as root; the user name in it has passed `unixUsername`. */
  readonly command: string;
  readonly input: PasswordInput;
}

/**
 * The built-in admin change command of each OS.
 * - linux: shadow-utils `chpasswd` on stdin (chpasswd(8)).
 * - aix: `chpasswd -c` on stdin. Without `-c` AIX's chpasswd sets the ADMCHG flag, and the
 *   account must change its password at the next login ("chpasswd Command", AIX 7.3 Commands
 *   Reference: "By default, the chpasswd command sets the ADMCHG flag ... The -c option clears
 *   all password flags"). `pwdadm USER` sets ADMCHG too.
 * - solaris: `passwd USER` as root prompts "New Password:" and "Re-enter new Password:" (passwd(1)).
 * - hp-ux: `passwd USER` as root prompts for the new password twice, without the old (passwd(1)).
 * - macos: `passwd USER` as root (passwd(1), through PAM / Open Directory), prompting twice.
 *   `dscl . -passwd /Users/USER NEW` would put the password on argv.
 * - esxi: `passwd USER` in ESXi's shell (Broadcom KB 318960). `esxcli system account set -p/-c`
 *   takes the password and its confirmation as option values, i.e. on argv.
 */
const BUILT_IN: Record<UnixType, (user: string) => AdminCommand> = {
  linux: () => ({ command: '/usr/sbin/chpasswd', input: 'chpasswd' }),
  aix: () => ({ command: '/usr/bin/chpasswd -c', input: 'chpasswd' }),
  solaris: (user) => ({ command: `/usr/bin/passwd ${user}`, input: 'password-twice' }),
  'hp-ux': (user) => ({ command: `/usr/bin/passwd ${user}`, input: 'password-twice' }),
  macos: (user) => ({ command: `/usr/bin/passwd ${user}`, input: 'password-twice' }),
  esxi: (user) => ({ command: `passwd ${user}`, input: 'password-twice' }),
};

/** The admin change command for a resource: its own command set if it has one, else the OS's. */
export function adminCommand(resource: Pick<UnixResource, 'type' | 'commandSet'>, user: string): AdminCommand {
  const custom = resource.commandSet?.adminChange;
  if (custom) return { command: custom.replace(/\{user\}/g, user), input: resource.commandSet?.input ?? 'chpasswd' };
  return BUILT_IN[resource.type](user);
}

/** The self change: `passwd` as the account, current password then the new one twice. */
export const SELF_CHANGE_COMMAND = 'passwd';

/** Prompts and answers of passwd-like programs on the OSes above. */
export const PASSWORD_PROMPT = /(password|passphrase)[^\n]*:\s*$/i;
/**
 * A prompt for the current password: Linux "Current password:" and "(current) UNIX password:",
 * AIX "USER's Old password:", HP-UX "Old password:", macOS "Old Password:", Solaris "Enter
 * existing login password:". Test it on the prompt with the user's name taken out (a user
 * called "goldie" must not make "goldie's New password:" a prompt for the old one).
 */
export const CURRENT_PASSWORD_PROMPT = /\b(current|old|existing)\b/i;

// ------------------------------------------------------------------ refusals

/**
 * What a refusal tells the engine:
 * - `unchanged`: the program said it did not change the password (TargetUnchangedError);
 * - `too-soon`: the password may not be changed yet (minimum age), said before any new password
 *   was asked for: unchanged too, and not a wrong current password;
 * - `authentication`: sudo or su refused the password it was given, so the change command never
 *   ran (AuthenticationError);
 * - `not-allowed`: sudo does not let the login run the command, or is not there (InvalidConfigurationError on `privilege`).
 */
export type RefusalMeaning = 'unchanged' | 'too-soon' | 'authentication' | 'not-allowed';

/**
 * A refusal a target documents. Once a change has been sent, only output matching one of these
 * lets the adapter say what happened; anything else is "outcome unknown" and the engine reconciles.
 * Patterns are anchored to whole lines with the program's own prefix, so a login profile that
 * prints "error" or a PAM module's notice does not read as a refusal.
 */
export interface Refusal {
  readonly program: string;
  readonly meaning: RefusalMeaning;
  readonly says: RegExp;
  /** The target's words, as its documentation or source prints them (the unit test matches each). */
  readonly example: string;
  /** Where the words come from. */
  readonly source: string;
}

const line = (body: string) => new RegExp(`^${body}\\s*$`, 'm');

/** sudo's refusals (sudo 1.9: sudoers(5) `badpass_message`, `passwd_tries`; the "not in the sudoers file" lecture). */
export const SUDO_REFUSALS: readonly Refusal[] = [
  { program: 'sudo', meaning: 'authentication', says: line('Sorry, try again\\.'), example: 'Sorry, try again.', source: 'sudoers(5) badpass_message' },
  { program: 'sudo', meaning: 'authentication', says: line('sudo: \\d+ incorrect password attempts?'), example: 'sudo: 2 incorrect password attempts', source: 'sudo 1.9 (plugins/sudoers/logging.c)' },
  { program: 'sudo', meaning: 'not-allowed', says: line('\\S+ is not in the sudoers file\\.?(  This incident will be reported\\.)?'), example: 'alice is not in the sudoers file.  This incident will be reported.', source: 'sudo 1.8' },
  { program: 'sudo', meaning: 'not-allowed', says: line('(sudo: )?\\S+ is not in the sudoers file\\.?'), example: 'sudo: alice is not in the sudoers file', source: 'sudo 1.9.13' },
  { program: 'sudo', meaning: 'not-allowed', says: line('Sorry, user \\S+ (is not allowed to execute .*|may not run sudo on .*)'), example: "Sorry, user alice is not allowed to execute '/usr/sbin/chpasswd' as root on host.", source: 'sudo(8)' },
  // A shell's "not found" for sudo itself: sudo is not installed (ESXi has none).
  { program: 'sh', meaning: 'not-allowed', says: line('(-?\\S*sh: )?(line \\d+: )?sudo: (command )?not found'), example: '-sh: sudo: not found', source: 'sh(1): a command not found exits 127' },
];

/** su's refusals of the root password: util-linux su(1), BSD/Solaris/HP-UX su(1M) "Sorry", busybox su, AIX 3004-300. */
export const SU_REFUSALS: readonly Refusal[] = [
  { program: 'su', meaning: 'authentication', says: line('su: Authentication failure'), example: 'su: Authentication failure', source: 'util-linux su(1)' },
  { program: 'su', meaning: 'authentication', says: line('su: [Ss]orry'), example: 'su: Sorry', source: 'su(1M) on Solaris and HP-UX; su(1) on macOS' },
  { program: 'su', meaning: 'authentication', says: line('su: incorrect password'), example: 'su: incorrect password', source: 'busybox su (ESXi)' },
  { program: 'su', meaning: 'authentication', says: line('3004-300 You entered an invalid login name or password\\.'), example: '3004-300 You entered an invalid login name or password.', source: 'AIX su, message 3004-300' },
];

/** The refusals of each OS's built-in change command and of its `passwd` as the user. */
const OS_REFUSALS: Record<UnixType, readonly Refusal[]> = {
  linux: [
    { program: 'chpasswd', meaning: 'unchanged', says: line('chpasswd: \\(line \\d+, user \\S+\\) password not changed'), example: 'chpasswd: (line 1, user nosuch) password not changed', source: 'shadow-utils 4.13 chpasswd(8), PAM build (Debian 12)' },
    { program: 'chpasswd', meaning: 'unchanged', says: line("chpasswd: line \\d+: user '\\S+' does not exist"), example: "chpasswd: line 1: user 'nosuch' does not exist", source: 'shadow-utils chpasswd(8), build without PAM' },
    { program: 'pam_unix', meaning: 'too-soon', says: line('You must wait longer to change your password\\.?'), example: 'You must wait longer to change your password.', source: 'pam_unix(8): the minimum password age (shadow(5) field 4) has not passed' },
    { program: 'passwd', meaning: 'unchanged', says: line('passwd: password unchanged'), example: 'passwd: password unchanged', source: 'shadow-utils 4.13 passwd(1) (libmisc/pam_pass.c)' },
    { program: 'passwd', meaning: 'unchanged', says: line('(You must choose a longer password\\.?|Bad: new .*|BAD PASSWORD: .*|Password unchanged|Sorry, passwords do not match\\.?)'), example: 'You must choose a longer password.', source: 'pam_unix(8) obscure checks, pam_pwquality(8); passwd asks again' },
  ],
  aix: [
    { program: 'chpasswd', meaning: 'unchanged', says: line('3004-687 User "\\S+" does not exist\\.'), example: '3004-687 User "nosuch" does not exist.', source: 'AIX message 3004-687 (chpasswd, pwdadm, chuser)' },
    { program: 'passwd', meaning: 'unchanged', says: line('3004-604 Your entry does not match the old password\\.'), example: '3004-604 Your entry does not match the old password.', source: 'AIX passwd, message 3004-604' },
    { program: 'passwd', meaning: 'unchanged', says: line('3004-60[23] .*'), example: '3004-602 The required password characteristics are:', source: 'AIX passwd, messages 3004-602/3004-603 (the rules of /etc/security/user); passwd asks again' },
    { program: 'passwd', meaning: 'unchanged', says: line('3004-61[01] .*'), example: '3004-610 You entered an invalid password.', source: 'AIX passwd: the entries did not match; passwd asks again' },
  ],
  solaris: [
    { program: 'passwd', meaning: 'unchanged', says: line('passwd: User unknown: \\S+'), example: 'passwd: User unknown: nosuch', source: 'passwd(1), illumos usr/src/cmd/passwd/passwd.c MSG_UNKNOWN' },
    { program: 'passwd', meaning: 'unchanged', says: line('passwd: Sorry, wrong passwd'), example: 'passwd: Sorry, wrong passwd', source: 'passwd(1), illumos passwd.c MSG_SORRY' },
    { program: 'passwd', meaning: 'unchanged', says: line("passwd: (They don't match.*|Password too short.*|Passwords must differ by at least .*|The password must contain .*)"), example: "passwd: They don't match.", source: 'passwd(1), pam_authtok_check(7); passwd asks again' },
  ],
  'hp-ux': [
    { program: 'passwd', meaning: 'unchanged', says: line('passwd: Unknown user name \\S+\\.?'), example: 'passwd: Unknown user name nosuch.', source: 'HP-UX 11i passwd(1)' },
    { program: 'passwd', meaning: 'unchanged', says: line('Sorry\\.'), example: 'Sorry.', source: 'HP-UX 11i passwd(1): the old password was wrong' },
    { program: 'passwd', meaning: 'unchanged', says: line("(They don't match; try again\\.|Password is too short - must be at least \\d+ characters\\.|Passwords must differ by at least 3 positions|The password must contain at least two alphabetic characters and at least one numeric or special character\\.)"), example: "They don't match; try again.", source: 'HP-UX 11i passwd(1) "Password Construction Requirements"; passwd asks again, at most twice' },
    { program: 'passwd', meaning: 'unchanged', says: line('Too many failures - try later\\.'), example: 'Too many failures - try later.', source: 'HP-UX 11i passwd(1)' },
  ],
  macos: [
    { program: 'passwd', meaning: 'unchanged', says: line("passwd: Unknown user name '\\S+'\\.?"), example: "passwd: Unknown user name 'nosuch'.", source: 'macOS passwd(1)' },
    { program: 'passwd', meaning: 'unchanged', says: line('passwd: authentication token failure'), example: 'passwd: authentication token failure', source: 'macOS passwd(1) through OpenPAM: pam_strerror(PAM_AUTHTOK_ERR)' },
    { program: 'passwd', meaning: 'unchanged', says: line('Mismatch; try again, EOF to quit\\.'), example: 'Mismatch; try again, EOF to quit.', source: 'macOS passwd(1) (BSD): passwd asks again' },
  ],
  esxi: [
    { program: 'passwd', meaning: 'unchanged', says: line('passwd: unknown user \\S+'), example: 'passwd: unknown user nosuch', source: 'busybox passwd (ESXi)' },
    { program: 'passwd', meaning: 'unchanged', says: line('passwd: Authentication token manipulation error'), example: 'passwd: Authentication token manipulation error', source: 'ESXi passwd through PAM: pam_strerror(PAM_AUTHTOK_ERR)' },
    { program: 'passwd', meaning: 'unchanged', says: line('(Sorry, passwords do not match|Weak password: .*)'), example: 'Sorry, passwords do not match', source: 'Broadcom KB 318960 "Changing the ESXi host root password"; pam_passwdqc; passwd asks again' },
  ],
};

/** Every documented refusal of a type, for the unit test that matches each example. */
export function documentedRefusals(type: UnixType): readonly Refusal[] {
  return [...SUDO_REFUSALS, ...SU_REFUSALS, ...OS_REFUSALS[type]];
}

/**
 * The refusals that may explain an admin change's failure. A custom command set is the
 * operator's program, whose refusals we do not know: only sudo's and su's are recognised.
 */
export function adminChangeRefusals(resource: Pick<UnixResource, 'type' | 'commandSet'>): readonly Refusal[] {
  return resource.commandSet?.adminChange ? [...SUDO_REFUSALS, ...SU_REFUSALS] : documentedRefusals(resource.type);
}

/** The refusals of `passwd` run as the account itself. */
export function selfChangeRefusals(type: UnixType): readonly Refusal[] {
  return OS_REFUSALS[type];
}

/** The first documented refusal the output holds (whole lines only), or undefined. */
export function refusalIn(output: string, refusals: readonly Refusal[]): Refusal | undefined {
  const text = output.replace(/\r\n?/g, '\n');
  return refusals.find((r) => r.says.test(text));
}

/** sudo and su refusing the password they were given (their own lines only). */
export const PRIVILEGE_REFUSED = new RegExp(
  [...SUDO_REFUSALS, ...SU_REFUSALS]
    .filter((r) => r.meaning === 'authentication')
    .map((r) => r.says.source)
    .join('|'),
  'm',
);
/** sudo refusing the account altogether, or absent. */
export const SUDO_NOT_ALLOWED = new RegExp(
  SUDO_REFUSALS.filter((r) => r.meaning === 'not-allowed')
    .map((r) => r.says.source)
    .join('|'),
  'm',
);
