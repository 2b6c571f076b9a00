import { describe, expect, it } from 'vitest';
import { TargetUnchangedError } from '../../../../layers/engine/errors.js';
import { Secret } from '../../../../layers/engine/secret.js';
import {
  assertDomainPolicy,
  cautiousPolicy,
  complexityCategory,
  dateToFileTime,
  displayNameTokens,
  domainPolicyProblem,
  fileTimeToDate,
  intervalToMs,
  parseDomainPolicy,
  parsePsoPolicy,
  type DomainPolicy,
} from '../../../../layers/resources/windows-domain/policy.js';

const policy: DomainPolicy = {
  minPwdLength: 7,
  complex: true,
  historyLength: 24,
  minPwdAgeMs: 24 * 3600_000,
  lockoutThreshold: 5,
  lockoutDurationMs: 60_000,
  lockoutObservationWindowMs: 60_000,
};
const jdoe = { sAMAccountName: 'jdoe', displayName: 'Erin M. Hagens' };
const now = new Date('2026-11-28T12:00:00Z');
const reset = { selfChange: false, now };
const problem = (pw: string, p = policy, account = jdoe, change = reset) => domainPolicyProblem(new Secret(pw), p, account, change);

describe('the domain password policy, read from the domain head', () => {
  it('parses Samba/AD attribute values: durations are negative 100 ns intervals, pwdProperties bit 1 is complexity', () => {
    expect(
      parseDomainPolicy({
        minPwdLength: ['7'],
        pwdProperties: '1',
        pwdHistoryLength: '24',
        minPwdAge: '-864000000000',
        lockoutThreshold: '5',
        lockoutDuration: '-600000000',
        lockOutObservationWindow: '-600000000',
      }),
    ).toEqual(policy);
    expect(parseDomainPolicy({ pwdProperties: '0', minPwdAge: '0', lockoutDuration: '-9223372036854775808' })).toMatchObject({
      complex: false,
      minPwdAgeMs: 0,
      lockoutDurationMs: Number.POSITIVE_INFINITY,
    });
  });

  it('parses a Password Settings Object, and caps an unknown one cautiously at a lockout threshold of 3', () => {
    const pso = parsePsoPolicy({
      'msDS-MinimumPasswordLength': '40',
      'msDS-PasswordComplexityEnabled': 'FALSE',
      'msDS-PasswordHistoryLength': '5',
      'msDS-MinimumPasswordAge': '0',
      'msDS-LockoutThreshold': '3',
      'msDS-LockoutDuration': '-600000000',
      'msDS-LockoutObservationWindow': '-300000000',
    });
    expect(pso).toEqual({ minPwdLength: 40, complex: false, historyLength: 5, minPwdAgeMs: 0, lockoutThreshold: 3, lockoutDurationMs: 60_000, lockoutObservationWindowMs: 30_000 });
    expect(cautiousPolicy(policy).lockoutThreshold).toBe(3);
    expect(cautiousPolicy({ ...policy, lockoutThreshold: 0 }).lockoutThreshold).toBe(3);
    expect(cautiousPolicy({ ...policy, lockoutThreshold: 2 }).lockoutThreshold).toBe(2);
  });

  it('converts FILETIMEs both ways; 0 and "never" are no date', () => {
    expect(fileTimeToDate(dateToFileTime(now))).toEqual(now);
    expect(fileTimeToDate('133000000000000000')!.toISOString()).toBe('2022-06-18T04:26:40.000Z');
    expect(fileTimeToDate('0')).toBeUndefined();
    expect(fileTimeToDate('9223372036854775807')).toBeUndefined();
    expect(intervalToMs('-36000000000')).toBe(3600_000);
  });
});

describe('the complexity rule (Microsoft, "Strong Password Enforcement and Passfilt.dll")', () => {
  it('counts five categories; a space, a currency sign or an emoji counts for none', () => {
    expect(['A', 'É', 'Ж', 'a', 'ß', 'ж', '7', '#', ' ', '€', '🔑', '密'].map(complexityCategory)).toEqual([
      'upper',
      'upper',
      'upper',
      'lower',
      'lower',
      'lower',
      'digit',
      'symbol',
      undefined,
      undefined,
      undefined,
      'other-letter',
    ]);
  });

  it('splits the displayName at , . - _ space # tab and ignores tokens under three characters', () => {
    expect(displayNameTokens('Erin M. Hagens')).toEqual(['Erin', 'Hagens']);
    expect(displayNameTokens('O\'Neil,Jo_Ann-Lee#Xu\tSmith')).toEqual(["O'Neil", 'Ann', 'Lee', 'Smith']);
    expect(displayNameTokens(undefined)).toEqual([]);
  });

  it('takes a password with three categories and none of the names', () => {
    expect(problem('Correct7horse')).toBeUndefined();
    expect(problem('密码密码Ab1')).toBeUndefined();
  });

  it.each([
    ['too short', 'Ab1!', /minimum password length is 7.*policy\.length/],
    ['two categories', 'alllowercase1', /3 of 5 categories.*has 2/],
    ['spaces and currency signs do not count', 'lower case € ok', /has 1/],
    ['the sAMAccountName, in any case', 'xx-JDoe-Secret1', /sAMAccountName/],
    ['a displayName token', 'Secret1-hagENS', /displayName/],
  ])('refuses %s, saying which rule and how to tighten the policy', (_what, pw, message) => {
    expect(problem(pw)).toMatch(message);
  });

  it('ignores names under three characters and the M of "Erin M. Hagens"', () => {
    expect(problem('Mm1-Mm1-Mm1', policy, { sAMAccountName: 'mm', displayName: 'Erin M. Hagens' })).toBeUndefined();
  });

  it('checks length only when complexity is off', () => {
    expect(problem('aaaaaaa', { ...policy, complex: false })).toBeUndefined();
    expect(problem('jdoe-jdoe', { ...policy, complex: false })).toBeUndefined();
  });
});

describe('the minimum password age', () => {
  const changedAnHourAgo = { ...jdoe, pwdLastSet: new Date(now.getTime() - 3600_000) };

  it('binds a user changing its own password, and says until when', () => {
    expect(problem('Correct7horse', policy, changedAnHourAgo, { selfChange: true, now })).toMatch(/minimum password age.*2026-11-29T11:00:00.000Z.*adminAccount/);
  });

  it('does not bind an admin reset, nor a password that must be changed (pwdLastSet 0), nor a domain with age 0', () => {
    expect(problem('Correct7horse', policy, changedAnHourAgo, reset)).toBeUndefined();
    expect(problem('Correct7horse', policy, jdoe, { selfChange: true, now })).toBeUndefined();
    expect(problem('Correct7horse', { ...policy, minPwdAgeMs: 0 }, changedAnHourAgo, { selfChange: true, now })).toBeUndefined();
  });
});

describe('assertDomainPolicy', () => {
  it('refuses with a TargetUnchangedError that never holds the password', () => {
    const pw = 'jdoe-is-my-name-1';
    let error: unknown;
    try {
      assertDomainPolicy(new Secret(pw), policy, jdoe, reset);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as Error).message).toMatch(/not sent; nothing was changed/);
    expect((error as Error).message).not.toContain(pw);
  });
});
