// Where the real test servers run, as written by `bash test/servers/setup.sh start`
// into <repo>/.test-servers/env.json, and a describe() that skips (or, under CI, fails) without them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export type ServerName = 'ssh' | 'telnet' | 'postgresql' | 'mariadb' | 'moto' | 'ldap' | 'samba';

export interface Servers {
  ssh: { host: string; port: number };
  telnet: { host: string; port: number };
  postgresql: { host: string; port: number; superuser: string; superuserPassword: string; caFile: string };
  mariadb: { host: string; port: number; rootUser: string; rootPassword: string; caFile: string };
  moto: { endpoint: string };
  /** OpenLDAP slapd. `port` serves plain LDAP and StartTLS, `ldapsPort` implicit TLS; both verify against caFile. */
  ldap: {
    host: string;
    port: number;
    ldapsPort: number;
    caFile: string;
    /** ppolicy with olcPPolicyHashCleartext: a plain userPassword replace is stored hashed. */
    baseDn: 'dc=rpr,dc=test';
    /** No ppolicy: a plain userPassword replace is stored as given. */
    clearBaseDn: 'dc=clear,dc=test';
    /** uid=pwadmin,ou=people,dc=rpr,dc=test, a member of cn=password-admins,ou=groups,dc=rpr,dc=test:
     * writes and reads userPassword and adds/deletes entries under ou=people of both databases. */
    adminDn: string;
    adminPassword: string;
    /** Root DNs, for test setup only (they bypass ACLs and ppolicy). */
    rootDn: string;
    rootPassword: string;
    clearRootDn: string;
    clearRootPassword: string;
  };
  /** Samba as an Active Directory domain controller (fixed ports; plain binds on `port` need StartTLS). */
  samba: {
    host: string;
    port: number;
    ldapsPort: number;
    caFile: string;
    realm: 'RPR.TEST';
    domain: 'RPR';
    baseDn: 'DC=rpr,DC=test';
    adminUser: 'Administrator';
    adminPassword: string;
    /** Failed logons before an account locks (for 1 minute; the counter resets after 1 minute). */
    lockoutThreshold: number;
  };
}

export const SERVER_NAMES: readonly ServerName[] = ['ssh', 'telnet', 'postgresql', 'mariadb', 'moto', 'ldap', 'samba'];

/** The repository's root, found from this file's location (test/servers/). */
export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url));
/** The folder holding every test server's state. */
export const stateDir: string = fileURLToPath(new URL('../../.test-servers/', import.meta.url));
export const envFile: string = fileURLToPath(new URL('../../.test-servers/env.json', import.meta.url));

type EnvEntry = Record<string, unknown> & { pidFile?: string };

const START_HINT = 'run `bash test/servers/setup.sh start` as root (or `npm test`, whose global setup starts them)';

/** Why a server is not usable, or undefined when it is; checked each call, cheap and synchronous. */
export function serverUnavailableReason(name: ServerName): string | undefined {
  const result = lookup(name);
  return 'reason' in result ? result.reason : undefined;
}

function lookup(name: ServerName): { entry: EnvEntry } | { reason: string } {
  if (process.env.RPR_TEST_SERVERS === 'skip') return { reason: 'RPR_TEST_SERVERS=skip' };
  let env: Record<string, EnvEntry>;
  try {
    env = JSON.parse(readFileSync(envFile, 'utf8')) as Record<string, EnvEntry>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { reason: code === 'ENOENT' ? `no ${envFile}: ${START_HINT}` : `cannot read ${envFile}: ${String(err)}` };
  }
  const entry = env[name];
  if (entry === undefined) return { reason: `${name} is not running: ${START_HINT}` };
  if (entry.pidFile !== undefined && !pidFileAlive(entry.pidFile)) {
    return { reason: `${name} stopped since it was started (${entry.pidFile}): ${START_HINT}` };
  }
  return { entry };
}

function pidFileAlive(pidFile: string): boolean {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive but not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const reported = new Set<ServerName>();

/** The server's details, or undefined when it is not running (the reason is printed once). */
export function serverInfo<K extends ServerName>(name: K): Servers[K] | undefined {
  const result = lookup(name);
  if ('reason' in result) {
    if (!reported.has(name)) {
      reported.add(name);
      console.warn(`[test servers] ${name} unavailable: ${result.reason}`);
    }
    return undefined;
  }
  const { pidFile: _pidFile, ...info } = result.entry;
  return info as unknown as Servers[K];
}

/** describe() when the server runs; otherwise describe.skip with the reason printed — except under CI=true, where a missing server is a failing test. */
export function describeServer<K extends ServerName>(
  name: K,
  title: string,
  fn: (info: Servers[K]) => void,
): void {
  const info = serverInfo(name);
  if (info !== undefined) {
    describe(title, () => fn(info));
    return;
  }
  const reason = serverUnavailableReason(name) ?? `${name} unavailable`;
  if (process.env.CI === 'true' && process.env.RPR_TEST_SERVERS !== 'skip') {
    describe(title, () => {
      it(`needs the ${name} test server`, () => {
        throw new Error(`${name} test server unavailable under CI: ${reason}`);
      });
    });
    return;
  }
  describe.skip(`${title} [skipped: ${reason}]`, () => {
    it(`needs the ${name} test server`, () => undefined);
  });
}
