/**
 * The Cisco CatOS driver (Catalyst 4000/5000/6000 supervisors), written from "Catalyst 6500
 * Series Software Command Reference (CatOS)" and "Catalyst 5000/6000 Family Command Reference":
 * - `enable` ("Enter password: ", refused with "Sorry password incorrect."), prompts `NAME> ` and
 *   `NAME> (enable) `; `set length 0` turns paging off for the session (without `default`, so
 *   nothing is written to NVRAM); `exit` logs out.
 * - local users: `set localuser user NAME password PASS privilege N`, keeping the privilege the
 *   `show config` line `set localuser user NAME password $2$... privilege N` gives (the password
 *   is an argument: the vendor's syntax; the session redacts its echo). A user the switch does
 *   not list is not created.
 * - the login password: `set password`; the enable password: `set enablepass`; both with the
 *   prompts "Enter old password: ", "Enter new password: ", "Retype new password: ", answered
 *   "Password changed." or refused with "Sorry password incorrect." (a wrong old password) or a
 *   mismatch.
 * - no save step: CatOS writes every change to NVRAM as it is made.
 * Best guesses (as in the simulator, test/simulators/device/cisco-catos.ts): the `set localuser`
 * confirmations "Added/Updated local user NAME." and the mismatch wording; a local user's change
 * succeeds on "Updated local user " (an answer we do not know is outcome unknown, reconciled).
 */
import type { Account } from '../../engine/account.js';
import type { ChangeResult, Credential } from '../../engine/adapter.js';
import { InvalidConfigurationError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { COMMON_ERROR_MARKERS, type DeviceDialect } from '../../expect/device.js';
import type { DeviceChange, DeviceDriver } from '../network-device/driver.js';
import { ciscoAccountKind } from './accounts.js';
import { adminLogin, enableBlank, assertProvable, configLine, literal, noSuchAccount, proofLogin, promptPattern, roleCredential } from './dialect.js';
import { runCommandSet } from '../network-device/run-command-set.js';
import type { CiscoResource } from './schema.js';

const ENABLE_PROMPT = /(?:^|\n)Enter password: ?$/;

const TITLE = 'CatOS switch';

/** What CatOS prints for a line it did not take (`Unknown command "x".  Use 'help' ...`, `Usage: ...`). */
const CATOS_ERRORS: readonly RegExp[] = [...COMMON_ERROR_MARKERS, /Unknown command "/, /(?:^|\n)Usage: /];

/** Refusals of `set password` / `set enablepass`: nothing changed. */
const PASSWORD_REFUSALS: readonly RegExp[] = [/Sorry password incorrect/i, /Sorry password do(?:es)? not match/i, /password (?:do(?:es)? not|don't) match/i, ...CATOS_ERRORS];

function dialect(r: CiscoResource): DeviceDialect {
  return {
    prompts: { user: promptPattern(r.prompts.userMode), privileged: promptPattern(r.prompts.enable) },
    login: { username: promptPattern(r.prompts.username), password: promptPattern(r.prompts.password), failed: /Sorry password incorrect|Login incorrect|Access denied/i },
    paging: { off: ['set length 0'], more: [/--More--/] },
    errors: CATOS_ERRORS,
    enable: { command: 'enable', password: ENABLE_PROMPT, refused: /Sorry password incorrect/i },
    logout: { command: 'exit' },
  };
}

/** `set password` / `set enablepass`: the old password, then the new one twice. */
async function changeWithPrompts(session: DeviceChange<CiscoResource>['session'], command: string, current: Secret, next: Secret): Promise<void> {
  await session.command(command, {
    change: true,
    answers: [
      { pattern: /Enter old password: ?$/, reply: current, once: true },
      { pattern: /Enter new password: ?$/, reply: next, once: true },
      { pattern: /Retype new password: ?$/, reply: next, once: true },
    ],
    success: [/Password changed\./],
    refusals: PASSWORD_REFUSALS,
  });
}

async function change(op: DeviceChange<CiscoResource>): Promise<ChangeResult> {
  const { resource: r, account, session } = op;
  await enableBlank(session, ENABLE_PROMPT, TITLE);
  if (r.commandSet) {
    await runCommandSet(session, r.commandSet, { username: account.username, password: op.newPassword, currentPassword: op.currentPassword });
    return { method: 'admin reset (custom command set)' };
  }
  const kind = ciscoAccountKind(r, account.id);
  switch (kind) {
    case 'login-password': {
      const current = op.currentPassword ?? currentOf(op.credentials, 'login', account);
      await changeWithPrompts(session, 'set password', current, op.newPassword);
      return { method: 'admin reset (set password)' };
    }
    case 'enable-password': {
      const current = op.currentPassword ?? roleCredential(op.credentials, 'enablePassword', 'enablePasswordAccount', '`set enablepass` asks for the old enable password').password;
      await changeWithPrompts(session, 'set enablepass', current, op.newPassword);
      return { method: 'admin reset (set enablepass)' };
    }
    case 'local-user': {
      const { output } = await session.command('show config');
      const line = configLine(output, new RegExp(`^set localuser user ${literal(account.username)} password \\S+`));
      if (!line) throw noSuchAccount(TITLE, `local user ${JSON.stringify(account.username)} (not in \`show config\`)`);
      const privilege = /\bprivilege (\d+)\s*$/.exec(line)?.[1];
      await session.command([`set localuser user ${account.username} password `, op.newPassword, ...(privilege === undefined ? [] : [` privilege ${privilege}`])], {
        change: true,
        // "Updated local user NAME." (best guess, see the header); a name the listing showed is
        // updated, never added. Not the name itself: the redaction of a password sharing part of it could hide it.
        success: [/(?:^|\n)\s*Updated local user /],
        refusals: CATOS_ERRORS,
      });
      return { method: 'admin reset (set localuser)' };
    }
    default:
      throw new TargetUnchangedError(`${JSON.stringify(account.username)} is a ${kind} account, which CatOS does not have`);
  }
}

/** The current password of a role the account holds, for the old-password prompt. */
function currentOf(credentials: Readonly<Record<string, Credential>>, role: string, account: Account): Secret {
  const c = credentials[role];
  if (c?.accountId === account.id && c.password) return c.password;
  throw new InvalidConfigurationError('loginPasswordAccount', '`set password` asks for the old login password, and no current password is known for it');
}

export const catosDriver: DeviceDriver<CiscoResource> = {
  type: 'cisco-catos',
  saves: false,
  dialect,
  sessionFor(resource, account, credentials) {
    assertProvable(resource, account, ciscoAccountKind(resource, account.id), TITLE);
    return adminLogin(resource, credentials, TITLE);
  },
  change,
  proof: (resource, account, password, credentials) => proofLogin(resource, account, password, credentials, TITLE),
};

