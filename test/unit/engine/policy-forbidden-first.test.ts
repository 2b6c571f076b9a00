import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../layers/engine/errors.js';
import { assertPasswordAcceptable, assertPolicyPossible, DIGITS, generatePassword, policySchema, resolvePolicy, type Policy, type PolicyInput } from '../../../layers/engine/policy.js';
import { Secret } from '../../../layers/engine/secret.js';
import { RESOURCE_TYPES } from '../../../layers/resources/common.js';
import { policyOf } from '../../../layers/resources/registry.js';

const policy = (input: PolicyInput = {}): Policy => policySchema.parse(input);

function fieldOf(act: () => unknown): string {
  try {
    act();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    return (e as InvalidConfigurationError).field;
  }
  throw new Error('expected an InvalidConfigurationError');
}

describe('forbiddenFirst: characters a password may not start with', () => {
  it('is empty by default', () => {
    expect(policy().forbiddenFirst).toBe('');
  });

  it('refuses a password starting with one, naming the field but not the character, and takes it elsewhere', () => {
    const p = policy({ forbiddenFirst: '!#' });
    let message = '';
    try {
      assertPasswordAcceptable(p, new Secret('#Secret1x'), 'newPassword');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe('newPassword');
      message = (e as Error).message;
    }
    expect(message).toContain('forbiddenFirst');
    expect(message).not.toContain('#Secret1x');
    expect(() => assertPasswordAcceptable(p, new Secret('S#ecret1!'))).not.toThrow();
    expect(() => assertPasswordAcceptable(p, new Secret('!x'))).toThrow(/forbiddenFirst/);
  });

  it('is never generated first, and still generated elsewhere', () => {
    // Symbols only "!" and "#", both forbidden first; digits forbidden first too.
    const p = policy({ length: 6, symbols: '!#', minSymbols: 2, forbiddenFirst: `!#${DIGITS}` });
    let elsewhere = 0;
    for (let i = 0; i < 300; i++) {
      const v = generatePassword(p).reveal();
      expect(v).toHaveLength(6);
      expect('!#0123456789').not.toContain(v[0]);
      expect(v.replace(/[^!#]/g, '').length).toBeGreaterThanOrEqual(2);
      if (/[!#]/.test(v.slice(1))) elsewhere++;
    }
    expect(elsewhere).toBe(300);
  });

  it('generates when every required character is forbidden first but a free position remains', () => {
    const p = policy({ length: 3, minLower: 0, minUpper: 0, minDigits: 2, minSymbols: 0, forbiddenFirst: DIGITS });
    for (let i = 0; i < 200; i++) {
      const v = generatePassword(p).reveal();
      expect(v[0]).toMatch(/[^0-9]/);
      expect(v.replace(/[^0-9]/g, '').length).toBeGreaterThanOrEqual(2);
    }
  });

  it('generates when no position is free, from a required class that may start', () => {
    // Only two positions, both required: a lower-case letter and a digit; digits may not start.
    const p = policy({ length: 2, minLower: 1, minUpper: 0, minDigits: 1, minSymbols: 0, forbiddenFirst: DIGITS });
    for (let i = 0; i < 200; i++) expect(generatePassword(p).reveal()).toMatch(/^[a-z][0-9]$/);
  });

  it('refuses, when saved, a policy whose generator could not start a password', () => {
    expect(fieldOf(() => assertPolicyPossible(policy({ minLower: 0, minUpper: 0, minSymbols: 0, forbidden: '', symbols: '!', forbiddenFirst: `!${'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'}${DIGITS}` })))).toBe('policy.forbiddenFirst');
    expect(fieldOf(() => assertPolicyPossible(policy({ length: 1, minLower: 0, minUpper: 0, minDigits: 1, minSymbols: 0, forbiddenFirst: DIGITS })))).toBe('policy.forbiddenFirst');
    expect(fieldOf(() => assertPolicyPossible(policy({ forbiddenFirst: 'a\n' })))).toBe('policy.forbiddenFirst');
  });

  it('a resource adds characters to the type\'s, never removes them', () => {
    const type: PolicyInput = { forbiddenFirst: '!#' };
    expect(resolvePolicy(type, { forbiddenFirst: '' }).forbiddenFirst).toBe('!#');
    expect(resolvePolicy(type, { forbiddenFirst: '-' }).forbiddenFirst).toBe('!#-');
    expect(resolvePolicy(type, undefined).forbiddenFirst).toBe('!#');
  });

  it.each(RESOURCE_TYPES)('%s: every generated password passes the type\'s own first-character rule', (type) => {
    const p = policyOf({ type });
    for (let i = 0; i < 20; i++) expect(() => assertPasswordAcceptable(p, generatePassword(p))).not.toThrow();
  });
});
