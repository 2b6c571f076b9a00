/**
 * Transact-SQL lexing as SAP ASE documents it (Reference Manual: Building Blocks, "Identifiers",
 * "Character data types" and "set quoted_identifier"): a string literal is enclosed in single
 * quotes, or in double quotes while quoted_identifier is off (the default); the enclosing quote is
 * written twice inside it. With quoted_identifier on, "…" is an identifier. Brackets […] delimit an
 * identifier either way. Comments are -- to the end of the line and /* … *\/. An identifier starts
 * with a letter, _, @ or #, and goes on with letters, digits, _, @, # and $.
 * An unterminated string is Msg 105 "Unclosed quote before the character string '%.*s'.".
 */
import type { ServerMessage } from './tokens.js';

export type Lexeme =
  | { readonly kind: 'string'; readonly text: string; readonly at: number }
  | { readonly kind: 'ident'; readonly text: string; readonly quoted: boolean; readonly at: number }
  | { readonly kind: 'number'; readonly text: string; readonly at: number }
  | { readonly kind: 'punct'; readonly text: string; readonly at: number }
  | { readonly kind: 'end'; readonly text: ''; readonly at: number };

export class SqlError extends Error {
  constructor(readonly server: ServerMessage) {
    super(server.text);
  }
}

export const syntaxError = (near: string): SqlError => new SqlError({ number: 102, severity: 15, state: 1, text: `Incorrect syntax near '${near}'.`, sqlState: '42000' });

const START = /[A-Za-z_@#\u0080-\uffff]/u;
const PART = /[A-Za-z0-9_@#$\u0080-\uffff]/u;

function quoted(sql: string, at: number, close: string): { text: string; end: number } {
  let text = '';
  let i = at + 1;
  for (;;) {
    const c = sql[i];
    if (c === undefined) throw new SqlError({ number: 105, severity: 15, state: 1, text: `Unclosed quote before the character string '${sql.slice(at + 1)}'.`, sqlState: '42000' });
    if (c === close) {
      if (sql[i + 1] === close) {
        text += close;
        i += 2;
        continue;
      }
      return { text, end: i + 1 };
    }
    text += c;
    i++;
  }
}

export function lex(sql: string, quotedIdentifier: boolean): Lexeme[] {
  const out: Lexeme[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/u.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === "'" || (c === '"' && !quotedIdentifier)) {
      const q = quoted(sql, i, c);
      out.push({ kind: 'string', text: q.text, at: i });
      i = q.end;
    } else if (c === '"' || c === '[') {
      const q = quoted(sql, i, c === '[' ? ']' : '"');
      out.push({ kind: 'ident', text: q.text, quoted: true, at: i });
      i = q.end;
    } else if (/[0-9]/u.test(c)) {
      const m = /^[0-9]+/u.exec(sql.slice(i))![0];
      out.push({ kind: 'number', text: m, at: i });
      i += m.length;
    } else if (START.test(c)) {
      let j = i + 1;
      while (j < sql.length && PART.test(sql[j]!)) j++;
      out.push({ kind: 'ident', text: sql.slice(i, j), quoted: false, at: i });
      i = j;
    } else {
      out.push({ kind: 'punct', text: c, at: i });
      i++;
    }
  }
  out.push({ kind: 'end', text: '', at: sql.length });
  return out;
}
