import { BerWriter } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { accountFilter, accountName, bindName } from '../../../../layers/resources/windows-domain/directory.js';

/** The filter as it travels: BER, where each value is an octet string whatever it holds. */
function ber(filter: ReturnType<typeof accountFilter>): Buffer {
  const w = new BerWriter();
  filter.write(w);
  return w.buffer;
}

describe('account names and the filters they become', () => {
  it('tells a DN, a UPN and a sAMAccountName apart', () => {
    expect(accountName('CN=a\\=b@c,DC=corp,DC=example')).toEqual({ kind: 'dn', value: 'CN=a\\=b@c,DC=corp,DC=example' });
    expect(accountName('jdoe@corp.example.com')).toEqual({ kind: 'upn', value: 'jdoe@corp.example.com' });
    expect(accountName('jdoe')).toEqual({ kind: 'sam', value: 'jdoe' });
  });

  it('binds a bare sAMAccountName by its implicit UPN, others as given', () => {
    expect(bindName(accountName('jdoe'), 'corp.example.com')).toBe('jdoe@corp.example.com');
    expect(bindName(accountName('CN=J,DC=corp'), 'corp.example.com')).toBe('CN=J,DC=corp');
  });

  it('matches only user objects, by exact value', () => {
    expect(accountFilter(accountName('jdoe'), 'corp.example.com').toString()).toBe('(&(objectClass=user)(sAMAccountName=jdoe))');
    expect(accountFilter(accountName('jdoe@corp.example.com'), 'corp.example.com').toString()).toBe(
      '(&(objectClass=user)(|(userPrincipalName=jdoe@corp.example.com)(sAMAccountName=jdoe)))',
    );
    expect(accountFilter(accountName('jdoe@other.example.com'), 'corp.example.com').toString()).toBe('(&(objectClass=user)(userPrincipalName=jdoe@other.example.com))');
  });

  it('carries filter metacharacters and DN specials as plain values: the printed form is escaped, the wire form is one octet string', () => {
    const dn = 'CN=x*)(objectClass=*\\2C\\, \\#y,DC=corp';
    const filter = accountFilter(accountName(dn), 'corp');
    expect(filter.toString()).toBe('(&(objectClass=user)(distinguishedName=CN=x\\2a\\29\\28objectClass=\\2a\\5c2C\\5c, \\5c#y,DC=corp))');
    const wire = ber(filter);
    // The value appears once, verbatim, as an octet string (tag 0x04) with its own length.
    const value = Buffer.from(dn, 'utf8');
    const at = wire.indexOf(value);
    expect(at).toBeGreaterThan(0);
    expect(wire[at - 2]).toBe(0x04);
    expect(wire[at - 1]).toBe(value.length);
    // No third equality match was smuggled in: the AND holds exactly two.
    expect(filter.toString().match(/\(&/g)).toHaveLength(1);
  });
});
