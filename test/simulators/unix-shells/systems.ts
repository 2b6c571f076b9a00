/**
 * What each simulated Unix system says: its shell's "not found", su and sudo, `passwd` as root
 * and as the user, AIX's `chpasswd` and `pwdadm`. Each text names where it comes from; where a
 * manual describes a behaviour without printing its words, the wording here is marked "assumed"
 * (and the adapter's refusal list, layers/resources/unix/commands.ts, holds the same words).
 *
 * Sources:
 * - AIX 7.3: IBM Documentation, Commands Reference: "chpasswd Command"
 *   (https://www.ibm.com/docs/en/aix/7.3?topic=c-chpasswd-command), "pwdadm Command"
 *   (https://www.ibm.com/docs/en/aix/7.3?topic=p-pwdadm-command), "passwd Command"
 *   (https://www.ibm.com/docs/en/aix/7.3?topic=p-passwd-command), "su Command"; message catalog 3004.
 * - Oracle Solaris 11.4: passwd(1) (https://docs.oracle.com/cd/E88353_01/html/E37839/passwd-1.html),
 *   su(8), pam_authtok_check(7); the "Solaris Advanced User's Guide", "Changing Your Password"
 *   (https://docs.oracle.com/cd/E19253-01/806-7612/othercommands-1/index.html); illumos
 *   usr/src/cmd/passwd/passwd.c (MSG_INFO, MSG_CUR_PASS, MSG_UNKNOWN, MSG_SORRY).
 * - HP-UX 11i v3: passwd(1) "Password Construction Requirements" (HP-UX Reference, User Commands
 *   N-Z), su(1).
 * - macOS 14: passwd(1) (https://ss64.com/mac/passwd.html mirrors the manual page), su(1), sudo(8).
 * - VMware ESXi 8: Broadcom KB 318960 "Changing the ESXi host root password"
 *   (https://knowledge.broadcom.com/external/article?articleNumber=318960): `su -`, `passwd root`
 *   and its transcript; busybox passwd and su (the ESXi Shell is busybox ash).
 * - OpenSSH session.c do_pwchange(): what a login with an expired password (AIX ADMCHG) gets.
 */

export type SystemName = 'aix' | 'hp-ux' | 'solaris' | 'macos' | 'esxi';

export interface SystemTexts {
  readonly title: string;
  /** SSH identification (software version), as the vendor's OpenSSH sends it. */
  readonly ident: string;
  /** The login shell's answer to a command it cannot find; exit status 127. */
  notFound(shell: string, command: string): string;
  /** Whether sudo is there (ESXi has none). */
  readonly sudo: boolean;
  /** sudo's prompt without `-p`. */
  readonly sudoPrompt: (user: string) => string;
  readonly suPrompt: string;
  readonly suRefused: string;
  /** `passwd USER` as root: the two prompts, and what it prints when done. */
  rootPrompts(user: string): readonly [string, string];
  readonly rootHeader?: (user: string) => string;
  readonly rootSuccess?: (user: string) => string;
  /** `passwd` as the user. */
  readonly selfHeader: (user: string) => string;
  readonly selfOld: (user: string) => string;
  selfPrompts(user: string): readonly [string, string];
  readonly selfSuccess?: (user: string) => string;
  readonly wrongOld: string;
  readonly unknownUser: (user: string) => string;
  readonly notAllowed: (user: string) => string;
  readonly mismatch: string;
  /** Tries at the new password before passwd gives up. */
  readonly tries: number;
  readonly exhausted: string;
  /** A self change shorter than this is refused (root is not held to it). */
  readonly minLength: number;
  readonly tooShort: (min: number) => string;
  /** Only 7-bit characters in passwords (AIX passwd, HP-UX passwd(1)). */
  readonly sevenBit: boolean;
  /** A change by root sets AIX's ADMCHG flag (passwd, pwdadm; chpasswd unless -c or -f). */
  readonly rootChangeSetsAdmchg: boolean;
}

const ksh = (shell: string, c: string) => `${shell}: ${c}:  not found.`;

export const SYSTEMS: Record<SystemName, SystemTexts> = {
  aix: {
    title: 'AIX 7.3',
    ident: 'OpenSSH_9.2',
    notFound: ksh,
    sudo: true, // AIX Toolbox for Open Source Software ships sudo
    sudoPrompt: () => 'Password:',
    suPrompt: "root's Password: ",
    suRefused: '3004-300 You entered an invalid login name or password.',
    rootHeader: (u) => `Changing password for "${u}"`,
    rootPrompts: (u) => [`${u}'s New password: `, 'Enter the new password again:'],
    selfHeader: (u) => `Changing password for "${u}"`,
    selfOld: (u) => `${u}'s Old password: `,
    selfPrompts: (u) => [`${u}'s New password: `, 'Enter the new password again:'],
    wrongOld: '3004-604 Your entry does not match the old password.',
    unknownUser: (u) => `3004-687 User "${u}" does not exist.`,
    notAllowed: (u) => `3004-664 You are not authorized to change "${u}"'s password.`, // assumed wording
    mismatch: '3004-610 You entered an invalid password.', // assumed wording; passwd asks again (passwd Command)
    tries: 3,
    exhausted: '3004-709 Error changing password for the user.', // assumed wording
    minLength: 6, // minlen in /etc/security/user (default 0; set as a site would)
    tooShort: (n) => `3004-602 The required password characteristics are:\n\ta minimum of ${n} characters in length.\n3004-603 Your password must have:\n\ta minimum of ${n} characters in length.`,
    sevenBit: true, // "Only 7-bit characters are supported in passwords" (passwd, pwdadm)
    rootChangeSetsAdmchg: true,
  },
  solaris: {
    title: 'Oracle Solaris 11.4',
    ident: 'OpenSSH_9.4',
    notFound: (shell, c) => `${shell}: ${c}: command not found`, // bash, the default shell of Solaris 11
    sudo: true, // Solaris 11.4 ships sudo
    sudoPrompt: () => 'Password:',
    suPrompt: 'Password: ',
    suRefused: 'su: Sorry',
    rootPrompts: () => ['New Password: ', 'Re-enter new Password: '],
    rootSuccess: (u) => `passwd: password successfully changed for ${u}`,
    selfHeader: (u) => `passwd: Changing password for ${u}`,
    selfOld: () => 'Enter existing login password: ',
    selfPrompts: () => ['New Password: ', 'Re-enter new Password: '],
    selfSuccess: (u) => `passwd: password successfully changed for ${u}`,
    wrongOld: 'passwd: Sorry, wrong passwd\nPermission denied',
    unknownUser: (u) => `passwd: User unknown: ${u}\nPermission denied`,
    notAllowed: () => 'Permission denied',
    mismatch: "passwd: They don't match; try again.",
    tries: 3,
    exhausted: 'passwd: Too many failures - try later.', // assumed wording
    minLength: 6, // "Passwords containing fewer than six characters are not allowed"
    tooShort: (n) => `passwd: Password too short - must be at least ${n} characters.`,
    sevenBit: false,
    rootChangeSetsAdmchg: false,
  },
  'hp-ux': {
    title: 'HP-UX 11i v3',
    ident: 'OpenSSH_8.9',
    notFound: ksh,
    sudo: true, // HP-UX Internet Express ships sudo
    sudoPrompt: () => 'Password:',
    suPrompt: 'Password:',
    suRefused: 'su: Sorry',
    rootPrompts: () => ['New password:', 'Re-enter new password:'],
    selfHeader: (u) => `Changing password for ${u}`,
    selfOld: () => 'Old password:',
    selfPrompts: () => ['New password:', 'Re-enter new password:'],
    wrongOld: 'Sorry.',
    unknownUser: (u) => `passwd: Unknown user name ${u}.`, // assumed wording
    notAllowed: () => 'Permission denied.',
    mismatch: "They don't match; try again.",
    tries: 3, // "passwd repeats the cycle of prompting for the new password, at most twice"
    exhausted: 'Too many failures - try later.',
    minLength: 6, // "passwords of non-root users must have at least six characters"
    tooShort: (n) => `Password is too short - must be at least ${n} characters.`,
    sevenBit: true, // "Characters must be from the 7-bit US-ASCII character set"
    rootChangeSetsAdmchg: false,
  },
  macos: {
    title: 'macOS 14',
    ident: 'OpenSSH_9.6',
    notFound: (_shell, c) => `zsh: command not found: ${c}`,
    sudo: true,
    sudoPrompt: () => 'Password:',
    suPrompt: 'Password:',
    suRefused: 'su: Sorry',
    rootHeader: (u) => `Changing password for ${u}.`,
    rootPrompts: () => ['New password:', 'Retype new password:'],
    selfHeader: (u) => `Changing password for ${u}.`,
    selfOld: () => 'Old password:',
    selfPrompts: () => ['New password:', 'Retype new password:'],
    wrongOld: 'passwd: authentication token failure',
    unknownUser: (u) => `passwd: Unknown user name '${u}'.`, // assumed wording
    notAllowed: () => 'passwd: authentication token failure',
    mismatch: 'Mismatch; try again, EOF to quit.',
    tries: 3,
    exhausted: 'passwd: authentication token failure',
    minLength: 0, // passwd(1): "should be at least six characters": advice, not enforced
    tooShort: () => '',
    sevenBit: false,
    rootChangeSetsAdmchg: false,
  },
  esxi: {
    title: 'VMware ESXi 8.0',
    ident: 'OpenSSH_9.3',
    notFound: (_shell, c) => `-sh: ${c}: not found`,
    sudo: false, // the ESXi Shell has no sudo; KB 318960 uses su -
    sudoPrompt: () => 'Password:',
    suPrompt: 'Password: ',
    suRefused: 'su: incorrect password',
    rootHeader: (u) => `Changing password for user ${u}.`,
    rootPrompts: () => ['New UNIX password: ', 'Retype new UNIX password: '],
    rootSuccess: () => 'passwd: all authentication tokens updated successfully.',
    selfHeader: (u) => `Changing password for user ${u}.`,
    selfOld: () => '(current) UNIX password: ',
    selfPrompts: () => ['New UNIX password: ', 'Retype new UNIX password: '],
    selfSuccess: () => 'passwd: all authentication tokens updated successfully.',
    wrongOld: 'passwd: Authentication token manipulation error',
    unknownUser: (u) => `passwd: unknown user ${u}`,
    notAllowed: () => 'passwd: Authentication token manipulation error',
    mismatch: 'Sorry, passwords do not match',
    tries: 3,
    exhausted: 'passwd: Authentication token manipulation error',
    minLength: 7, // ESXi's default pam_passwdqc: min=disabled,disabled,disabled,7,7
    tooShort: () => 'Weak password: not enough different characters or classes for this length.',
    sevenBit: false,
    rootChangeSetsAdmchg: false,
  },
};
