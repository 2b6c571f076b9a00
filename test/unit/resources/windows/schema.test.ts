import { describe, expect, it } from 'vitest';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import type { WindowsResource } from '../../../../layers/resources/windows/schema.js';
import { PEM, refusedField, takesUsername } from '../helpers.js';

const host = { id: 'ws1', type: 'windows', host: 'ws1.corp.example.com', adminAccount: 'ws1/Administrator' };

describe('windows resources', () => {
  it('use WinRM over HTTPS on port 5986 when asked', () => {
    expect(parseResource({ ...host, transport: 'winrm-https', caCertificate: PEM })).toMatchObject({ port: 5986, transport: 'winrm-https' });
  });

  it('keep an explicit port', () => {
    expect(parseResource({ ...host, transport: 'winrm-https', port: 15986 })).toMatchObject({ port: 15986 });
  });

  it('refuse plain-HTTP WinRM', () => {
    expect(refusedField({ ...host, transport: 'winrm' })).toBe('transport');
  });

  it('refuse options of the other transport', () => {
    expect(refusedField({ ...host, caCertificate: PEM })).toBe('caCertificate');
    expect(refusedField({ ...host, transport: 'winrm-https', hostKeySha256: 'A'.repeat(43) })).toBe('hostKeySha256');
  });

  it('need an admin account, which may be a domain account', () => {
    expect(refusedField({ ...host, adminAccount: undefined })).toBe('adminAccount');
    const r = parseResource({ ...host, adminAccount: 'corp/Domain Admin' }) as WindowsResource;
    expect(definitionOf('windows').references(r)).toEqual([
      { role: 'admin', field: 'adminAccount', accountId: 'corp/Domain Admin', fromResourceTypes: ['windows-domain'] },
    ]);
  });

  it('limit passwords to the 127 characters the logon dialog takes', () => {
    expect(policyOf({ type: 'windows' })).toMatchObject({ length: 24, maxLength: 127 });
  });

  it.each(['Administrator', 'svc-backup', 'John Smith', 'WS01$', 'x'.repeat(20)])('take the account name %j', (name) => {
    expect(takesUsername('windows', name)).toBe(true);
  });

  it.each(['x'.repeat(21), ' lead', 'trail ', '...', 'a@b', 'a\\b', 'a;b', 'a"b', 'a*b', '$(id)', 'a$b', '$'])('refuse the account name %j', (name) => {
    expect(takesUsername('windows', name)).toBe(false);
  });
});
