/**
 * A recording fake of node-oracledb at the boundary the oracle adapter calls (adapter.ts
 * OracleDriver): getConnection, and a connection's execute, changePassword and close. Beside the
 * Oracle Net simulator (test/simulators/oracle), which the real driver logs in to, this fake shows
 * each call with its arguments, checks each against what Oracle accepts, and answers as Oracle and
 * node-oracledb document it:
 *
 * - logins: ORA-01017 "invalid credential or not authorized; logon denied" for an unknown user or a
 *   wrong password, ORA-28000 for a locked account (Database Error Messages);
 * - ALTER USER user IDENTIFIED BY password ("ALTER USER", SQL Language Reference): only the form
 *   with a quoted user and a quoted password is taken (anything else is ORA-00900 "invalid SQL
 *   statement", so a statement the adapter should not send fails the test); ALTER USER of another
 *   user needs the ALTER USER system privilege (ORA-01031), a missing user is ORA-01918, the
 *   profile's verify function ORA-28003, PASSWORD_REUSE_MAX ORA-28007;
 * - connection.changePassword(user, old, new) (node-oracledb's Connection class): in Thin mode an
 *   O5LOGON password change of the connected user, ORA-28008 for a wrong old password;
 * - a connection lost before or after the server acted: node-oracledb's NJS-500 "connection to the
 *   Oracle Database was broken", the change applied or not as the test arms it.
 */
import type { OracleConnectAttributes, OracleConnection, OracleDriver } from '../../layers/resources/oracle/adapter.js';

export interface FakeUser {
  password: string;
  locked?: boolean;
  /** The ALTER USER system privilege. */
  alterUser?: boolean;
  /** A profile's password verify function: a refusal reason, or undefined to accept. */
  verify?: (password: string) => string | undefined;
  /** PASSWORD_REUSE_MAX: how many earlier passwords may not come back. */
  reuseMax?: number;
  history?: string[];
}

export type Call =
  | { readonly method: 'getConnection'; readonly attributes: OracleConnectAttributes }
  | { readonly method: 'execute'; readonly as: string; readonly sql: string }
  | { readonly method: 'changePassword'; readonly as: string; readonly user: string; readonly oldPassword: string; readonly newPassword: string }
  | { readonly method: 'close'; readonly as: string };

function oraError(errorNum: number, text: string): Error {
  const code = `ORA-${String(errorNum).padStart(5, '0')}`;
  return Object.assign(new Error(`${code}: ${text}`), { errorNum, code, offset: 0 });
}

function njsError(num: number, text: string): Error {
  const code = `NJS-${String(num).padStart(3, '0')}`;
  return Object.assign(new Error(`${code}: ${text}`), { code });
}

const ALTER_USER = /^ALTER USER "([A-Z][A-Z0-9_$#]*|C##[A-Z][A-Z0-9_$#]*)" IDENTIFIED BY "([^"\0]*)"$/;

export class OracledbFake implements OracleDriver {
  readonly calls: Call[] = [];
  readonly users = new Map<string, FakeUser>();
  /** Armed by a test: the next password change is cut before the server acts, or after. */
  cut: 'before' | 'after' | undefined;
  /** Armed by a test: logins fail as a listener that refuses connections does. */
  unreachable = false;

  constructor(readonly expectedConnectString: string) {}

  addUser(name: string, user: FakeUser): void {
    this.users.set(name.toUpperCase(), { history: [], ...user });
  }

  passwordWorks(name: string, password: string): boolean {
    const u = this.users.get(name.toUpperCase());
    return u !== undefined && !u.locked && u.password === password;
  }

  getConnection(attributes: OracleConnectAttributes): Promise<OracleConnection> {
    this.calls.push({ method: 'getConnection', attributes });
    if (attributes.connectString !== this.expectedConnectString) {
      return Promise.reject(new Error(`fake: connectString ${attributes.connectString} is not the expected ${this.expectedConnectString}`));
    }
    if (!(attributes.connectTimeout >= 1) || !(attributes.transportConnectTimeout >= 1)) return Promise.reject(new Error('fake: connect timeouts must be whole seconds'));
    if (this.unreachable) return Promise.reject(njsError(511, 'connection to listener at host 127.0.0.1 port 1521 was refused. (CONNECTION_ID=fake)'));
    const name = attributes.user.toUpperCase();
    const user = this.users.get(name);
    if (!user || user.password !== attributes.password) return Promise.reject(oraError(1017, 'invalid credential or not authorized; logon denied'));
    if (user.locked) return Promise.reject(oraError(28000, 'The account is locked.'));
    return Promise.resolve(new FakeConnection(this, name));
  }

  /** Sets a password as Oracle does after its checks; the refusal otherwise. */
  setPassword(name: string, password: string): Error | undefined {
    const u = this.users.get(name);
    if (!u) return oraError(1918, `user '${name}' does not exist`);
    const refused = u.verify?.(password);
    if (refused) return oraError(28003, `password verification for the specified password failed\nORA-20001: ${refused}`);
    if (u.reuseMax !== undefined && [u.password, ...(u.history ?? [])].slice(0, u.reuseMax + 1).includes(password)) return oraError(28007, 'the password cannot be reused');
    u.history = [u.password, ...(u.history ?? [])];
    u.password = password;
    return undefined;
  }

  /** Applies `change` as the armed cut says: the connection breaks before the server acts, or after it did. */
  apply(change: () => Error | undefined): Promise<void> {
    const cut = this.cut;
    this.cut = undefined;
    if (cut === 'before') return Promise.reject(njsError(500, 'connection to the Oracle Database was broken'));
    const refused = change();
    if (cut === 'after') return Promise.reject(njsError(500, 'connection to the Oracle Database was broken'));
    return refused ? Promise.reject(refused) : Promise.resolve();
  }
}

class FakeConnection implements OracleConnection {
  #open = true;

  constructor(
    private readonly fake: OracledbFake,
    private readonly as: string,
  ) {}

  /** node-oracledb's answer to a call on a closed connection. */
  #closed(): Promise<never> {
    return Promise.reject(njsError(3, 'invalid or closed connection'));
  }

  execute(sql: string): Promise<unknown> {
    this.fake.calls.push({ method: 'execute', as: this.as, sql });
    if (!this.#open) return this.#closed();
    const m = ALTER_USER.exec(sql);
    if (!m) return Promise.reject(oraError(900, 'invalid SQL statement'));
    const [, target, password] = m as unknown as [string, string, string];
    if (target !== this.as && !this.fake.users.get(this.as)?.alterUser) return Promise.reject(oraError(1031, 'insufficient privileges'));
    return this.fake.apply(() => this.fake.setPassword(target, password)).then(() => ({ rowsAffected: undefined }));
  }

  changePassword(user: string, oldPassword: string, newPassword: string): Promise<void> {
    this.fake.calls.push({ method: 'changePassword', as: this.as, user, oldPassword, newPassword });
    if (!this.#open) return this.#closed();
    if (user.toUpperCase() !== this.as) return Promise.reject(new Error(`fake: Thin mode's changePassword changes the connected user's (${this.as}) password, not ${user}'s`));
    const u = this.fake.users.get(this.as)!;
    if (u.password !== oldPassword) return Promise.reject(oraError(28008, 'invalid old password'));
    return this.fake.apply(() => this.fake.setPassword(this.as, newPassword));
  }

  close(): Promise<void> {
    this.fake.calls.push({ method: 'close', as: this.as });
    if (!this.#open) return this.#closed();
    this.#open = false;
    return Promise.resolve();
  }
}
