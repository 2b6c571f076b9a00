import { describe, expect, it } from 'vitest';
import type { HpProcurveResource } from '../../../../layers/resources/hp-procurve/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const sw = { id: 'sw1', type: 'hp-procurve', host: 'sw1.example.com', managerAccount: 'sw1/manager' };

describe('hp-procurve resources', () => {
  it('take Telnet, custom prompts, no account name and no save', () => {
    expect(
      parseResource({ ...sw, protocol: 'telnet', usernameRequired: false, copyToStartup: false, prompts: { manager: 'ProCurve Switch 2824# ?$' } }),
    ).toMatchObject({ port: 23, usernameRequired: false, copyToStartup: false, prompts: { manager: 'ProCurve Switch 2824# ?$', configuration: '\\(config\\)# ?$' } });
  });

  it('need and name the manager account', () => {
    expect(refusedField({ ...sw, managerAccount: undefined })).toBe('managerAccount');
    expect(definitionOf('hp-procurve').references(parseResource(sw) as HpProcurveResource)).toEqual([
      { role: 'manager', field: 'managerAccount', accountId: 'sw1/manager', fromResourceTypes: [] },
    ]);
  });

  it('refuse a configuration prompt that does not compile', () => {
    expect(refusedField({ ...sw, prompts: { configuration: '(config#' } })).toBe('prompts.configuration');
  });

  it('keep passwords within 16 characters without "?" or spaces', () => {
    expect(policyOf({ type: 'hp-procurve' })).toMatchObject({ length: 16, maxLength: 16, forbidden: '? ' });
  });

  it('check user names', () => {
    expect(takesUsername('hp-procurve', 'manager')).toBe(true);
    expect(takesUsername('hp-procurve', 'a b')).toBe(false);
  });
});
