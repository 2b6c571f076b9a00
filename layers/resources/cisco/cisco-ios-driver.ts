/**
 * The Cisco IOS driver (12.x, 15.x, IOS XE), written from:
 * - "Cisco IOS Security Command Reference": `username NAME [privilege N] [algorithm-type
 *   {md5|sha256|scrypt}] secret {0 TEXT | TEXT}` and `username NAME [privilege N] password [0]
 *   TEXT` (a user has one or the other: "Can not have both a user password and a user secret");
 *   `enable [algorithm-type …] secret`, `enable password`; the line `password` command ("The
 *   first character cannot be a number"); `enable` and its "% Bad secrets";
 * - "Cisco IOS Configuration Fundamentals Command Reference": `configure terminal`, `end`,
 *   `terminal length 0`, `show running-config | include REGEX`, `copy running-config
 *   startup-config` ("Destination filename [startup-config]?", "[OK]"), `line vty 0 15`;
 * - "Using the Cisco IOS Command-Line Interface": prompts (`Router>`, `Router#`,
 *   `Router(config)#`, `Router(config-line)#`), " --More-- ", the `%` error messages;
 * - "Cisco IOS Terminal Services Configuration Guide": "Username:", "Password:", "% Login invalid".
 * A local user keeps what it has: the driver reads its `username NAME …` line first and sends
 * the same form (secret or password), its privilege and its secret's algorithm (type 5 md5, 8
 * sha256, 9 scrypt, sent as `algorithm-type`; a release without `algorithm-type` refuses it with
 * "% Invalid input" and is then sent `secret 0`, whose type on such a release is 5). The enable
 * secret keeps its algorithm the same way. IOS prints nothing after a configuration command that
 * it took: any output after the change is a refusal (the parser's `%` errors, the
 * password/secret conflict: nothing applied) or unknown.
 */
import type { Account } from '../../engine/account.js';
import type { ChangeResult, Credential } from '../../engine/adapter.js';
import { InvalidConfigurationError, NotSupportedError, OutcomeUnknownError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { COMMON_ERROR_MARKERS, type DeviceDialect, type DeviceSession } from '../../expect/device.js';
import type { DeviceChange, DeviceDriver, DeviceLoginPlan } from '../network-device/driver.js';
import { runCommandSet } from '../network-device/run-command-set.js';
import { ciscoAccountKind, ciscoLinesOf, ciscoLoginUsername } from './accounts.js';
import type { CiscoResource } from './schema.js';

/** What IOS prints when it did not take a configuration line: nothing of it applied. */
const PARSER_REFUSALS = [/% ?Invalid input/, /% ?Incomplete command/, /% ?Ambiguous command/];
const CONFLICT = /Can not have both a user password and a user secret/;
/** IOS prints nothing after a configuration command it took. */
const SILENT = [/^\s*$/];
const ALGORITHM: Record<string, string> = { '5': 'md5', '8': 'sha256', '9': 'scrypt' };

/**
 * A prompt pattern of the resource as the whole last line: the host name before it (letters,
 * digits, `.`, `_`, `-`, at most 63: "Cisco IOS Configuration Fundamentals Command Reference",
 * `hostname`) is the prompt's, not output. Nothing else may precede it on the line, so the echo
 * of a typed line ending in `#` or `>` (a password holding one, still arriving) is never taken
 * for the prompt.
 */
const promptLine = (p: string) => new RegExp(`(?:^|\\n)[A-Za-z0-9._-]{0,63}(?:${p})`);

export function iosDialect(r: CiscoResource): DeviceDialect {
  const p = r.prompts;
  return {
    prompts: { user: promptLine(p.userMode), privileged: promptLine(p.enable), configuration: promptLine(p.configuration ?? '\\(config[^)]*\\)# ?$') },
    login: { username: new RegExp(p.username), password: new RegExp(p.password), failed: /% ?Login invalid|% ?Authentication failed|% ?Bad passwords|% ?Access denied/ },
    paging: { off: ['terminal length 0'], more: [/ ?--More-- ?/] },
    // `copy` fails with "%Error opening nvram:startup-config" and the like.
    errors: [...COMMON_ERROR_MARKERS, /^%\s?Error/m],
    enable: { command: 'enable', password: new RegExp(p.password), refused: /% ?Bad secrets|% ?Bad passwords|% ?No password set|% ?Access denied/ },
    configuration: { enter: 'configure terminal', leave: 'end' },
    save: {
      command: r.commandSet?.save ?? 'copy running-config startup-config',
      confirmations: [{ pattern: /Destination filename \[startup-config\]\? ?$/, answer: '' }],
    },
    logout: { command: 'exit' },
  };
}

function credential(credentials: Readonly<Record<string, Credential>>, role: string, field: string): Credential & { password: Secret } {
  const c = credentials[role];
  if (!c?.password) throw new InvalidConfigurationError(field, `has no password in the credential store (the ${role} login)`);
  return c as Credential & { password: Secret };
}

/** The admin login: the loginAccount, then `enable` with the enable secret or password where the resource names one. */
function adminLogin(r: CiscoResource, credentials: Readonly<Record<string, Credential>>): DeviceLoginPlan {
  const login = credential(credentials, 'login', 'loginAccount');
  const enable = r.enableSecretAccount ? credential(credentials, 'enableSecret', 'enableSecretAccount') : r.enablePasswordAccount ? credential(credentials, 'enablePassword', 'enablePasswordAccount') : undefined;
  return { key: 'admin', sshUsername: login.username, username: ciscoLoginUsername(r, login.username), password: login.password, ...(enable ? { enable: enable.password } : {}) };
}

/** A user's line as `show running-config` prints it: `username NAME [privilege N] [secret T HASH | password T TEXT]`. */
export interface IosUserLine {
  readonly privilege?: string;
  readonly form?: 'secret' | 'password';
  readonly type?: string;
}

/** Output as the terminal shows it: each backspace takes back the character before it (IOS erases its " --More-- " so). */
export function withoutErasure(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      let out = '';
      for (const ch of line) out = ch === '\b' ? out.slice(0, -1) : out + ch;
      return out;
    })
    .join('\n');
}

export function parseUserLine(output: string, name: string): IosUserLine | undefined {
  for (const line of withoutErasure(output).split(/\r?\n/)) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== 'username' || words[1] !== name) continue;
    const at = (k: string) => words.indexOf(k, 2);
    const privilege = at('privilege') > 0 ? words[at('privilege') + 1] : undefined;
    const s = at('secret');
    const pw = at('password');
    const form = s > 0 ? 'secret' : pw > 0 ? 'password' : undefined;
    const type = form ? words[(s > 0 ? s : pw) + 1] : undefined;
    return { ...(privilege ? { privilege } : {}), ...(form ? { form } : {}), ...(type ? { type } : {}) };
  }
  return undefined;
}

/** `enable secret` (or `username NAME …`) with a secret of the type it has: `algorithm-type` where it names one, falling back to `secret 0` where IOS does not know `algorithm-type`. */
async function setSecret(session: DeviceSession, prefix: string, type: string | undefined, password: Secret): Promise<string> {
  const algorithm = type === undefined ? undefined : ALGORITHM[type];
  const plain = `${prefix} secret 0 `;
  if (algorithm) {
    const line = `${prefix} algorithm-type ${algorithm} secret `;
    try {
      await session.command([line, password], { change: true, success: SILENT, refusals: [CONFLICT, ...PARSER_REFUSALS] });
      return `${line.trim()} …`;
    } catch (e) {
      // Older releases have no algorithm-type (their `secret 0` hashes with MD5, type 5): the line was refused whole.
      if (!(e instanceof TargetUnchangedError) || !/Invalid input/.test(e.message) || type !== '5') throw e;
    }
  }
  await session.command([plain, password], { change: true, success: SILENT, refusals: [CONFLICT, ...PARSER_REFUSALS] });
  return `${plain.trim()} …`;
}

/** A user name as an IOS regular expression matching it alone: `.` escaped, and `_` (IOS's delimiter wildcard). */
export function iosRegexLiteral(text: string): string {
  return text.replace(/[._\\^$*+?()[\]{}|]/g, (c) => `\\${c}`);
}

async function showInclude(session: DeviceSession, regex: string): Promise<string> {
  return (await session.command(`show running-config | include ${regex}`)).output;
}

async function changeLocalUser(op: DeviceChange<CiscoResource>): Promise<string> {
  const name = op.account.username;
  // The trailing space keeps "ab" from matching "abc"; IOS's filter is a regular expression.
  const found = parseUserLine(await showInclude(op.session, `^username ${iosRegexLiteral(name)} `), name);
  if (!found) throw new InvalidConfigurationError('username', `${JSON.stringify(name)} is not a local user on the device (no \`username ${name}\` line in its running configuration); rpr changes users, it does not create them`);
  const prefix = `username ${name}${found.privilege ? ` privilege ${found.privilege}` : ''}`;
  await op.session.configure();
  if (found.form === 'password') {
    await op.session.command([`${prefix} password 0 `, op.newPassword], { change: true, success: SILENT, refusals: [CONFLICT, ...PARSER_REFUSALS] });
    return `${prefix} password 0 …`;
  }
  return setSecret(op.session, prefix, found.type, op.newPassword);
}

async function changeLines(op: DeviceChange<CiscoResource>): Promise<string> {
  const lines = ciscoLinesOf(op.resource, op.account.id);
  await op.session.configure();
  for (const [i, line] of lines.entries()) {
    await op.session.command(`line ${line}`);
    try {
      await op.session.command(['password 0 ', op.newPassword], { change: true, success: SILENT, refusals: PARSER_REFUSALS });
    } catch (e) {
      if (i > 0 && e instanceof TargetUnchangedError) throw new OutcomeUnknownError(`${e.message} (the password of line ${lines.slice(0, i).join(', ')} was already changed)`, { cause: e });
      throw e;
    }
  }
  return `line ${lines.join(', ')} / password 0 …`;
}

async function change(op: DeviceChange<CiscoResource>): Promise<ChangeResult> {
  const r = op.resource;
  const s = op.session;
  if (r.commandSet) {
    await runCommandSet(s, r.commandSet, { username: op.account.username, password: op.newPassword, currentPassword: op.currentPassword });
    return { method: 'admin reset (custom command set)' };
  }
  let how: string;
  switch (ciscoAccountKind(r, op.account.id)) {
    case 'local-user':
      how = await changeLocalUser(op);
      break;
    case 'enable-secret': {
      const line = await showInclude(s, '^enable secret ');
      const type = /^enable secret (\d)/m.exec(line)?.[1];
      await s.configure();
      how = await setSecret(s, 'enable', type, op.newPassword);
      break;
    }
    case 'enable-password':
      await s.configure();
      await s.command(['enable password 0 ', op.newPassword], { change: true, success: SILENT, refusals: PARSER_REFUSALS });
      how = 'enable password 0 …';
      break;
    case 'line-password':
      how = await changeLines(op);
      break;
    default:
      throw new NotSupportedError('type', 'a login password apart from the lines is CatOS and PIX only');
  }
  await s.leaveConfiguration();
  return { method: `admin reset (${how})` };
}

function proof(r: CiscoResource, account: Account, password: Secret, credentials: Readonly<Record<string, Credential>>): DeviceLoginPlan {
  const kind = ciscoAccountKind(r, account.id);
  if (kind === 'enable-secret' || kind === 'enable-password') {
    // `disable` first: a privilege-15 login lands in privileged mode, where `enable` asks nothing.
    return { ...adminLogin(r, credentials), key: 'proof', enable: password, reenable: 'disable' };
  }
  if (kind === 'line-password') {
    if (r.usernameRequired || !ciscoLinesOf(r, account.id).some((l) => l.startsWith('vty'))) {
      throw new NotSupportedError('linePasswords', `the line password of ${account.id} is not a login here (a vty line with \`login\` and usernameRequired false), so no fresh login can prove it`);
    }
    return { key: 'proof', sshUsername: account.username, username: undefined, password };
  }
  if (!r.usernameRequired) throw new NotSupportedError('usernameRequired', `the vty lines take the line password alone, so no login proves the local user ${JSON.stringify(account.username)}`);
  return { key: 'proof', sshUsername: account.username, username: account.username, password };
}

export const ciscoIosDriver: DeviceDriver<CiscoResource> = {
  type: 'cisco-ios',
  dialect: iosDialect,
  sessionFor: (r, _account, credentials) => adminLogin(r, credentials),
  change,
  proof,
  saves: true,
};
