/**
 * HPE iLO 2/3/4 through its SMASH CLP (`</>hpiLO-> `), over SSH or Telnet.
 *
 * Follows:
 * - "HP iLO 4 Scripting and Command Line Guide" (and the iLO 3 edition): "Command line syntax"
 *   (`<verb> [<target>] [<properties>]`, `exit`), "User commands" (targets /map1/accounts1/NAME,
 *   the `password` property, `set` to change it); the iLO User Guide: "Administer User Accounts"
 *   changes any account, every account may change its own password; no save step (a change is
 *   live at once).
 * - DMTF DSP0214 "SM CLP Specification" 1.0.2: every command answers `status=N`,
 *   `status_tag=...` and on failure `error_tag=...`; status 0 is COMMAND COMPLETED, 2 is COMMAND
 *   PROCESSING FAILED (refused before it ran: nothing changed), 3 COMMAND EXECUTION FAILED (it
 *   ran and failed: the result is not known). A value holding spaces is double-quoted; the CLP
 *   has no escape for a double quote, so the type's policy refuses `"`.
 *
 * The password is a property on the CLP command line (`password=...`): iLO echoes it, and the
 * session's fragment redaction (DeviceSession) hides the echo in every transcript and error.
 * iLO has no interactive password prompt in the CLP; this is the only documented CLP way.
 */
import type { Account } from '../../engine/account.js';
import type { ChangeResult, Credential } from '../../engine/adapter.js';
import { InvalidConfigurationError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import type { DeviceDialect } from '../../expect/device.js';
import type { DeviceChange, DeviceDriver, DeviceLoginPlan } from '../network-device/driver.js';
import { runCommandSet } from '../network-device/run-command-set.js';
import { iloChangeBy, type HpIloResource } from './schema.js';

/** What the CLP answers a command that completed. */
export const ILO_SUCCESS: readonly RegExp[] = [/(?:^|\n)status=0\r?\n/];
/** Refused before it ran (DSP0214 status 2, COMMAND PROCESSING FAILED): too short, no privilege, bad target, syntax. */
export const ILO_REFUSALS: readonly RegExp[] = [/(?:^|\n)status=2\r?\n/];
/** Any other non-zero status (3, EXECUTION FAILED) is an error the driver does not know: outcome unknown. */
const ILO_ERRORS: readonly RegExp[] = [/(?:^|\n)status=[1-9]\d*\r?\n/, /COMMAND NOT RECOGNIZED/];

export function hpIloDialect(resource: HpIloResource): DeviceDialect {
  return {
    prompts: { user: new RegExp(`(?:^|\\n)(?:${resource.prompt})`) },
    login: {
      username: new RegExp(resource.prompts.username),
      password: new RegExp(resource.prompts.password),
      // "Invalid login." is a best guess at iLO's Telnet wording; SSH refuses before the CLP.
      failed: /Invalid login|Login incorrect|Access denied|Authentication failed/i,
    },
    errors: ILO_ERRORS,
    logout: { command: 'exit' },
  };
}

/** The `password=` value as the CLP reads it: bare, or double-quoted when it holds whitespace. */
export function clpPasswordParts(password: Secret): (string | Secret)[] {
  return /\s/.test(password.reveal()) ? ['password="', password, '"'] : ['password=', password];
}

function adminLogin(resource: HpIloResource, credentials: Readonly<Record<string, Credential>>): DeviceLoginPlan {
  const admin = credentials['admin'];
  if (!admin?.password) throw new InvalidConfigurationError('adminAccount', `names ${resource.adminAccount ?? 'no account'}, whose password is not available to log in with`);
  return { key: 'admin', sshUsername: admin.username, username: admin.username, password: admin.password };
}

function ownLogin(account: Account, password: Secret | undefined, key: string): DeviceLoginPlan {
  if (!password) throw new InvalidConfigurationError('currentPassword', `is needed: ${JSON.stringify(account.username)} changes its own password on iLO (no adminAccount resets it)`);
  return { key, sshUsername: account.username, username: account.username, password };
}

export const hpIloDriver: DeviceDriver<HpIloResource> = {
  type: 'hp-ilo',
  saves: false,
  dialect: hpIloDialect,
  sessionFor(resource, account, credentials, currentPassword) {
    if (iloChangeBy(resource, account.id) === 'admin') return adminLogin(resource, credentials);
    // The admin changes its own on the admin session (reused); any other account logs in as itself.
    if (account.id === resource.adminAccount) return adminLogin(resource, credentials);
    return ownLogin(account, currentPassword, `self:${account.id}`);
  },
  async change(op: DeviceChange<HpIloResource>): Promise<ChangeResult> {
    const { resource, account, session } = op;
    const method = iloChangeBy(resource, account.id) === 'admin' ? 'admin reset' : 'self change';
    if (resource.commandSet) {
      await runCommandSet(session, resource.commandSet, { username: account.username, password: op.newPassword, currentPassword: op.currentPassword });
      return { method: `${method} (custom command set)` };
    }
    await session.command([`set /map1/accounts1/${account.username} `, ...clpPasswordParts(op.newPassword)], { change: true, success: ILO_SUCCESS, refusals: ILO_REFUSALS });
    return { method };
  },
  proof(_resource, account, password) {
    return { key: 'proof', sshUsername: account.username, username: account.username, password };
  },
};
