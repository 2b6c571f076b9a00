import { describe, expect, it } from 'vitest';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { lanesOf, refusedField, takesUsername } from '../helpers.js';

const gws = { id: 'gws', type: 'google-workspace', adminEmail: 'admin@example.com', serviceAccountKeySecretId: 'rpr/google/sa-key' };

describe('google-workspace resources', () => {
  it('refer to no account: the admin is impersonated with the service-account key', () => {
    expect(definitionOf('google-workspace').references(parseResource(gws))).toEqual([]);
  });

  it('need an admin e-mail address and the key secret', () => {
    expect(refusedField({ ...gws, adminEmail: 'admin' })).toBe('adminEmail');
    expect(refusedField({ ...gws, serviceAccountKeySecretId: undefined })).toBe('serviceAccountKeySecretId');
    expect(refusedField({ ...gws, serviceAccountKey: '{"type":"service_account"}' })).toBe('serviceAccountKey');
  });

  it("default to Google's endpoint and to no change required at the next sign-in", () => {
    expect(parseResource(gws)).toMatchObject({ host: 'admin.googleapis.com', port: 443, changePasswordAtNextLogin: false });
    expect(parseResource({ ...gws, changePasswordAtNextLogin: true })).toMatchObject({ changePasswordAtNextLogin: true });
    expect(refusedField({ ...gws, changePasswordAtNextLogin: 'yes' })).toBe('changePasswordAtNextLogin');
  });

  it('generate ASCII passwords of 8 to 100 characters', () => {
    expect(policyOf({ type: 'google-workspace' })).toMatchObject({ allowUnicode: false, maxLength: 100, minLength: 8, length: 32 });
  });

  it('identify users by e-mail address', () => {
    expect(takesUsername('google-workspace', 'alice.smith@example.com')).toBe(true);
    expect(takesUsername('google-workspace', 'alice')).toBe(false);
    expect(takesUsername('google-workspace', 'a b@example.com')).toBe(false);
  });

  it("share one Workspace's Directory API limits: resources whose admins are of one domain run at most four groups at once; another domain is another target", () => {
    const { sharedTarget } = definitionOf('google-workspace');
    expect(sharedTarget!.groupsAtOnce).toBe(4);
    const same = ['a', 'b', 'c', 'd', 'e'].map((x, i) => ({ ...gws, id: `w${x}`, adminEmail: i % 2 ? `admin${i}@EXAMPLE.com` : 'admin@example.com' }));
    const lanes = lanesOf([...same, { ...gws, id: 'other', adminEmail: 'admin@example.org' }, { ...gws, id: 'sim', host: '127.0.0.1', port: 8443 }]);
    expect(lanes.filter((l) => l[0]!.startsWith('w'))).toEqual([['wa', 'we'], ['wb'], ['wc'], ['wd']]);
    expect(lanes.filter((l) => !l[0]!.startsWith('w'))).toEqual([['other'], ['sim']]);
  });
});
