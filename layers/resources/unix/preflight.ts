import type { PreflightFinding } from '../../engine/adapter.js';
import { AuthenticationError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { said } from '../../expect/outcome.js';
import { shellQuote } from '../../expect/shell.js';
import { PRIVILEGE_REFUSED, SUDO_NOT_ALLOWED, type AdminCommand } from './commands.js';
import type { UnixConnection } from './connection.js';

/**
 * The checks of a dry run on a Unix host, each a command that reads and changes nothing:
 * `sudo -l COMMAND` (sudo's own answer to "may this login run the change command as root?"),
 * `command -v` for the change command, and `id -u` for the accounts.
 */

/** The command as `sudo -l` should check it: whole when it is plain words, else its program only (nothing else may run). */
function listable(cmd: AdminCommand): string {
  return /^[\w./@%+=:, -]+$/.test(cmd.command) ? cmd.command : shellQuote(programOf(cmd));
}

export function programOf(cmd: Pick<AdminCommand, 'command'>): string {
  return cmd.command.trim().split(/\s+/)[0]!;
}

/**
 * `sudo -S -k -p '' -l COMMAND` with the login's password on stdin: exit 0 and the command's path
 * when sudoers allows it. A refused password throws as a change would (AuthenticationError).
 */
export async function sudoRights(conn: UnixConnection, login: string, password: Secret, cmd: AdminCommand): Promise<PreflightFinding[]> {
  const command = listable(cmd);
  const r = await (await conn.runWithInput(`LC_ALL=C sudo -S -k -p '' -l ${command}`, [password], { changes: false })).finish();
  if (r.exitCode === 0) {
    return [
      { check: 'sudo rights', ok: true, detail: `sudo lets ${JSON.stringify(login)} run ${said(lastLine(r.output))} as root` },
      { check: 'change command', ok: true, detail: `${said(lastLine(r.output))} exists` },
    ];
  }
  if (PRIVILEGE_REFUSED.test(r.output)) throw new AuthenticationError(`sudo refused the login account's password: ${said(r.output)}`);
  if (/: command not found\s*$/m.test(r.output) && !SUDO_NOT_ALLOWED.test(r.output)) {
    return [
      { check: 'sudo rights', ok: true, detail: `sudo accepted the password of ${JSON.stringify(login)}` },
      { check: 'change command', ok: false, detail: `sudo finds no ${JSON.stringify(programOf(cmd))}: ${said(r.output)}; install it or set the resource's commandSet.adminChange` },
    ];
  }
  const says = r.output.trim() ? said(r.output) : `nothing (exit status ${r.exitCode}): the login may use sudo, but not for this command`;
  return [
    {
      check: 'sudo rights',
      ok: false,
      detail: `sudo does not let ${JSON.stringify(login)} run ${JSON.stringify(cmd.command)} as root; sudo -l says ${says}; add a sudoers rule for it, or set privilege to "su"`,
    },
  ];
}

/** `command -v PROGRAM` as whoever the connection is: the change command can be found. */
export async function commandFound(conn: UnixConnection, program: string, as: string): Promise<PreflightFinding> {
  const r = await (await conn.run(`command -v ${shellQuote(program)}`)).finish();
  return commandFinding(r, program, as);
}

export function commandFinding(r: { exitCode: number; output: string }, program: string, as: string): PreflightFinding {
  if (r.exitCode === 0) return { check: 'change command', ok: true, detail: `${JSON.stringify(program)} is ${said(lastLine(r.output))} for ${as}` };
  return { check: 'change command', ok: false, detail: `${JSON.stringify(program)} is not found for ${as}; install it or set the resource's commandSet.adminChange` };
}

const MISSING = 'RPR-NO-SUCH-USER';

/** One `id -u` per account, in one command: the accounts the change will name exist on the host. */
export async function accountsExist(conn: UnixConnection, users: readonly { accountId: string; user: string }[]): Promise<PreflightFinding[]> {
  if (users.length === 0) return [];
  const words = users.map((u) => shellQuote(u.user)).join(' ');
  const r = await (await conn.run(`for u in ${words}; do id -u "$u" >/dev/null 2>&1 || echo "${MISSING.slice(0, 6)}""${MISSING.slice(6)}:$u"; done`)).finish();
  const missing = new Set([...r.output.matchAll(new RegExp(`^${MISSING}:(\\S+)\\s*$`, 'gm'))].map((m) => m[1]));
  return users.map(({ accountId, user }) =>
    missing.has(user)
      ? { accountId, check: 'account exists', ok: false, detail: `the host has no user ${JSON.stringify(user)} (id -u found none); a reset of it would fail` }
      : { accountId, check: 'account exists', ok: true, detail: `the host has a user ${JSON.stringify(user)}` },
  );
}

export function lastLine(text: string): string {
  const lines = text.split(/\r?\n|\r/).filter((l) => l.trim());
  return lines[lines.length - 1] ?? '';
}
