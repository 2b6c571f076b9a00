/**
 * The little Transact-SQL (ASE dialect) the simulator runs, parsed a whole batch first as ASE does
 * (a syntax error anywhere runs nothing):
 *
 * - `select <expr>[, …]` of string and integer literals, NULL, @parameters, @@version,
 *   @@servername, @@spid, suser_name(), suser_id([name]), proc_role('role'), show_role()
 *   (Reference Manual: Building Blocks, "System functions" and "Global variables");
 * - `set <option> on|off|<value>`;
 * - `[exec[ute]] sp_password caller_passwd, new_passwd [, loginame [, immediate]]`, positional or
 *   named (@caller_passwd, @new_passwd, @loginame, @immediate), where `exec` may be left out only for the
 *   batch's first statement (Reference Manual: Procedures, sp_password; Commands, execute);
 * - `alter login <name> with password <caller_password> modify password [immediately] <new_password>`
 *   (Reference Manual: Commands, alter login, ASE 15.7 and 16.0).
 *
 * Anything else is Msg 102 "Incorrect syntax near '…'.", an unknown procedure Msg 2812, a name
 * where a value goes Msg 207 "Invalid column name '…'." (there are no tables to select from).
 */
import { lex, SqlError, syntaxError, type Lexeme } from './lexer.js';
import type { Parameter } from './requests.js';
import type { Column, ServerMessage, Value } from './tokens.js';

export type Expr =
  | { readonly kind: 'literal'; readonly value: Value }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'global'; readonly name: string }
  /** A name where a value goes: a column, of which the simulator has none. */
  | { readonly kind: 'column'; readonly name: string }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[] };

export interface Argument {
  readonly name: string;
  readonly value: Expr;
}

export type Statement =
  | { readonly kind: 'select'; readonly items: readonly { readonly expr: Expr; readonly alias: string }[] }
  | { readonly kind: 'set'; readonly option: string; readonly value: string }
  | { readonly kind: 'exec'; readonly proc: string; readonly args: readonly Argument[] }
  | { readonly kind: 'alter login'; readonly login: string; readonly callerPassword: Expr; readonly newPassword: Expr; readonly immediately: boolean };

const STARTERS = new Set(['select', 'set', 'exec', 'execute', 'alter']);
/** Reserved words that cannot stand for a column (Reference Manual: Building Blocks, "Reserved words"; those the parser meets). */
const RESERVED = new Set(['from', 'where', 'as', 'login', 'with', 'password', 'modify', 'on', 'off', 'drop', 'create', 'go', 'and', 'or', 'not', 'order', 'group', 'into']);

class Parser {
  #i = 0;
  constructor(readonly lexemes: readonly Lexeme[]) {}

  get #peek(): Lexeme {
    return this.lexemes[this.#i]!;
  }
  #next(): Lexeme {
    return this.lexemes[this.#i++]!;
  }
  #word(): string | undefined {
    const l = this.#peek;
    return l.kind === 'ident' && !l.quoted ? l.text.toLowerCase() : undefined;
  }
  #fail(): never {
    const l = this.#peek;
    throw syntaxError(l.kind === 'end' ? (this.lexemes[this.#i - 1]?.text ?? '') : l.text);
  }
  #expectWord(w: string): void {
    if (this.#word() !== w) this.#fail();
    this.#i++;
  }
  #punct(p: string): boolean {
    if (this.#peek.kind === 'punct' && this.#peek.text === p) {
      this.#i++;
      return true;
    }
    return false;
  }

  batch(): Statement[] {
    const out: Statement[] = [];
    for (;;) {
      while (this.#punct(';'));
      if (this.#peek.kind === 'end') return out;
      out.push(this.#statement(out.length === 0));
    }
  }

  #statement(first: boolean): Statement {
    const w = this.#word();
    if (w === 'select') {
      this.#i++;
      return this.#select();
    }
    if (w === 'set') {
      this.#i++;
      const option = this.#word();
      if (!option) this.#fail();
      this.#i++;
      const v = this.#next();
      if (v.kind !== 'ident' && v.kind !== 'number' && v.kind !== 'string') this.#fail();
      return { kind: 'set', option, value: v.text.toLowerCase() };
    }
    if (w === 'exec' || w === 'execute') {
      this.#i++;
      return this.#exec();
    }
    if (w === 'alter') {
      this.#i++;
      return this.#alterLogin();
    }
    // A procedure called without exec: allowed as the first statement of a batch only.
    if (first && this.#peek.kind === 'ident' && !this.#peek.text.startsWith('@')) return this.#exec();
    this.#fail();
  }

  #select(): Statement {
    const items: { expr: Expr; alias: string }[] = [];
    do {
      const expr = this.#expr();
      let alias = '';
      if (this.#word() === 'as') {
        this.#i++;
        const a = this.#next();
        if (a.kind !== 'ident' && a.kind !== 'string') this.#fail();
        alias = a.text;
      } else if (this.#peek.kind === 'ident' && !STARTERS.has(this.#word() ?? '') && !this.#peek.text.startsWith('@') && this.#word() !== undefined) {
        alias = this.#next().text;
      }
      items.push({ expr, alias });
    } while (this.#punct(','));
    return { kind: 'select', items };
  }

  #expr(): Expr {
    const l = this.#next();
    if (l.kind === 'string') return { kind: 'literal', value: l.text };
    if (l.kind === 'number') return { kind: 'literal', value: Number(l.text) };
    if (l.kind === 'punct' && l.text === '-' && this.#peek.kind === 'number') return { kind: 'literal', value: -Number(this.#next().text) };
    if (l.kind === 'ident' && l.quoted) return { kind: 'column', name: l.text };
    if (l.kind === 'ident') {
      if (l.text.toLowerCase() === 'null') return { kind: 'literal', value: null };
      if (l.text.startsWith('@@')) return { kind: 'global', name: l.text.toLowerCase() };
      if (l.text.startsWith('@')) return { kind: 'param', name: l.text };
      if (this.#punct('(')) {
        const args: Expr[] = [];
        if (!this.#punct(')')) {
          do args.push(this.#expr());
          while (this.#punct(','));
          if (!this.#punct(')')) this.#fail();
        }
        return { kind: 'call', name: l.text.toLowerCase(), args };
      }
      if (!STARTERS.has(l.text.toLowerCase()) && !RESERVED.has(l.text.toLowerCase())) return { kind: 'column', name: l.text };
    }
    this.#i--;
    this.#fail();
  }

  /** A procedure argument: an expression, or a bare word taken as a character string, as ASE takes `sp_password "2tomato", sesame1, victoria`. */
  #argValue(): Expr {
    const l = this.#peek;
    if (l.kind === 'ident' && !l.text.startsWith('@') && l.text.toLowerCase() !== 'null' && this.lexemes[this.#i + 1]?.text !== '(') {
      this.#i++;
      return { kind: 'literal', value: l.text };
    }
    return this.#expr();
  }

  #exec(): Statement {
    const p = this.#next();
    if (p.kind !== 'ident' || p.text.startsWith('@')) {
      this.#i--;
      this.#fail();
    }
    let proc = p.text;
    // owner-qualified or database-qualified names: sybsystemprocs..sp_password, dbo.sp_password
    while (this.#peek.kind === 'punct' && this.#peek.text === '.') {
      this.#i++;
      if (this.#peek.kind === 'punct' && this.#peek.text === '.') continue;
      const n = this.#next();
      if (n.kind !== 'ident') this.#fail();
      proc = n.text;
    }
    const args: Argument[] = [];
    const more = (): boolean => {
      const l = this.#peek;
      if (l.kind === 'end' || (l.kind === 'punct' && l.text === ';')) return false;
      return !(l.kind === 'ident' && !l.quoted && STARTERS.has(l.text.toLowerCase()) && args.length > 0);
    };
    if (more()) {
      do {
        const l = this.#peek;
        if (l.kind === 'ident' && l.text.startsWith('@') && !l.text.startsWith('@@') && this.lexemes[this.#i + 1]?.text === '=') {
          this.#i += 2;
          args.push({ name: l.text, value: this.#argValue() });
        } else {
          if (args.some((a) => a.name)) this.#fail(); // positional after named
          args.push({ name: '', value: this.#argValue() });
        }
      } while (this.#punct(','));
    }
    return { kind: 'exec', proc, args };
  }

  #alterLogin(): Statement {
    this.#expectWord('login');
    const n = this.#next();
    if (n.kind !== 'ident' && n.kind !== 'string') {
      this.#i--;
      this.#fail();
    }
    this.#expectWord('with');
    this.#expectWord('password');
    const callerPassword = this.#argValue();
    this.#expectWord('modify');
    this.#expectWord('password');
    let immediately = false;
    if (this.#word() === 'immediately') {
      this.#i++;
      immediately = true;
    }
    const newPassword = this.#argValue();
    return { kind: 'alter login', login: n.text, callerPassword, newPassword, immediately };
  }
}

export function parseBatch(sql: string, quotedIdentifier: boolean): Statement[] {
  return new Parser(lex(sql, quotedIdentifier)).batch();
}

/** What a statement names, for dropNext and the connection record: a procedure, or the leading keyword(s). */
export function statementName(s: Statement): string {
  return s.kind === 'exec' ? s.proc : s.kind;
}

/** One statement's answer. */
export interface Outcome {
  readonly messages: readonly ServerMessage[];
  readonly result?: { readonly columns: readonly Column[]; readonly rows: readonly (readonly Value[])[] };
  readonly error: boolean;
  /** Set for a procedure: its return status. */
  readonly returnStatus?: number;
}

export const mustDeclare = (name: string): SqlError => new SqlError({ number: 137, severity: 15, state: 1, text: `Must declare variable '${name}'.` });

export function notFound(proc: string): SqlError {
  return new SqlError({
    number: 2812,
    severity: 16,
    state: 5,
    text: `Stored procedure '${proc}' not found. Specify owner.objectname or use sp_help to check whether the object exists (sp_help may produce lots of output).`,
  });
}

/** Binds an RPC's or a language request's parameters by name. */
export function parameterMap(parameters: readonly Parameter[]): Map<string, Value> {
  return new Map(parameters.filter((p) => p.name).map((p) => [p.name.toLowerCase(), p.value]));
}
