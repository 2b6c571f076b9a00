import { BerReader, ConstraintViolationError, InsufficientAccessError, InvalidCredentialsError, InvalidDNSyntaxError, NoSuchObjectError, StrongAuthRequiredError, BusyError, UnwillingToPerformError } from 'ldapts';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  InvalidConfigurationError,
  OutcomeUnknownError,
  TargetTimeoutError,
  TargetUnchangedError,
  ThrottledError,
} from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { classifyLdapError, ldapResultCode, tryBind } from '../../../layers/resources/ldap/connection.js';
import { isDnUnder, parseDn, sameDn } from '../../../layers/resources/ldap/dn-compare.js';
import { PASSWORD_MODIFY_OID, passwordModifyValue } from '../../../layers/resources/ldap/password-modify.js';
import { fromFileTime, fromGeneralizedTime } from '../../../layers/resources/ldap/adapter.js';
import { ldapSchema } from '../../../layers/resources/ldap/schema.js';
import { hasStorageScheme, sshaUserPassword } from '../../../layers/resources/ldap/ssha.js';
import { unicodePwdValue } from '../../../layers/resources/ldap/unicode-pwd.js';

describe('Password Modify request value (RFC 3062)', () => {
  it('has the OID of RFC 3062 section 2', () => {
    expect(PASSWORD_MODIFY_OID).toBe('1.3.6.1.4.1.4203.1.11.1');
  });

  it('encodes SEQUENCE { [0] userIdentity, [1] oldPasswd, [2] newPasswd } byte for byte', () => {
    const value = passwordModifyValue({ userIdentity: 'uid=a', oldPassword: new Secret('o'), newPassword: new Secret('n') });
    expect(value.toString('hex')).toBe('300d' + '8005' + Buffer.from('uid=a').toString('hex') + '8101' + '6f' + '8201' + '6e');
  });

  it('omits absent fields (an empty SEQUENCE asks the server to generate a password for the bound user)', () => {
    expect(passwordModifyValue({}).toString('hex')).toBe('3000');
    expect(passwordModifyValue({ newPassword: new Secret('xy') }).toString('hex')).toBe('3004' + '82027879');
  });

  it('uses the long length form past 127 bytes, and carries UTF-8 and DN specials unchanged', () => {
    const dn = 'cn=Smith\\, J\\"ö\\"+uid=x,ou=people,dc=rpr,dc=test';
    const password = `${'ä'.repeat(100)}"\\\u{1F511}`;
    const value = passwordModifyValue({ userIdentity: dn, newPassword: new Secret(password) });
    expect(value[0]).toBe(0x30);
    expect(value[1]! & 0x80).toBe(0x80); // the long form: the length's own length follows
    const reader = new BerReader(value);
    reader.readSequence();
    expect(reader.readString(0x80, true)?.toString('utf8')).toBe(dn);
    expect(reader.readString(0x82, true)?.toString('utf8')).toBe(password);
  });
});

describe('userPassword hashing and the clear-text test', () => {
  it('{SSHA} is base64(SHA1(password + salt) + salt), as an independent implementation computes it', () => {
    // python3: base64.b64encode(hashlib.sha1('sécret "x"'.encode() + bytes(range(1,9))).digest() + bytes(range(1,9)))
    expect(sshaUserPassword(new Secret('sécret "x"'), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]))).toBe('{SSHA}IBdVKaqQxJvkwMkrrLmnCZAZ7i4BAgMEBQYHCA==');
  });

  it('salts each hash differently', () => {
    const s = new Secret('same');
    expect(sshaUserPassword(s)).not.toBe(sshaUserPassword(s));
  });

  it('tells stored hashes from clear text', () => {
    for (const hashed of ['{SSHA}abc', '{CRYPT}$6$x', '{PBKDF2-SHA512}1', '{ARGON2}$argon2id']) expect(hasStorageScheme(hashed)).toBe(true);
    for (const clear of ['secret', '{not closed', '', ' {SSHA}x', '{}x']) expect(hasStorageScheme(clear)).toBe(false);
    expect(hasStorageScheme(Buffer.from('{SSHA}x'))).toBe(true);
  });
});

describe('unicodePwd value ([MS-ADTS] 3.1.1.3.1.5.1)', () => {
  it('is the UTF-16LE encoding of the password in double quotes', () => {
    expect(unicodePwdValue(new Secret('ab')).toString('hex')).toBe('2200610062002200');
    expect(unicodePwdValue(new Secret('"é\u{1F511}')).toString('hex')).toBe('2200' + '2200' + 'e900' + '3dd811dd' + '2200');
  });
});

describe('DN comparison', () => {
  it('resolves escapes, hex pairs (as UTF-8) and multi-valued RDN order', () => {
    expect(parseDn('cn=Smith\\, J+uid=x,DC=Test')).toEqual([
      [
        { type: 'cn', value: 'Smith, J' },
        { type: 'uid', value: 'x' },
      ],
      [{ type: 'dc', value: 'Test' }],
    ]);
    expect(parseDn('cn=Z\\C3\\B6e,dc=t')[0]).toEqual([{ type: 'cn', value: 'Zöe' }]);
    expect(sameDn('uid=x+cn=a,dc=t', 'CN=A+UID=X,DC=T')).toBe(true);
    expect(sameDn('cn=Z\\C3\\B6e,dc=t', 'cn=Zöe,dc=t')).toBe(true);
  });

  it('is under a base RDN by RDN, not by text', () => {
    expect(isDnUnder('uid=a,ou=people,dc=rpr,dc=test', 'dc=rpr,dc=test')).toBe(true);
    expect(isDnUnder('uid=a,OU=People,DC=RPR,DC=test', 'ou=people,dc=rpr,dc=test')).toBe(true);
    expect(isDnUnder('dc=rpr,dc=test', 'dc=rpr,dc=test')).toBe(true);
    expect(isDnUnder('uid=a,xou=people,dc=rpr,dc=test', 'ou=people,dc=rpr,dc=test')).toBe(false);
    expect(isDnUnder('cn=x\\,ou\\=people\\,dc\\=rpr\\,dc\\=test,dc=clear,dc=test', 'ou=people,dc=rpr,dc=test')).toBe(false);
    expect(isDnUnder('cn=x,ou=people+cn=y,dc=rpr,dc=test', 'ou=people,dc=rpr,dc=test')).toBe(false);
    expect(isDnUnder('dc=test', 'dc=rpr,dc=test')).toBe(false);
  });

  it('refuses to parse a malformed DN', () => {
    expect(() => parseDn('cn=a,b')).toThrow(/distinguished name/);
    expect(() => parseDn('cn=a\\00')).toThrow();
  });
});

describe('LDAP error classification', () => {
  const op = { operation: 'changing the password', sent: true };

  it('maps server answers by result code; an answer means nothing changed even after the request was sent', () => {
    expect(classifyLdapError(new InvalidCredentialsError('bad'), op)).toBeInstanceOf(AuthenticationError);
    const policy = classifyLdapError(new ConstraintViolationError('Password fails quality checking policy'), op);
    expect(policy).toBeInstanceOf(TargetUnchangedError);
    expect(policy.message).toMatch(/password policy.*quality checking policy.*LDAP result 19/);
    expect(classifyLdapError(new StrongAuthRequiredError('confidentiality required'), op)).toMatchObject({ field: 'ssl' });
    expect(classifyLdapError(new InvalidDNSyntaxError('invalid DN'), op)).toMatchObject({ field: 'account.username' });
    expect(classifyLdapError(new NoSuchObjectError('no such object'), op)).toBeInstanceOf(TargetUnchangedError);
    expect(classifyLdapError(new InsufficientAccessError('no write access'), op)).toBeInstanceOf(TargetUnchangedError);
    expect(classifyLdapError(new BusyError('busy'), op)).toBeInstanceOf(ThrottledError);
    expect(classifyLdapError(new UnwillingToPerformError('no'), op)).toBeInstanceOf(TargetUnchangedError);
    expect(ldapResultCode(new TargetUnchangedError('x', { cause: new ConstraintViolationError('y') }))).toBe(19);
  });

  it('a lost connection or a missing answer after sending is OutcomeUnknownError; before sending it is retryable', () => {
    const closed = new Error('Connection closed before message response was received. Message type: ExtendedRequest (0x77)');
    const timedOut = new Error('ExtendedRequest: Operation timed out');
    expect(classifyLdapError(closed, op)).toBeInstanceOf(OutcomeUnknownError);
    expect(classifyLdapError(timedOut, op)).toBeInstanceOf(OutcomeUnknownError);
    expect(classifyLdapError(closed, { ...op, sent: false })).toBeInstanceOf(TargetUnchangedError);
    expect(classifyLdapError(timedOut, { ...op, sent: false })).toBeInstanceOf(TargetTimeoutError);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyLdapError(refused, { ...op, sent: false })).toBeInstanceOf(TargetUnchangedError);
  });

  it('an untrusted certificate names caCertificate; our own errors pass through', () => {
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(classifyLdapError(tls, { ...op, sent: false })).toMatchObject({ field: 'caCertificate' });
    const mine = new InvalidConfigurationError('x', 'y');
    expect(classifyLdapError(mine, op)).toBe(mine);
  });

  it('tryBind refuses an empty password without connecting (it would be an unauthenticated bind)', async () => {
    await expect(tryBind({ host: '192.0.2.1', port: 9, security: 'plain' }, 'cn=x', new Secret(''), { timeoutMs: 10 })).rejects.toBeInstanceOf(InvalidConfigurationError);
  });
});

describe('ldap schema: passwordChange', () => {
  const base = { id: 'd', type: 'ldap', host: 'ldap.example.com', serverType: 'openldap' };
  it('defaults to auto and can be forced', () => {
    expect(ldapSchema.parse(base).passwordChange).toBe('auto');
    expect(ldapSchema.parse({ ...base, passwordChange: 'replace' }).passwordChange).toBe('replace');
    expect(ldapSchema.safeParse({ ...base, passwordChange: 'ldappasswd' }).success).toBe(false);
  });
  it('refuses the extended operation for Entra ID, naming the field', () => {
    const r = ldapSchema.safeParse({ ...base, serverType: 'entra-id', ssl: true, passwordChange: 'extended-operation' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['passwordChange']);
  });
});

describe('password times', () => {
  it('reads LDAP GeneralizedTime with seconds, fractions and offsets', () => {
    expect(fromGeneralizedTime('20261128195812Z')?.toISOString()).toBe('2026-11-28T19:58:12.000Z');
    expect(fromGeneralizedTime('20261128195812.25Z')?.toISOString()).toBe('2026-11-28T19:58:12.250Z');
    expect(fromGeneralizedTime('20261128205812+0100')?.toISOString()).toBe('2026-11-28T19:58:12.000Z');
    expect(fromGeneralizedTime('202611281958Z')?.toISOString()).toBe('2026-11-28T19:58:00.000Z');
    expect(fromGeneralizedTime('yesterday')).toBeUndefined();
    expect(fromGeneralizedTime('20261128195812')).toBeUndefined();
  });
  it('reads Active Directory FILETIME; 0 means no time', () => {
    expect(fromFileTime('134116992000000000')?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(fromFileTime('0')).toBeUndefined();
    expect(fromFileTime('-1')).toBeUndefined();
  });
});
