/**
 * Sun Advanced Lights Out Manager (ALOM), the `sc>` shell, over SSH or Telnet.
 *
 * Follows "Sun Advanced Lights Out Manager (ALOM) 1.6 Administration Guide", "ALOM Shell
 * Commands": `userpassword NAME` (needs the `u` permission; "ALOM does not prompt you for the
 * existing password"; prompts "New password:" and "Re-enter new password:"), `password`
 * ("Changes the login password of the current user": the current password, then the new one
 * twice), `logout`; and the password restrictions of `userpassword`: at least six characters,
 * only the first eight significant, at least two letters and one digit or special character,
 * different from the login name and any reverse or circular shift of it. ALOM has no save step:
 * a password is live at once. The wording of `password`'s prompts and of the error lines is not
 * printed in the guide: the patterns here take "Enter current password:", "Old password:" and
 * any "Error: ..." line (an error this driver does not know is "outcome unknown").
 */
import type { ChangeResult } from '../../engine/adapter.js';
import { InvalidConfigurationError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { COMMON_ERROR_MARKERS, type DeviceDialect } from '../../expect/device.js';
import type { DeviceChange, DeviceDriver } from '../network-device/driver.js';
import { runCommandSet } from '../network-device/run-command-set.js';
import { currentPasswordFor, loginOf, once, serviceProcessorProof, serviceProcessorSessionFor } from './prompted-change.js';
import type { ServiceProcessorResource } from './schema.js';

/** "New password:" (userpassword) and "Enter new password:" (password), at a line's start. */
const NEW = /(?:^|\n)(?:Enter )?[Nn]ew [Pp]assword: ?$/;
const AGAIN = /Re-?enter new password: ?$/i;
const CURRENT = /(?:current|old) password: ?$/i;

/** What ALOM prints when it refuses a change (nothing changed): its restrictions, a mismatch, a wrong current password, a missing permission or user. */
export const ALOM_REFUSALS: readonly RegExp[] = [
  /Error: Invalid password/i,
  /Error: The passwords you entered did not match/i,
  /Error: Insufficient permissions/i,
  /Error: User '[^'\r\n]*' does not exist/i,
  /Error: Invalid command option/i,
];

/** Whether `candidate` is `name`, its reverse, or a circular shift of either (case-insensitive). */
function shiftOf(candidate: string, name: string): boolean {
  const c = candidate.toLowerCase();
  const n = name.toLowerCase();
  if (n === '' || c.length !== n.length) return false;
  const r = [...n].reverse().join('');
  return (n + n).includes(c) || (r + r).includes(c);
}

/**
 * ALOM's restrictions on a new password (on its significant first eight characters), checked
 * before it is typed: the policy bounds the length, these are the rules a length cannot say.
 * Throws InvalidConfigurationError naming newPassword; the message never holds the password.
 */
export function assertAlomPassword(password: Secret, username: string): void {
  const p = password.reveal().slice(0, 8);
  if ((p.match(/[A-Za-z]/g) ?? []).length < 2 || !/[^A-Za-z]/.test(p)) {
    throw new InvalidConfigurationError('newPassword', 'must have at least two letters and one digit or special character among its first eight characters (ALOM)');
  }
  if (shiftOf(p, username) || shiftOf(p, username.slice(0, 8))) {
    throw new InvalidConfigurationError('newPassword', 'must differ from the login name and any reverse or circular shift of it (ALOM)');
  }
}

export const alomDriver: DeviceDriver<ServiceProcessorResource> = {
  type: 'alom',
  saves: false,
  dialect(resource): DeviceDialect {
    return {
      prompts: { user: /(?:^|\n)sc>/ },
      login: loginOf(resource, /Login incorrect|Access denied|Permission denied/i),
      errors: [...COMMON_ERROR_MARKERS, /(?:^|\n)Error:/],
      logout: { command: 'logout' },
    };
  },
  sessionFor: (resource, account, credentials, currentPassword) => serviceProcessorSessionFor(resource, account, credentials, currentPassword),
  proof: (_resource, account, password) => serviceProcessorProof(account, password),
  async change(op: DeviceChange<ServiceProcessorResource>): Promise<ChangeResult> {
    const { resource, account, session, newPassword } = op;
    const plan = serviceProcessorSessionFor(resource, account, op.credentials, op.currentPassword);
    const self = plan.changeBy === 'self';
    if (resource.commandSet) {
      await runCommandSet(session, resource.commandSet, { username: account.username, password: newPassword, currentPassword: self ? currentPasswordFor(account, op.currentPassword, op.credentials) : op.currentPassword });
      return { method: 'custom command set' };
    }
    assertAlomPassword(newPassword, account.username);
    if (self) {
      const current = currentPasswordFor(account, op.currentPassword, op.credentials);
      await session.command('password', { change: true, answers: [once(CURRENT, current), once(NEW, newPassword), once(AGAIN, newPassword)], refusals: ALOM_REFUSALS });
      return { method: 'self change (ALOM password)' };
    }
    await session.command(`userpassword ${account.username}`, { change: true, answers: [once(NEW, newPassword), once(AGAIN, newPassword)], refusals: ALOM_REFUSALS });
    return { method: 'admin reset (ALOM userpassword)' };
  },
};

