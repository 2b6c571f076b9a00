import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError, ThrottledError } from '../../engine/errors.js';
import { classifyLdapError, LDAP_RESULT, ldapResultCode } from '../ldap/connection.js';

/**
 * Active Directory's answers, read from the diagnostic message of an LDAP result
 * ("0000052D: Constraint violation - ...", "80090308: LdapErr: DSID-0C09042F, comment:
 * AcceptSecurityContext error, data 52e, v4563"). The leading hex is a Win32 error code; a bind's
 * "data" field is the reason a logon failed ([MS-ADTS] 3.1.1.3.1.5 and the Win32 error codes of
 * [MS-ERREF] 2.2). Samba's AD DC answers with the same codes.
 */
export interface AdDiagnostic {
  /** The leading Win32 error code, e.g. 0x52d. */
  readonly win32?: number;
  /** The "data" field of a failed bind or update, e.g. 0x52e. */
  readonly data?: number;
}

export function parseAdDiagnostic(message: string): AdDiagnostic {
  const lead = /^\s*([0-9A-Fa-f]{8}):/.exec(message);
  const data = /\bdata ([0-9A-Fa-f]{1,8})\b/.exec(message);
  return {
    ...(lead ? { win32: parseInt(lead[1]!, 16) } : {}),
    ...(data ? { data: parseInt(data[1]!, 16) } : {}),
  };
}

/** Win32 error codes AD puts first in a refused password update. */
export const AD_WIN32 = {
  /** ERROR_PASSWORD_RESTRICTION: length, complexity, history or minimum age. */
  passwordRestriction: 0x52d,
  /** ERROR_INVALID_PASSWORD: the old password of a user's own change is wrong. */
  invalidPassword: 0x56,
  /** ERROR_DS_INSUFF_ACCESS_RIGHTS. */
  insufficientAccessRights: 0x2098,
  /** ERROR_ACCESS_DENIED. */
  accessDenied: 0x5,
} as const;

/** The reasons a simple bind fails, from the "data" field of its invalidCredentials result. */
export const AD_LOGON = {
  noSuchUser: 0x525,
  badPassword: 0x52e,
  notPermittedAtThisTime: 0x530,
  notPermittedAtThisWorkstation: 0x531,
  passwordExpired: 0x532,
  accountDisabled: 0x533,
  accountExpired: 0x701,
  mustChangePassword: 0x773,
  accountLockedOut: 0x775,
} as const;

export type BindFailure =
  /** The password is wrong (or the account does not exist): a failed logon that counts toward lockout. */
  | { readonly kind: 'wrong-password'; readonly meaning: string }
  /** The password is right, but the domain wants it changed (expired, or "must change at next logon"). */
  | { readonly kind: 'right-but-must-change'; readonly meaning: string }
  /** The password could not be tested: the account is locked, disabled, expired or restricted. */
  | { readonly kind: 'untestable'; readonly meaning: string; readonly locked: boolean };

function hex(n: number): string {
  return n.toString(16);
}

/**
 * What a refused simple bind means. Only invalidCredentials (49) results are passed here.
 * Active Directory answers 532 and 773 only after the password matched; 775 (locked) says nothing
 * about the password; 52e and 525 are failed logons. Unknown codes are treated as failed logons,
 * the cautious reading for the lockout budget.
 */
export function bindFailure(message: string): BindFailure {
  const { data } = parseAdDiagnostic(message);
  switch (data) {
    case AD_LOGON.passwordExpired:
      return { kind: 'right-but-must-change', meaning: 'the password is right, but it has expired (data 532)' };
    case AD_LOGON.mustChangePassword:
      return { kind: 'right-but-must-change', meaning: 'the password is right, but the account must change it at next logon (data 773)' };
    case AD_LOGON.accountLockedOut:
      return { kind: 'untestable', locked: true, meaning: 'the account is locked out (data 775)' };
    case AD_LOGON.accountDisabled:
      return { kind: 'untestable', locked: false, meaning: 'the account is disabled (data 533)' };
    case AD_LOGON.accountExpired:
      return { kind: 'untestable', locked: false, meaning: 'the account has expired (data 701)' };
    case AD_LOGON.notPermittedAtThisTime:
      return { kind: 'untestable', locked: false, meaning: 'the account may not log on at this time (data 530)' };
    case AD_LOGON.notPermittedAtThisWorkstation:
      return { kind: 'untestable', locked: false, meaning: 'the account may not log on from here (data 531)' };
    case AD_LOGON.noSuchUser:
      return { kind: 'wrong-password', meaning: 'no such account (data 525)' };
    case AD_LOGON.badPassword:
      return { kind: 'wrong-password', meaning: 'bad credentials (data 52e)' };
    default:
      return { kind: 'wrong-password', meaning: data === undefined ? 'invalid credentials' : `invalid credentials (data ${hex(data)})` };
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * An LDAP error → the engine's classes, with Active Directory's codes turned into what they mean.
 * `operation` names what was attempted; `sent` = the request may have reached the server.
 */
export function classifyAdError(error: unknown, context: { readonly operation: string; readonly sent: boolean }): Error {
  const code = ldapResultCode(error);
  if (code === undefined) return classifyLdapError(error, context);
  const server = messageOf(error);
  const { win32, data } = parseAdDiagnostic(server);
  const what = context.operation;
  if (win32 === AD_WIN32.passwordRestriction) {
    return new TargetUnchangedError(
      `${what}: the domain refused the new password by its password policy (0000052D: too short, not complex enough, ` +
        `one of the last passwords in its history, or changed again before the minimum password age); nothing was changed. ` +
        `Domain controller said: ${server}`,
      { cause: error },
    );
  }
  if (win32 === AD_WIN32.invalidPassword) {
    return new AuthenticationError(`${what}: the domain says the old password is wrong (00000056); nothing was changed. Domain controller said: ${server}`, {
      cause: error,
    });
  }
  if (code === LDAP_RESULT.invalidCredentials) {
    const failure = bindFailure(server);
    if (failure.kind === 'untestable' && failure.locked) {
      return new ThrottledError(`${what}: ${failure.meaning}; nothing was changed, try again after the domain's lockout duration`, { cause: error });
    }
    return new AuthenticationError(`${what}: the domain refused the login: ${failure.meaning}. Domain controller said: ${server}`, { cause: error });
  }
  if (code === LDAP_RESULT.insufficientAccessRights || win32 === AD_WIN32.insufficientAccessRights || win32 === AD_WIN32.accessDenied) {
    return new TargetUnchangedError(
      `${what}: the bound account lacks the right (the admin account needs "Reset password" on the account); nothing was changed. Domain controller said: ${server}`,
      { cause: error },
    );
  }
  if (code === LDAP_RESULT.unwillingToPerform && data === undefined && /unicodePwd|encrypt|secure|confidential/i.test(server)) {
    return new InvalidConfigurationError('mode', `${what}: the domain controller changes passwords only over an encrypted connection (use "ldaps" or "starttls"): ${server}`, {
      cause: error,
    });
  }
  return classifyLdapError(error, context);
}
