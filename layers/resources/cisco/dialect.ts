/**
 * What the CatOS and PIX drivers share (catos-driver.ts, pix-driver.ts): the session's login
 * built from a Cisco resource's roles, the prompt patterns of the resource's `prompts`, and reading one line of a configuration
 * listing. Small helpers only: each driver keeps its own dialect, commands and wordings.
 */
import type { Account } from '../../engine/account.js';
import type { Credential } from '../../engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../engine/errors.js';
import { Secret } from '../../engine/secret.js';
import type { DeviceSession } from '../../expect/device.js';
import type { DeviceLoginPlan } from '../network-device/driver.js';
import { ciscoAccountKind, ciscoLoginUsername, type CiscoAccountKind } from './accounts.js';
import type { CiscoResource } from './schema.js';

/**
 * A prompt source of the resource's `prompts` (already validated) as the whole prompt line: the
 * defaults name the prompt's end ("> ?$", "\\(config[^)]*\\)# ?$"), and the host name before it
 * must not stay in a command's output (a configuration command that answers nothing would then
 * seem to answer "fw1").
 */
export function promptPattern(source: string): RegExp {
  return new RegExp(`(?:^|\\n)[^\\r\\n]*?(?:${source})`);
}

/** The credential of a role, with its password, or InvalidConfigurationError naming the field. */
export function roleCredential(credentials: Readonly<Record<string, Credential>>, role: string, field: string, why: string): Credential & { readonly password: Secret } {
  const c = credentials[role];
  if (!c?.password) throw new InvalidConfigurationError(field, `${why}, and no password is stored for it`);
  return c as Credential & { readonly password: Secret };
}

/**
 * The resource's admin session: its login account (typed as ciscoLoginUsername says), enabled
 * with the enable password. Both CatOS (`set ...` in privileged mode) and PIX (configuration mode
 * from privileged mode) change passwords only once enabled. Without enablePasswordAccount the
 * enable password is taken to be the factory's empty one: the session stays as logged in and the
 * driver's change answers `enable` with an empty line (enableBlank).
 */
export function adminLogin(resource: CiscoResource, credentials: Readonly<Record<string, Credential>>, title: string): DeviceLoginPlan {
  const login = roleCredential(credentials, 'login', 'loginAccount', `${title} sessions log in as loginAccount`);
  const typed = ciscoLoginUsername(resource, login.username);
  const plan = { key: 'admin', sshUsername: typed ?? login.username, username: typed, password: login.password };
  if (resource.enablePasswordAccount === undefined) return plan;
  const enable = roleCredential(credentials, 'enablePassword', 'enablePasswordAccount', `${title} enters privileged mode with the enable password`);
  return { ...plan, enable: enable.password };
}

/**
 * `enable` with the factory's empty enable password (no enablePasswordAccount): an empty line at
 * each password prompt until the device shows a prompt. Still in user mode afterwards: the device
 * has an enable password, AuthenticationError (nothing changed).
 */
export async function enableBlank(session: DeviceSession, passwordPrompt: RegExp, title: string): Promise<void> {
  if (session.mode !== 'user') return;
  const { output } = await session.command('enable', { answers: [{ pattern: passwordPrompt, reply: '' }] }).catch((e: unknown) => {
    throw new AuthenticationError(`the ${title} refused \`enable\` with an empty password: ${e instanceof Error ? e.message : String(e)}`);
  });
  if (session.mode === 'user') {
    throw new AuthenticationError(`the ${title} has an enable password (it refused an empty one: ${JSON.stringify(output.trim().slice(0, 200))}): name its account in enablePasswordAccount`);
  }
}

/**
 * How a password of `account` is proven: a local user by logging in with its name (the device
 * must authenticate logins by local user: usernameRequired); the login password by a login with
 * it alone (usernameRequired false: Telnet without a name, PIX SSH as "pix"); the enable password
 * by the admin's login and `enable` with it.
 */
export function proofLogin(resource: CiscoResource, account: Account, password: Secret, credentials: Readonly<Record<string, Credential>>, title: string): DeviceLoginPlan {
  const kind = ciscoAccountKind(resource, account.id);
  if (kind === 'enable-password') return { ...adminLogin(resource, credentials, title), key: 'proof', enable: password };
  if (kind === 'login-password') {
    const typed = ciscoLoginUsername(resource, account.username);
    return { key: 'proof', sshUsername: typed ?? account.username, username: typed, password };
  }
  return { key: 'proof', sshUsername: account.username, username: account.username, password };
}

/**
 * Refuses, before anything is sent, an account whose new password no login could prove: a local
 * user on a device whose logins take no user name, or the login password on one whose logins do.
 */
export function assertProvable(resource: CiscoResource, account: Account, kind: CiscoAccountKind, title: string): void {
  if (kind === 'local-user' && !resource.usernameRequired) {
    throw new InvalidConfigurationError('usernameRequired', `${JSON.stringify(account.username)} is a local user, proven by logging in as it, but this ${title} logs in with its login password alone (usernameRequired false)`);
  }
  if (kind === 'login-password' && resource.usernameRequired) {
    throw new InvalidConfigurationError('loginPasswordAccount', `the login password is proven by a login with it alone, which needs usernameRequired false on this ${title}`);
  }
}

/** The last line of a configuration listing that matches `pattern` (e.g. /^username admin /), or undefined. */
export function configLine(listing: string, pattern: RegExp): string | undefined {
  return listing.split(/\r?\n/).reverse().find((l) => pattern.test(l));
}

/** A regular expression matching `text` literally. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Refuses an account the device does not have, before anything changes. */
export function noSuchAccount(title: string, what: string): TargetUnchangedError {
  return new TargetUnchangedError(`the ${title} has no ${what}: nothing was changed (rpr resets existing accounts only)`);
}
