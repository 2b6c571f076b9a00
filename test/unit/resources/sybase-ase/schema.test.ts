import { describe, expect, it } from 'vitest';
import { parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const ase = { id: 'ase1', type: 'sybase-ase', host: 'ase1.example.com' };

describe('sybase-ase resources', () => {
  it('use TLS on port 2748 unless told otherwise, since the login carries the password; 5000 without ssl', () => {
    expect(parseResource(ase)).toMatchObject({ port: 2748, ssl: true });
    expect(parseResource({ ...ase, ssl: false })).toMatchObject({ port: 5000, ssl: false });
  });

  it('keep an explicit port with ssl', () => {
    expect(parseResource({ ...ase, ssl: true, port: 5001 })).toMatchObject({ port: 5001 });
  });

  it('refuse a port out of range', () => {
    expect(refusedField({ ...ase, port: 70000 })).toBe('port');
  });

  it('keep passwords between 6 and 30 bytes', () => {
    expect(policyOf({ type: 'sybase-ase' })).toMatchObject({ length: 30, minLength: 6, maxLength: 30, maxBytes: 30 });
  });

  it('take identifiers as login names and nothing else', () => {
    expect(takesUsername('sybase-ase', 'sa')).toBe(true);
    expect(takesUsername('sybase-ase', 'app_login#2')).toBe(true);
    expect(takesUsername('sybase-ase', 'a b')).toBe(false);
    expect(takesUsername('sybase-ase', "a'b")).toBe(false);
    expect(takesUsername('sybase-ase', 'x'.repeat(31))).toBe(false);
  });
});
