import { describe, expect, it } from 'vitest';
import type { LdapResource } from '../../../../layers/resources/ldap/schema.js';
import { definitionOf, parseResource } from '../../../../layers/resources/registry.js';
import { configurationError, PEM, refusedField, takesUsername } from '../helpers.js';

const ldap = { id: 'dir', type: 'ldap', host: 'ldap.example.com', serverType: 'openldap' };

describe('ldap resources', () => {
  it('use port 636 with ssl', () => {
    expect(parseResource({ ...ldap, ssl: true, caCertificate: PEM })).toMatchObject({ port: 636 });
  });

  it('use port 389 with StartTLS', () => {
    expect(parseResource({ ...ldap, starttls: true })).toMatchObject({ port: 389, starttls: true });
  });

  it('refuse both ssl and StartTLS', () => {
    expect(refusedField({ ...ldap, ssl: true, starttls: true })).toBe('starttls');
  });

  it('refuse Entra ID without ssl, saying it is LDAPS only', () => {
    const error = configurationError(() => parseResource({ ...ldap, serverType: 'entra-id' }));
    expect(error.field).toBe('ssl');
    expect(error.message).toMatch(/LDAPS\) only/);
    expect(refusedField({ ...ldap, serverType: 'entra-id', starttls: true })).toBe('ssl');
    expect(parseResource({ ...ldap, serverType: 'entra-id', ssl: true })).toMatchObject({ port: 636 });
  });

  it('refuse an unknown server type and a CA certificate without TLS', () => {
    expect(refusedField({ ...ldap, serverType: 'active-directory' })).toBe('serverType');
    expect(refusedField({ ...ldap, caCertificate: PEM })).toBe('caCertificate');
  });

  it('check the base DN', () => {
    expect(refusedField({ ...ldap, baseDn: 'dc=example;dc=com' })).toBe('baseDn');
  });

  it('name its admin bind account', () => {
    expect(definitionOf('ldap').references(parseResource({ ...ldap, adminAccount: 'dir/cn=admin,dc=example,dc=com' }) as LdapResource)).toEqual([
      { role: 'admin', field: 'adminAccount', accountId: 'dir/cn=admin,dc=example,dc=com', fromResourceTypes: [] },
    ]);
  });

  it('identify accounts by DN', () => {
    expect(takesUsername('ldap', 'uid=jdoe,ou=People,dc=example,dc=com')).toBe(true);
    expect(takesUsername('ldap', 'jdoe')).toBe(false);
    expect(takesUsername('ldap', 'uid=jdoe)(uid=*),dc=example')).toBe(false);
    expect(takesUsername('ldap', 'uid=a;b,dc=example')).toBe(false);
  });
});
