import { describe, expect, it } from 'vitest';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import type { WeblogicResource } from '../../../../layers/resources/weblogic/schema.js';
import { refusedField, takesUsername } from '../helpers.js';

const wls = { id: 'wls', type: 'weblogic', host: 'wls.example.com', adminAccount: 'wls/weblogic' };

describe('weblogic resources', () => {
  it('use TLS on 7002, the default SSL listen port, unless ssl is set off (7001)', () => {
    expect(parseResource(wls)).toMatchObject({ ssl: true, port: 7002 });
    expect(parseResource({ ...wls, port: 9002 })).toMatchObject({ port: 9002 });
    expect(parseResource({ ...wls, ssl: false })).toMatchObject({ port: 7001 });
  });

  it('need an admin account, and name it', () => {
    expect(refusedField({ ...wls, adminAccount: undefined })).toBe('adminAccount');
    expect(definitionOf('weblogic').references(parseResource(wls) as WeblogicResource)).toEqual([
      { role: 'admin', field: 'adminAccount', accountId: 'wls/weblogic', fromResourceTypes: [] },
    ]);
  });

  it('refuse a realm name that could change the REST path', () => {
    expect(refusedField({ ...wls, realm: '../domain' })).toBe('realm');
  });

  it('need passwords of at least 8 characters', () => {
    expect(policyOf({ type: 'weblogic' })).toMatchObject({ minLength: 8, length: 32 });
  });

  it.each(['weblogic', 'ops user', 'a.b@example.com'])('take the user name %j', (name) => {
    expect(takesUsername('weblogic', name)).toBe(true);
  });

  it.each(['a,b', 'a<b', '(x)', ' lead', 'a\tb', 'a#b', 'a:b'])('refuse the user name %j', (name) => {
    expect(takesUsername('weblogic', name)).toBe(false);
  });
});
