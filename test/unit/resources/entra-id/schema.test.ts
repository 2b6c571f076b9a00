import { describe, expect, it } from 'vitest';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const entra = {
  id: 'entra',
  type: 'entra-id',
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '11111111-2222-3333-4444-555555555555',
  clientSecretSecretId: 'rpr/entra/app-secret',
};

describe('entra-id resources', () => {
  it('take a tenant GUID or domain and refer to no account', () => {
    expect(parseResource(entra)).toMatchObject({ host: 'graph.microsoft.com' });
    expect(parseResource({ ...entra, tenantId: 'contoso.onmicrosoft.com' })).toMatchObject({ tenantId: 'contoso.onmicrosoft.com' });
    expect(definitionOf('entra-id').references(parseResource(entra))).toEqual([]);
  });

  it('refuse a malformed tenant or client id, and an inline secret', () => {
    expect(refusedField({ ...entra, tenantId: 'contoso/evil' })).toBe('tenantId');
    expect(refusedField({ ...entra, clientId: 'my-app' })).toBe('clientId');
    expect(refusedField({ ...entra, clientSecret: 'abc' })).toBe('clientSecret');
  });

  it('generate ASCII passwords of 8 to 256 characters', () => {
    expect(policyOf({ type: 'entra-id' })).toMatchObject({ minLength: 8, maxLength: 256, allowUnicode: false });
  });

  it('identify users by principal name or object id', () => {
    expect(takesUsername('entra-id', 'alice@contoso.onmicrosoft.com')).toBe(true);
    expect(takesUsername('entra-id', '00000000-0000-0000-0000-000000000001')).toBe(true);
    expect(takesUsername('entra-id', 'alice')).toBe(false);
    expect(takesUsername('entra-id', 'alice@contoso/../x')).toBe(false);
  });
});
