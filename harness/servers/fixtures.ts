// Accounts on the real test servers, for adapter tests. Every password travels on stdin or as a
// bound parameter: never in argv, never in a shell string.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile, stat, chmod, chown } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { Client as SshClient } from 'ssh2';
import { serverInfo, serverUnavailableReason, type ServerName, type Servers } from './index.js';

/** The group that /etc/sudoers.d/rpr-test-servers (written by setup.sh) allows "ALL=(ALL) ALL" with a password. */
export const SUDO_GROUP = 'rprsudo';
const SUDOERS_FILE = '/etc/sudoers.d/rpr-test-servers';

const NAME_PATTERN = /^[a-z][a-z0-9_]*$/;

/** A fresh account name such as "rpr_k3j9x2": lower-case, at most 20 characters, valid for Unix, PostgreSQL and MySQL. */
export function uniqueName(prefix: string): string {
  if (!NAME_PATTERN.test(prefix) || prefix.length > 12) {
    throw new Error(`uniqueName: prefix must match ${NAME_PATTERN} and be at most 12 characters, got ${JSON.stringify(prefix)}`);
  }
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const length = Math.min(8, 20 - prefix.length - 1);
  const bytes = randomBytes(length);
  let suffix = '';
  for (const byte of bytes) suffix += alphabet[byte % alphabet.length];
  return `${prefix}_${suffix}`;
}

function requireServer<K extends ServerName>(name: K): Servers[K] {
  const info = serverInfo(name);
  if (info === undefined) throw new Error(`${name} test server unavailable: ${serverUnavailableReason(name) ?? 'not running'}`);
  return info;
}

function assertName(name: string): void {
  if (!NAME_PATTERN.test(name) || name.length > 32) throw new Error(`not a safe account name: ${JSON.stringify(name)}`);
}

function assertChpasswdSafe(password: string): void {
  if (/[\n\r\0]/.test(password)) throw new Error('password contains a newline, carriage return or NUL; chpasswd cannot take it');
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program by absolute path with fixed argv; secrets go through `stdin` only. */
function run(file: string, args: readonly string[], stdin?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the program may exit before reading everything
    child.stdin.end(stdin ?? '');
  });
}

async function runOk(file: string, args: readonly string[], stdin?: string): Promise<RunResult> {
  const result = await run(file, args, stdin);
  if (result.code !== 0) {
    // stderr of these tools never echoes stdin, so it is safe to show.
    throw new Error(`${file} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result;
}

async function ensureSudoGroup(): Promise<void> {
  const group = await run('/usr/bin/getent', ['group', SUDO_GROUP]);
  if (group.code !== 0) {
    const added = await run('/usr/sbin/groupadd', [SUDO_GROUP]);
    if (added.code !== 0 && added.code !== 9 /* exists: created meanwhile */) {
      throw new Error(`groupadd ${SUDO_GROUP} exited ${added.code}: ${added.stderr.trim()}`);
    }
  }
  try {
    readFileSync(SUDOERS_FILE);
  } catch {
    const temp = `${SUDOERS_FILE}.${process.pid}.tmp`;
    await writeFile(temp, `%${SUDO_GROUP} ALL=(ALL) ALL\n`, { mode: 0o440 });
    await runOk('/usr/sbin/visudo', ['-cqf', temp]);
    await rename(temp, SUDOERS_FILE);
  }
}

/** useradd -m -s /bin/bash, then the password through chpasswd's stdin. `sudo: true` adds the account to {@link SUDO_GROUP}. */
export async function createUnixUser(name: string, password: string, opts: { sudo?: boolean } = {}): Promise<void> {
  assertName(name);
  assertChpasswdSafe(password);
  const args = ['-m', '-s', '/bin/bash'];
  if (opts.sudo === true) {
    await ensureSudoGroup();
    args.push('-G', SUDO_GROUP);
  }
  await runOk('/usr/sbin/useradd', [...args, name]);
  await runOk('/usr/sbin/chpasswd', [], `${name}:${password}\n`);
}

/** Removes the account and its home; succeeds when it does not exist. */
export async function deleteUnixUser(name: string): Promise<void> {
  assertName(name);
  await run('/usr/bin/pkill', ['-KILL', '-u', name]);
  const result = await run('/usr/sbin/userdel', ['-r', '-f', name]);
  // 6: no such user; 12: could not remove the home (gone already).
  if (result.code !== 0 && result.code !== 6 && result.code !== 12) {
    throw new Error(`userdel ${name} exited ${result.code}: ${result.stderr.trim()}`);
  }
}

/** Sets a user's password with chpasswd on stdin, as an operator would behind rpr's back. */
export async function setUnixPassword(name: string, password: string): Promise<void> {
  assertName(name);
  assertChpasswdSafe(password);
  await runOk('/usr/sbin/chpasswd', [], `${name}:${password}\n`);
}

let rootPasswordQueue: Promise<unknown> = Promise.resolve();

/**
 * Gives root `password` (so that `su` works in a test), runs `fn`, then puts root's original
 * /etc/shadow entry back byte for byte. Calls are serialized within this process.
 */
export function withRootPassword<T>(password: string, fn: () => Promise<T>): Promise<T> {
  assertChpasswdSafe(password);
  const next = rootPasswordQueue.then(async () => {
    const original = rootShadowLine(await readFile('/etc/shadow', 'utf8'));
    await runOk('/usr/sbin/chpasswd', [], `root:${password}\n`);
    try {
      return await fn();
    } finally {
      await restoreRootShadowLine(original);
    }
  });
  rootPasswordQueue = next.catch(() => undefined);
  return next;
}

function rootShadowLine(shadow: string): string {
  const line = shadow.split('\n').find((l) => l.startsWith('root:'));
  if (line === undefined) throw new Error('/etc/shadow has no root entry');
  return line;
}

async function restoreRootShadowLine(original: string): Promise<void> {
  const hash = original.split(':')[1] ?? '';
  // chpasswd -e takes the shadow lock, so a useradd running meanwhile is not lost.
  await runOk('/usr/sbin/chpasswd', ['-e'], `root:${hash}\n`);
  const shadow = await readFile('/etc/shadow', 'utf8');
  if (rootShadowLine(shadow) === original) return;
  // chpasswd also stamped the last-change day: put the whole line back.
  const before = await stat('/etc/shadow');
  const temp = `/etc/shadow.rpr-${process.pid}`;
  await writeFile(temp, shadow.split('\n').map((l) => (l.startsWith('root:') ? original : l)).join('\n'), { mode: 0o640 });
  await chown(temp, before.uid, before.gid);
  await chmod(temp, before.mode & 0o7777);
  await rename(temp, '/etc/shadow');
}

/** A fresh SSH password login to the test sshd: true when it is accepted, false when refused. */
export function unixPasswordWorks(name: string, password: string): Promise<boolean> {
  const { host, port } = requireServer('ssh');
  return new Promise((resolve, reject) => {
    const client = new SshClient();
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      client.end();
      fn();
    };
    client.on('ready', () => settle(() => resolve(true)));
    client.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'client-authentication') settle(() => resolve(false));
      else settle(() => reject(new Error(`ssh ${host}:${port} as ${name}: ${err.message}`)));
    });
    client.connect({ host, port, username: name, password, readyTimeout: 30_000, tryKeyboard: false });
  });
}

// ---------------------------------------------------------------- PostgreSQL

function pgConfig(user: string, password: string): pg.ClientConfig {
  const info = requireServer('postgresql');
  return {
    host: info.host,
    port: info.port,
    user,
    password,
    database: 'postgres',
    ssl: { ca: readFileSync(info.caFile, 'utf8') },
    connectionTimeoutMillis: 15_000,
  };
}

/** A query as the superuser on a connection of its own; `params` are bound ($1, $2, ...). */
export async function pgAdminQuery<T = unknown>(sql: string, params?: unknown[]): Promise<T[]> {
  const info = requireServer('postgresql');
  const client = new pg.Client(pgConfig(info.superuser, info.superuserPassword));
  await client.connect();
  try {
    const result = await client.query(sql, params);
    return result.rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Holds the row lock of `role` in pg_authid (an ALTER ROLE in a transaction left open), so that a
 * password change of the role waits until `release` (which rolls it back): a change kept in flight
 * for as long as a test needs.
 */
export async function pgHoldRoleLock(role: string): Promise<{ release(): Promise<void> }> {
  const info = requireServer('postgresql');
  const client = new pg.Client(pgConfig(info.superuser, info.superuserPassword));
  await client.connect();
  await client.query('BEGIN');
  await client.query(`ALTER ROLE ${pg.escapeIdentifier(role)} CONNECTION LIMIT -1`);
  return {
    async release() {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/** A fresh connection as `role` with `password`: true when it logs in, false when refused. */
export async function pgPasswordWorks(role: string, password: string): Promise<boolean> {
  const client = new pg.Client(pgConfig(role, password));
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    const code = (err as { code?: string }).code;
    // 28P01: wrong password or no such role; 28000: no pg_hba entry or login not allowed.
    if (code === '28P01' || code === '28000') return false;
    throw err;
  }
  await client.end();
  return true;
}

// ---------------------------------------------------------------- MariaDB

function mariadbConfig(user: string, password: string): mysql.ConnectionOptions {
  const info = requireServer('mariadb');
  return {
    host: info.host,
    port: info.port,
    user,
    password,
    ssl: { ca: readFileSync(info.caFile, 'utf8') },
    connectTimeout: 15_000,
  };
}

/** A statement as the admin on a connection of its own, through `query()` (client-side escaping of `?`). */
export async function mariadbAdminQuery<T = unknown>(sql: string, params?: unknown[]): Promise<T[]> {
  const info = requireServer('mariadb');
  const conn = await mysql.createConnection(mariadbConfig(info.rootUser, info.rootPassword));
  try {
    const [rows] = await conn.query(sql, params);
    return (Array.isArray(rows) ? rows : [rows]) as T[];
  } finally {
    await conn.end();
  }
}

/** A fresh connection as `user` with `password`: true when it logs in, false when refused. */
export async function mariadbPasswordWorks(user: string, password: string): Promise<boolean> {
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection(mariadbConfig(user, password));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR') return false;
    throw err;
  }
  await conn.end();
  return true;
}

// ---------------------------------------------------------------- account helpers built on the above

/**
 * CREATE ROLE name LOGIN PASSWORD '...'. `CREATE ROLE` takes no bound parameters, so the password
 * goes through the driver's literal escaping (proven against every printable character in the tests).
 * `attributes` are extra role options such as "CREATEROLE" (test code only; never user input).
 */
export async function pgCreateRole(name: string, password: string, attributes = ''): Promise<void> {
  assertName(name);
  const escape = pg.Client.prototype.escapeLiteral.bind(pg.Client.prototype);
  await pgAdminQuery(`CREATE ROLE ${name} LOGIN PASSWORD ${escape(password)} ${attributes}`);
}

/** ALTER ROLE name PASSWORD '...' as the superuser (the driver's literal escaping, as pgCreateRole): a change behind rpr's back. */
export async function pgSetPassword(name: string, password: string): Promise<void> {
  assertName(name);
  const escape = pg.Client.prototype.escapeLiteral.bind(pg.Client.prototype);
  await pgAdminQuery(`ALTER ROLE ${name} PASSWORD ${escape(password)}`);
}

export async function pgDropRole(name: string): Promise<void> {
  assertName(name);
  await pgAdminQuery(`DROP ROLE IF EXISTS ${name}`);
}

/** CREATE USER name@host IDENTIFIED BY ?, through `query()`'s client-side escaping. */
export async function mariadbCreateUser(name: string, password: string, host = '%'): Promise<void> {
  assertName(name);
  await mariadbAdminQuery('CREATE USER ?@? IDENTIFIED BY ?', [name, host, password]);
}

/** ALTER USER ?@? IDENTIFIED BY ? as root: a change behind rpr's back. */
export async function mariadbSetPassword(name: string, password: string, host = '%'): Promise<void> {
  assertName(name);
  await mariadbAdminQuery('ALTER USER ?@? IDENTIFIED BY ?', [name, host, password]);
}

export async function mariadbDropUser(name: string, host = '%'): Promise<void> {
  assertName(name);
  await mariadbAdminQuery('DROP USER IF EXISTS ?@?', [name, host]);
}

/** Every printable ASCII character, space included: quotes, backslash, `$`, `%`, `;`, `?` and all. */
export const ALL_PRINTABLE_ASCII: string = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
