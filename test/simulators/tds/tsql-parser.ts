/**
 * The T-SQL parser: a batch's statements (the grammar of each from Microsoft's T-SQL reference,
 * as far as the simulator takes it) and sp_executesql's parameter definitions. Undeclared and
 * redeclared variables are compile errors here, before anything runs, as in SQL Server.
 */
import { parseAlterLogin, type AlterLogin } from './alter-login.js';
import { SqlError, syntaxError, tokenize, Tokens, type Token } from './tsql-lexer.js';
import { INT, nvarchar, type SqlType, type Value } from './tsql-values.js';

export type Expr = { k: 'lit'; v: Value } | { k: 'var'; name: string } | { k: 'sysvar'; name: string } | { k: 'call'; name: string; args: Expr[] } | { k: 'plus'; a: Expr; b: Expr };

export interface ProcArg {
  readonly name?: string;
  readonly expr: Expr;
}

export type Statement =
  | { kind: 'set-option'; language?: string }
  | { kind: 'declare'; vars: { name: string; type: SqlType; init?: Expr }[] }
  | { kind: 'set-var'; name: string; expr: Expr }
  | { kind: 'select'; items: { expr: Expr; alias?: string; assign?: string }[] }
  | { kind: 'print'; expr: Expr }
  | { kind: 'use'; database: string }
  | { kind: 'exec-string'; expr: Expr }
  | { kind: 'exec-proc'; proc: string; args: ProcArg[] }
  | AlterLogin;

const STATEMENT_WORDS = new Set(['SELECT', 'SET', 'DECLARE', 'EXEC', 'EXECUTE', 'ALTER', 'PRINT', 'USE', 'FROM', 'WHERE']);

class Parser {
  readonly declared: Set<string>;
  constructor(
    readonly t: Tokens,
    declared: Iterable<string>,
  ) {
    this.declared = new Set(declared);
  }

  variable(tok: Token): string {
    const name = tok.value.toLowerCase();
    if (!this.declared.has(name)) throw new SqlError({ number: 137, state: 2, class: 15, message: `Must declare the scalar variable "${tok.value}".`, line: tok.line }, true);
    return name;
  }

  type(): SqlType {
    const name = this.t.identifier().toUpperCase();
    let length: number | 'max' = 1;
    if (this.t.acceptPunct('(')) {
      const n = this.t.next();
      if (n.kind === 'word' && n.value.toUpperCase() === 'MAX') length = 'max';
      else if (n.kind === 'number') length = Number(n.value);
      else throw syntaxError(n);
      this.t.expectPunct(')');
    }
    if (name === 'NVARCHAR' || name === 'NCHAR') return { kind: 'nvarchar', length };
    if (name === 'VARCHAR' || name === 'CHAR') return { kind: 'varchar', length };
    if (name === 'SYSNAME') return { kind: 'nvarchar', length: 128 };
    if (name === 'INT') return INT;
    throw new SqlError({ number: 2715, state: 3, class: 16, message: `Column, parameter, or variable #1: Cannot find data type ${name.toLowerCase()}.` }, true);
  }

  primary(): Expr {
    const tok = this.t.next();
    switch (tok.kind) {
      case 'string':
        return { k: 'lit', v: { type: { kind: 'varchar', length: Math.max(1, tok.value.length) }, value: tok.value } };
      case 'nstring':
        return { k: 'lit', v: nvarchar(tok.value) };
      case 'number':
        return { k: 'lit', v: { type: INT, value: Number(tok.value) } };
      case 'var':
        return { k: 'var', name: this.variable(tok) };
      case 'sysvar':
        return { k: 'sysvar', name: tok.value.toUpperCase() };
      case 'punct':
        if (tok.value === '(') {
          const e = this.expr();
          this.t.expectPunct(')');
          return e;
        }
        if (tok.value === '-' && this.t.peek().kind === 'number') return { k: 'lit', v: { type: INT, value: -Number(this.t.next().value) } };
        throw syntaxError(tok);
      case 'word':
        if (tok.value.toUpperCase() === 'NULL') return { k: 'lit', v: { type: INT, value: null } };
        if (this.t.acceptPunct('(')) {
          const args: Expr[] = [];
          if (!this.t.acceptPunct(')')) {
            do args.push(this.expr());
            while (this.t.acceptPunct(','));
            this.t.expectPunct(')');
          }
          return { k: 'call', name: tok.value, args };
        }
        throw syntaxError(tok);
      default:
        throw syntaxError(tok);
    }
  }

  expr(): Expr {
    let e = this.primary();
    while (this.t.acceptPunct('+')) e = { k: 'plus', a: e, b: this.primary() };
    return e;
  }

  /** A procedure argument: a constant or a variable, not an expression. */
  argument(): Expr {
    const tok = this.t.peek();
    if (!['string', 'nstring', 'number', 'var'].includes(tok.kind) && !this.t.isWord('NULL') && !(tok.kind === 'punct' && tok.value === '-')) throw syntaxError(tok);
    return this.primary();
  }

  procName(): string {
    let name = this.t.identifier();
    while (this.t.acceptPunct('.')) name = this.t.isPunct('.') ? name : this.t.identifier();
    return name;
  }

  execProc(): Statement {
    const proc = this.procName();
    const args: ProcArg[] = [];
    if (this.t.peek().kind !== 'end' && !this.t.isPunct(';') && !STATEMENT_WORDS.has(this.t.peek().value.toUpperCase())) {
      do {
        const tok = this.t.peek();
        if (tok.kind === 'var' && this.t.peek(1).kind === 'punct' && this.t.peek(1).value === '=') {
          this.t.next();
          this.t.next();
          args.push({ name: tok.value.toLowerCase(), expr: this.argument() });
        } else args.push({ expr: this.argument() });
        this.t.skipOutput();
      } while (this.t.acceptPunct(','));
    }
    return { kind: 'exec-proc', proc, args };
  }

  setOption(): Statement {
    if (this.t.acceptWord('TRANSACTION')) {
      this.t.expectWord('ISOLATION');
      this.t.expectWord('LEVEL');
      const levels = [['READ', 'COMMITTED'], ['READ', 'UNCOMMITTED'], ['REPEATABLE', 'READ'], ['SNAPSHOT'], ['SERIALIZABLE']];
      const level = levels.find((l) => l.every((w, i) => this.t.isWord(w, i)));
      if (!level) throw syntaxError(this.t.peek());
      level.forEach(() => this.t.next());
      return { kind: 'set-option' };
    }
    const names: string[] = [];
    do names.push(this.t.identifier().toUpperCase());
    while (this.t.acceptPunct(','));
    const v = this.t.next();
    if (v.kind === 'end' || (v.kind === 'punct' && v.value !== '-')) throw syntaxError(v);
    if (v.kind === 'punct') this.t.next();
    return names.includes('LANGUAGE') ? { kind: 'set-option', language: v.value } : { kind: 'set-option' };
  }

  statement(first: boolean): Statement {
    const tok = this.t.peek();
    if (tok.kind !== 'word') throw syntaxError(tok);
    const word = tok.value.toUpperCase();
    this.t.next();
    switch (word) {
      case 'SET': {
        const v = this.t.peek();
        if (v.kind !== 'var') return this.setOption();
        this.t.next();
        const name = this.variable(v);
        this.t.expectPunct('=');
        return { kind: 'set-var', name, expr: this.expr() };
      }
      case 'DECLARE': {
        const vars: { name: string; type: SqlType; init?: Expr }[] = [];
        do {
          const v = this.t.next();
          if (v.kind !== 'var') throw syntaxError(v);
          const name = v.value.toLowerCase();
          if (this.declared.has(name)) {
            throw new SqlError({ number: 134, state: 1, class: 15, message: `The variable name '${v.value}' has already been declared. Variable names must be unique within a query batch or stored procedure.` }, true);
          }
          this.t.acceptWord('AS');
          const type = this.type();
          const init = this.t.acceptPunct('=') ? this.expr() : undefined;
          this.declared.add(name);
          vars.push({ name, type, ...(init ? { init } : {}) });
        } while (this.t.acceptPunct(','));
        return { kind: 'declare', vars };
      }
      case 'SELECT': {
        const items: { expr: Expr; alias?: string; assign?: string }[] = [];
        do {
          const v = this.t.peek();
          if (v.kind === 'var' && this.t.peek(1).value === '=' && this.t.peek(1).kind === 'punct') {
            this.t.next();
            this.t.next();
            items.push({ assign: this.variable(v), expr: this.expr() });
            continue;
          }
          const expr = this.expr();
          const explicit = this.t.acceptWord('AS');
          const a = this.t.peek();
          const alias = (a.kind === 'quoted' || a.kind === 'string' || (a.kind === 'word' && !STATEMENT_WORDS.has(a.value.toUpperCase()))) && (explicit || a.kind !== 'string') ? (this.t.next(), a.value) : undefined;
          if (explicit && alias === undefined) throw syntaxError(a);
          items.push({ expr, ...(alias === undefined ? {} : { alias }) });
        } while (this.t.acceptPunct(','));
        if (this.t.isWord('FROM')) {
          this.t.next();
          throw new SqlError({ number: 208, state: 1, class: 16, message: `Invalid object name '${this.t.peek().value}'.` }, true);
        }
        return { kind: 'select', items };
      }
      case 'PRINT':
        return { kind: 'print', expr: this.expr() };
      case 'USE':
        return { kind: 'use', database: this.t.identifier() };
      case 'EXEC':
      case 'EXECUTE':
        if (this.t.acceptPunct('(')) {
          const expr = this.expr();
          this.t.expectPunct(')');
          return { kind: 'exec-string', expr };
        }
        return this.execProc();
      case 'ALTER':
        if (!this.t.acceptWord('LOGIN')) throw syntaxError(this.t.peek());
        return parseAlterLogin(this.t);
      default:
        // A procedure may be called without EXEC by the first statement of a batch.
        if (first && !STATEMENT_WORDS.has(word)) {
          this.t.back();
          return this.execProc();
        }
        throw syntaxError(tok);
    }
  }
}

/** The batch's statements; a compile error is thrown. */
export function parse(sql: string, declared: Iterable<string>): Statement[] {
  const t = new Tokens(tokenize(sql));
  const p = new Parser(t, declared);
  const out: Statement[] = [];
  while (t.acceptPunct(';'));
  while (t.peek().kind !== 'end') {
    out.push(p.statement(out.length === 0));
    while (t.acceptPunct(';'));
  }
  return out;
}

export /** sp_executesql's parameter definitions: `@name type [OUTPUT]`, separated by commas. */
function parseParameterDefinitions(text: string): { name: string; type: SqlType }[] {
  const t = new Tokens(tokenize(text));
  const p = new Parser(t, []);
  const defs: { name: string; type: SqlType }[] = [];
  if (t.peek().kind === 'end') return defs;
  do {
    const v = t.next();
    if (v.kind !== 'var') throw syntaxError(v);
    t.acceptWord('AS');
    defs.push({ name: v.value.toLowerCase(), type: p.type() });
    t.skipOutput();
  } while (t.acceptPunct(','));
  if (t.peek().kind !== 'end') throw syntaxError(t.peek());
  return defs;
}
