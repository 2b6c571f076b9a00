import { describe, expect, it } from 'vitest';
import { definitionOf, parseAccount, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import type { WindowsDomainResource } from '../../../../layers/resources/windows-domain/schema.js';
import { configurationError, PEM, refusedField, takesUsername } from '../helpers.js';

const domain = { id: 'corp', type: 'windows-domain', host: 'dc1.corp.example.com', domain: 'corp.example.com' };

describe('windows-domain resources', () => {
  it('use StartTLS on port 389', () => {
    expect(parseResource({ ...domain, mode: 'starttls', caCertificate: PEM })).toMatchObject({ port: 389, mode: 'starttls' });
  });

  it('refuse a plain connection without the acknowledgement, saying why', () => {
    const error = configurationError(() => parseResource({ ...domain, mode: 'plain' }));
    expect(error.field).toBe('mode');
    expect(error.message).toMatch(/refuses password changes without TLS/);
  });

  it('take a plain connection on port 389 when acknowledged', () => {
    expect(parseResource({ ...domain, mode: 'plain', plainAcknowledged: true })).toMatchObject({ port: 389 });
  });

  it('refuse the acknowledgement without a plain connection, and a CA certificate with one', () => {
    expect(refusedField({ ...domain, plainAcknowledged: true })).toBe('plainAcknowledged');
    expect(refusedField({ ...domain, mode: 'plain', plainAcknowledged: true, caCertificate: PEM })).toBe('caCertificate');
  });

  it('check the domain name and base DN', () => {
    expect(refusedField({ ...domain, domain: 'corp example' })).toBe('domain');
    expect(parseResource({ ...domain, baseDn: 'OU=Staff,DC=corp,DC=example,DC=com' })).toMatchObject({ baseDn: 'OU=Staff,DC=corp,DC=example,DC=com' });
    expect(refusedField({ ...domain, baseDn: 'OU=Staff;DC=corp' })).toBe('baseDn');
  });

  it('take its admin from this or another domain resource', () => {
    const r = parseResource({ ...domain, adminAccount: 'root-domain/Administrator' }) as WindowsDomainResource;
    expect(definitionOf('windows-domain').references(r)).toEqual([
      { role: 'admin', field: 'adminAccount', accountId: 'root-domain/Administrator', fromResourceTypes: ['windows-domain'] },
    ]);
    expect(definitionOf('windows-domain').references(parseResource(domain) as WindowsDomainResource)).toEqual([]);
  });

  it('allow passwords up to the 256 characters of unicodePwd', () => {
    expect(policyOf({ type: 'windows-domain' })).toMatchObject({ maxLength: 256, allowUnicode: true });
  });

  it.each([
    'jdoe',
    'John Smith',
    'SQLSVC$',
    '#jdoe',
    'jdoe@corp.example.com',
    'john.doe@example.com',
    'CN=jdoe,DC=corp',
    'CN=Doe\\, John,OU=Staff,DC=corp,DC=example,DC=com',
    'CN=a\\+b\\"c\\\\d\\<e\\>f\\;g\\=h,CN=Users,DC=corp',
    'CN=\\#lead,CN=Users,DC=corp',
    'CN=x*()y,CN=Users,DC=corp',
  ])('take the account name %j', (name) => {
    expect(takesUsername('windows-domain', name)).toBe(true);
  });

  it.each([
    'x'.repeat(21),
    'a,b',
    'a=b',
    'CN=jdoe,OU=Staff',
    'CN=a,b,DC=corp',
    'CN=a;b,DC=corp',
    'CN=a\\00b,DC=corp',
    'CN=a\u0000b,DC=corp',
    'CN=#lead,DC=corp',
    '*',
    'a)(cn=*',
    'jdoe\u0000',
    'jdoe@',
    '@corp.example.com',
    'a;b@corp.example.com',
    'jdoe@corp..com',
  ])(
    'refuse the account name %j',
    (name) => {
      expect(takesUsername('windows-domain', name)).toBe(false);
    },
  );

  it('name all three forms when refusing an account name', () => {
    expect(() => parseAccount({ resourceId: 'r1', username: 'a,b', secretId: 'rpr/r1/x' }, 'windows-domain')).toThrow(/sAMAccountName.*user principal name.*distinguished name/);
  });
});
