/**
 * The README's support matrix, made from the type registry and the adapter list so it cannot
 * drift from the code: `npx tsx cli/support-matrix.ts` prints it; a test checks the README holds it.
 */
import { ALL_ADAPTERS } from '../layers/resources/adapters.js';
import type { ResourceType } from '../layers/resources/common.js';
import { RESOURCE_TYPE_DEFINITIONS } from '../layers/resources/registry.js';

const DEBIAN_SSH = 'real server: OpenSSH and inetutils telnetd (Debian 12), with sudo and su';

/** How the test suite checks each implemented type. A type missing here has no adapter yet. */
export const TESTED_AGAINST: Partial<Record<ResourceType, string>> = {
  linux: DEBIAN_SSH,
  aix: `${DEBIAN_SSH}, running AIX's command set (\`chpasswd\` on stdin)`,
  'hp-ux': `${DEBIAN_SSH}, running the HP-UX command set (\`passwd USER\` at its prompts)`,
  solaris: `${DEBIAN_SSH}, running the Solaris command set (\`passwd USER\` at its prompts)`,
  macos: `${DEBIAN_SSH}, running the macOS command set (\`passwd USER\` at its prompts); no macOS host`,
  esxi: `${DEBIAN_SSH}, running the ESXi command set (\`passwd USER\` at its prompts); no ESXi host`,
  postgresql: 'real server: PostgreSQL 15 (Debian 12) with SSL',
  mysql: 'real server: MariaDB 10.11 (Debian 12) with TLS; MySQL 8 statements untested',
  ldap: 'real server: OpenLDAP 2.5 (Debian 12) with ppolicy, LDAPS and StartTLS; the Entra ID method (`unicodePwd`) against Samba 4.17 AD DC; Oracle Internet Directory, eDirectory and Entra ID themselves untested',
  'windows-domain': 'real server: Samba 4.17 AD DC (Debian 12) over LDAPS and StartTLS, with fine-grained password policies and a lockout threshold of 5; no Windows Server DC',
  windows:
    "simulator: Windows OpenSSH shell (cmd.exe or PowerShell as default shell; PowerShell `Set-LocalUser` with the password on stdin, `net user NAME *` fallback) written from Microsoft's documentation; no Windows host",
};

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function supportMatrix(): string {
  const rows = Object.values(RESOURCE_TYPE_DEFINITIONS).map((d) => {
    const supported = d.type in ALL_ADAPTERS;
    return `| \`${d.type}\` | ${cell(d.title)} | ${d.defaultPort} | ${supported ? 'yes' : 'not yet (configuration only)'} | ${supported ? '' : 'planned: '}${cell(d.changedBy)} | ${supported ? '' : 'planned: '}${cell(d.verifiedBy)} | ${supported ? cell(TESTED_AGAINST[d.type] ?? 'NOT TESTED') : '—'} |`;
  });
  return [
    '| type | target | default port | reset | how it is changed | how it is verified | test suite checks it against |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${supportMatrix()}\n`);
