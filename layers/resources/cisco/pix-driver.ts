/**
 * The Cisco PIX Firewall driver (PIX 6.x), written from "Cisco PIX Firewall Command Reference,
 * Version 6.3" (`enable`, `configure terminal`, `username`, `enable password`, `passwd`,
 * `show running-config`, `write memory`, `exit`) and "Cisco PIX Firewall and VPN Configuration
 * Guide, Version 6.3" (Telnet and SSH access):
 * - login: Telnet asks "PIX passwd: " (or "Username: "/"Password: " under
 *   `aaa authentication telnet console LOCAL`); SSH logs in as "pix" with the `passwd` password
 *   unless `aaa authentication ssh console LOCAL` (ciscoLoginUsername); prompts `NAME> `,
 *   `NAME# `, `NAME(config)# `; `enable` asks "Password: " and refuses with "Invalid password".
 * - paging is not turned off: PIX 6 has only `pager`/`no pager`, which change the running
 *   configuration (and a later `write memory` would save that); the session answers
 *   `<--- More --->` instead.
 * - local users: `username NAME password PASS privilege N`, keeping the privilege of the
 *   account's `show running-config` line `username NAME password ... encrypted privilege N`; a user
 *   the listing does not show is not created.
 * - the enable password: `enable password PASS` (level 15, the level `enable` asks for, which is
 *   the one the session uses and proves); the Telnet/SSH login password: `passwd PASS`.
 * - configuration commands answer nothing when they succeed (the reference's examples); anything
 *   printed after one is a refusal we know (the syntax summary, "Type help or '?'...") or unknown.
 * - `write memory` ("Building configuration...", "Cryptochecksum: ...", "[OK]") when copyToStartup.
 * The passwords are command arguments (the vendor's syntax); the session redacts their echo. Only
 * the first 16 characters count on PIX 6, so the type's policy caps passwords at 16.
 */
import type { ChangeResult } from '../../engine/adapter.js';
import { TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { COMMON_ERROR_MARKERS, type DeviceDialect, type DeviceSession } from '../../expect/device.js';
import type { DeviceChange, DeviceDriver } from '../network-device/driver.js';
import { ciscoAccountKind } from './accounts.js';
import { adminLogin, enableBlank, assertProvable, configLine, literal, noSuchAccount, proofLogin, promptPattern } from './dialect.js';
import { runCommandSet } from '../network-device/run-command-set.js';
import type { CiscoResource } from './schema.js';

const ENABLE_PROMPT = /(?:^|\n)Password: ?$/;

const TITLE = 'PIX firewall';

/** What PIX prints for a line it did not take: the help hint, or a command's syntax summary. */
const PIX_ERRORS: readonly RegExp[] = [...COMMON_ERROR_MARKERS, /Type help or '\?' for a list of available commands/, /(?:^|\n)Usage:/];

/** A configuration command that took: no output at all before the prompt. */
const SILENT: readonly RegExp[] = [/^\s*$/];

function dialect(r: CiscoResource): DeviceDialect {
  return {
    prompts: {
      user: promptPattern(r.prompts.userMode),
      privileged: promptPattern(r.prompts.enable),
      configuration: promptPattern(r.prompts.configuration ?? '\\(config[^)]*\\)# ?$'),
    },
    login: { username: promptPattern(r.prompts.username), password: promptPattern(r.prompts.password), failed: /Invalid password|Access denied|authentication failed/i },
    paging: { more: [/<--- More --->/] },
    errors: PIX_ERRORS,
    enable: { command: 'enable', password: ENABLE_PROMPT, refused: /Invalid password/ },
    configuration: { enter: 'configure terminal', leave: 'exit' },
    save: { command: 'write memory', success: /\[OK\]/ },
    logout: { command: 'exit' },
  };
}

/** One configuration command that sets a password, in configuration mode, left again afterwards. */
async function configureOnce(session: DeviceSession, line: (string | Secret)[]): Promise<void> {
  await session.configure();
  await session.command(line, { change: true, success: SILENT, refusals: PIX_ERRORS });
  await session.leaveConfiguration();
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
    case 'login-password':
      await configureOnce(session, ['passwd ', op.newPassword]);
      return { method: 'admin reset (passwd)' };
    case 'enable-password':
      await configureOnce(session, ['enable password ', op.newPassword]);
      return { method: 'admin reset (enable password)' };
    case 'local-user': {
      const { output } = await session.command('show running-config');
      const line = configLine(output, new RegExp(`^username ${literal(account.username)} (?:password|nopassword)\\b`));
      if (!line) throw noSuchAccount(TITLE, `local user ${JSON.stringify(account.username)} (not in \`show running-config\`)`);
      const privilege = /\bprivilege (\d+)\s*$/.exec(line)?.[1];
      await configureOnce(session, [`username ${account.username} password `, op.newPassword, ...(privilege === undefined ? [] : [` privilege ${privilege}`])]);
      return { method: 'admin reset (username)' };
    }
    default:
      throw new TargetUnchangedError(`${JSON.stringify(account.username)} is a ${kind} account, which PIX does not have`);
  }
}

export const pixDriver: DeviceDriver<CiscoResource> = {
  type: 'cisco-pix',
  saves: true,
  dialect,
  sessionFor(resource, account, credentials) {
    assertProvable(resource, account, ciscoAccountKind(resource, account.id), TITLE);
    return adminLogin(resource, credentials, TITLE);
  },
  change,
  proof: (resource, account, password, credentials) => proofLogin(resource, account, password, credentials, TITLE),
};

