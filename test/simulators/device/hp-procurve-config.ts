/**
 * What a simulated HP ProCurve switch holds and prints: its running and startup configurations
 * (hostname, the manager and operator credentials, include-credentials) and the texts of its CLI.
 * The dialect itself is hp-procurve.ts.
 *
 * Sources:
 * - "HP ProCurve Management and Configuration Guide" (K/KA/KB releases), "Using the Command Line
 *   Interface (CLI)": the operator (`>`), manager (`#`) and global configuration (`(config)#`)
 *   prompts, `configure`, `no page`, `write memory`, `show running-config` / `show config`, the
 *   "-- MORE --, next page: Space, next line: Enter, quit: Control-C" prompt, "Invalid input: WORD".
 * - "HP Switch Software Access Security Guide" (K/KA/KB releases), "Configuring Username and
 *   Password Security": `password manager|operator|all [user-name NAME] [plaintext PASS | sha1 HASH]`,
 *   `no password [manager|operator|all]`, which login each password gives, `include-credentials`
 *   (the credentials then travel in the configuration, as SHA-1 hashes:
 *   `password manager user-name "NAME" sha1 "HEX"`).
 *
 * Wordings taken from those guides' examples: the prompts, "New password for manager: " and
 * "Please retype new password for manager: " (lower case, as on K.15: older releases print
 * "Manager"), "Invalid input: ", "Press any key to continue", "Do you want to log out [y/n]? ".
 * From netmiko's hp_procurve driver, which answers it on real switches: "Do you want to save the
 * current configuration [y/n/^C]? ". Best guesses, not found printed in any source we could read:
 * the password mismatch, failed login and failed enable messages, and `no password`'s question.
 */
import { createHash } from 'node:crypto';

export type Level = 'manager' | 'operator';

export interface Credential {
  /** The user name (`user-name NAME`); undefined when only a password is set. */
  readonly username: string | undefined;
  /** SHA-1 of the password, hex: what the switch keeps and `include-credentials` prints. */
  readonly sha1: string;
}

export interface ProcurveConfig {
  hostname: string;
  manager: Credential | undefined;
  operator: Credential | undefined;
  includeCredentials: boolean;
}

export function sha1Hex(password: string): string {
  return createHash('sha1').update(password, 'utf8').digest('hex');
}

export function copyConfig(c: ProcurveConfig): ProcurveConfig {
  return { ...c };
}

export function sameConfig(a: ProcurveConfig, b: ProcurveConfig): boolean {
  return render(a) === render(b);
}

/** The configuration as `show running-config` prints it (without its heading). */
export function render(c: ProcurveConfig): string {
  const lines = [
    '; J9850A Configuration Editor; Created on release #KB.16.02.0008',
    '; Ver #0d:01.7c.59.f4.7b.ff.ff.fc.ff.ff.3f.ef:55',
    `hostname "${c.hostname}"`,
    'module 1 type j9987a',
    'snmp-server community "public" unrestricted',
    'vlan 1',
    '   name "DEFAULT_VLAN"',
    '   untagged 1-24',
    '   ip address dhcp-bootp',
    '   exit',
  ];
  if (c.includeCredentials) {
    lines.push('include-credentials');
    for (const level of ['manager', 'operator'] as const) {
      const cred = c[level];
      if (!cred) continue;
      const name = cred.username === undefined ? '' : ` user-name "${cred.username}"`;
      lines.push(`password ${level}${name} sha1 "${cred.sha1}"`);
    }
  }
  return lines.join('\n') + '\n';
}

export const texts = {
  /** Printed as a session opens (the K/KA/KB banner), before "Press any key to continue". */
  banner:
    '\nHP J9850A Switch 5406Rzl2\n' +
    'Software revision KB.16.02.0008\n\n' +
    '(C) Copyright 2016 Hewlett Packard Enterprise Development LP\n\n' +
    '                           RESTRICTED RIGHTS LEGEND\n' +
    ' Confidential computer software. Valid license from Hewlett Packard Enterprise\n' +
    ' Development LP required for possession, use or copying. Consistent with FAR\n' +
    ' 12.211 and 12.212, Commercial Computer Software, Computer Software\n' +
    ' Documentation, and Technical Data for Commercial Items are licensed to the\n' +
    ' U.S. Government under vendor\'s standard commercial license.\n\n' +
    "We'd like to keep you up to date about:\n" +
    '  * Software feature updates\n' +
    '  * New product announcements\n' +
    '  * Special events\n\n' +
    'Please register your products now at:  www.hpe.com/networking/register\n\n',
  pressAnyKey: 'Press any key to continue',
  usernamePrompt: 'Username: ',
  passwordPrompt: 'Password: ',
  /** Best guess (see the header). */
  loginFailed: 'Invalid password\n',
  /** Best guess (see the header). */
  enableFailed: 'Invalid password\n',
  newPassword: (level: Level) => `New password for ${level}: `,
  retype: (level: Level) => `Please retype new password for ${level}: `,
  /** Best guess (see the header). */
  mismatch: 'Password mismatch. The password was not changed.\n',
  /** Best guess (see the header). */
  emptyPassword: 'The password was not changed.\n',
  /** Best guess (see the header). */
  deleteQuestion: 'Password protection will be deleted, do you want to continue [y/n]? ',
  invalid: (word: string) => `Invalid input: ${word}\n`,
  /** Best guess for a command cut short (the guides print "Incomplete input" without a transcript). */
  incomplete: (word: string) => `Incomplete input: ${word}\n`,
  logoutQuestion: 'Do you want to log out [y/n]? ',
  saveQuestion: 'Do you want to save the current configuration [y/n/^C]? ',
  more: '-- MORE --, next page: Space, next line: Enter, quit: Control-C',
  runningHeading: 'Running configuration:\n\n',
  startupHeading: 'Startup configuration:\n\n',
} as const;
