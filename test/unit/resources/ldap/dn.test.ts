import { describe, expect, it } from 'vitest';
import { dnProblem, dnSchema, isDn } from '../../../../layers/resources/ldap/dn.js';

describe('distinguished names', () => {
  it.each([
    'cn=admin,dc=example,dc=com',
    'uid=jdoe,ou=People,dc=example,dc=com',
    'CN=Doe\\, John,OU=Staff,DC=corp,DC=example,DC=com',
    'cn=a\\+b\\;c\\<d\\>e\\"f\\\\g,o=x',
    'cn=\\#hash,o=x',
    'cn=\\ lead and trail\\ ,o=x',
    'cn=Lu\\C4\\8Di\\C4\\87,o=x',
    'cn=Lučić,o=x',
    'cn=a+sn=b,o=x',
    '2.5.4.3=admin,o=x',
    'cn=#04024869,o=x',
    'cn=x\\=y,o=x',
  ])('takes %j', (dn) => {
    expect(dnProblem(dn)).toBeUndefined();
    expect(dnSchema.safeParse(dn).success).toBe(true);
  });

  it.each([
    ['', /empty/],
    ['admin', /attribute=value/],
    ['cn=admin,', /ends with a separator/],
    ['cn=a,b', /attribute=value/],
    ['cn=a;b,o=x', /";" .* must be escaped/],
    ['cn=a<b', /"<" .* must be escaped/],
    ['cn=a"b', /must be escaped/],
    ['cn=a=b', /"=" .* must be escaped/],
    ['cn=admin, dc=example', /not an attribute type/],
    ['cn= admin', /space at the start/],
    ['cn=admin ,o=x', /space at the start or end/],
    ['cn=,o=x', /is empty/],
    ['cn=a\\', /unfinished/],
    ['cn=a\\q', /not a valid escape/],
    ['cn=a\u0000b', /control/],
    ['cn=a\nb', /control/],
    ['cn=a\\00b', /escapes a control character/],
    ['cn=a\\0Ab', /escapes a control character/],
    ['c n=admin', /not an attribute type/],
    ['1cn=x', /not an attribute type/],
    ['cn=#0', /hex pairs/],
    ['cn=x)(uid=*', /must be escaped|attribute/],
  ])('refuses %j', (dn, why) => {
    expect(dnProblem(dn)).toMatch(why);
    expect(isDn(dn)).toBe(false);
  });

  it('says what is wrong in the schema message', () => {
    const result = dnSchema.safeParse('cn=a;b');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/^must be a distinguished name \(RFC 4514\): ";"/);
  });
});
