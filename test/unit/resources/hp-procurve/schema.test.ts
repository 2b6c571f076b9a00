import { describe, expect, it } from 'vitest';
import { procurveAccountKind, procurveLoginUsername, type HpProcurveResource } from '../../../../layers/resources/hp-procurve/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { configurationError, refusedField, takesUsername } from '../helpers.js';

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

  it('tell the manager from the operator, and refuse any other account', () => {
    const r = parseResource({ ...sw, operatorAccount: 'sw1/operator' }) as HpProcurveResource;
    expect(procurveAccountKind(r, 'sw1/manager')).toBe('manager');
    expect(procurveAccountKind(r, 'sw1/operator')).toBe('operator');
    expect(configurationError(() => procurveAccountKind(r, 'sw1/other')).field).toBe('accountId');
    expect(procurveLoginUsername(r, 'manager')).toBe('manager');
    const noName = parseResource({ ...sw, protocol: 'telnet', usernameRequired: false }) as HpProcurveResource;
    expect(procurveLoginUsername(noName, 'manager')).toBeUndefined();
  });

  it('refuse one account as both manager and operator, naming both fields', () => {
    const e = configurationError(() => parseResource({ ...sw, operatorAccount: 'sw1/manager' }));
    expect(e.field).toBe('operatorAccount');
    expect(e.message).toContain('managerAccount');
  });

  it('refuse SSH without a user name, which ProCurve does not document', () => {
    expect(refusedField({ ...sw, usernameRequired: false })).toBe('usernameRequired');
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
