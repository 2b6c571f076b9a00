import { describe, expect, it } from 'vitest';
import type { OracleResource } from '../../../../layers/resources/oracle/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const ora = { id: 'ora1', type: 'oracle', host: 'ora1.example.com' };

describe('oracle resources', () => {
  it('take a service name, or a SID instead, and never both', () => {
    expect(parseResource({ ...ora, serviceName: 'PDB1.example.com' })).toMatchObject({ serviceName: 'PDB1.example.com', port: 1521 });
    expect(parseResource({ ...ora, sid: 'PROD1' })).toMatchObject({ sid: 'PROD1' });
    expect(parseResource({ ...ora, sid: 'PROD1' })).not.toHaveProperty('serviceName');
    expect(refusedField({ ...ora, sid: 'PROD1', serviceName: 'PDB1' })).toBe('sid');
    expect(refusedField({ ...ora, serviceName: 'PDB1)(HOST=evil' })).toBe('serviceName');
    expect(refusedField({ ...ora, sid: 'P(1' })).toBe('sid');
  });

  it('take TCPS on 2484 unless a port is given', () => {
    expect(parseResource({ ...ora, ssl: true })).toMatchObject({ ssl: true, port: 2484 });
    expect(parseResource({ ...ora, ssl: true, port: 1522 })).toMatchObject({ port: 1522 });
  });

  it('refuse native network encryption, which Thin mode cannot negotiate, pointing at TCPS', () => {
    expect(refusedField({ ...ora, encrypted: true })).toBe('encrypted');
    expect(() => parseResource({ ...ora, encrypted: true })).toThrow(/Thick mode .* Use TLS instead: set ssl \(TCPS\)/);
  });

  it('name the admin account when there is one', () => {
    expect(definitionOf('oracle').references(parseResource({ ...ora, adminAccount: 'ora1/SYSTEM' }) as OracleResource)).toEqual([
      { role: 'admin', field: 'adminAccount', accountId: 'ora1/SYSTEM', fromResourceTypes: [] },
    ]);
  });

  it('limit passwords to 30 bytes and refuse the double quote that ends a quoted identifier', () => {
    expect(policyOf({ type: 'oracle' })).toMatchObject({ length: 30, maxLength: 30, maxBytes: 30, forbidden: '"' });
  });

  it.each(['SYSTEM', 'app_user', 'C##ADMIN', 'a$b#c'])('take the user name %j', (name) => {
    expect(takesUsername('oracle', name)).toBe(true);
  });

  it.each(['1abc', 'a b', 'a"b', '"SYS"', 'a-b', 'SYS/x'])('refuse the user name %j', (name) => {
    expect(takesUsername('oracle', name)).toBe(false);
  });
});
