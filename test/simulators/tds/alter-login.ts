/**
 * ALTER LOGIN, parsed as Microsoft's reference writes its grammar
 * (learn.microsoft.com/sql/t-sql/statements/alter-login-transact-sql):
 *
 *   ALTER LOGIN login_name { ENABLE | DISABLE | WITH <set_option> [ ,... ] }
 *   <set_option> ::= PASSWORD = 'password' [ OLD_PASSWORD = 'oldpassword' | MUST_CHANGE [ UNLOCK ] | UNLOCK [ MUST_CHANGE ] ]
 *     | DEFAULT_DATABASE = database | DEFAULT_LANGUAGE = language | NAME = login_name
 *     | CHECK_POLICY = { ON | OFF } | CHECK_EXPIRATION = { ON | OFF }
 *
 * The password is a string literal: a variable or an expression there is a syntax error, which is
 * why a password reaches ALTER LOGIN from parameters only through dynamic SQL. Permissions as the
 * same page gives them: ALTER ANY LOGIN for another login, or for any option but the password;
 * without it a login changes its own password only with OLD_PASSWORD, and a wrong one is refused.
 * Every refusal of a login that does not exist or may not be altered is 15151, which says which of
 * the two it is to nobody. The password is checked against the policy when the login's CHECK_POLICY
 * (or the statement's, which is applied with it) is ON; MUST_CHANGE needs CHECK_POLICY and
 * CHECK_EXPIRATION ON (15128).
 */
import { Messages, type LoginStore, type SqlLogin } from './logins.js';
import { SqlError, syntaxError, type Tokens } from './tsql-lexer.js';

export interface AlterLogin {
  readonly kind: 'alter-login';
  readonly name: string;
  readonly enable?: boolean;
  readonly password?: string;
  readonly oldPassword?: string;
  readonly mustChange?: boolean;
  readonly unlock?: boolean;
  readonly checkPolicy?: boolean;
  readonly checkExpiration?: boolean;
  readonly defaultDatabase?: string;
  readonly newName?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function literal(t: Tokens): string {
  const tok = t.peek();
  if (tok.kind !== 'string' && tok.kind !== 'nstring') throw syntaxError(tok);
  t.next();
  return tok.value;
}

function onOff(t: Tokens): boolean {
  if (t.acceptWord('ON')) return true;
  if (t.acceptWord('OFF')) return false;
  throw syntaxError(t.peek());
}

/** Parses what follows ALTER LOGIN. */
export function parseAlterLogin(t: Tokens): AlterLogin {
  const s: Mutable<AlterLogin> = { kind: 'alter-login', name: t.identifier() };
  if (t.acceptWord('ENABLE')) return { ...s, enable: true };
  if (t.acceptWord('DISABLE')) return { ...s, enable: false };
  t.expectWord('WITH');
  const seen = new Set<string>();
  do {
    const opt = t.peek();
    if (opt.kind !== 'word') throw syntaxError(opt);
    const name = opt.value.toUpperCase();
    if (seen.has(name)) throw syntaxError(opt);
    seen.add(name);
    t.next();
    t.expectPunct('=');
    switch (name) {
      case 'PASSWORD':
        s.password = literal(t);
        if (t.isWord('HASHED')) throw new SqlError({ number: 50000, state: 1, class: 16, message: 'The simulator does not take HASHED passwords.' });
        if (t.acceptWord('OLD_PASSWORD')) {
          t.expectPunct('=');
          s.oldPassword = literal(t);
        } else {
          for (;;) {
            if (!s.mustChange && t.acceptWord('MUST_CHANGE')) s.mustChange = true;
            else if (!s.unlock && t.acceptWord('UNLOCK')) s.unlock = true;
            else break;
          }
        }
        break;
      case 'CHECK_POLICY':
        s.checkPolicy = onOff(t);
        break;
      case 'CHECK_EXPIRATION':
        s.checkExpiration = onOff(t);
        break;
      case 'DEFAULT_DATABASE':
        s.defaultDatabase = t.identifier();
        break;
      case 'DEFAULT_LANGUAGE':
        t.identifier();
        break;
      case 'NAME':
        s.newName = t.identifier();
        break;
      default:
        throw syntaxError(opt);
    }
  } while (t.acceptPunct(','));
  return s;
}

/** Applies the statement as `caller`; the refusal SQL Server would send, if any. */
export function alterLogin(s: AlterLogin, caller: SqlLogin, store: LoginStore): void {
  const target = store.get(s.name);
  if (!target) throw new SqlError(Messages.cannotAlter(s.name));
  const own = target === caller;
  const onlyPassword = s.password !== undefined && Object.keys(s).every((k) => ['kind', 'name', 'password', 'oldPassword'].includes(k));
  if (!caller.alterAnyLogin && !(own && onlyPassword && s.oldPassword !== undefined)) throw new SqlError(Messages.cannotAlter(s.name));
  if (s.oldPassword !== undefined && !store.matches(target, s.oldPassword)) throw new SqlError(Messages.cannotAlter(s.name));
  const checkPolicy = s.checkPolicy ?? target.checkPolicy;
  if (s.mustChange && (!checkPolicy || s.checkExpiration === false)) {
    throw new SqlError({ number: 15128, state: 1, class: 16, message: 'The CHECK_POLICY and CHECK_EXPIRATION options cannot be turned OFF when MUST_CHANGE is ON.' });
  }
  if (s.newName !== undefined && store.get(s.newName)) {
    throw new SqlError({ number: 15025, state: 2, class: 16, message: `The server principal '${s.newName}' already exists.` });
  }
  if (s.password !== undefined) {
    const refused = store.setPassword(target, s.password, checkPolicy);
    if (refused) throw new SqlError(refused);
  }
  if (s.mustChange) target.mustChange = true;
  if (s.checkPolicy !== undefined) target.checkPolicy = s.checkPolicy;
  if (s.enable !== undefined) target.disabled = !s.enable;
  if (s.defaultDatabase !== undefined) target.defaultDatabase = s.defaultDatabase;
  if (s.newName !== undefined) store.rename(target, s.newName);
}
