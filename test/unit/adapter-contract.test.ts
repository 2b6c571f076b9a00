import { describe, expect, it } from 'vitest';
import { assertPasswordAcceptable, resolvePolicy } from '../../layers/engine/policy.js';
import { Secret } from '../../layers/engine/secret.js';
import { RESOURCE_TYPE_DEFINITIONS } from '../../layers/resources/registry.js';
import { forbiddenPasswords, gauntlet } from '../contracts/adapter.js';

/**
 * The adapter contract's own passwords (test/contracts/adapter.ts) are what it says they are, for
 * every type's policy: each gauntlet password is one the type must take, each forbidden one is
 * refused by the policy check, so a passing or failing contract case means what its title says.
 */
describe('the adapter contract\'s passwords', () => {
  const policies = Object.values(RESOURCE_TYPE_DEFINITIONS).map((d) => [d.type, resolvePolicy(d.policy, undefined)] as const);

  it.each(policies)('%s: every gauntlet password is within the policy, and together they hold every printable character it allows', (_, policy) => {
    const passwords = gauntlet(policy).map((g) => g.password);
    for (const p of passwords) expect(() => assertPasswordAcceptable(policy, new Secret(p))).not.toThrow();
    const allowed = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => !policy.forbidden.includes(c));
    expect(allowed.filter((c) => !passwords.some((p) => p.includes(c)))).toEqual([]);
    expect(Math.max(...passwords.map((p) => [...p].length))).toBe(Math.min(policy.maxLength, policy.maxBytes ?? Infinity));
    expect(new Set(passwords).size).toBe(passwords.length);
  });

  it.each(policies)('%s: every forbidden password is refused by the policy, naming the field', (_, policy) => {
    for (const { label, password } of forbiddenPasswords(policy)) {
      expect(() => assertPasswordAcceptable(policy, new Secret(password), 'newPassword'), label).toThrow(/^newPassword: /);
    }
  });

  it('a policy shorter than the unique suffix still gets every character, in passwords it allows', () => {
    const policy = resolvePolicy({ length: 8, maxLength: 8, minLength: 6 }, undefined);
    const passwords = gauntlet(policy).map((g) => g.password);
    for (const p of passwords) expect(() => assertPasswordAcceptable(policy, new Secret(p))).not.toThrow();
    expect(passwords.join('')).toContain('~');
  });
});
