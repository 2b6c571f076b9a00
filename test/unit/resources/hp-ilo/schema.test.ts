import { describe, expect, it } from 'vitest';
import type { HpIloResource } from '../../../../layers/resources/hp-ilo/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const ilo = { id: 'ilo1', type: 'hp-ilo', host: 'ilo1.example.com', adminAccount: 'ilo1/Administrator' };

describe('hp-ilo resources', () => {
  it('take a custom prompt and Telnet', () => {
    expect(parseResource({ ...ilo, protocol: 'telnet', prompt: 'hpiLO-> ?$' })).toMatchObject({ port: 23, prompt: 'hpiLO-> ?$' });
    expect(refusedField({ ...ilo, prompt: '' })).toBe('prompt');
  });

  it('need and name the admin account', () => {
    expect(refusedField({ ...ilo, adminAccount: undefined })).toBe('adminAccount');
    expect(definitionOf('hp-ilo').references(parseResource(ilo) as HpIloResource)).toEqual([
      { role: 'admin', field: 'adminAccount', accountId: 'ilo1/Administrator', fromResourceTypes: [] },
    ]);
  });

  it('keep passwords within the 39 characters iLO takes, without CLP syntax characters', () => {
    const policy = policyOf({ type: 'hp-ilo' });
    expect(policy).toMatchObject({ length: 24, maxLength: 39 });
    for (const c of [' ', '"', "'", '\\', '=']) expect(policy.forbidden).toContain(c);
  });

  it('check login names', () => {
    expect(takesUsername('hp-ilo', 'Administrator')).toBe(true);
    expect(takesUsername('hp-ilo', 'x'.repeat(40))).toBe(false);
    expect(takesUsername('hp-ilo', 'a/b')).toBe(false);
  });
});
