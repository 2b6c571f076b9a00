/**
 * The simulator's SQL logins (sys.sql_logins): each password kept as SQL Server 2012 and later keep
 * it, 0x0200, a 4-byte salt, then SHA-512 of the UTF-16LE password and the salt; never the clear text.
 * Names compare case-insensitively, as under the default SQL_Latin1_General_CP1_CI_AS collation.
 *
 * Login refusals are the ones SQL Server sends (severity 14, state 1 as the client sees it): 18456
 * "Login failed for user '…'." for an unknown login or a wrong password, 18470 for a disabled
 * login, 18488 for a password that must be changed. The password policy is Windows' complexity rule
 * as "Password Policy" (learn.microsoft.com/sql/relational-databases/security/password-policy)
 * describes it for CHECK_POLICY = ON: at least 8 characters, not containing the login name, and
 * characters from 3 of the 4 classes (upper-case letters, lower-case letters, digits 0-9, others);
 * a SQL login's password has at most 128 characters.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ntHash, verifyAuthenticate, type Authenticate } from './ntlm.js';
import type { ServerMessage } from './tokens.js';

export interface LoginSpec {
  readonly name: string;
  readonly password: string;
  readonly disabled?: boolean;
  /** MUST_CHANGE: the next login must change the password first (18488 otherwise). */
  readonly mustChange?: boolean;
  /** CHECK_POLICY, ON unless set OFF (CREATE LOGIN's default). */
  readonly checkPolicy?: boolean;
  /** The server permission ALTER ANY LOGIN (held by sysadmin and securityadmin). */
  readonly alterAnyLogin?: boolean;
  readonly defaultDatabase?: string;
  /**
   * A Windows login (CREATE LOGIN [CORP\name] FROM WINDOWS): `name` is DOMAIN\account, and the
   * password is the domain account's, of which the simulator keeps what a domain controller keeps
   * (the NT hash) to check NTLM; such a login has no SQL password.
   */
  readonly windows?: { readonly dnsDomain: string };
}

export interface SqlLogin {
  name: string;
  disabled: boolean;
  mustChange: boolean;
  checkPolicy: boolean;
  alterAnyLogin: boolean;
  defaultDatabase: string;
  /** 0x0200 ‖ salt ‖ SHA-512(password ‖ salt). */
  passwordHash: Buffer;
  /** sys.server_principals' principal_id (SUSER_ID); sa is 1, later logins from 256. */
  readonly principalId: number;
  /** A Windows login's domain account: its NT hash and the domain's DNS name. */
  windows?: { ntHash: Buffer; readonly dnsDomain: string };
  /** How many times the password was set since the simulator started (a test's evidence of a change). */
  changes: number;
}

function hash(password: string, salt: Uint8Array = randomBytes(4)): Buffer {
  const digest = createHash('sha512').update(Buffer.from(password, 'utf16le')).update(salt).digest();
  return Buffer.concat([Buffer.from([0x02, 0x00]), salt, digest]);
}

function matches(login: SqlLogin, password: string): boolean {
  const salt = login.passwordHash.subarray(2, 6);
  return timingSafeEqual(hash(password, salt), login.passwordHash);
}

const LOGIN_FAILED = 18456;

function loginFailed(name: string, number = LOGIN_FAILED, reason = ''): ServerMessage {
  return { number, state: 1, class: 14, message: `Login failed for user '${name}'.${reason}` };
}

/** [MS-TDS] has no word for these: they are SQL Server's sys.messages texts. */
export const Messages = {
  cannotAlter: (name: string): ServerMessage => ({ number: 15151, state: 1, class: 16, message: `Cannot alter the login '${name}', because it does not exist or you do not have permission.` }),
  tooShort: (): ServerMessage => ({ number: 15116, state: 1, class: 16, message: 'Password validation failed. The password does not meet the operating system policy requirements because it is too short.' }),
  tooLong: (): ServerMessage => ({ number: 15117, state: 1, class: 16, message: 'Password validation failed. The password does not meet the operating system policy requirements because it is too long.' }),
  notComplex: (): ServerMessage => ({ number: 15118, state: 1, class: 16, message: 'Password validation failed. The password does not meet the operating system policy requirements because it is not complex enough.' }),
} as const;

export type LoginOutcome = { readonly ok: true; readonly login: SqlLogin } | { readonly ok: false; readonly error: ServerMessage };

export class LoginStore {
  readonly #logins = new Map<string, SqlLogin>();
  #nextId = 256;

  constructor(specs: readonly LoginSpec[] = []) {
    for (const s of specs) this.add(s);
  }

  add(s: LoginSpec): SqlLogin {
    const login: SqlLogin = {
      name: s.name,
      disabled: s.disabled ?? false,
      mustChange: s.mustChange ?? false,
      checkPolicy: s.checkPolicy ?? true,
      alterAnyLogin: s.alterAnyLogin ?? false,
      defaultDatabase: s.defaultDatabase ?? 'master',
      passwordHash: hash(s.password),
      principalId: s.name.toLowerCase() === 'sa' ? 1 : this.#nextId++,
      ...(s.windows ? { windows: { ntHash: ntHash(s.password), dnsDomain: s.windows.dnsDomain } } : {}),
      changes: 0,
    };
    this.#logins.set(s.name.toLowerCase(), login);
    return login;
  }

  /** DROP LOGIN's effect; true when there was one. */
  remove(name: string): boolean {
    return this.#logins.delete(name.toLowerCase());
  }

  get(name: string): SqlLogin | undefined {
    return this.#logins.get(name.toLowerCase());
  }

  /** Whether `password` is the login's password now (what a test checks after a change). */
  verify(name: string, password: string): boolean {
    const l = this.get(name);
    return l !== undefined && matches(l, password);
  }

  /**
   * A LOGIN7's user and password checked as SQL Server checks them; `newPassword` is LOGIN7's
   * ChangePassword, which a login that must change its password sends to change it while logging in.
   */
  authenticate(name: string, password: string, newPassword?: string): LoginOutcome {
    const l = this.get(name);
    // A Windows login takes no SQL password (SQL Server answers 18456 for one sent).
    if (!l || l.windows || !matches(l, password)) return { ok: false, error: loginFailed(name) };
    if (l.disabled) return { ok: false, error: loginFailed(name, 18470, ' Reason: The account is disabled.') };
    if (newPassword !== undefined) {
      const refused = this.setPassword(l, newPassword, l.checkPolicy);
      if (refused) return { ok: false, error: refused };
    } else if (l.mustChange) {
      return { ok: false, error: loginFailed(name, 18488, ' Reason: The password of the account must be changed.') };
    }
    return { ok: true, login: l };
  }

  /**
   * Windows authentication: the AUTHENTICATE_MESSAGE's domain (NetBIOS or DNS name) and account
   * name a Windows login, and its response proves the domain account's password. A response that
   * proves nothing is 18452, as SQL Server answers a login the domain did not authenticate.
   */
  authenticateWindows(a: Authenticate, serverChallenge: Buffer, netbiosDomain: string): LoginOutcome {
    const l = [...this.#logins.values()].find((x) => x.windows && x.name.toLowerCase() === `${netbiosDomain}\\${a.user}`.toLowerCase());
    const domainMatches = l?.windows && [netbiosDomain.toLowerCase(), l.windows.dnsDomain.toLowerCase()].includes(a.domain.toLowerCase());
    if (!l?.windows || !domainMatches || !verifyAuthenticate(a, serverChallenge, l.windows.ntHash)) {
      return { ok: false, error: { number: 18452, state: 1, class: 14, message: 'Login failed. The login is from an untrusted domain and cannot be used with Integrated authentication.' } };
    }
    if (l.disabled) return { ok: false, error: loginFailed(l.name, 18470, ' Reason: The account is disabled.') };
    return { ok: true, login: l };
  }

  /** The domain account's password changed (in its domain): what the simulator checks NTLM against. */
  setDomainPassword(name: string, password: string): void {
    const l = this.get(name);
    if (!l?.windows) throw new Error(`${name} is not a Windows login`);
    l.windows.ntHash = ntHash(password);
  }

  /** Sets the password, checked against the policy when `checkPolicy`; the refusal otherwise. */
  setPassword(l: SqlLogin, password: string, checkPolicy: boolean): ServerMessage | undefined {
    if (checkPolicy) {
      const refused = policyRefusal(l.name, password);
      if (refused) return refused;
    }
    l.passwordHash = hash(password);
    l.mustChange = false;
    l.changes++;
    return undefined;
  }

  rename(l: SqlLogin, name: string): void {
    this.#logins.delete(l.name.toLowerCase());
    l.name = name;
    this.#logins.set(name.toLowerCase(), l);
  }

  matches(l: SqlLogin, password: string): boolean {
    return matches(l, password);
  }
}

/** Windows' complexity rule as SQL Server applies it under CHECK_POLICY = ON. */
export function policyRefusal(loginName: string, password: string): ServerMessage | undefined {
  const chars = [...password];
  if (chars.length < 8) return Messages.tooShort();
  if (chars.length > 128) return Messages.tooLong();
  if (loginName.length >= 3 && password.toLowerCase().includes(loginName.toLowerCase())) return Messages.notComplex();
  const classes = [/\p{Lu}/u, /\p{Ll}/u, /[0-9]/, /[^\p{L}0-9]/u].filter((re) => re.test(password)).length;
  return classes >= 3 ? undefined : Messages.notComplex();
}
