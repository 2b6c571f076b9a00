/**
 * The simulator's logins (master..syslogins). Names compare exactly, as under ASE's default binary
 * sort order. The clear password is kept because tests read it back (`passwordOf`); nothing else
 * about a connection records it. A locked login, like a wrong password or an unknown name, is
 * refused with 4002 "Login failed." (ASE tells the client no more than that; the reason goes to
 * the error log). An expired password lets the login in, restricted to changing it (server.ts).
 */
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

  constructor(specs: readonly AseLoginSpec[]) {
    specs.forEach((s, i) => {
      this.#logins.set(s.name, { name: s.name, suid: i + 1, roles: [...(s.roles ?? [])], locked: s.locked ?? false, passwordExpired: s.passwordExpired ?? false });
      this.#passwords.set(s.name, s.password);
    });
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
    if (!login || login.locked || this.#passwords.get(name) !== password) return undefined;
    return login;
  }

  /** A new password, in effect at once; it clears an expired password's state. */
  setPassword(name: string, password: string): void {
    this.#passwords.set(name, password);
    const login = this.#logins.get(name);
    if (login) login.passwordExpired = false;
  }

  lock(name: string, locked = true): void {
    const login = this.#logins.get(name);
    if (login) login.locked = locked;
  }
}
