/**
 * HP ProCurve / Aruba switch driver (K/KA/KB software, ArubaOS-Switch), following:
 * - "HP ProCurve Management and Configuration Guide", "Using the Command Line Interface (CLI)":
 *   the operator (`>`), manager (`#`) and global configuration (`(config)#`) contexts,
 *   `configure terminal`, `end`, `no page`, `write memory`, the "-- MORE --" prompt, "Invalid
 *   input:", the banner's "Press any key to continue", `logout` with "Do you want to log out
 *   [y/n]?" and "Do you want to save the current configuration [y/n/^C]?" (single keys);
 * - "HP Switch Software Access Security Guide", "Configuring Username and Password Security":
 *   `password manager|operator [user-name NAME]` in the global configuration context, the new
 *   password typed twice at "New password for manager:" / "Please retype new password for
 *   manager:"; the change takes effect at once (the running configuration), `write memory` keeps it.
 *
 * The manager logs in and changes both passwords; the new password is typed at the switch's
 * prompts (never on the command line). Logout answers "n" to the save question: a running
 * configuration that differs from the saved one (changes someone made before this run) is never
 * saved by us; `write memory` runs only when copyToStartup is on, after a change the switch took.
 */
import type { Account } from '../../engine/account.js';
import type { ChangeResult, Credential } from '../../engine/adapter.js';
import { InvalidConfigurationError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { COMMON_ERROR_MARKERS, type DeviceDialect } from '../../expect/device.js';
import type { DeviceChange, DeviceDriver, DeviceLoginPlan } from '../network-device/driver.js';
import { runCommandSet } from '../network-device/run-command-set.js';
import { procurveAccountKind, procurveLoginUsername, type HpProcurveResource } from './schema.js';

/** What the switch prints when it does not take the change (the mismatch of the two entries, an empty one). */
const REFUSALS: readonly RegExp[] = [/Password mismatch/i, /password was not changed/i];

/** A configured prompt pattern ("# ?$") widened to its whole line, so the host name before it is not taken for output. */
function wholeLine(source: string): RegExp {
  return new RegExp(`(?:^|\\n)[^\\n]*(?:${source})`);
}

export function procurveDialect(r: HpProcurveResource): DeviceDialect {
  return {
    prompts: {
      user: /(?:^|\n)[^\n]*> ?$/,
      privileged: wholeLine(r.prompts.manager),
      configuration: wholeLine(r.prompts.configuration),
    },
    login: { username: new RegExp(r.prompts.username), password: new RegExp(r.prompts.password), failed: /Invalid password|Login failed|Access denied/i },
    paging: { off: ['no page'], more: [/-- MORE --, next page: Space, next line: Enter, quit: Control-C/] },
    pressAnyKey: /Press any key to continue/,
    errors: [/Invalid input: /, /Incomplete input: /, ...COMMON_ERROR_MARKERS],
    configuration: { enter: 'configure terminal', leave: 'end' },
    save: { command: 'write memory' },
    logout: {
      command: 'logout',
      questions: [
        { pattern: /Do you want to log out \[y\/n\]\? ?$/, answer: 'y' },
        { pattern: /save the current configuration \[y\/n(?:\/\^C)?\]\? ?$/, answer: 'n' },
      ],
    },
  };
}

function manager(credentials: Readonly<Record<string, Credential>>): Credential & { password: Secret } {
  const c = credentials['manager'];
  if (!c?.password) throw new InvalidConfigurationError('managerAccount', 'the manager login has no password: the switch is changed from a manager session');
  return { ...c, password: c.password };
}

function loginAs(r: HpProcurveResource, username: string, password: Secret, key: string): DeviceLoginPlan {
  return { key, sshUsername: username, username: procurveLoginUsername(r, username), password };
}

export const procurveDriver: DeviceDriver<HpProcurveResource> = {
  type: 'hp-procurve',
  saves: true,
  dialect: procurveDialect,
  sessionFor(r, account, credentials) {
    procurveAccountKind(r, account.id);
    const m = manager(credentials);
    return loginAs(r, m.username, m.password, 'admin');
  },
  async change(op: DeviceChange<HpProcurveResource>): Promise<ChangeResult> {
    const { resource: r, account, session } = op;
    const kind = procurveAccountKind(r, account.id);
    if (r.commandSet) {
      await runCommandSet(session, r.commandSet, { username: account.username, password: op.newPassword, currentPassword: op.currentPassword });
      return { method: 'admin reset (custom command set)' };
    }
    await session.configure();
    const command = `password ${kind}${r.usernameRequired ? ` user-name ${account.username}` : ''}`;
    await session.command(command, {
      change: true,
      answers: [
        { pattern: /New password for \w+: ?$/, reply: op.newPassword, once: true },
        { pattern: /Please retype new password for \w+: ?$/, reply: op.newPassword, once: true },
      ],
      refusals: REFUSALS,
      // Nothing after the second question but the prompt: the switch took it.
      success: [/: ?\s*$/],
    });
    try {
      await session.leaveConfiguration();
    } catch (e) {
      // The password is changed; close() leaves the configuration context on its way out.
      op.log.debug('hp-procurve: could not leave the configuration context after the change', { error: e instanceof Error ? e.message : String(e) });
    }
    return { method: `admin reset (password ${kind})` };
  },
  proof(r, account: Account, password) {
    procurveAccountKind(r, account.id);
    return loginAs(r, account.username, password, 'proof');
  },
};
