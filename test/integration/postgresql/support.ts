// Helpers for the PostgreSQL adapter's tests on the real server.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import type { AdapterContext, Credential } from '../../../layers/engine/adapter.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { Account } from '../../../layers/resources/common.js';
import { postgresqlSchema, type PostgresqlResource } from '../../../layers/resources/postgresql/schema.js';
import { scramVerifier } from '../../../layers/resources/postgresql/scram.js';
import { pgAdminQuery } from '../../../harness/servers/fixtures.js';
import type { Servers } from '../../../harness/servers/index.js';

export type PgInfo = Servers['postgresql'];

export function resource(info: PgInfo, over: Partial<Record<string, unknown>> = {}): PostgresqlResource {
  return postgresqlSchema.parse({
    id: 'pg-test',
    type: 'postgresql',
    host: info.host,
    port: info.port,
    ssl: true,
    caCertificate: readFileSync(info.caFile, 'utf8'),
    ...over,
  });
}

export function account(username: string): Account {
  return { id: `pg-test/${username}`, resourceId: 'pg-test', username, secretId: `secret/${username}`, tags: [] };
}

export function credential(username: string, password: string): Credential {
  return { accountId: `pg-test/${username}`, username, password: new Secret(password) };
}

export function context(r: PostgresqlResource, admin?: Credential, secrets: string[] = []): AdapterContext<PostgresqlResource> {
  return adapterContext(r, admin ? { admin } : {}, { secrets, timeoutMs: 5_000 });
}

/** Creates a login role with a password (sent as a verifier, so no plaintext in the SQL). */
export async function createRole(name: string, password: string, options = ''): Promise<void> {
  const verifier = await scramVerifier(new Secret(password));
  await pgAdminQuery(`CREATE ROLE ${pg.escapeIdentifier(name)} LOGIN ${options} PASSWORD '${verifier}'`);
}

export async function dropRole(name: string): Promise<void> {
  await pgAdminQuery(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(name)}`);
}

export async function roleExists(name: string): Promise<boolean> {
  return (await pgAdminQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).length === 1;
}

export async function storedPassword(name: string): Promise<string | null> {
  const rows = await pgAdminQuery<{ rolpassword: string | null }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [name]);
  return rows[0]?.rolpassword ?? null;
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
  const { createServer } = await import('node:net');
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
