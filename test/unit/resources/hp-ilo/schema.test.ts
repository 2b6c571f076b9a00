import { describe, expect, it } from 'vitest';
import { iloChangeBy, type HpIloResource } from '../../../../layers/resources/hp-ilo/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';
import { assertPasswordAcceptable } from '../../../../layers/engine/policy.js';
import { Secret } from '../../../../layers/engine/secret.js';

const ilo = { id: 'ilo1', type: 'hp-ilo', host: 'ilo1.example.com', adminAccount: 'ilo1/Administrator' };

describe('hp-ilo resources', () => {
  it('take a custom prompt and Telnet', () => {
    expect(parseResource({ ...ilo, protocol: 'telnet', prompt: 'hpiLO-> ?$' })).toMatchObject({ port: 23, prompt: 'hpiLO-> ?$' });
    expect(refusedField({ ...ilo, prompt: '' })).toBe('prompt');
  });

  it('name the admin account when one resets the others; without one each account changes its own', () => {
    const withAdmin = parseResource(ilo) as HpIloResource;
    expect(definitionOf('hp-ilo').references(withAdmin)).toEqual([
      { role: 'admin', field: 'adminAccount', accountId: 'ilo1/Administrator', fromResourceTypes: [] },
    ]);
    expect(iloChangeBy(withAdmin, 'ilo1/ops')).toBe('admin');
    expect(iloChangeBy(withAdmin, 'ilo1/Administrator')).toBe('self');
    const alone = parseResource({ ...ilo, adminAccount: undefined }) as HpIloResource;
    expect(definitionOf('hp-ilo').references(alone)).toEqual([]);
    expect(iloChangeBy(alone, 'ilo1/ops')).toBe('self');
    expect(refusedField({ ...ilo, adminAccount: 'not-an-account-id' })).toBe('adminAccount');
  });

  it('refuse a password the CLP cannot carry in password=…', () => {
    const policy = policyOf({ type: 'hp-ilo' });
    // The CLP has no escape for a double quote inside a value: the one character it cannot carry.
    expect(() => assertPasswordAcceptable(policy, new Secret('Abc"def1!'))).toThrow(/position 4/);
    // A value holding spaces is double-quoted; "=", "'" and "\\" are plain characters inside a value.
    for (const ok of ['!Abc#def1', 'Abc=def1!', 'two words here', "it's\\fine1"]) expect(() => assertPasswordAcceptable(policy, new Secret(ok))).not.toThrow();
  });

  it('keep passwords within the 8 to 39 characters iLO takes, without a double quote', () => {
    const policy = policyOf({ type: 'hp-ilo' });
    expect(policy).toMatchObject({ length: 24, minLength: 8, maxLength: 39, forbidden: '"' });
  });

  it('check login names', () => {
    expect(takesUsername('hp-ilo', 'Administrator')).toBe(true);
    expect(takesUsername('hp-ilo', 'x'.repeat(40))).toBe(false);
    expect(takesUsername('hp-ilo', 'a/b')).toBe(false);
  });
});
