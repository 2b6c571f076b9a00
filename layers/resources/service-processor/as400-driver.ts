/**
 * IBM i (as400) over SSH: the PASE shell an SSH login gets, and the Change User Password API.
 *
 * Sources (IBM Documentation):
 * - "Change User Password (QSYCHGPW) API" (apis/QSYCHGPW.htm, 7.1-7.4): parameters user ID
 *   (`*CURRENT` or a profile name), current password (or `*NOPWD`: not verified, needs *SECADM
 *   and *OBJMGT and *USE on the profile), new password, error code, then the optional lengths and
 *   CCSIDs of both passwords; the new one is checked against the QPWD* composition rules; "all
 *   trailing blank and null characters are removed" from both.
 * - "IBM PASE for i shells and utilities" (rzalf/rzalfpase.htm): bsh, ksh, and the open-source
 *   bash at /QOpenSys/pkgs/bin/bash; "Qshell db2 utility" (rzahz/rzahzdb2utility.htm): SQL
 *   statements read from standard input, one a line; "Running Qshell commands from PASE".
 * - Db2 for i SQL reference, CALL: a program with no procedure defined is called with the
 *   constants as CHAR and INTEGER (our reading).
 *
 * Every way IBM documents puts the password somewhere: CHGUSRPRF and a CL CALL of QSYCHGPW on a
 * command line (ps) and in the job log as the request message; CHGPWD is a display, not usable
 * from SSH. The least exposed, used here: bash reads both passwords with `read -rs` (typed on
 * standard input at its own prompt, no echo, nothing in the history), its printf builtin (no
 * process, no argv) builds `CALL QSYS.QSYCHGPW(...)` and pipes it to `qsh -c db2`. The passwords
 * are then in the SQL statement text only, which a database monitor (STRDBMON) running at that
 * moment would capture; a parameter-marker CALL (from a Java or Python client) would not help,
 * since a monitor records host variable values too. rpr's own logs and transcripts never hold
 * them: the session redacts every typed secret.
 *
 * The success is the driver's own marker: `echo rpr-rc=$?` after db2, with db2's DB20000I; a
 * CPF message the API sends for a known refusal (wrong password, a QPWD* rule, not authorized)
 * is "unchanged"; anything else after the CALL is "outcome unknown" and goes to reconcile.
 */
import type { ChangeResult, Credential } from '../../engine/adapter.js';
import type { Account } from '../../engine/account.js';
import { InvalidConfigurationError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import type { DeviceDialect, DeviceSession } from '../../expect/device.js';
import type { DeviceChange, DeviceDriver, DeviceLoginPlan } from '../network-device/driver.js';
import { runCommandSet } from '../network-device/run-command-set.js';
import { serviceProcessorChangeBy, type ServiceProcessorResource } from './schema.js';

/** The open-source bash (5733-OPS / the IBM i RPM repository): bsh has no `read -s` and no printf builtin. */
export const AS400_BASH = '/QOpenSys/pkgs/bin/bash';

/**
 * The messages QSYCHGPW sends when it changed nothing (QCPFMSG ids): CPF22E2 password not
 * correct, CPF22C1-CPF22CF and CPF22D0-CPF22DF the QPWD* composition rules, CPD2356 the new
 * password equals the current one, CPF2204 no such profile, CPF2217 not authorized, CPF22E3 the
 * profile is disabled.
 */
export const AS400_REFUSALS: readonly RegExp[] = [/\b(?:CPF22E2|CPF22C[0-9A-F]|CPF22D[0-9A-F]|CPD2356|CPF2204|CPF2217|CPF22E3)\b/];

/** db2's completion and the marker the driver echoes with the exit status of `qsh -c db2`. */
const SUCCESS = /DB20000I[\s\S]*(?:^|\n)rpr-rc=0\r?(?:\n|$)/;

/** The PASE shells' prompts: bash's default "bash-5.1$ ", bsh's "$ ", and a `user@host:dir$` PS1. */
const SHELL_PROMPT = /(?:^|\n)(?:bash-\d+(?:\.\d+)*|[\w.@~:/-]*)[$#] ?/;

function dialect(r: ServiceProcessorResource): DeviceDialect {
  return {
    prompts: { user: SHELL_PROMPT },
    // sshd authenticates; these prompts only answer a system that asks again after it.
    login: { username: new RegExp(r.prompts.username), password: new RegExp(r.prompts.password), failed: /Login incorrect|Permission denied|CPF22E2/ },
    errors: [/command not found/, /: not found\.?/, /: invalid option/, /syntax error/, /bad substitution/, /No such file or directory/],
    logout: { command: 'exit' },
  };
}

function adminPlan(r: ServiceProcessorResource, credentials: Readonly<Record<string, Credential>>): DeviceLoginPlan {
  const admin = credentials.admin;
  if (!admin?.password) throw new InvalidConfigurationError('adminAccount', `${r.id}: the adminAccount ${r.adminAccount ?? ''} has no password to log in with`);
  return { key: 'admin', sshUsername: admin.username, username: admin.username, password: admin.password };
}

function selfPlan(account: Account, password: Secret | undefined, key: string): DeviceLoginPlan {
  if (!password) throw new InvalidConfigurationError('currentPassword', `${account.id}: changing its own password on IBM i needs its current password (or name an adminAccount with *SECADM)`);
  return { key, sshUsername: account.username, username: account.username, password };
}

/** The line that reads one password into a shell variable, with bash's own prompt; `echo` ends the line `-s` left open. */
function readInto(variable: string, prompt: string): string {
  return `read -rs -p '${prompt}: ' ${variable}; echo`;
}

const answerAt = (prompt: string, reply: Secret) => ({ pattern: new RegExp(`(?:^|\\n)${prompt}: ?$`), reply, once: true });

/** The variables die with the shell anyway; they are unset while the session is usable. */
async function forget(session: DeviceSession): Promise<void> {
  await session.command('unset RPR_CUR RPR_NEW').catch(() => undefined);
}

async function change(op: DeviceChange<ServiceProcessorResource>): Promise<ChangeResult> {
  const { resource: r, account, session } = op;
  const by = serviceProcessorChangeBy(r, account.id);
  if (r.commandSet) {
    await runCommandSet(session, r.commandSet, { username: account.username, password: op.newPassword, currentPassword: op.currentPassword });
    return { method: by === 'admin' ? 'admin reset (custom command set)' : 'self change (custom command set)' };
  }
  if (by === 'self' && !op.currentPassword) throw new InvalidConfigurationError('currentPassword', `${account.id}: a self change needs the current password`);
  // Always a bash of its own: the login shell may be bsh, and a nested bash exits with the session.
  try {
    await session.command(AS400_BASH);
  } catch (e) {
    if (e instanceof TargetUnchangedError) throw new TargetUnchangedError(`${r.id}: ${AS400_BASH} could not be started (the change needs bash's read -s and printf builtin; install the bash package from IBM's open-source repository): ${e.message}`, { cause: e });
    throw e;
  }
  const who = by === 'admin' ? `'${account.username.toUpperCase()}'` : "'*CURRENT'";
  if (op.currentPassword && by === 'self') {
    await session.command(readInto('RPR_CUR', 'Current password'), { answers: [answerAt('Current password', op.currentPassword)] });
  }
  await session.command(readInto('RPR_NEW', 'New password'), { answers: [answerAt('New password', op.newPassword)] });
  // Every password is a variable expanded by the printf builtin: on no argv, in no history.
  // The current password and its length: the officer's *NOPWD (6 characters), or what was read.
  const [current, currentLength] = by === 'admin' ? ["'*NOPWD'", '6'] : ['"$RPR_CUR"', '${#RPR_CUR}'];
  // Error code X'00000000' (bytes provided 0): errors come back as escape messages, which db2 prints.
  // CCSID 0: the job's. The lengths let passwords longer than 10 characters through whole.
  const call =
    `printf "CALL QSYS.QSYCHGPW('%s', '%s', '%s', X'00000000', %d, 0, %d, 0)\\n" ${who} ${current} "$RPR_NEW" ${currentLength} \${#RPR_NEW} | qsh -c db2; echo "rpr-rc=$?"`;
  try {
    await session.command(call, { change: true, success: [SUCCESS], refusals: AS400_REFUSALS });
  } catch (e) {
    // Refused: the session goes on (an admin's serves the next account); the passwords leave the shell.
    if (e instanceof TargetUnchangedError && !session.closed) await forget(session);
    throw e;
  }
  await forget(session);
  return { method: by === 'admin' ? 'admin reset (QSYCHGPW *NOPWD)' : 'self change (QSYCHGPW *CURRENT)' };
}

export const as400Driver: DeviceDriver<ServiceProcessorResource> = {
  type: 'as400',
  dialect,
  sessionFor: (r, account, credentials, currentPassword) =>
    serviceProcessorChangeBy(r, account.id) === 'admin' ? adminPlan(r, credentials) : selfPlan(account, currentPassword, `self:${account.id}`),
  change,
  proof: (_r, account, password) => selfPlan(account, password, 'proof'),
  saves: false,
};
