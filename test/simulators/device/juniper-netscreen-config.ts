/**
 * What a simulated Juniper NetScreen (ScreenOS 6.x) device holds and prints: its running
 * configuration and the one saved to flash (hostname, the root admin, the other admins, the console
 * page length), the admin password hash, and the texts of its CLI. The dialect is juniper-netscreen.ts.
 *
 * Sources:
 * - "Juniper Networks ScreenOS CLI Reference Guide: IPv4 Command Descriptions" (Release 6.x),
 *   "admin" (`set admin name`, `set admin password`, `set admin user NAME password PASS privilege
 *   all|read-only`, `unset admin user`, `get admin user`, `set admin access attempts`: 3 by default),
 *   "config" / "save" (`get config`, `save [config]`), "console" (`set console page N`, 0 turns
 *   paging off), "hostname" (the prompt is `hostname-> `), "exit".
 * - "Concepts & Examples ScreenOS Reference Guide, Volume 2: Fundamentals", "Administration",
 *   "Levels of Administration": the root admin creates, modifies and removes every admin; a
 *   read-write admin has the root's privileges except that it cannot create, modify or remove other
 *   admins (so it may change its own password); a read-only admin can only issue `get` and `ping`.
 *   The factory admin is "netscreen" with the password "netscreen".
 * - The admin password hash (`set admin password "n…"`): John the Ripper's "netscreen" format,
 *   MD5 of "NAME:Administration Tools:PASSWORD" in ScreenOS's own base-64 with "nrcstn" inserted; it
 *   gives the well-known factory hash "nKVUM2rwMUzPcrkG5sWIHdCtqkAibn" for netscreen/netscreen
 *   (checked in the unit test).
 *
 * Wordings from device transcripts quoted by tools that drive ScreenOS (netmiko's juniper_screenos
 * driver, expect scripts, a Ruby driver's error patterns): the `ns-> ` prompt, "login: ",
 * "password: ", "unknown keyword WORD", "Configuration modified, save? [y]/n ", "--- more --- ",
 * "Accept this agreement y/[n] ". Best guesses, found in no source we could read: "Save System
 * Configuration ..." / "Done" as `save` prints them (the brief's wording), the failed login line,
 * "command not completed", the permission and not-found messages, the `get admin user` table, the
 * license text, and 22 lines per page at login.
 */
import { createHash } from 'node:crypto';

export type Privilege = 'all' | 'read-only';

export interface Admin {
  /** The ScreenOS hash of the password, made with the name the admin had when it was set. */
  readonly hash: string;
  /** The name the hash was made with (the root admin may be renamed after). */
  readonly hashedAs: string;
  readonly privilege: Privilege;
}

export interface NetscreenConfig {
  hostname: string;
  rootName: string;
  root: Admin;
  /** The other admins, by name. */
  users: Map<string, Admin>;
  /** `set console page`. */
  consolePage: number;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The ScreenOS admin password hash (see the header). */
export function netscreenHash(name: string, password: string): string {
  const md5 = createHash('md5').update(`${name}:Administration Tools:${password}`, 'utf8').digest();
  let out = '';
  for (let i = 0; i < 8; i++) {
    const v = (md5[2 * i]! << 8) | md5[2 * i + 1]!;
    out += B64[(v >> 12) & 0xf]! + B64[(v >> 6) & 0x3f]! + B64[v & 0x3f]!;
  }
  for (const [c, at] of [['n', 0], ['r', 6], ['c', 12], ['s', 17], ['t', 23], ['n', 29]] as const) {
    out = out.slice(0, at) + c + out.slice(at);
  }
  return out;
}

export function admin(name: string, password: string, privilege: Privilege): Admin {
  return { hash: netscreenHash(name, password), hashedAs: name, privilege };
}

export function checkPassword(a: Admin, password: string): boolean {
  return netscreenHash(a.hashedAs, password) === a.hash;
}

export function copyConfig(c: NetscreenConfig): NetscreenConfig {
  return { ...c, users: new Map(c.users) };
}

export function sameConfig(a: NetscreenConfig, b: NetscreenConfig): boolean {
  return render(a) === render(b);
}

/** The configuration as `get config` prints it. */
export function render(c: NetscreenConfig): string {
  const lines = [
    'set clock timezone 0',
    'set vrouter trust-vr sharable',
    'set vrouter "untrust-vr"',
    'exit',
    'set vrouter "trust-vr"',
    'unset auto-route-export',
    'exit',
    'set service "HTTP" protocol tcp src-port 0-65535 dst-port 80-80',
    'set auth-server "Local" id 0',
    'set auth-server "Local" server-name "Local"',
    'set auth default auth server "Local"',
    `set admin name "${c.rootName}"`,
    `set admin password "${c.root.hash}"`,
  ];
  for (const [name, a] of [...c.users].sort(([x], [y]) => x.localeCompare(y))) {
    lines.push(`set admin user "${name}" password "${a.hash}" privilege "${a.privilege}"`);
  }
  lines.push(
    'set admin auth timeout 10',
    'set admin auth server "Local"',
    'set admin format dos',
    'set zone "Trust" vrouter "trust-vr"',
    'set zone "Untrust" vrouter "trust-vr"',
    'set interface "trust" zone "Trust"',
    'set interface "untrust" zone "Untrust"',
    'set interface trust ip 192.168.1.1/24',
    'set interface trust route',
    'set interface trust manage ssh',
    'set interface trust manage telnet',
  );
  if (c.consolePage !== DEFAULT_PAGE) lines.push(`set console page ${c.consolePage}`);
  lines.push(`set hostname ${c.hostname}`);
  return lines.join('\n') + '\n';
}

/** `get admin user`: the admins other than the root. */
export function renderUsers(c: NetscreenConfig): string {
  const head = 'Name                             Privilege\n-------------------------------- ---------\n';
  const rows = [...c.users]
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([name, a]) => `${name.padEnd(32)} ${a.privilege === 'all' ? 'Read-Write' : 'Read-Only'}\n`);
  return head + rows.join('');
}

/** Best guess (see the header). */
export const DEFAULT_PAGE = 22;

export const texts = {
  /** What ScreenOS prints as a Telnet connection opens, before "login: ". */
  banner: 'Remote Management Console\n',
  usernamePrompt: 'login: ',
  passwordPrompt: 'password: ',
  loginFailed: '### Login failed\n',
  prompt: (hostname: string) => `${hostname}-> `,
  unknown: (word: string) => `unknown keyword ${word}\n`,
  incomplete: 'command not completed\n',
  permission: 'Permission denied: only the root admin can create, modify or remove other admins.\n',
  notFound: (name: string) => `Admin user "${name}" not found.\n`,
  rootName: (name: string) => `"${name}" is the root admin: use set admin name / set admin password.\n`,
  save: 'Save System Configuration ...\nDone\n',
  modified: 'Configuration modified, save? [y]/n ',
  more: '--- more --- ',
  license:
    '\nJuniper Networks ScreenOS End User License Agreement\n\n' +
    'READ THIS END USER LICENSE AGREEMENT BEFORE USING THIS SOFTWARE. BY ACCEPTING IT,\n' +
    'YOU AGREE TO BE BOUND BY ITS TERMS AND CONDITIONS.\n\n',
  accept: 'Accept this agreement y/[n] ',
} as const;
