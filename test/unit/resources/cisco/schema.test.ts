import { describe, expect, it } from 'vitest';
import { CISCO_TYPES, type CiscoResource } from '../../../../layers/resources/cisco/schema.js';
import { assertPasswordAcceptable } from '../../../../layers/engine/policy.js';
import { Secret } from '../../../../layers/engine/secret.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { configurationError, refusedField, takesUsername } from '../helpers.js';

const ios = { id: 'rtr1', type: 'cisco-ios', host: 'rtr1.example.com', loginAccount: 'rtr1/admin' };

describe('cisco resources', () => {
  it.each(CISCO_TYPES)('%s: Telnet on port 23, custom prompts, no username prompt', (type) => {
    // The login without a user name: an IOS vty line password, the CatOS and PIX login password.
    const login = type === 'cisco-ios' ? { linePasswords: [{ line: 'vty 0 15', account: 'rtr1/admin' }] } : { loginPasswordAccount: 'rtr1/admin' };
    const r = parseResource({ ...ios, type, ...login, protocol: 'telnet', usernameRequired: false, prompts: { userMode: 'rtr1> ?$' } });
    expect(r).toMatchObject({ port: 23, usernameRequired: false, prompts: { userMode: 'rtr1> ?$', username: 'Username: ?$' } });
  });

  it('name the login, enable secret and enable password accounts', () => {
    const r = parseResource({ ...ios, enableSecretAccount: 'rtr1/enable-secret' }) as CiscoResource;
    expect(definitionOf('cisco-ios').references(r)).toEqual([
      { role: 'login', field: 'loginAccount', accountId: 'rtr1/admin', fromResourceTypes: [] },
      { role: 'enableSecret', field: 'enableSecretAccount', accountId: 'rtr1/enable-secret', fromResourceTypes: [] },
    ]);
    const pix = parseResource({ ...ios, type: 'cisco-pix', enablePasswordAccount: 'rtr1/enable' }) as CiscoResource;
    expect(definitionOf('cisco-pix').references(pix)).toContainEqual({ role: 'enablePassword', field: 'enablePasswordAccount', accountId: 'rtr1/enable', fromResourceTypes: [] });
  });

  it('need a login account', () => {
    expect(refusedField({ ...ios, loginAccount: undefined })).toBe('loginAccount');
  });

  it('refuse an enable secret where only an enable password exists', () => {
    expect(refusedField({ ...ios, type: 'cisco-pix', enableSecretAccount: 'rtr1/s' })).toBe('enableSecretAccount');
    expect(refusedField({ ...ios, type: 'cisco-catos', enableSecretAccount: 'rtr1/s' })).toBe('enableSecretAccount');
  });

  it('refuse saving and a configuration prompt on CatOS, which has neither', () => {
    expect(refusedField({ ...ios, type: 'cisco-catos', copyToStartup: true })).toBe('copyToStartup');
    expect(refusedField({ ...ios, type: 'cisco-catos', prompts: { configuration: '\\(config\\)#' } })).toBe('prompts.configuration');
  });

  it('refuse a prompt that is not one line, does not compile or matches nothing', () => {
    expect(refusedField({ ...ios, prompts: { enable: '#\nconfigure terminal' } })).toBe('prompts.enable');
    expect(refusedField({ ...ios, prompts: { enable: '[#' } })).toBe('prompts.enable');
    expect(refusedField({ ...ios, prompts: { configuration: '.*' } })).toBe('prompts.configuration');
  });

  it.each(CISCO_TYPES)('%s: passwords never hold "?" (IOS help) or whitespace, may hold "!" and "#" past the first character, and stay within the device maximum', (type) => {
    const policy = policyOf({ type });
    expect(policy.forbidden).toContain('?');
    expect(policy.forbidden).toContain(' ');
    expect(policy.allowUnicode).toBe(false);
    expect(policy.length).toBeLessThanOrEqual(policy.maxLength);
    expect(() => assertPasswordAcceptable(policy, new Secret('Abc?def1!'))).toThrow(/forbids at position 4/);
    expect(() => assertPasswordAcceptable(policy, new Secret('Abc def1!'))).toThrow(/forbids/);
    expect(policy.forbidden).not.toMatch(/[!#]/);
    expect(policy.forbiddenFirst).toContain('!');
    expect(policy.forbiddenFirst).toContain('#');
    expect(() => assertPasswordAcceptable(policy, new Secret('Ab!c#def1'))).not.toThrow();
    expect(() => assertPasswordAcceptable(policy, new Secret('!Abcdef1'))).toThrow(/forbiddenFirst/);
  });

  it('refuse a leading digit on IOS (line passwords: "The first character cannot be a number"), not on PIX or CatOS', () => {
    expect(policyOf({ type: 'cisco-ios' }).forbiddenFirst).toContain('0');
    expect(() => assertPasswordAcceptable(policyOf({ type: 'cisco-ios' }), new Secret('5Abcdef!'))).toThrow(/forbiddenFirst/);
    expect(() => assertPasswordAcceptable(policyOf({ type: 'cisco-pix' }), new Secret('5Abcdef!'))).not.toThrow();
  });

  it('keep the type\'s forbidden first characters when a resource policy names its own', () => {
    const r = parseResource({ ...ios, policy: { forbiddenFirst: '-' } });
    expect([...policyOf(r).forbiddenFirst].sort().join('')).toBe([...'!#-0123456789'].sort().join(''));
  });

  it('keep IOS passwords within 25 characters, PIX and CatOS within 16', () => {
    expect(policyOf({ type: 'cisco-ios' })).toMatchObject({ length: 25, maxLength: 25 });
    expect(policyOf({ type: 'cisco-pix' })).toMatchObject({ maxLength: 16 });
    expect(policyOf({ type: 'cisco-catos' })).toMatchObject({ maxLength: 16 });
  });

  it('keep "?" forbidden when a resource policy clears the list', () => {
    const r = parseResource({ ...ios, policy: { forbidden: '' } });
    expect(policyOf(r).forbidden).toContain('?');
  });

  it.each(['admin', 'netops', 'ops.team-1'])('take the user name %j', (name) => {
    expect(takesUsername('cisco-ios', name)).toBe(true);
  });

  it.each(['a b', 'admin?', 'a"b', 'x'.repeat(65)])('refuse the user name %j', (name) => {
    expect(takesUsername('cisco-ios', name)).toBe(false);
  });

  it('refuse a host that is a command', () => {
    expect(configurationError(() => parseResource({ ...ios, host: 'rtr1;reload' })).field).toBe('host');
  });
});
