/**
 * Transact-SQL's lexical rules as the simulator needs them, from Microsoft's T-SQL reference
 * (learn.microsoft.com/sql/t-sql/): string literals in single quotes with '' for a quote, N'' for
 * Unicode ("Constants", "nchar and nvarchar"); delimited identifiers in brackets with ]] for a
 * closing bracket, or in double quotes under QUOTED_IDENTIFIER ON ("Database identifiers"); @local
 * and @@system variables; line comments (--) and nested block comments.
 */
import type { ServerMessage } from './tokens.js';

export type TokenKind = 'string' | 'nstring' | 'word' | 'quoted' | 'var' | 'sysvar' | 'number' | 'punct' | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** The text as written. */
  readonly text: string;
  /** Strings and identifiers without their quotes and escapes; words as written. */
  readonly value: string;
  readonly line: number;
}

/** A T-SQL error raised at a point of a batch: what SQL Server would send as ERROR. */
export class SqlError extends Error {
  constructor(
    readonly server: ServerMessage,
    /** Compile errors stop the whole batch; run-time errors (severity 16) only their statement. */
    readonly abortsBatch = false,
  ) {
    super(server.message);
  }
}

export function syntaxError(near: Token): SqlError {
  const what = near.kind === 'end' ? 'end of batch' : near.text.length > 128 ? near.text.slice(0, 128) : near.text;
  return new SqlError({ number: 102, state: 1, class: 15, message: `Incorrect syntax near '${what}'.`, line: near.line }, true);
}

const WORD_START = /[\p{L}_#]/u;
const WORD_PART = /[\p{L}\p{N}_@$#]/u;

/** Reads to the closing `close`, where a doubled `close` stands for itself; undefined when unclosed. */
function delimited(sql: string, start: number, close: string): { value: string; end: number } | undefined {
  let value = '';
  let i = start;
  for (;;) {
    const j = sql.indexOf(close, i);
    if (j < 0) return undefined;
    value += sql.slice(i, j);
    if (sql[j + 1] === close) {
      value += close;
      i = j + 2;
    } else return { value, end: j + 1 };
  }
}

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const push = (kind: TokenKind, end: number, value: string) => {
    const text = sql.slice(i, end);
    out.push({ kind, text, value, line });
    line += text.split('\n').length - 1;
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (sql.startsWith('--', i)) {
      const j = sql.indexOf('\n', i);
      i = j < 0 ? sql.length : j;
    } else if (sql.startsWith('/*', i)) {
      let depth = 0;
      let j = i;
      do {
        if (sql.startsWith('/*', j)) {
          depth++;
          j += 2;
        } else if (sql.startsWith('*/', j)) {
          depth--;
          j += 2;
        }
        else if (j >= sql.length) throw new SqlError({ number: 113, state: 1, class: 15, message: "Missing end comment mark '*/'.", line }, true);
        else {
          if (sql[j] === '\n') line++;
          j++;
        }
      } while (depth > 0);
      i = j;
    } else if (c === "'" || ((c === 'N' || c === 'n') && sql[i + 1] === "'")) {
      const n = c !== "'";
      const d = delimited(sql, i + (n ? 2 : 1), "'");
      if (!d) {
        const rest = sql.slice(i + (n ? 2 : 1));
        throw new SqlError({ number: 105, state: 1, class: 15, message: `Unclosed quotation mark after the character string '${rest}'.`, line }, true);
      }
      push(n ? 'nstring' : 'string', d.end, d.value);
    } else if (c === '[' || c === '"') {
      const d = delimited(sql, i + 1, c === '[' ? ']' : '"');
      if (!d) throw new SqlError({ number: 105, state: 1, class: 15, message: `Unclosed quotation mark after the character string '${sql.slice(i + 1)}'.`, line }, true);
      push('quoted', d.end, d.value);
    } else if (c === '@') {
      const sys = sql[i + 1] === '@';
      let j = i + (sys ? 2 : 1);
      while (j < sql.length && WORD_PART.test(sql[j]!)) j++;
      push(sys ? 'sysvar' : 'var', j, sql.slice(i, j));
    } else if (/[0-9]/.test(c)) {
      let j = i;
      while (j < sql.length && /[0-9]/.test(sql[j]!)) j++;
      push('number', j, sql.slice(i, j));
    } else if (WORD_START.test(c)) {
      let j = i;
      while (j < sql.length && WORD_PART.test(sql[j]!)) j++;
      push('word', j, sql.slice(i, j));
    } else push('punct', i + 1, c);
  }
  out.push({ kind: 'end', text: '', value: '', line });
  return out;
}

/** A cursor over a batch's tokens. */
export class Tokens {
  #i = 0;
  constructor(readonly list: readonly Token[]) {}

  peek(ahead = 0): Token {
    return this.list[Math.min(this.#i + ahead, this.list.length - 1)]!;
  }
  next(): Token {
    const t = this.peek();
    if (t.kind !== 'end') this.#i++;
    return t;
  }
  /** Steps back over the token just read. */
  back(): void {
    if (this.#i > 0) this.#i--;
  }
  /** The next token is the keyword `word` (any case). */
  isWord(word: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'word' && t.value.toUpperCase() === word;
  }
  isPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.value === p;
  }
  acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.next();
    return true;
  }
  /** Skips an OUTPUT (or OUT) marker, which makes no difference to the simulator. */
  skipOutput(): void {
    if (!this.acceptWord('OUTPUT')) this.acceptWord('OUT');
  }
  acceptPunct(p: string): boolean {
    if (!this.isPunct(p)) return false;
    this.next();
    return true;
  }
  expectWord(word: string): void {
    if (!this.acceptWord(word)) throw syntaxError(this.peek());
  }
  expectPunct(p: string): void {
    if (!this.acceptPunct(p)) throw syntaxError(this.peek());
  }
  /** An identifier: a regular one, or delimited. */
  identifier(): string {
    const t = this.peek();
    if (t.kind !== 'word' && t.kind !== 'quoted') throw syntaxError(t);
    this.next();
    return t.value;
  }
}
