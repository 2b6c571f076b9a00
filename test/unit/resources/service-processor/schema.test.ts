import { describe, expect, it } from 'vitest';
import { SERVICE_PROCESSOR_TYPES } from '../../../../layers/resources/service-processor/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

describe('service processors', () => {
  it.each(SERVICE_PROCESSOR_TYPES)('%s: Telnet on port 23 when asked, and no account named by the configuration', (type) => {
    const r = parseResource({ id: 'sp1', type, host: 'sp1.example.com', protocol: 'telnet' });
    expect(r).toMatchObject({ protocol: 'telnet', port: 23 });
    expect(definitionOf(type).references(r)).toEqual([]);
  });

  it.each(SERVICE_PROCESSOR_TYPES)('%s: takes no extra configuration', (type) => {
    expect(refusedField({ id: 'sp1', type, host: 'sp1.example.com', adminAccount: 'sp1/root' })).toBe('adminAccount');
  });

  it('keep each system\'s password limits', () => {
    expect(policyOf({ type: 'alom' })).toMatchObject({ length: 8, minLength: 6, maxLength: 8 });
    expect(policyOf({ type: 'ilom' })).toMatchObject({ length: 16, minLength: 8, maxLength: 16 });
    expect(policyOf({ type: 'ilom' }).forbidden).toContain(':');
    expect(policyOf({ type: 'as400' })).toMatchObject({ length: 24, maxLength: 128, allowUnicode: false });
  });

  it('let an IBM i at QPWDLVL 0/1 tighten the policy to its 10 upper-case characters', () => {
    const r = parseResource({
      id: 'i1',
      type: 'as400',
      host: 'i1.example.com',
      policy: { length: 10, maxLength: 10, minLower: 0, symbols: '$#@_', forbidden: 'abcdefghijklmnopqrstuvwxyz' },
    });
    expect(policyOf(r)).toMatchObject({ length: 10, maxLength: 10, symbols: '$#@_' });
  });

  it.each([
    ['as400', 'QSECOFR'],
    ['as400', '#OPS$1'],
    ['alom', 'admin'],
    ['ilom', 'root'],
    ['ilom', 'ops_team-1'],
    ['xscf', 'eis-installer'],
  ])('%s takes the user name %j', (type, name) => {
    expect(takesUsername(type, name)).toBe(true);
  });

  it.each([
    ['as400', 'QSECOFRTOOLONG'],
    ['as400', '1ABC'],
    ['ilom', 'abc'],
    ['ilom', 'a.b.c.d'],
    ['alom', 'a b'],
    ['xscf', '-x'],
  ])('%s refuses the user name %j', (type, name) => {
    expect(takesUsername(type, name)).toBe(false);
  });
});
