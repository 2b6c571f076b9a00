import { describe, expect, it } from 'vitest';
import type { MssqlResource } from '../../../../layers/resources/mssql/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const sql = { id: 'sql1', type: 'mssql', host: 'sql1.example.com' };
const refs = (input: Record<string, unknown>) => definitionOf('mssql').references(parseResource(input) as MssqlResource);

describe('mssql resources', () => {
  it('leave the port to the SQL Server Browser for a named instance', () => {
    const r = parseResource({ ...sql, instanceName: 'SQLEXPRESS' }) as MssqlResource;
    expect(r.instanceName).toBe('SQLEXPRESS');
    expect(r.port).toBeUndefined();
  });

  it('keep an explicit port', () => {
    expect(parseResource({ ...sql, port: 14330 })).toMatchObject({ port: 14330 });
  });

  it('refuse both an instance name and a port', () => {
    expect(refusedField({ ...sql, instanceName: 'SQLEXPRESS', port: 1433 })).toBe('port');
  });

  it('refuse a malformed instance name', () => {
    expect(refusedField({ ...sql, instanceName: 'SQL;EXPRESS' })).toBe('instanceName');
  });

  it('name a SQL admin login of this resource', () => {
    expect(refs({ ...sql, authentication: { mode: 'sql', adminAccount: 'sql1/sa' } })).toEqual([
      { role: 'admin', field: 'authentication.adminAccount', accountId: 'sql1/sa', fromResourceTypes: [] },
    ]);
    expect(refs(sql)).toEqual([]);
  });

  it('name a domain account for Windows authentication, which needs one', () => {
    expect(refusedField({ ...sql, authentication: { mode: 'windows' } })).toBe('authentication.adminAccount');
    expect(refs({ ...sql, authentication: { mode: 'windows', adminAccount: 'corp/sqladmin' } })).toEqual([
      { role: 'admin', field: 'authentication.adminAccount', accountId: 'corp/sqladmin', fromResourceTypes: ['windows-domain'] },
    ]);
  });

  it('refuse an unknown authentication mode', () => {
    expect(refusedField({ ...sql, authentication: { mode: 'kerberos' } })).toBe('authentication.mode');
  });

  it('limit passwords to 128 characters', () => {
    expect(policyOf({ type: 'mssql' })).toMatchObject({ maxLength: 128 });
  });

  it('take SQL logins and refuse Windows logins', () => {
    expect(takesUsername('mssql', 'app_login')).toBe(true);
    expect(takesUsername('mssql', 'CORP\\jdoe')).toBe(false);
    expect(takesUsername('mssql', 'x'.repeat(129))).toBe(false);
  });
});
