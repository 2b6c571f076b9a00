import { describe, expect, it } from 'vitest';
import type { RackspaceResource } from '../../../../layers/resources/rackspace/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const rax = { id: 'rax', type: 'rackspace', adminAccount: 'rax/admin' };

describe('rackspace resources', () => {
  it('map the UK endpoint to its documented URL', () => {
    expect(parseResource({ ...rax, identityEndpoint: 'uk' })).toMatchObject({
      identityUrl: 'https://lon.identity.api.rackspacecloud.com/v2.0',
      host: 'lon.identity.api.rackspacecloud.com',
    });
  });

  it('refuse an unknown endpoint and a missing admin', () => {
    expect(refusedField({ ...rax, identityEndpoint: 'hk' })).toBe('identityEndpoint');
    expect(refusedField({ ...rax, adminAccount: undefined })).toBe('adminAccount');
  });

  it('name the admin account', () => {
    expect(definitionOf('rackspace').references(parseResource(rax) as RackspaceResource)).toEqual([
      { role: 'admin', field: 'adminAccount', accountId: 'rax/admin', fromResourceTypes: [] },
    ]);
  });

  it('generate ASCII passwords of at least 8 characters', () => {
    expect(policyOf({ type: 'rackspace' })).toMatchObject({ minLength: 8, allowUnicode: false });
  });

  it('check user names', () => {
    expect(takesUsername('rackspace', 'alice.ops')).toBe(true);
    expect(takesUsername('rackspace', '1alice')).toBe(false);
  });
});
