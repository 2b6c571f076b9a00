/**
 * The simulator's logins (master..syslogins). Names compare exactly, as under ASE's default binary
 * sort order. The clear password is kept because tests read it back (`passwordOf`); nothing else
 * about a connection records it. A locked login, like a wrong password or an unknown name, is
 * refused with 4002 "Login failed." (ASE tells the client no more than that; the reason goes to
 * the error log). An expired password lets the login in, restricted to changing it (server.ts).
 * "The maximum size for a password is 30 bytes. If your password exceeds 30 bytes, Adaptive Server
 * uses only the first 30" (ASE 15.0 Transact-SQL User's Guide, "Changing your password"): passwords
 * are set, checked and compared by their first 30 bytes.
 */
export const MAX_PASSWORD_BYTES = 30;

/** A password as ASE keeps it: its first 30 bytes (UTF-8 here, the server's character set). */
export function significant(password: string): string {
  return Buffer.from(password, 'utf8').subarray(0, MAX_PASSWORD_BYTES).toString('utf8');
}

export interface AseLoginSpec {
  readonly name: string;
  readonly password: string;
  readonly roles?: readonly ('sa_role' | 'sso_role')[];
  readonly locked?: boolean;
  readonly passwordExpired?: boolean;
}

export interface AseLogin {
  readonly name: string;
  readonly suid: number;
  readonly roles: readonly string[];
  locked: boolean;
  passwordExpired: boolean;
}

export class LoginStore {
  readonly #logins = new Map<string, AseLogin>();
  readonly #passwords = new Map<string, string>();

  #nextSuid = 1;

  constructor(specs: readonly AseLoginSpec[]) {
    for (const s of specs) this.add(s);
  }

  /** sp_addlogin: a test's fixture adds logins while the simulator runs. */
  add(s: AseLoginSpec): void {
    this.#logins.set(s.name, { name: s.name, suid: this.#nextSuid++, roles: [...(s.roles ?? [])], locked: s.locked ?? false, passwordExpired: s.passwordExpired ?? false });
    this.#passwords.set(s.name, significant(s.password));
  }

  /** sp_droplogin; nothing when there is none. */
  remove(name: string): void {
    this.#logins.delete(name);
    this.#passwords.delete(name);
  }

  passwordOf(name: string): string | undefined {
    return this.#passwords.get(name);
  }

  find(name: string): AseLogin | undefined {
    return this.#logins.get(name);
  }

  bySuid(suid: number): AseLogin | undefined {
    return [...this.#logins.values()].find((l) => l.suid === suid);
  }

  /** The login `name` may log in with `password`: known, not locked, the password right. */
  authenticate(name: string, password: string): AseLogin | undefined {
    const login = this.#logins.get(name);
    if (!login || login.locked || this.#passwords.get(name) !== significant(password)) return undefined;
    return login;
  }

  /** Whether `password` is the login's (compared as ASE compares, by the first 30 bytes). */
  matches(name: string, password: string): boolean {
    return this.#passwords.get(name) === significant(password);
  }

  /** A new password, in effect at once; it clears an expired password's state. */
  setPassword(name: string, password: string): void {
    this.#passwords.set(name, significant(password));
    const login = this.#logins.get(name);
    if (login) login.passwordExpired = false;
  }

  lock(name: string, locked = true): void {
    const login = this.#logins.get(name);
    if (login) login.locked = locked;
  }
}
