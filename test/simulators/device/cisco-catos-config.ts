/**
 * The configuration a simulated CatOS switch keeps, and its `show config` text. Written from
 * "Catalyst 6500 Series Software Command Reference (CatOS)" and "Catalyst 5000/6000 Family
 * Command Reference": `set password`, `set enablepass`, `set localuser`, `set system name`,
 * `set authentication login local`, `set length ... default`, `show config`, `clear config`.
 *
 * CatOS writes every configuration change to NVRAM as it is made (there is no save step), so the
 * startup copy is rewritten after each change; `show config` prints the non-default part with
 * passwords as their `$2$` hashes (cisco-hashes.ts). The banner lines of `show config` and the
 * section comments ("#system", "#authentication") follow the reference's examples; the version
 * string is ours.
 */
import { catosHash, catosVerify } from './cisco-hashes.js';

export interface CatosLocalUser {
  /** The `$2$` hash, never the clear text. */
  readonly hash: string;
  /** 0 (normal) to 15 (privileged). */
  readonly privilege: number;
}

export interface CatosState {
  systemName: string;
  /** The login password's hash (`set password`); the factory default is the empty password. */
  loginHash: string;
  /** The enable password's hash (`set enablepass`). */
  enableHash: string;
  /** `set authentication login local enable`: logins use the local users. */
  localLogin: boolean;
  readonly users: Map<string, CatosLocalUser>;
  /** `set length N default`: the screen length a new session starts with. */
  defaultLength: number;
}

export const CATOS_DEFAULT_NAME = 'Console';
export const CATOS_DEFAULT_LENGTH = 24;

export function defaultCatosState(): CatosState {
  return {
    systemName: '',
    loginHash: catosHash(''),
    enableHash: catosHash(''),
    localLogin: false,
    users: new Map(),
    defaultLength: CATOS_DEFAULT_LENGTH,
  };
}

export function verifyCatos(password: string, hash: string): boolean {
  return catosVerify(password, hash);
}

/** The `show config` text (non-default configuration). */
export function renderCatosConfig(s: CatosState, all = false): string {
  const lines = [
    ...(all
      ? []
      : [
          'This command shows non-default configurations only.',
          "Use 'show config all' to show both default and non-default configurations.",
        ]),
    '......',
    '',
    'begin',
    '!',
    all ? '# ***** ALL (DEFAULT and NON-DEFAULT) CONFIGURATION *****' : '# ***** NON-DEFAULT CONFIGURATION *****',
    '!',
    '!',
    '#version 8.4(1)',
    '!',
    `set password ${s.loginHash}`,
    `set enablepass ${s.enableHash}`,
  ];
  if (all || s.defaultLength !== CATOS_DEFAULT_LENGTH) lines.push(`set length ${s.defaultLength} default`);
  lines.push('!', '#system');
  if (all || s.systemName !== '') lines.push(`set system name  ${s.systemName}`);
  lines.push('!');
  if (all || s.localLogin || s.users.size > 0) {
    lines.push('#authentication');
    if (all || s.localLogin) lines.push(`set authentication login local ${s.localLogin ? 'enable' : 'disable'}`);
    for (const [name, u] of s.users) lines.push(`set localuser user ${name} password ${u.hash} privilege ${u.privilege}`);
    lines.push('!');
  }
  lines.push('end', '');
  return lines.join('\n');
}
