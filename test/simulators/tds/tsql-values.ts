/**
 * T-SQL values and the built-in functions the simulator evaluates, as Microsoft's reference
 * describes them: varchar holds what the database's code page (1252 under the default collation)
 * holds, anything else becomes '?' ("char and varchar"); a variable declared nvarchar or varchar
 * without a length has length 1 and an assignment truncates silently to the declared length
 * ("nchar and nvarchar"); + concatenates strings, and NULL + anything is NULL under
 * CONCAT_NULL_YIELDS_NULL ON; QUOTENAME (learn.microsoft.com/sql/t-sql/functions/quotename-transact-sql)
 * takes a quote character among [ ] " ' ( ) < > { } `, doubles the closing one inside, and returns
 * NULL for input longer than 128 characters.
 */
import { SqlError } from './tsql-lexer.js';

export type SqlType = { readonly kind: 'nvarchar' | 'varchar'; readonly length: number | 'max' } | { readonly kind: 'int' };

export interface Value {
  readonly type: SqlType;
  readonly value: string | number | null;
}

export const NVARCHAR_MAX: SqlType = { kind: 'nvarchar', length: 'max' };
export const INT: SqlType = { kind: 'int' };
export const nvarchar = (s: string | null, length: number | 'max' = s === null ? 1 : Math.max(1, s.length)): Value => ({ type: { kind: 'nvarchar', length }, value: s });

/** The characters of Windows code page 1252 above 0x7F outside Latin-1's 0xA0-0xFF. */
const CP1252_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

export function toCodePage(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    out += cp < 0x80 || (cp >= 0xa0 && cp <= 0xff) || CP1252_EXTRA.has(ch) ? ch : '?';
  }
  return out;
}

function conversionFailed(v: Value): SqlError {
  return new SqlError({ number: 245, state: 1, class: 16, message: `Conversion failed when converting the ${v.type.kind} value '${String(v.value)}' to data type int.` });
}

/** `v` as a value of `type`: what DECLARE's initializer, SET and parameter binding do. */
export function convert(v: Value, type: SqlType): Value {
  if (v.value === null) return { type, value: null };
  if (type.kind === 'int') {
    if (typeof v.value === 'number') return { type, value: v.value };
    const s = v.value.trim();
    if (!/^[+-]?\d+$/.test(s)) throw conversionFailed(v);
    return { type, value: Number(s) };
  }
  let s = String(v.value);
  if (type.kind === 'varchar') s = toCodePage(s);
  if (type.length !== 'max') s = s.slice(0, type.length);
  return { type, value: s };
}

function isString(t: SqlType): t is Extract<SqlType, { kind: 'nvarchar' | 'varchar' }> {
  return t.kind !== 'int';
}

/** The + operator: integer addition, or string concatenation (nvarchar if either side is). */
export function plus(a: Value, b: Value): Value {
  if (a.type.kind === 'int' || b.type.kind === 'int') {
    // int has the higher precedence: the string side is converted to int.
    const x = convert(a, INT).value as number | null;
    const y = convert(b, INT).value as number | null;
    return { type: INT, value: x === null || y === null ? null : x + y };
  }
  const kind = a.type.kind === 'nvarchar' || b.type.kind === 'nvarchar' ? 'nvarchar' : 'varchar';
  const la = isString(a.type) ? a.type.length : 1;
  const lb = isString(b.type) ? b.type.length : 1;
  const length = la === 'max' || lb === 'max' || la + lb > (kind === 'nvarchar' ? 4000 : 8000) ? 'max' : la + lb;
  if (a.value === null || b.value === null) return { type: { kind, length }, value: null };
  return { type: { kind, length }, value: String(a.value) + String(b.value) };
}

/** QUOTENAME's quote characters and the delimiters each stands for. */
const DELIMITERS: Readonly<Record<string, readonly [string, string]>> = {
  '[': ['[', ']'], ']': ['[', ']'], '"': ['"', '"'], "'": ["'", "'"], '(': ['(', ')'], ')': ['(', ')'],
  '<': ['<', '>'], '>': ['<', '>'], '{': ['{', '}'], '}': ['{', '}'], '`': ['`', '`'],
};

export function quotename(s: string | null, quote = '['): string | null {
  const d = DELIMITERS[quote];
  if (s === null || d === undefined || [...s].length > 128) return null;
  const [open, close] = d;
  return open + s.split(close).join(close + close) + close;
}

export interface FunctionContext {
  readonly loginName: string;
  readonly database: string;
  readonly serverName: string;
  /** Whether the caller holds a server permission (HAS_PERMS_BY_NAME's server scope). */
  hasServerPermission(permission: string): boolean;
  /** A login's principal id, or null when there is none (SUSER_ID). */
  principalId(login: string): number | null;
}

function str(v: Value | undefined): string | null {
  return v === undefined || v.value === null ? null : String(v.value);
}

function arity(name: string, args: readonly Value[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    throw new SqlError({ number: 174, state: 1, class: 15, message: `The ${name.toLowerCase()} function requires ${min === max ? min : `${min} to ${max}`} argument(s).` }, true);
  }
}

/** The built-in scalar functions the simulator knows; others are error 195, as SQL Server answers an unknown one. */
export function callFunction(name: string, args: readonly Value[], ctx: FunctionContext): Value {
  const upper = name.toUpperCase();
  switch (upper) {
    case 'QUOTENAME': {
      arity(upper, args, 1, 2);
      const q = args.length > 1 ? str(args[1]) : '[';
      return nvarchar(quotename(str(args[0]), q === null ? undefined : [...q][0]), 258);
    }
    case 'REPLACE': {
      arity(upper, args, 3, 3);
      const [s, find, by] = [str(args[0]), str(args[1]), str(args[2])];
      const kind = args.some((a) => a.type.kind === 'nvarchar') ? 'nvarchar' : 'varchar';
      // Under the default case-insensitive collation REPLACE finds its pattern in any case.
      const value = s === null || find === null || by === null ? null : find === '' ? s : s.replace(new RegExp(find.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'giu'), () => by);
      return { type: { kind, length: 'max' }, value };
    }
    case 'LEN': {
      arity(upper, args, 1, 1);
      const s = str(args[0]);
      return { type: INT, value: s === null ? null : [...s.replace(/ +$/, '')].length };
    }
    case 'SUSER_SNAME':
    case 'SUSER_NAME':
    case 'ORIGINAL_LOGIN':
      arity(upper, args, 0, upper === 'ORIGINAL_LOGIN' ? 0 : 1);
      return nvarchar(ctx.loginName, 128);
    case 'SUSER_ID': {
      // "SUSER_ID ( [ 'login' ] )": the login's identification number, NULL for a name that is no login.
      arity(upper, args, 0, 1);
      const name = args.length === 0 ? ctx.loginName : str(args[0]);
      return { type: INT, value: name === null ? null : ctx.principalId(name) };
    }
    case 'HAS_PERMS_BY_NAME': {
      // "HAS_PERMS_BY_NAME ( securable , securable_class , permission ...)": with securable and
      // class NULL the permission is checked at server scope; 1 held, 0 not, NULL for one unknown.
      arity(upper, args, 3, 5);
      const [securable, cls, permission] = [str(args[0]), str(args[1]), str(args[2])];
      if (securable !== null || (cls !== null && cls.toUpperCase() !== 'SERVER') || permission === null) {
        throw new SqlError({ number: 50000, state: 1, class: 16, message: 'The simulator answers HAS_PERMS_BY_NAME at server scope only.' });
      }
      const known = ['ALTER ANY LOGIN', 'CONTROL SERVER', 'VIEW SERVER STATE', 'CONNECT SQL'];
      const p = permission.trim().toUpperCase();
      return { type: INT, value: known.includes(p) ? (ctx.hasServerPermission(p) ? 1 : 0) : null };
    }
    case 'DB_NAME':
      arity(upper, args, 0, 1);
      return nvarchar(ctx.database, 128);
    case 'SERVERPROPERTY': {
      arity(upper, args, 1, 1);
      const p = str(args[0])?.toLowerCase();
      const props: Record<string, string> = { servername: ctx.serverName, productversion: '16.0.1000.6', edition: 'Developer Edition (64-bit)', engineedition: '3' };
      return nvarchar(p === undefined ? null : (props[p] ?? null), 128);
    }
    default:
      throw new SqlError({ number: 195, state: 10, class: 15, message: `'${name}' is not a recognized built-in function name.` }, true);
  }
}
