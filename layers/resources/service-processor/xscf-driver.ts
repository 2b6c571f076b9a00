/**
 * Fujitsu / Oracle XSCF (SPARC Enterprise M-series, Fujitsu M10/M12), the `XSCF>` shell, over
 * SSH or Telnet.
 *
 * Follows "SPARC Enterprise M3000/M4000/M5000/M8000/M9000 Servers XSCF Reference Manual",
 * password(8): `password [user]` ("When invoked without a user operand, password operates on the
 * current user account"; any other account needs the useradm privilege, and "the system password
 * policy is not enforced" for it), up to 32 characters of the documented set; setpasswordpolicy(8)
 * and the "XSCF User's Guide" Table 2-4 (Retry: the new password is asked again after a refusal,
 * up to Retry times). XSCF has no save step: a password is live at once. The transcript is not
 * printed in the manual: the XSCF shell runs Linux PAM, so the prompts are taken as PAM's
 * ("Current password:", "New ... password:", "Retype new ... password:") and its refusals as
 * passwd's and pam_cracklib's ("BAD PASSWORD: ...", "Sorry, passwords do not match",
 * "Authentication token manipulation error", "Have exhausted maximum number of retries").
 */
import type { ChangeResult } from '../../engine/adapter.js';
import type { CommandAnswer, DeviceDialect } from '../../expect/device.js';
import { COMMON_ERROR_MARKERS } from '../../expect/device.js';
import type { DeviceChange, DeviceDriver } from '../network-device/driver.js';
import { runCommandSet } from '../network-device/run-command-set.js';
import { currentPasswordFor, loginOf, once, serviceProcessorProof, serviceProcessorSessionFor } from './prompted-change.js';
import type { ServiceProcessorResource } from './schema.js';

const NEW = /(?:^|\n)New (?:XSCF |UNIX )?password: ?$/i;
const AGAIN = /Retype new (?:XSCF |UNIX )?password: ?$/i;
const CURRENT = /(?:\(current\) UNIX |Current |Old )password: ?$/i;

/** What XSCF prints when it refuses a change (nothing changed). */
export const XSCF_REFUSALS: readonly RegExp[] = [
  /BAD PASSWORD/,
  /Sorry, passwords do not match/i,
  /Authentication token manipulation error/i,
  /Have exhausted maximum number of retries/i,
  /No password supplied/i,
  /password: Permission denied/i,
  /password: Unknown user/i,
  /password: Invalid parameter/i,
];

/**
 * The new password once at each prompt; a "New password" asked again (the policy refused it, and
 * XSCF retries up to Retry times) gets an empty line, which XSCF refuses too, until it gives up
 * and shows its prompt: the refusal is then read in the output.
 */
function newPasswordAnswers(password: CommandAnswer['reply']): CommandAnswer[] {
  return [once(NEW, password), once(AGAIN, password), { pattern: NEW, reply: '' }];
}

export const xscfDriver: DeviceDriver<ServiceProcessorResource> = {
  type: 'xscf',
  saves: false,
  dialect(resource): DeviceDialect {
    return {
      prompts: { user: /(?:^|\n)XSCF>/ },
      login: loginOf(resource, /Login incorrect|Access denied|Permission denied/i),
      errors: [...COMMON_ERROR_MARKERS, /: command not found/, /(?:^|\n)\w+: Permission denied/],
      logout: { command: 'exit' },
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
    if (self) {
      const current = currentPasswordFor(account, op.currentPassword, op.credentials);
      await session.command('password', { change: true, answers: [once(CURRENT, current), ...newPasswordAnswers(newPassword)], refusals: XSCF_REFUSALS });
      return { method: 'self change (XSCF password)' };
    }
    await session.command(`password ${account.username}`, { change: true, answers: newPasswordAnswers(newPassword), refusals: XSCF_REFUSALS });
    return { method: 'admin reset (XSCF password NAME)' };
  },
};

