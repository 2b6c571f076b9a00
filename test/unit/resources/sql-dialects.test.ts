import { describe, expect, it } from 'vitest';
import { Secret } from '../../../layers/engine/secret.js';
import { connectionConfig } from '../../../layers/resources/mssql/adapter.js';
import type { MssqlResource } from '../../../layers/resources/mssql/schema.js';
import { definitionOf, parseResource } from '../../../layers/resources/registry.js';
import { isConnectionLoss } from '../../../layers/resources/sql-common.js';
import { MSSQL, MYSQL, POSTGRESQL, SQL_DIALECTS, type SqlEngine } from '../../../layers/resources/sql-dialects.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('the SQL dialect table', () => {
  it.each(Object.keys(SQL_DIALECTS) as SqlEngine[])('%s: the type takes its user names by the row, not a copy of its own', (engine) => {
    expect(definitionOf(engine).username).toBe(SQL_DIALECTS[engine].identifier);
  });

  it('gives each driver its TLS options: verified against the CA, at least TLS 1.2, nothing with ssl off', () => {
    for (const d of Object.values(SQL_DIALECTS)) expect(d.tls({ ssl: false, caCertificate: CA })).toBeUndefined();
    expect(POSTGRESQL.tls({ ssl: true, caCertificate: CA })).toEqual({ ca: CA, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    // mysql2 checks the host name only when asked.
    expect(MYSQL.tls({ ssl: true })).toEqual({ rejectUnauthorized: true, minVersion: 'TLSv1.2', verifyIdentity: true });
    expect(MSSQL.tls({ ssl: true, caCertificate: CA })).toEqual({ encrypt: true, trustServerCertificate: false, cryptoCredentialsDetails: { ca: CA, rejectUnauthorized: true, minVersion: 'TLSv1.2' } });
  });

  it("recognises each driver's refused login, and only that", () => {
    expect(POSTGRESQL.authFailed({ code: '28P01' })).toBe(true);
    expect(POSTGRESQL.authFailed({ code: '42501' })).toBe(false);
    expect(MYSQL.authFailed({ errno: 1045 })).toBe(true);
    expect(MYSQL.authFailed({ errno: 1396 })).toBe(false);
    expect(MSSQL.authFailed({ number: 18456 })).toBe(true);
    expect(MSSQL.authFailed({ number: 15151 })).toBe(false);
  });

  it("takes a driver's own connection-lost codes only for that driver", () => {
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST' });
    expect(isConnectionLoss(lost, MYSQL)).toBe(true);
    const tedious = Object.assign(new Error('the request ended early'), { code: 'ECLOSE' });
    expect(isConnectionLoss(tedious, MSSQL)).toBe(true);
    expect(isConnectionLoss(tedious, MYSQL)).toBe(false);
  });

  it('keeps SQL Server passwords and names out of the statement text: both are parameters QUOTENAME quotes on the server', () => {
    for (const sql of [MSSQL.statements.alterLogin, MSSQL.statements.alterOwnLogin]) {
      expect(sql).toContain('QUOTENAME(@login)');
      expect(sql).toContain("QUOTENAME(@password, '''')");
    }
    expect(MSSQL.statements.alterOwnLogin).toContain("OLD_PASSWORD = ' + QUOTENAME(@old, '''')");
  });

  it('quotes a PostgreSQL role as an identifier and refuses a verifier that could end the literal', () => {
    const verifier = 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy';
    expect(POSTGRESQL.statements.alterRole('a"b', verifier)).toBe(`ALTER ROLE "a""b" PASSWORD '${verifier}'`);
    expect(() => POSTGRESQL.statements.alterSelf("x'; DROP ROLE y; --")).toThrow(/unexpected form/);
  });
});

describe("tedious's configuration for the mssql adapter", () => {
  const resource = (over: Record<string, unknown> = {}) => parseResource({ id: 'sql1', type: 'mssql', host: 'db.example.com', ...over }) as MssqlResource;
  const password = new Secret('Pass-word-1');

  it('encrypts and checks the certificate by default, names the port, never retries a refused login', () => {
    const c = connectionConfig(resource(), { username: 'sa' }, password, 5_000);
    expect(c.options).toMatchObject({ port: 1433, encrypt: true, trustServerCertificate: false, connectTimeout: 5_000, requestTimeout: 5_000, maxRetriesOnTransientErrors: 0 });
    expect(c.authentication).toEqual({ type: 'default', options: { userName: 'sa', password: 'Pass-word-1' } });
  });

  it('asks the Browser for a named instance instead of naming a port', () => {
    const c = connectionConfig(resource({ instanceName: 'PAYROLL' }), { username: 'sa' }, password, 5_000);
    expect(c.options?.instanceName).toBe('PAYROLL');
    expect(c.options?.port).toBeUndefined();
  });

  it("logs in over NTLM as the domain account for Windows authentication, in the account's domain", () => {
    const c = connectionConfig(resource({ authentication: { mode: 'windows', adminAccount: 'corp/sqladmin' } }), { username: 'sqladmin', domain: 'corp.example.com' }, password, 5_000);
    expect(c.authentication).toEqual({ type: 'ntlm', options: { userName: 'sqladmin', password: 'Pass-word-1', domain: 'corp.example.com' } });
  });

  it('with ssl off, asks for no encryption', () => {
    expect(connectionConfig(resource({ ssl: false }), { username: 'sa' }, password, 5_000).options).toMatchObject({ encrypt: false });
  });
});
