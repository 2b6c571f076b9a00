/**
 * The configuration a simulated PIX 6.3 firewall keeps, and its `write terminal` text. Written
 * from "Cisco PIX Firewall Command Reference, Version 6.3": `passwd`, `enable password`,
 * `username`, `aaa authentication ... console LOCAL`, `hostname`, `pager`, `write memory`,
 * `write terminal` / `show running-config`, `show configure` (the configuration in Flash).
 *
 * Passwords are kept and shown as the PIX encoding (cisco-hashes.ts), with the keyword
 * `encrypted`, as the reference's examples show (`passwd 2KFQnbNIdI.2KYOU encrypted`, the
 * default "cisco"; `enable password 8Ry2YjIyt7RRXU24 encrypted`, the default empty one). The
 * fixed interface lines are a factory PIX 501's, trimmed; the version string is ours.
 */
import { createHash } from 'node:crypto';
import { pixHash } from './cisco-hashes.js';

export interface PixUser {
  readonly hash: string;
  readonly privilege: number;
}

export interface PixState {
  hostname: string;
  /** `passwd`: the Telnet (and SSH user "pix") login password. */
  passwdHash: string;
  /** `enable password ... level N`, by level; level 15 is the one `enable` asks for. */
  readonly enable: Map<number, string>;
  readonly users: Map<string, PixUser>;
  /** `aaa authentication ssh|telnet console LOCAL`. */
  readonly aaaLocal: Set<'ssh' | 'telnet'>;
  /** `pager lines N`; 0 for `no pager`. */
  pagerLines: number;
}

export const PIX_DEFAULT_HOSTNAME = 'pixfirewall';
/** `username` without `privilege`: the reference gives 2 as the default. */
export const PIX_DEFAULT_USER_PRIVILEGE = 2;

export function defaultPixState(): PixState {
  return {
    hostname: PIX_DEFAULT_HOSTNAME,
    passwdHash: pixHash('cisco'),
    enable: new Map([[15, pixHash('')]]),
    users: new Map(),
    aaaLocal: new Set(),
    pagerLines: 24,
  };
}

export function copyPixState(s: PixState): PixState {
  return { ...s, enable: new Map(s.enable), users: new Map(s.users), aaaLocal: new Set(s.aaaLocal) };
}

function body(s: PixState): string[] {
  const lines = [
    'PIX Version 6.3(5)',
    'interface ethernet0 auto',
    'interface ethernet1 100full',
    'nameif ethernet0 outside security0',
    'nameif ethernet1 inside security100',
  ];
  for (const [level, hash] of [...s.enable].sort((a, b) => a[0] - b[0])) {
    lines.push(level === 15 ? `enable password ${hash} encrypted` : `enable password ${hash} level ${level} encrypted`);
  }
  lines.push(`passwd ${s.passwdHash} encrypted`, `hostname ${s.hostname}`, 'fixup protocol ftp 21', 'names');
  lines.push(s.pagerLines === 0 ? 'no pager' : `pager lines ${s.pagerLines}`);
  lines.push('mtu outside 1500', 'mtu inside 1500');
  for (const t of ['ssh', 'telnet'] as const) if (s.aaaLocal.has(t)) lines.push(`aaa authentication ${t} console LOCAL`);
  lines.push('telnet timeout 5', 'ssh timeout 5');
  for (const [name, u] of s.users) lines.push(`username ${name} password ${u.hash} encrypted privilege ${u.privilege}`);
  lines.push('terminal width 80');
  return lines;
}

/** The MD5 of the configuration, as PIX prints it after `write memory` and at the end of a listing. */
export function pixChecksum(s: PixState): string {
  return createHash('md5').update(body(s).join('\n')).digest('hex');
}

/** The configuration as `write terminal` / `show running-config` / `show configure` list it. */
export function renderPixConfig(s: PixState): string {
  return [': Saved', ':', ...body(s), `Cryptochecksum:${pixChecksum(s)}`, ': end', ''].join('\n');
}
