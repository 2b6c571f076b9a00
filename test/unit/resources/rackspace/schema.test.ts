import { describe, expect, it } from 'vitest';
import type { RackspaceResource } from '../../../../layers/resources/rackspace/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const rax = { id: 'rax', type: 'rackspace', adminUsername: 'admin', adminSecretId: 'rpr/rax/admin' };

describe('rackspace resources', () => {
  it('map the UK endpoint to its documented URL', () => {
    expect(parseResource({ ...rax, identityEndpoint: 'uk' })).toMatchObject({
      identityUrl: 'https://lon.identity.api.rackspacecloud.com/v2.0',
      host: 'lon.identity.api.rackspacecloud.com',
    });
  });

  it('take a host and port instead of the endpoint (a proxy, or a simulator)', () => {
    expect(parseResource({ ...rax, host: '127.0.0.1', port: 8443 })).toMatchObject({ identityUrl: 'https://127.0.0.1:8443/v2.0', host: '127.0.0.1' });
    expect(parseResource({ ...rax, host: 'identity.example.net', port: 443 })).toMatchObject({ identityUrl: 'https://identity.example.net/v2.0' });
  });

  it('refuse an unknown endpoint, a missing admin or secret, and an unknown kind of admin credential', () => {
    expect(refusedField({ ...rax, identityEndpoint: 'hk' })).toBe('identityEndpoint');
    expect(refusedField({ ...rax, adminUsername: undefined })).toBe('adminUsername');
    expect(refusedField({ ...rax, adminUsername: '1admin' })).toBe('adminUsername');
    expect(refusedField({ ...rax, adminSecretId: undefined })).toBe('adminSecretId');
    expect(refusedField({ ...rax, adminCredential: 'token' })).toBe('adminCredential');
  });

  it("name the admin's secret, an API key unless told it is a password", () => {
    const r = parseResource(rax) as RackspaceResource;
    expect(r.adminCredential).toBe('apiKey');
    expect(definitionOf('rackspace').references(r)).toEqual([]);
    expect(definitionOf('rackspace').secrets?.(r)).toEqual([{ name: 'admin', field: 'adminSecretId', secretId: 'rpr/rax/admin' }]);
    expect((parseResource({ ...rax, adminCredential: 'password' }) as RackspaceResource).adminCredential).toBe('password');
  });

  it("generate passwords by Rackspace's documented rules: 8 or more, upper, lower, a digit, only the listed symbols, no leading space", () => {
    expect(policyOf({ type: 'rackspace' })).toMatchObject({ minLength: 8, minUpper: 1, minLower: 1, minDigits: 1, allowUnicode: false, forbiddenFirst: ' ' });
    expect(policyOf({ type: 'rackspace' }).symbols).not.toMatch(/[$^+=`]/);
  });

  it('share one rate-limit budget per endpoint and admin: two groups at once', () => {
    const key = definitionOf('rackspace').sharedTarget!;
    expect(key.groupsAtOnce).toBe(2);
    const a = key.key(parseResource(rax) as RackspaceResource);
    expect(key.key(parseResource({ ...rax, id: 'other', adminUsername: 'ADMIN' }) as RackspaceResource)).toBe(a);
    expect(key.key(parseResource({ ...rax, identityEndpoint: 'uk' }) as RackspaceResource)).not.toBe(a);
    expect(key.key(parseResource({ ...rax, adminUsername: 'second' }) as RackspaceResource)).not.toBe(a);
  });

  it('check user names', () => {
    expect(takesUsername('rackspace', 'alice.ops')).toBe(true);
    expect(takesUsername('rackspace', '1alice')).toBe(false);
  });
});
