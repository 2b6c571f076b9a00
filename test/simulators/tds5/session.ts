/**
 * Running parsed statements for one logged-in session, and the password change ASE documents:
 *
 * sp_password (Reference Manual: Procedures, "sp_password"): any user changes his or her own
 * password, giving it as caller_passwd; only a System Security Officer (sso_role) may name another
 * login, giving then the SSO's own password. Refusals (README.md says which numbers and texts have
 * a source and which are from memory):
 * - no sso_role: Msg 10353, severity 14, "You must have any of the following role(s) to execute
 *   this command/procedure: 'sso_role' . Please contact a user with the appropriate role for help."
 * - unknown login: Msg 17231, severity 16, "No login with the specified name exists."
 * - wrong caller password: Msg 10315, severity 14, "Invalid caller's password specified, password
 *   left unchanged.", then Msg 17720, severity 16, "Error: Unable to set the Password."
 * - shorter than "minimum password length" (sp_configure, default 6; System Administration Guide,
 *   "Setting and changing minimum password length"): Msg 10317, severity 14.
 * - the same as the current password: 10315 and 17720 again, as a public ASE admin note
 *   (sybase299.rssing.com, "sp_password") shows ASE answering it;
 * each followed by return status 1; success prints "Password correctly set." and returns 0.
 * `alter login … with password … modify password` checks the same things and prints nothing.
 * A session whose password has expired may only change it (and `set`), as the System
 * Administration Guide's "Password expiration" describes; anything else is Msg 4023.
 */
import { LoginStore, type AseLogin } from './logins.js';
import { SqlError, syntaxError } from './lexer.js';
import type { Column, ServerMessage, Value } from './tokens.js';
import { mustDeclare, notFound, type Argument, type Expr, type Outcome, type Statement } from './tsql.js';

export interface Session {
  readonly login: AseLogin;
  readonly spid: number;
  readonly serverName: string;
  readonly version: string;
  readonly store: LoginStore;
  readonly minPasswordLength: number;
  quotedIdentifier: boolean;
  /** The request's named parameters (TDS_PARAMS of a LANGUAGE request). */
  parameters: Map<string, Value>;
}

const PROC = 'sp_password';

const msg = (number: number, severity: number, text: string, line: number, procedure = PROC): ServerMessage => ({ number, severity, state: 1, text, procedure, line });

export const NO_SSO_ROLE = msg(10353, 14, "You must have any of the following role(s) to execute this command/procedure: 'sso_role' . Please contact a user with the appropriate role for help.", 61);
export const NO_SUCH_LOGIN = msg(17231, 16, 'No login with the specified name exists.', 95);
export const WRONG_CALLER_PASSWORD = msg(10315, 14, "Invalid caller's password specified, password left unchanged.", 148);
export const UNABLE_TO_SET = msg(17720, 16, 'Error: Unable to set the Password.', 158);
export const tooShort = (min: number): ServerMessage => msg(10317, 14, `Password is too short. The minimum password length is ${min}.`, 148);
export const CORRECTLY_SET: ServerMessage = { number: 0, severity: 0, state: 1, text: 'Password correctly set.', procedure: PROC, line: 166 };
export const MUST_CHANGE: ServerMessage = { number: 4023, severity: 16, state: 1, text: 'Your password has expired. You must change it with sp_password or alter login before you can run any other command.' };

function value(e: Expr, s: Session): Value {
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'param': {
      const v = s.parameters.get(e.name.toLowerCase());
      if (v === undefined) throw mustDeclare(e.name);
      return v;
    }
    case 'global':
      if (e.name === '@@version') return s.version;
      if (e.name === '@@servername') return s.serverName;
      if (e.name === '@@spid') return s.spid;
      throw mustDeclare(e.name);
    case 'call':
      return call(e.name, e.args.map((a) => value(a, s)), s);
    case 'column':
      throw new SqlError({ number: 207, severity: 16, state: 4, text: `Invalid column name '${e.name}'.` });
  }
}

function call(name: string, args: Value[], s: Session): Value {
  const arity = (n: number): void => {
    if (args.length > n) throw syntaxError(name);
  };
  if (name === 'suser_name') {
    arity(1);
    if (args.length === 0) return s.login.name;
    return s.store.bySuid(Number(args[0]))?.name ?? null;
  }
  if (name === 'suser_id') {
    arity(1);
    if (args.length === 0) return s.login.suid;
    return args[0] === null ? null : (s.store.find(String(args[0]))?.suid ?? null);
  }
  if (name === 'proc_role') {
    if (args.length !== 1) throw syntaxError(name);
    return s.login.roles.includes(String(args[0])) ? 1 : 0;
  }
  if (name === 'show_role') {
    arity(0);
    return s.login.roles.length ? s.login.roles.join(' ') : null;
  }
  throw new SqlError({ number: 14216, severity: 16, state: 1, text: `Function '${name}' not found. If this is a SQLJ function or SQL function, use sp_help to check whether the object exists (sp_help may produce lots of output).` });
}

const isInt = (e: Expr): boolean =>
  (e.kind === 'literal' && typeof e.value === 'number') || (e.kind === 'global' && e.name === '@@spid') || (e.kind === 'call' && ['suser_id', 'proc_role'].includes(e.name));

export interface PasswordChange {
  readonly callerPassword: Value;
  readonly newPassword: Value;
  readonly login: Value;
}

/** The checks sp_password and alter login make, in sp_password's order; the messages of a refusal, or undefined when the change may go ahead. */
function refusal(c: PasswordChange, s: Session): ServerMessage[] | undefined {
  const target = c.login === null ? s.login.name : String(c.login);
  if (target !== s.login.name && !s.login.roles.includes('sso_role')) return [NO_SSO_ROLE];
  if (!s.store.find(target)) return [NO_SUCH_LOGIN];
  if (c.callerPassword === null || !s.store.matches(s.login.name, String(c.callerPassword))) return [WRONG_CALLER_PASSWORD, UNABLE_TO_SET];
  const next = c.newPassword === null ? '' : String(c.newPassword);
  if (Buffer.byteLength(next, 'utf8') < s.minPasswordLength) return [tooShort(s.minPasswordLength), UNABLE_TO_SET];
  // The one account of ASE refusing the current password as the new one shows 10315 and 17720.
  if (s.store.matches(target, next)) return [WRONG_CALLER_PASSWORD, UNABLE_TO_SET];
  return undefined;
}

/** sp_password's parameters, positional or named, as its definition names them. */
export function spPasswordArguments(args: readonly { readonly name: string; readonly value: Value }[]): PasswordChange {
  const names = ['@caller_passwd', '@new_passwd', '@loginame', '@immediate'];
  const bound = new Map<string, Value>();
  args.forEach((a, i) => {
    const name = a.name ? a.name.toLowerCase() : names[i];
    if (!name || !names.includes(name)) {
      throw new SqlError({ number: 8009, severity: 16, state: 1, text: `Procedure '${PROC}' expects parameter ${a.name || `#${i + 1}`}, which was not supplied or is not a parameter of it.`, procedure: PROC });
    }
    bound.set(name, a.value);
  });
  if (!bound.has('@new_passwd')) {
    throw new SqlError({ number: 201, severity: 16, state: 2, text: `Procedure ${PROC} expects parameter @new_passwd, which was not supplied.`, procedure: PROC });
  }
  return { callerPassword: bound.get('@caller_passwd') ?? null, newPassword: bound.get('@new_passwd') ?? null, login: bound.get('@loginame') ?? null };
}

/** Asked between checking and applying a change: false holds the change back (the drop hook's 'before'). */
export interface Hooks {
  beforeApply(): boolean;
}

export function changePassword(c: PasswordChange, s: Session, hooks: Hooks, command: boolean): Outcome {
  // sp_password is a procedure and returns a status; alter login is a command and does not.
  const status = (n: number): { returnStatus?: number } => (command ? {} : { returnStatus: n });
  const refused = refusal(c, s);
  if (refused) return { messages: refused, error: true, ...status(1) };
  if (!hooks.beforeApply()) return { messages: [], error: false };
  s.store.setPassword(c.login === null ? s.login.name : String(c.login), String(c.newPassword));
  return { messages: command ? [] : [CORRECTLY_SET], error: false, ...status(0) };
}

export function execute(st: Statement, s: Session, hooks: Hooks): Outcome {
  if (s.login.passwordExpired && st.kind !== 'set' && st.kind !== 'alter login' && !(st.kind === 'exec' && st.proc.toLowerCase() === PROC)) {
    return { messages: [MUST_CHANGE], error: true };
  }
  try {
    switch (st.kind) {
      case 'select': {
        const row = st.items.map((i) => value(i.expr, s));
        const columns: Column[] = st.items.map((i, n) => ({ name: i.alias, type: isInt(i.expr) || typeof row[n] === 'number' ? 'int' : 'varchar' }));
        return { messages: [], result: { columns, rows: [row] }, error: false };
      }
      case 'set':
        if (st.option === 'quoted_identifier') s.quotedIdentifier = st.value === 'on';
        return { messages: [], error: false };
      case 'exec':
        if (st.proc.toLowerCase() !== PROC) throw notFound(st.proc);
        return changePassword(spPasswordArguments(st.args.map((a: Argument) => ({ name: a.name, value: value(a.value, s) }))), s, hooks, false);
      case 'alter login':
        return changePassword({ callerPassword: value(st.callerPassword, s), newPassword: value(st.newPassword, s), login: st.login }, s, hooks, true);
    }
  } catch (e) {
    if (!(e instanceof SqlError)) throw e;
    // A procedure that ran returns a status; one not found (2812) does not.
    const ran = st.kind === 'exec' && st.proc.toLowerCase() === PROC;
    return { messages: [e.server], error: true, ...(ran ? { returnStatus: 1 } : {}) };
  }
}
