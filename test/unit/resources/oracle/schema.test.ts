import { describe, expect, it } from 'vitest';
import type { OracleResource } from '../../../../layers/resources/oracle/schema.js';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const ora = { id: 'ora1', type: 'oracle', host: 'ora1.example.com' };

describe('oracle resources', () => {
  it('take a service name and encrypted mode', () => {
    expect(parseResource({ ...ora, serviceName: 'PDB1.example.com', encrypted: true })).toMatchObject({ serviceName: 'PDB1.example.com', encrypted: true });
    expect(refusedField({ ...ora, serviceName: 'PDB1)(HOST=evil' })).toBe('serviceName');
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
