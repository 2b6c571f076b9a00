/**
 * Oracle ILOM 3.x through its command line (`-> `), over SSH or Telnet.
 *
 * Follows:
 * - "Oracle ILOM Administrator's Guide for Configuration and Maintenance, Firmware Release 3.2.x",
 *   "Configuring Local User Accounts", Table 16 (modify a user: `set /SP/users/NAME password`,
 *   the CLI then prompts for the new password and its confirmation; User Management (`u`) role to
 *   change another account; the password rules: 8 to 16 characters, no colon or space).
 * - Oracle EDR InfiniBand Switch Administration Guide, "Change an Oracle ILOM User's Password or
 *   Role (Oracle ILOM CLI)": "Changing password for user /SP/users/NAME...", "Enter new password
 *   again:", "New password was successfully set for user /SP/users/NAME".
 * - Sun Blade 8000 ILOM guide 819-5846: an operator may change its own password.
 *
 * The password is typed only at the two prompts, which do not echo it ("Enter new password:" is
 * the ILOM 3.0 transcripts' wording). ILOM has no save step. Refusal wordings
 * ("Passwords do not match", "Invalid password", "Permission denied", "Invalid target") follow
 * ILOM's `verb: message` form; their exact text is a best guess shared with the simulator.
 */
import type { Account } from '../../engine/account.js';
import type { ChangeResult, Credential } from '../../engine/adapter.js';
import { InvalidConfigurationError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { COMMON_ERROR_MARKERS, type DeviceDialect } from '../../expect/device.js';
import type { DeviceChange, DeviceDriver, DeviceLoginPlan } from '../network-device/driver.js';
import { runCommandSet } from '../network-device/run-command-set.js';
import { serviceProcessorChangeBy, type ServiceProcessorResource } from './schema.js';

/** The two prompts of `set /SP/users/NAME password`. */
export const ILOM_NEW_PASSWORD = /Enter new password: ?$/;
export const ILOM_NEW_PASSWORD_AGAIN = /Enter new password again: ?$/;
export const ILOM_SUCCESS: readonly RegExp[] = [/New password was successfully set for user/];
/** Refusals ILOM prints before it changes anything. */
export const ILOM_REFUSALS: readonly RegExp[] = [/Passwords do not match/, /Invalid password/, /Permission denied/, /Invalid target/, /Invalid property/, /Syntax error/];

export function ilomDialect(resource: ServiceProcessorResource): DeviceDialect {
  return {
    prompts: { user: /(?:^|\n)-> ?$/ },
    login: {
      username: new RegExp(resource.prompts.username),
      password: new RegExp(resource.prompts.password),
      failed: /Login incorrect|Access denied|Authentication failed/i,
    },
    errors: [...COMMON_ERROR_MARKERS, /(?:^|\n)\w+: (?:Syntax error|Invalid target|Invalid property|Permission denied|Not supported)/],
    logout: { command: 'exit' },
  };
}

function adminLogin(resource: ServiceProcessorResource, credentials: Readonly<Record<string, Credential>>): DeviceLoginPlan {
  const admin = credentials['admin'];
  if (!admin?.password) throw new InvalidConfigurationError('adminAccount', `names ${resource.adminAccount ?? 'no account'}, whose password is not available to log in with`);
  return { key: 'admin', sshUsername: admin.username, username: admin.username, password: admin.password };
}

function ownLogin(account: Account, password: Secret | undefined): DeviceLoginPlan {
  if (!password) throw new InvalidConfigurationError('currentPassword', `is needed: ${JSON.stringify(account.username)} changes its own password on ILOM (no adminAccount resets it)`);
  return { key: `self:${account.id}`, sshUsername: account.username, username: account.username, password };
}

export const ilomDriver: DeviceDriver<ServiceProcessorResource> = {
  type: 'ilom',
  saves: false,
  dialect: ilomDialect,
  sessionFor(resource, account, credentials, currentPassword) {
    // The admin changes the others, and its own on the same (reused) session.
    if (serviceProcessorChangeBy(resource, account.id) === 'admin' || account.id === resource.adminAccount) return adminLogin(resource, credentials);
    return ownLogin(account, currentPassword);
  },
  async change(op: DeviceChange<ServiceProcessorResource>): Promise<ChangeResult> {
    const { resource, account, session } = op;
    const method = serviceProcessorChangeBy(resource, account.id) === 'admin' ? 'admin reset' : 'self change';
    if (resource.commandSet) {
      await runCommandSet(session, resource.commandSet, { username: account.username, password: op.newPassword, currentPassword: op.currentPassword });
      return { method: `${method} (custom command set)` };
    }
    await session.command(`set /SP/users/${account.username} password`, {
      change: true,
      answers: [
        { pattern: ILOM_NEW_PASSWORD_AGAIN, reply: op.newPassword, once: true },
        { pattern: ILOM_NEW_PASSWORD, reply: op.newPassword, once: true },
      ],
      success: ILOM_SUCCESS,
      refusals: ILOM_REFUSALS,
    });
    return { method };
  },
  proof(_resource, account, password) {
    return { key: 'proof', sshUsername: account.username, username: account.username, password };
  },
};
