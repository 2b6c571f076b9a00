/**
 * The simulated database's users, and the rules Oracle applies to logins and password changes, as
 * Oracle Database 19c's documentation gives them (SQL Language Reference, "ALTER USER" and
 * "CREATE PROFILE"; Database Security Guide, "Managing Security for Oracle Database Users";
 * Database Error Messages for the ORA- numbers and texts):
 *
 * - Only a verifier is kept (o5logon.ts), never the password.
 * - User names are identifiers: unquoted they are upper-cased, in double quotes taken as written.
 * - A locked account is refused with ORA-28000; an expired password with ORA-28001 unless the
 *   login brings a new one. FAILED_LOGIN_ATTEMPTS consecutive wrong passwords lock the account
 *   (the DEFAULT profile's limit is 10); a login with the right password resets the count.
 * - Changing another user's password needs the ALTER USER system privilege; a user changes its own
 *   without it, giving the old password (REPLACE) when its profile has a verify function (ORA-28221),
 *   and a wrong old password is ORA-28008.
 * - The profile's PASSWORD_VERIFY_FUNCTION refuses with ORA-28003; PASSWORD_REUSE_MAX /
 *   PASSWORD_REUSE_TIME with ORA-28007.
 */
import { makeVerifier, verifierMatches, type Verifier } from './o5logon.js';

export interface OracleUserSpec {
  /** As Oracle stores it: upper case unless the user was created with a quoted name. */
  readonly name: string;
  readonly password: string;
  /** ACCOUNT LOCK. */
  readonly locked?: boolean;
  /** PASSWORD EXPIRE: the next login must change it. */
  readonly expired?: boolean;
  /** Holds the ALTER USER system privilege. */
  readonly alterUser?: boolean;
  readonly profile?: PasswordProfile;
}

export interface PasswordProfile {
  /** PASSWORD_VERIFY_FUNCTION: a message when it refuses the new password (ORA-28003), undefined when it accepts. */
  readonly verify?: (password: string, oldPassword: string | undefined, user: string) => string | undefined;
  /** PASSWORD_REUSE_MAX UNLIMITED with a PASSWORD_REUSE_TIME: a password once used is refused again (ORA-28007). */
  readonly noReuse?: boolean;
  /** FAILED_LOGIN_ATTEMPTS; 10 (the DEFAULT profile's) unless set, `Infinity` for UNLIMITED. */
  readonly failedLoginAttempts?: number;
}

export class OracleError extends Error {
  constructor(
    readonly number: number,
    text: string,
  ) {
    super(`ORA-${String(number).padStart(5, '0')}: ${text}`);
  }
}

export const Refusal = {
  invalidSql: () => new OracleError(900, 'invalid SQL statement'),
  invalidOption: () => new OracleError(922, 'missing or invalid option'),
  invalidPassword: () => new OracleError(988, 'missing or invalid password(s)'),
  nullPassword: () => new OracleError(1005, 'null password given; logon denied'),
  wrongLogin: () => new OracleError(1017, 'invalid username/password; logon denied'),
  privileges: () => new OracleError(1031, 'insufficient privileges'),
  noSuchUser: (name: string) => new OracleError(1918, `user '${name}' does not exist`),
  locked: () => new OracleError(28000, 'the account is locked'),
  expired: () => new OracleError(28001, 'the password has expired'),
  verifyFailed: (why: string) => new OracleError(28003, `password verification for the specified password failed\nORA-20001: ${why}`),
  reused: () => new OracleError(28007, 'the password cannot be reused'),
  wrongOldPassword: () => new OracleError(28008, 'invalid old password'),
  replaceMissing: () => new OracleError(28221, 'REPLACE not specified'),
} as const;

export interface OracleUser {
  readonly name: string;
  verifier: Verifier;
  locked: boolean;
  expired: boolean;
  readonly alterUser: boolean;
  readonly profile: PasswordProfile;
  /** Verifiers of earlier passwords, for PASSWORD_REUSE_*. */
  readonly history: Verifier[];
  /** Consecutive wrong passwords since the last good login. */
  failedLogins: number;
}

/** A user name as a login or an unquoted identifier gives it: upper case, unless in double quotes. */
export function canonicalName(name: string): string {
  const t = name.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t.toUpperCase();
}

export class UserStore {
  readonly #users = new Map<string, OracleUser>();

  constructor(specs: readonly OracleUserSpec[]) {
    for (const s of specs) this.add(s);
  }

  /** CREATE USER: a test's fixture adds users while the simulator runs. */
  add(s: OracleUserSpec): void {
    this.#users.set(s.name, { name: s.name, verifier: makeVerifier(s.password), locked: s.locked ?? false, expired: s.expired ?? false, alterUser: s.alterUser ?? false, profile: s.profile ?? {}, history: [], failedLogins: 0 });
  }

  /** DROP USER; nothing when there is none. */
  remove(name: string): void {
    this.#users.delete(name);
  }

  get(name: string): OracleUser | undefined {
    return this.#users.get(name);
  }

  /** Whether `password` is the user's current one (for tests; the server itself checks logins with the verifier). */
  passwordIs(name: string, password: string): boolean {
    const u = this.#users.get(name);
    return u !== undefined && verifierMatches(u.verifier, password);
  }

  /** A login's password check, counted against FAILED_LOGIN_ATTEMPTS. */
  loginChecked(user: OracleUser, right: boolean): void {
    if (right) {
      user.failedLogins = 0;
      return;
    }
    user.failedLogins++;
    if (user.failedLogins >= (user.profile.failedLoginAttempts ?? 10)) user.locked = true;
  }

  /**
   * Stores a new password after the profile's checks, the old one given (REPLACE or the driver's
   * change) or not (an ALTER USER by a user with the privilege).
   */
  setPassword(user: OracleUser, password: string, oldPassword: string | undefined): void {
    if (password.length === 0) throw Refusal.invalidPassword();
    const why = user.profile.verify?.(password, oldPassword, user.name);
    if (why !== undefined) throw Refusal.verifyFailed(why);
    if (user.profile.noReuse && [user.verifier, ...user.history].some((v) => verifierMatches(v, password))) throw Refusal.reused();
    user.history.push(user.verifier);
    user.verifier = makeVerifier(password);
    user.expired = false;
  }
}
