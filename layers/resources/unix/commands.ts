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
 * - linux: shadow-utils `chpasswd` on stdin.
 * - aix: `chpasswd -c` on stdin (`-c` clears the ADMCHG flag, else AIX forces a change at the next login).
 * - solaris, hp-ux: `passwd USER` as root prompts for the new password twice.
 * - macos: `passwd USER` as root (it changes the Open Directory record, prompting twice).
 *   `dscl . -passwd /Users/USER NEW` would put the password on argv.
 * - esxi: `passwd USER` in ESXi's busybox shell. `esxcli system account set -p/-c` takes
 *   the password and its confirmation as option values, i.e. on argv.
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
/** A prompt for the current password (Linux "Current password:", "(current) UNIX password:", AIX/HP-UX/macOS "Old password:", Solaris "Enter existing login password:"). */
export const CURRENT_PASSWORD_PROMPT = /current|old|existing/i;
/** Output of a change that did not happen: the account is unchanged. */
export const UNCHANGED_OUTPUT =
  /does not exist|unknown user|no such user|not changed|unchanged|BAD PASSWORD|do not match|mismatch|too short|too simple|too similar|dictionary|palindrome|history|reused|manipulation error|pam_chauthtok|exhausted|have exhausted|try again|failed|error/i;
/** sudo and su refusing the password they were given. */
export const PRIVILEGE_REFUSED = /sorry, try again|incorrect password|authentication failure|su: .*(failure|incorrect)|sorry$/im;
/** sudo refusing the account altogether. */
export const SUDO_NOT_ALLOWED = /not in the sudoers|not allowed to (run|execute)|may not run sudo/i;
