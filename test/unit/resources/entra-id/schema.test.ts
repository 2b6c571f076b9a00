import { describe, expect, it } from 'vitest';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { lanesOf, refusedField, takesUsername } from '../helpers.js';

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

describe('entra-id credentials and endpoints', () => {
  it('name exactly one credential of the application, each a standalone secret', () => {
    expect(definitionOf('entra-id').secrets!(parseResource(entra))).toEqual([{ name: 'clientSecret', field: 'clientSecretSecretId', secretId: 'rpr/entra/app-secret' }]);
    const cert = parseResource({ ...entra, clientSecretSecretId: undefined, clientCertificateSecretId: 'rpr/entra/app-cert' });
    expect(definitionOf('entra-id').secrets!(cert)).toEqual([{ name: 'clientCertificate', field: 'clientCertificateSecretId', secretId: 'rpr/entra/app-cert' }]);
    expect(refusedField({ ...entra, clientCertificateSecretId: 'rpr/entra/app-cert' })).toBe('clientSecretSecretId');
    expect(refusedField({ ...entra, clientSecretSecretId: undefined })).toBe('clientSecretSecretId');
  });

  it('default to the public cloud and take a national cloud’s authority, Graph host and scope', () => {
    expect(parseResource(entra)).toMatchObject({ authority: 'https://login.microsoftonline.com', host: 'graph.microsoft.com', port: 443, scope: 'https://graph.microsoft.com/.default', forceChangePasswordNextSignIn: false });
    expect(parseResource({ ...entra, authority: 'https://login.microsoftonline.us', host: 'graph.microsoft.us', scope: 'https://graph.microsoft.us/.default' })).toMatchObject({ host: 'graph.microsoft.us' });
    expect(refusedField({ ...entra, authority: 'http://login.microsoftonline.com' })).toBe('authority');
    expect(refusedField({ ...entra, authority: 'https://user:pw@login.microsoftonline.com' })).toBe('authority');
    expect(refusedField({ ...entra, authority: 'https://login.microsoftonline.com/common' })).toBe('authority');
    expect(refusedField({ ...entra, scope: 'User.ReadWrite.All' })).toBe('scope');
  });

  it("share one tenant's Graph limits: its resources, whatever the application, run at most four groups at once; another tenant or cloud is another target", () => {
    const { sharedTarget } = definitionOf('entra-id');
    expect(sharedTarget!.groupsAtOnce).toBe(4);
    const same = ['a', 'b', 'c', 'd', 'e', 'f'].map((x, i) => ({ ...entra, id: `t${x}`, tenantId: i % 2 ? entra.tenantId.toUpperCase() : entra.tenantId, clientId: `${i}1111111-2222-3333-4444-555555555555` }));
    const otherTenant = { ...entra, id: 'other', tenantId: 'contoso.onmicrosoft.com' };
    const otherCloud = { ...entra, id: 'gov', authority: 'https://login.microsoftonline.us', host: 'graph.microsoft.us', scope: 'https://graph.microsoft.us/.default' };
    const lanes = lanesOf([...same, otherTenant, otherCloud]);
    expect(lanes.filter((l) => l[0]!.startsWith('t'))).toEqual([['ta', 'te'], ['tb', 'tf'], ['tc'], ['td']]);
    expect(lanes.filter((l) => !l[0]!.startsWith('t'))).toEqual([['other'], ['gov']]);
  });
});
