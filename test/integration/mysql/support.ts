// Helpers for the MySQL/MariaDB adapter's tests on the real MariaDB server.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import type { AdapterContext, Credential } from '../../../layers/engine/adapter.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { Account } from '../../../layers/resources/common.js';
import { mysqlSchema, type MysqlResource } from '../../../layers/resources/mysql/schema.js';
import { mariadbAdminQuery } from '../../../harness/servers/fixtures.js';
import type { Servers } from '../../../harness/servers/index.js';

export type MariadbInfo = Servers['mariadb'];

export function resource(info: MariadbInfo, over: Partial<Record<string, unknown>> = {}): MysqlResource {
  return mysqlSchema.parse({
    id: 'my-test',
    type: 'mysql',
    host: info.host,
    port: info.port,
    ssl: true,
    caCertificate: readFileSync(info.caFile, 'utf8'),
    ...over,
  });
}

export function account(username: string): Account {
  return { id: `my-test/${username}`, resourceId: 'my-test', username, secretId: `secret/${encodeURIComponent(username)}`, tags: [] };
}

export function credential(username: string, password: string): Credential {
  return { accountId: `my-test/${username}`, username, password: new Secret(password) };
}

export function context(r: MysqlResource, admin?: Credential, secrets: string[] = []): AdapterContext<MysqlResource> {
  return adapterContext(r, admin ? { admin } : {}, { secrets, timeoutMs: 5_000 });
}

/** CREATE USER with bound values (the root session runs with the server's default sql_mode). */
export async function createUser(user: string, password: string, host = '%'): Promise<void> {
  await mariadbAdminQuery('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password]);
}

export async function dropUser(user: string, host = '%'): Promise<void> {
  await mariadbAdminQuery('DROP USER IF EXISTS ?@?', [user, host]);
}

/** An admin as the product expects one: CREATE USER and read access to mysql.user, not SUPER. */
export async function createAdmin(user: string, password: string): Promise<void> {
  await createUser(user, password);
  await mariadbAdminQuery('GRANT CREATE USER ON *.* TO ?@?', [user, '%']);
  await mariadbAdminQuery('GRANT SELECT ON mysql.* TO ?@?', [user, '%']);
}

/** What the server holds for an account (hash, plugin, lock, last change), as JSON; undefined when it does not exist. */
export async function accountState(user: string, host = '%'): Promise<string | undefined> {
  const rows = await mariadbAdminQuery<{ priv: unknown }>('SELECT Priv AS priv FROM mysql.global_priv WHERE User = ? AND Host = ?', [user, host]);
  const priv = rows[0]?.priv;
  return priv === undefined ? undefined : typeof priv === 'string' ? priv : JSON.stringify(priv);
}

/** Whether the account is locked (ACCOUNT LOCK). */
export async function isLocked(user: string, host = '%'): Promise<boolean> {
  const state = await accountState(user, host);
  return state !== undefined && (JSON.parse(state) as { account_locked?: boolean }).account_locked === true;
}

/** A public root CA from the system store: it did not sign the test server's certificate. */
export function unrelatedCa(): string {
  const bundle = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(bundle);
  if (!m) throw new Error('no certificate in the system bundle');
  return m[0];
}

/** A TCP listener that counts connections and closes them: proof that nothing was sent to a target. */
export async function countingListener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, connections: () => n, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Whether the server holds `password` for the account, by its own PASSWORD() (the
 * mysql_native_password hash): the check for accounts no login from here can reach.
 */
export async function serverHoldsPassword(user: string, host: string, password: string): Promise<boolean> {
  const rows = await mariadbAdminQuery<{ same: number | string }>(
    'SELECT authentication_string = PASSWORD(?) AS same FROM mysql.user WHERE User = ? AND Host = ?',
    [password, user, host],
  );
  if (rows.length === 0) throw new Error(`no account ${user}@${host}`);
  return Number(rows[0]!.same) === 1;
}

/** The account's authentication plugin. */
export async function pluginOf(user: string, host = '%'): Promise<string> {
  const rows = await mariadbAdminQuery<{ plugin: string }>('SELECT plugin FROM mysql.user WHERE User = ? AND Host = ?', [user, host]);
  return String(rows[0]?.plugin);
}
