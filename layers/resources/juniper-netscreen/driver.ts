/**
 * Juniper NetScreen (ScreenOS 5.x/6.x) driver, following:
 * - "Juniper Networks ScreenOS CLI Reference Guide: IPv4 Command Descriptions", "admin":
 *   `set admin password PASS` (the root admin), `set admin user NAME password PASS privilege
 *   all|read-only` (every other admin), `get admin user` (the admins and their privileges);
 *   "save" (`save` writes the running configuration to flash); "console" (`--- more ---` paging);
 *   "exit" ("Configuration modified, save? [y]/n" when the running configuration is unsaved);
 * - "Concepts & Examples ScreenOS Reference Guide, Volume 2: Fundamentals", "Administration":
 *   the root admin changes every admin, a read-write admin only itself (and not its privilege).
 *
 * There is no configuration mode: `set` changes the running configuration at once. The password
 * is a double-quoted command argument (the policy forbids `"`), echoed by the device and redacted
 * by the session. An admin user keeps the privilege it has: `get admin user` is read first and
 * the same privilege is given back. Paging is answered, not turned off: `set console page 0`
 * would change the configuration (and `exit` would then ask to save it). `exit` is answered "n":
 * only `save`, when copyToStartup is on and after a change the device took, writes the flash.
 *
 * A factory device asks "Accept this agreement y/[n]" at its first login: rpr does not accept a
 * license agreement on the owner's behalf; the login stops there with a clear error, unanswered
 * (the device then ends the session with nothing changed).
 */
import type { ChangeResult, Credential } from '../../engine/adapter.js';
import { InvalidConfigurationError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { COMMON_ERROR_MARKERS, type DeviceDialect } from '../../expect/device.js';
import { said } from '../../expect/outcome.js';
import type { DeviceChange, DeviceDriver, DeviceLoginPlan } from '../network-device/driver.js';
import { runCommandSet } from '../network-device/run-command-set.js';
import { screenosAccountKind, type JuniperNetscreenResource } from './schema.js';

/** What ScreenOS prints when it does not take a `set admin` line (a read-write admin changing another). */
const REFUSALS: readonly RegExp[] = [/Permission denied/i, /not found/i, /is the root admin/i];

export const LICENSE_MESSAGE =
  'the device asks to accept its end-user license agreement ("Accept this agreement y/[n]"), as a factory device does at its first login: rpr does not accept a license on the owner\'s behalf; accept it once at the console, then retry';

export function screenosDialect(r: JuniperNetscreenResource): DeviceDialect {
  return {
    // The configured pattern ("-> ?$") widened to its whole line, so the host name is not output.
    prompts: { user: new RegExp(`(?:^|\\n)[^\\n]*(?:${r.adminPrompt})`) },
    login: {
      username: new RegExp(r.prompts.username),
      password: new RegExp(r.prompts.password),
      failed: /Login failed|Access denied/i,
      stops: [{ pattern: /Accept this agreement y\/\[n\] ?$/, message: LICENSE_MESSAGE }],
    },
    paging: { more: [/--- more --- ?$/] },
    errors: [/unknown keyword/i, /command not completed/i, ...COMMON_ERROR_MARKERS],
    save: { command: 'save', success: /Done/ },
    logout: { command: 'exit', questions: [{ pattern: /Configuration modified, save\? \[y\]\/n ?$/, answer: 'n' }] },
  };
}

function adminLogin(credentials: Readonly<Record<string, Credential>>): Credential & { password: Secret } {
  const c = credentials['admin'];
  if (!c?.password) throw new InvalidConfigurationError('adminAccount', 'the admin login has no password: ScreenOS admins are changed from an admin session');
  return { ...c, password: c.password };
}

function loginAs(username: string, password: Secret, key: string): DeviceLoginPlan {
  return { key, sshUsername: username, username, password };
}

/** The privilege `get admin user` shows for `name`, as `set admin user` takes it. */
export function privilegeOf(table: string, name: string): 'all' | 'read-only' | undefined {
  for (const line of table.split(/\r?\n/)) {
    const m = /^\s*(\S+)\s+(Read-Write|Read-Only|all|read-only)\s*$/i.exec(line);
    if (m && m[1] === name) return /write|^all$/i.test(m[2]!) ? 'all' : 'read-only';
  }
  return undefined;
}

export const screenosDriver: DeviceDriver<JuniperNetscreenResource> = {
  type: 'juniper-netscreen',
  saves: true,
  dialect: screenosDialect,
  sessionFor(_r, _account, credentials) {
    const a = adminLogin(credentials);
    return loginAs(a.username, a.password, 'admin');
  },
  async change(op: DeviceChange<JuniperNetscreenResource>): Promise<ChangeResult> {
    const { resource: r, account, session } = op;
    if (r.commandSet) {
      await runCommandSet(session, r.commandSet, { username: account.username, password: op.newPassword, currentPassword: op.currentPassword });
      return { method: 'admin reset (custom command set)' };
    }
    const success = [/^\s*$/];
    if (screenosAccountKind(r, account.id) === 'root-admin') {
      await session.command(['set admin password "', op.newPassword, '"'], { change: true, refusals: REFUSALS, success });
      return { method: 'admin reset (set admin password)' };
    }
    const { output } = await session.command('get admin user');
    const privilege = privilegeOf(output, account.username);
    if (!privilege) {
      throw new TargetUnchangedError(session.redactor.redact(`ScreenOS has no admin user ${JSON.stringify(account.username)} (get admin user: ${said(output)}); rpr changes existing admins only (the root admin is not listed there: name it in rootAdminAccount)`));
    }
    await session.command([`set admin user ${account.username} password "`, op.newPassword, `" privilege ${privilege}`], { change: true, refusals: REFUSALS, success });
    return { method: `admin reset (set admin user, privilege ${privilege})` };
  },
  proof(_r, account, password) {
    return loginAs(account.username, password, 'proof');
  },
};
