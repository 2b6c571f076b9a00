import { describe, expect, it } from 'vitest';
import { screenosAccountKind, type JuniperNetscreenResource } from '../../../../layers/resources/juniper-netscreen/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const ns = { id: 'fw1', type: 'juniper-netscreen', host: 'fw1.example.com', adminAccount: 'fw1/netscreen' };

describe('juniper-netscreen resources', () => {
  it('take a custom admin prompt and login prompts', () => {
    expect(parseResource({ ...ns, adminPrompt: 'ssg5-> ?$' })).toMatchObject({ adminPrompt: 'ssg5-> ?$', prompts: { username: 'login: ?$', password: 'password: ?$' } });
    expect(refusedField({ ...ns, adminPrompt: '(' })).toBe('adminPrompt');
  });

  it('refuse a login without the admin name, which ScreenOS always asks for', () => {
    expect(refusedField({ ...ns, usernameRequired: false })).toBe('usernameRequired');
    expect(refusedField({ ...ns, protocol: 'telnet', usernameRequired: false })).toBe('usernameRequired');
  });

  it('tell the root admin (set admin password) from admin users (set admin user NAME password)', () => {
    const r = parseResource({ ...ns, rootAdminAccount: 'fw1/netscreen' }) as JuniperNetscreenResource;
    expect(screenosAccountKind(r, 'fw1/netscreen')).toBe('root-admin');
    expect(screenosAccountKind(r, 'fw1/ops')).toBe('admin-user');
    expect(screenosAccountKind(parseResource(ns) as JuniperNetscreenResource, 'fw1/netscreen')).toBe('admin-user');
    expect(refusedField({ ...ns, rootAdminAccount: 'nope' })).toBe('rootAdminAccount');
  });

  it('need and name the admin account', () => {
    expect(refusedField({ ...ns, adminAccount: undefined })).toBe('adminAccount');
    expect(definitionOf('juniper-netscreen').references(parseResource(ns) as JuniperNetscreenResource)).toEqual([
      { role: 'admin', field: 'adminAccount', accountId: 'fw1/netscreen', fromResourceTypes: [] },
    ]);
  });

  it('keep passwords within 31 characters without quotes, "?" or spaces', () => {
    const policy = policyOf({ type: 'juniper-netscreen' });
    expect(policy).toMatchObject({ length: 24, maxLength: 31 });
    for (const c of ['?', ' ', '"']) expect(policy.forbidden).toContain(c);
  });

  it('check user names', () => {
    expect(takesUsername('juniper-netscreen', 'netscreen')).toBe(true);
    expect(takesUsername('juniper-netscreen', 'x'.repeat(32))).toBe(false);
  });
});
