/**
 * What the service-processor drivers whose change is a command followed by password prompts
 * share (ALOM, XSCF; usable by ILOM): the logins (serviceProcessorChangeBy: the adminAccount
 * resets the others; every other account, the admin included, changes its own with its current
 * password), the proof by a fresh login, and the dialect's login part from the resource's prompts.
 */
import type { Account } from '../../engine/account.js';
import type { Credential } from '../../engine/adapter.js';
import { InvalidConfigurationError } from '../../engine/errors.js';
import { Secret } from '../../engine/secret.js';
import type { CommandAnswer, DeviceDialect } from '../../expect/device.js';
import type { DeviceLoginPlan } from '../network-device/driver.js';
import { serviceProcessorChangeBy, type ServiceProcessorChangeBy, type ServiceProcessorResource } from './schema.js';

/** The session key of the resource's admin login (the adapter keeps it open for the group). */
export const ADMIN_SESSION = 'admin';

/** The admin's credential, or InvalidConfigurationError naming adminAccount. */
export function adminCredential(credentials: Readonly<Record<string, Credential>>): Credential & { password: Secret } {
  const admin = credentials[ADMIN_SESSION];
  if (!admin?.password) throw new InvalidConfigurationError('adminAccount', 'has no stored password: the admin login resets the other accounts');
  return { ...admin, password: admin.password };
}

/**
 * The login whose session changes `account`. The admin resets the others on its own session;
 * the admin account itself changes its own password on that same session (so it stays open while
 * the new one is proven); any other account in mode self logs in as itself, with its current password.
 */
export function serviceProcessorSessionFor(
  resource: ServiceProcessorResource,
  account: Account,
  credentials: Readonly<Record<string, Credential>>,
  currentPassword: Secret | undefined,
): DeviceLoginPlan & { changeBy: ServiceProcessorChangeBy } {
  const changeBy = serviceProcessorChangeBy(resource, account.id);
  if (changeBy === 'admin' || resource.adminAccount === account.id) {
    const admin = adminCredential(credentials);
    return { key: ADMIN_SESSION, sshUsername: admin.username, username: admin.username, password: admin.password, changeBy };
  }
  if (!currentPassword) throw new InvalidConfigurationError('currentPassword', `is needed: ${JSON.stringify(account.username)} changes its own password (name an adminAccount to reset it instead)`);
  return { key: `self:${account.id}`, sshUsername: account.username, username: account.username, password: currentPassword, changeBy };
}

/** The current password a self change types: the caller's, else the login's own (the admin changing itself). */
export function currentPasswordFor(account: Account, currentPassword: Secret | undefined, credentials: Readonly<Record<string, Credential>>): Secret {
  const own = Object.values(credentials).find((c) => c.accountId === account.id)?.password;
  const current = currentPassword ?? own;
  if (!current) throw new InvalidConfigurationError('currentPassword', `is needed: ${JSON.stringify(account.username)} changes its own password`);
  return current;
}

/** A password is proven by a fresh login as the account. */
export function serviceProcessorProof(account: Account, password: Secret): DeviceLoginPlan {
  return { key: 'proof', sshUsername: account.username, username: account.username, password };
}

/** The login part of a dialect, from the resource's `prompts`. */
export function loginOf(resource: ServiceProcessorResource, failed: RegExp): DeviceDialect['login'] {
  return { username: new RegExp(resource.prompts.username), password: new RegExp(resource.prompts.password), failed };
}

/** Answers for a command's password prompts, each typed once (a prompt asked again is left to the refusal or the deadline). */
export function once(pattern: RegExp, reply: Secret | string): CommandAnswer {
  return { pattern, reply, once: true };
}
