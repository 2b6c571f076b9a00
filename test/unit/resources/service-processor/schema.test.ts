import { describe, expect, it } from 'vitest';
import { SERVICE_PROCESSOR_TYPES, serviceProcessorChangeBy, type ServiceProcessorResource } from '../../../../layers/resources/service-processor/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { configurationError, refusedField, takesUsername } from '../helpers.js';

describe('service processors', () => {
  it.each(['alom', 'ilom', 'xscf'])('%s: Telnet on port 23 when asked, and no account named by the configuration', (type) => {
    const r = parseResource({ id: 'sp1', type, host: 'sp1.example.com', protocol: 'telnet' });
    expect(r).toMatchObject({ protocol: 'telnet', port: 23 });
    expect(definitionOf(type).references(r)).toEqual([]);
  });

  it('as400: refuses Telnet, which is TN5250 there', () => {
    const e = configurationError(() => parseResource({ id: 'sp1', type: 'as400', host: 'sp1.example.com', protocol: 'telnet' }));
    expect(e.field).toBe('protocol');
    expect(e.message).toContain('TN5250');
    expect(parseResource({ id: 'sp1', type: 'as400', host: 'sp1.example.com' })).toMatchObject({ protocol: 'ssh', port: 22 });
  });

  it.each(SERVICE_PROCESSOR_TYPES)('%s: each account changes its own password, unless an adminAccount resets the others', (type) => {
    const alone = parseResource({ id: 'sp1', type, host: 'sp1.example.com' }) as ServiceProcessorResource;
    expect(serviceProcessorChangeBy(alone, 'sp1/ops')).toBe('self');
    const r = parseResource({ id: 'sp1', type, host: 'sp1.example.com', adminAccount: 'sp1/root' }) as ServiceProcessorResource;
    expect(definitionOf(type).references(r)).toEqual([{ role: 'admin', field: 'adminAccount', accountId: 'sp1/root', fromResourceTypes: [] }]);
    expect(serviceProcessorChangeBy(r, 'sp1/ops')).toBe('admin');
    expect(serviceProcessorChangeBy(r, 'sp1/root')).toBe('self');
    expect(refusedField({ id: 'sp1', type, host: 'sp1.example.com', adminAccount: 'root' })).toBe('adminAccount');
    expect(refusedField({ id: 'sp1', type, host: 'sp1.example.com', loginAccount: 'sp1/root' })).toBe('loginAccount');
  });

  it('keep each system\'s password limits', () => {
    expect(policyOf({ type: 'alom' })).toMatchObject({ length: 8, minLength: 6, maxLength: 8 });
    expect(policyOf({ type: 'ilom' })).toMatchObject({ length: 16, minLength: 8, maxLength: 16 });
    expect(policyOf({ type: 'ilom' }).forbidden).toContain(':');
    expect(policyOf({ type: 'as400' })).toMatchObject({ length: 24, maxLength: 128, allowUnicode: false });
    // The SQL string constant of the CALL, and QSYCHGPW's trailing-blank removal.
    expect(policyOf({ type: 'as400' }).forbidden).toBe("' ");
  });

  it('as400: its function opens SSH only', () => {
    expect(definitionOf('as400').defaultPorts).toEqual({ tcp: [22] });
    expect(definitionOf('ilom').defaultPorts).toEqual({ tcp: [22, 23] });
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
