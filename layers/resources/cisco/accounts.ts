import { InvalidConfigurationError } from '../../engine/errors.js';
import type { CiscoResource } from './schema.js';

/**
 * What an account of a Cisco resource is on the device, and so the command that changes it:
 * - `local-user`: IOS `username NAME secret|password`, PIX `username NAME password … privilege N`,
 *   CatOS `set localuser user NAME password`; every account the resource names in no other role.
 * - `enable-secret`: IOS `enable secret`.
 * - `enable-password`: IOS and PIX `enable password`, CatOS `set enablepass`.
 * - `line-password`: IOS `line …` / `password` on each of `ciscoLinesOf(resource, accountId)`.
 * - `login-password`: CatOS `set password`, PIX `passwd` (the Telnet and SSH login password).
 */
export type CiscoAccountKind = 'local-user' | 'enable-secret' | 'enable-password' | 'line-password' | 'login-password';

export function ciscoAccountKind(resource: CiscoResource, accountId: string): CiscoAccountKind {
  if (resource.enableSecretAccount === accountId) return 'enable-secret';
  if (resource.enablePasswordAccount === accountId) return 'enable-password';
  if (resource.loginPasswordAccount === accountId) return 'login-password';
  if (resource.linePasswords.some((l) => l.account === accountId)) return 'line-password';
  return 'local-user';
}

/** The IOS lines whose password the account is (`vty 0 15`, `con 0`), in configuration order; empty for any other kind. */
export function ciscoLinesOf(resource: CiscoResource, accountId: string): string[] {
  return resource.linePasswords.filter((l) => l.account === accountId).map((l) => l.line);
}

/**
 * The user name the login sends: the login account's own over SSH and at a `Username:` prompt;
 * `undefined` where none is typed (usernameRequired false over Telnet: the device asks for the
 * password alone); PIX's fixed `pix` for SSH with the `passwd` login password (Cisco PIX Firewall
 * and VPN Configuration Guide 6.2, "Using SSH for Remote System Management": "enter the username
 * pix and the Telnet password"). `username` is the login account's name in the store.
 */
export function ciscoLoginUsername(resource: CiscoResource, username: string): string | undefined {
  if (resource.usernameRequired) return username;
  if (resource.protocol === 'ssh' && resource.type === 'cisco-pix') return 'pix';
  if (resource.protocol === 'ssh') {
    // The schema refuses this combination; a resource built around it is a bug, not input.
    throw new InvalidConfigurationError('usernameRequired', `must be true over SSH on ${resource.type}`);
  }
  return undefined;
}
