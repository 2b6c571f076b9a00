import { ConstraintViolationError, InvalidCredentialsError, InsufficientAccessError, UnwillingToPerformError } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, OutcomeUnknownError, TargetUnchangedError, ThrottledError } from '../../../../layers/engine/errors.js';
import { bindFailure, classifyAdError, parseAdDiagnostic } from '../../../../layers/resources/windows-domain/errors.js';
import { effectiveBadPwdCount, isLockedOut, LockoutBudget, lockoutReserve, probesLeft } from '../../../../layers/resources/windows-domain/lockout.js';
import type { DomainPolicy } from '../../../../layers/resources/windows-domain/policy.js';

// Messages as Windows Server and Samba's AD DC send them.
const WINDOWS_BAD_PASSWORD = '80090308: LdapErr: DSID-0C09042F, comment: AcceptSecurityContext error, data 52e, v4563';
const WINDOWS_LOCKED = '80090308: LdapErr: DSID-0C09042F, comment: AcceptSecurityContext error, data 775, v4563';
const SAMBA_POLICY = '0000052D: Constraint violation - check_password_restrictions: the password was already used (in history)!';
const WINDOWS_OLD_WRONG = '00000056: AtrErr: DSID-03190F80, #1:\n\t0: 00000056: DSID-03190F80, problem 1005 (CONSTRAINT_ATT_TYPE), data 0, Att 9005a (unicodePwd)';

const op = { operation: 'changing the password of jdoe', sent: true };

describe('Active Directory error codes', () => {
  it('reads the Win32 code and the data field of a diagnostic message', () => {
    expect(parseAdDiagnostic(WINDOWS_BAD_PASSWORD)).toEqual({ win32: 0x80090308, data: 0x52e });
    expect(parseAdDiagnostic(SAMBA_POLICY)).toEqual({ win32: 0x52d });
    expect(parseAdDiagnostic('no codes here')).toEqual({});
  });

  it('0000052D is the domain password policy: nothing changed, and the message says so', () => {
    const e = classifyAdError(new ConstraintViolationError(SAMBA_POLICY), op);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toMatch(/password policy \(0000052D: too short, not complex enough, one of the last passwords in its history/);
    expect(e.message).toContain('already used (in history)');
  });

  it("Windows Server's form of a policy refusal (unwillingToPerform, 0000052D ... WILL_NOT_PERFORM) is read the same way", () => {
    const e = classifyAdError(new UnwillingToPerformError('0000052D: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0'), op);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toMatch(/password policy \(0000052D/);
  });

  it('00000056 is a wrong old password: an AuthenticationError', () => {
    const e = classifyAdError(new ConstraintViolationError(WINDOWS_OLD_WRONG), op);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.message).toMatch(/old password is wrong \(00000056\)/);
  });

  it('52e is bad credentials; 775 is a lockout, which is throttling, never "wrong password"', () => {
    expect(classifyAdError(new InvalidCredentialsError(WINDOWS_BAD_PASSWORD), { operation: 'logging in', sent: false })).toBeInstanceOf(AuthenticationError);
    expect(classifyAdError(new InvalidCredentialsError(WINDOWS_BAD_PASSWORD), { operation: 'logging in', sent: false }).message).toMatch(/bad credentials \(data 52e\)/);
    expect(classifyAdError(new InvalidCredentialsError(WINDOWS_LOCKED), { operation: 'logging in', sent: false })).toBeInstanceOf(ThrottledError);
  });

  it('missing rights name the "Reset password" right; a lost answer after sending is outcome-unknown', () => {
    expect(classifyAdError(new InsufficientAccessError('00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0'), op).message).toMatch(/Reset password/);
    expect(classifyAdError(new Error('Connection closed before message response was received'), op)).toBeInstanceOf(OutcomeUnknownError);
    expect(classifyAdError(new UnwillingToPerformError('00002077: unicodePwd may only be set over an encrypted connection'), op)).toMatchObject({ field: 'mode' });
  });

  it.each([
    [WINDOWS_BAD_PASSWORD, 'wrong-password'],
    ['data 525', 'wrong-password'],
    ['data 532', 'right-but-must-change'],
    ['data 773', 'right-but-must-change'],
    ['data 775', 'untestable'],
    ['data 533', 'untestable'],
    ['data 701', 'untestable'],
    ['something else', 'wrong-password'],
  ])('a refused bind %j means %s', (message, kind) => {
    expect(bindFailure(`80090308: LdapErr: comment: AcceptSecurityContext error, ${message}`).kind).toBe(kind);
  });
});

const policy: DomainPolicy = { minPwdLength: 7, complex: true, historyLength: 24, minPwdAgeMs: 0, lockoutThreshold: 5, lockoutDurationMs: 60_000, lockoutObservationWindowMs: 60_000 };
const now = new Date('2026-11-28T12:00:00Z');

describe('the lockout budget', () => {
  it('keeps a reserve: 2 (or a fifth of a large threshold), 1 for thresholds of 1 and 2', () => {
    expect([1, 2, 3, 5, 10, 11, 50].map(lockoutReserve)).toEqual([1, 1, 2, 2, 2, 3, 10]);
    // With the test domain's threshold of 5: failing logins stop at 3, two before the lockout.
    expect([0, 1, 2, 3, 4].map((n) => probesLeft(5, n))).toEqual([3, 2, 1, 0, 0]);
    expect(probesLeft(1, 0)).toBe(0);
    expect(probesLeft(2, 0)).toBe(1);
    expect(probesLeft(0, 1000)).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses a probe when badPwdCount leaves too little, with a ThrottledError saying why', () => {
    const budget = new LockoutBudget();
    expect(() => budget.check('CN=a', 'checking', policy, { badPwdCount: 2 }, now)).not.toThrow();
    const refuse = () => budget.check('CN=a', 'checking the password of jdoe', policy, { badPwdCount: 3, badPasswordTime: new Date(now.getTime() - 1000) }, now);
    expect(refuse).toThrow(ThrottledError);
    expect(refuse).toThrow(/badPwdCount 3 of the domain's threshold of 5.*unknown/);
  });

  it('counts its own failures where badPwdCount cannot be read, and forgets them after a good login', () => {
    const budget = new LockoutBudget();
    for (let i = 0; i < 3; i++) {
      budget.check('jdoe@corp', 'probe', policy, {}, now);
      budget.failed('JDOE@corp');
    }
    expect(() => budget.check('jdoe@corp', 'probe', policy, {}, now)).toThrow(/3 failed by this run/);
    expect(() => budget.check('other@corp', 'probe', policy, {}, now)).not.toThrow();
    budget.succeeded('jdoe@corp');
    expect(() => budget.check('jdoe@corp', 'probe', policy, {}, now)).not.toThrow();
  });

  it('takes the higher of its own count and badPwdCount', () => {
    const budget = new LockoutBudget();
    budget.failed('CN=a');
    budget.failed('CN=a');
    budget.failed('CN=a');
    expect(() => budget.check('CN=a', 'probe', policy, { badPwdCount: 0 }, now)).toThrow(ThrottledError);
  });

  it('forgets failed logons older than the observation window, as the DC does', () => {
    expect(effectiveBadPwdCount({ badPwdCount: 4, badPasswordTime: new Date(now.getTime() - 61_000) }, policy, now)).toBe(0);
    expect(effectiveBadPwdCount({ badPwdCount: 4, badPasswordTime: new Date(now.getTime() - 59_000) }, policy, now)).toBe(4);
    expect(effectiveBadPwdCount({}, policy, now)).toBeUndefined();
  });

  it('refuses any login to a locked account until its lockout duration has passed', () => {
    const lockedAt = new Date(now.getTime() - 30_000);
    expect(isLockedOut({ lockoutTime: lockedAt }, policy, now)).toBe(true);
    expect(isLockedOut({ lockoutTime: lockedAt }, policy, new Date(now.getTime() + 31_000))).toBe(false);
    expect(isLockedOut({ lockoutTime: lockedAt }, { ...policy, lockoutDurationMs: 0 }, new Date(now.getTime() + 3600_000))).toBe(true);
    expect(() => new LockoutBudget().check('CN=a', 'probe', policy, { lockoutTime: lockedAt, badPwdCount: 0 }, now)).toThrow(/locked out/);
  });

  it('never limits a domain without a lockout threshold', () => {
    const budget = new LockoutBudget();
    for (let i = 0; i < 100; i++) budget.failed('CN=a');
    expect(() => budget.check('CN=a', 'probe', { ...policy, lockoutThreshold: 0 }, { badPwdCount: 100 }, now)).not.toThrow();
  });
});
