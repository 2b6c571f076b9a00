import { describe, expect, it } from 'vitest';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const sf = { id: 'sf', type: 'salesforce', clientId: '3MVG9.abc_DEF', clientSecretSecretId: 'rpr/sf/app', instance: 'https://acme.my.salesforce.com' };

describe('salesforce resources', () => {
  it('map the test domain and take a My Domain URL', () => {
    expect(parseResource({ ...sf, instance: 'test' })).toMatchObject({ instanceUrl: 'https://test.salesforce.com', host: 'test.salesforce.com' });
    expect(parseResource({ ...sf, instance: 'https://acme.my.salesforce.com/' })).toMatchObject({
      instanceUrl: 'https://acme.my.salesforce.com',
      host: 'acme.my.salesforce.com',
    });
  });

  it('have no default instance: the login host is not where the client-credentials flow takes its token request, so the org\'s My Domain is asked for by name', () => {
    expect(refusedField({ ...sf, instance: undefined })).toBe('instance');
  });

  it('refuse an instance that is not HTTPS or carries more than a host', () => {
    for (const instance of ['http://acme.my.salesforce.com', 'https://acme.my.salesforce.com/services?x=1', 'https://user:pw@acme.my.salesforce.com', 'prod']) {
      expect(refusedField({ ...sf, instance }), instance).toBe('instance');
    }
  });

  it('refer to no account and take the client secret by secret id only', () => {
    expect(definitionOf('salesforce').references(parseResource(sf))).toEqual([]);
    expect(refusedField({ ...sf, clientSecret: 'abc' })).toBe('clientSecret');
  });

  it('generate passwords of at least 8 characters', () => {
    expect(policyOf({ type: 'salesforce' })).toMatchObject({ minLength: 8, length: 32 });
  });

  it('identify users by their e-mail-form user name or their User Id, and nothing that could leave a SOQL literal', () => {
    expect(takesUsername('salesforce', 'alice@acme.com.sandbox')).toBe(true);
    expect(takesUsername('salesforce', '005D0000001KyEIIA0')).toBe(true);
    expect(takesUsername('salesforce', '005D0000001KyEI')).toBe(true);
    for (const name of ['alice', '001D0000001KyEIIA0', "x' OR Username != '@a.test", 'a\\b@acme.test', 'a@acme.test\n']) expect(takesUsername('salesforce', name), name).toBe(false);
  });

  it('share one org\'s API limits: resources naming one My Domain are one target, a few groups at once', () => {
    const { sharedTarget } = definitionOf('salesforce');
    const key = (instance: string) => sharedTarget!.key(parseResource({ ...sf, instance }) as never);
    expect(key('https://Acme.my.salesforce.com')).toBe(key('https://acme.my.salesforce.com/'));
    expect(key('https://acme.my.salesforce.com')).not.toBe(key('https://other.my.salesforce.com'));
    expect(sharedTarget!.groupsAtOnce).toBe(4);
  });

  it('take a port on a My Domain URL, and an API version', () => {
    expect(parseResource({ ...sf, instance: 'https://127.0.0.1:8443' })).toMatchObject({ instanceUrl: 'https://127.0.0.1:8443', apiVersion: '62.0' });
    expect(parseResource({ ...sf, apiVersion: '60.0' })).toMatchObject({ apiVersion: '60.0' });
    expect(refusedField({ ...sf, apiVersion: 'v60' })).toBe('apiVersion');
  });
});
