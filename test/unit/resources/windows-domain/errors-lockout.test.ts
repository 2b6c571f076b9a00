import { ConstraintViolationError, InvalidCredentialsError, InsufficientAccessError, UnwillingToPerformError } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, OutcomeUnknownError, TargetUnchangedError, ThrottledError } from '../../../../layers/engine/errors.js';
import { bindFailure, classifyAdError, parseAdDiagnostic } from '../../../../layers/resources/windows-domain/errors.js';
import { assertProbeAffordable, type LockoutReading } from '../../../../layers/engine/lockout.js';
import { FailedLogons } from '../../../../layers/resources/windows-domain/lockout.js';
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
const ago = (ms: number) => new Date(now.getTime() - ms);

describe("the AD adapter's lockout reading, under the protocol's rule (assertProbeAffordable)", () => {
  const probe = (reading: LockoutReading) => () => assertProbeAffordable(reading, 'checking the password of jdoe');

  it('reports the policy threshold and badPwdCount; with badPwdCount 3 of 5 a probe is refused with a ThrottledError saying why', () => {
    const logons = new FailedLogons();
    expect(logons.reading('CN=a', policy, { badPwdCount: 2 }, now)).toMatchObject({ threshold: 5, failedLogons: 2, lockedOut: false });
    expect(probe(logons.reading('CN=a', policy, { badPwdCount: 2 }, now))).not.toThrow();
    const refused = probe(logons.reading('CN=a', policy, { badPwdCount: 3, badPasswordTime: ago(1000) }, now));
    expect(refused).toThrow(ThrottledError);
    expect(refused).toThrow(/not attempted, to protect the account from lockout: it has 3 failed logons of a threshold of 5.*unknown \(badPwdCount 3 on the domain controller; try again after the domain's observation window\)/);
  });

  it('counts its own failures where badPwdCount cannot be read (no admin), and forgets them after a good login', () => {
    const logons = new FailedLogons();
    for (let i = 0; i < 3; i++) {
      expect(probe(logons.reading('jdoe@corp', policy, {}, now))).not.toThrow();
      logons.failed('JDOE@corp');
    }
    expect(probe(logons.reading('jdoe@corp', policy, {}, now))).toThrow(/3 failed logons of a threshold of 5.*\(3 failed by this run, badPwdCount not readable without an admin;/);
    expect(probe(logons.reading('other@corp', policy, {}, now))).not.toThrow();
    logons.succeeded('jdoe@corp');
    expect(logons.reading('jdoe@corp', policy, {}, now).failedLogons).toBe(0);
  });

  it('takes the higher of its own count and badPwdCount', () => {
    const logons = new FailedLogons();
    for (let i = 0; i < 3; i++) logons.failed('CN=a');
    expect(logons.reading('CN=a', policy, { badPwdCount: 0 }, now).failedLogons).toBe(3);
    expect(probe(logons.reading('CN=a', policy, { badPwdCount: 0 }, now))).toThrow(ThrottledError);
    expect(logons.reading('CN=b', policy, { badPwdCount: 4 }, now).failedLogons).toBe(4);
  });

  it('forgets failed logons older than the observation window, as the DC does', () => {
    const logons = new FailedLogons();
    expect(probe(logons.reading('CN=a', policy, { badPwdCount: 4, badPasswordTime: ago(61_000) }, now))).not.toThrow();
    expect(probe(logons.reading('CN=a', policy, { badPwdCount: 4, badPasswordTime: ago(59_000) }, now))).toThrow(/4 failed logons/);
  });

  it('refuses any login to a locked account until its lockout duration has passed (for ever with a duration of 0: until an admin unlocks it)', () => {
    const logons = new FailedLogons();
    const locked = { lockoutTime: ago(30_000), badPwdCount: 0 };
    expect(probe(logons.reading('CN=a', policy, locked, now))).toThrow(/not attempted, the account is locked out/);
    expect(probe(logons.reading('CN=a', policy, locked, new Date(now.getTime() + 31_000)))).not.toThrow();
    expect(logons.reading('CN=a', { ...policy, lockoutDurationMs: 0 }, locked, new Date(now.getTime() + 3600_000)).lockedOut).toBe(true);
  });

  it('never limits a domain without a lockout threshold', () => {
    const logons = new FailedLogons();
    for (let i = 0; i < 100; i++) logons.failed('CN=a');
    expect(probe(logons.reading('CN=a', { ...policy, lockoutThreshold: 0 }, { badPwdCount: 100 }, now))).not.toThrow();
  });
});
