/**
 * A Transact-SQL batch parsed whole and then run, as SQL Server does: a compile error (syntax, an
 * undeclared variable) stops the batch before any statement runs; a run-time error of severity 16
 * ends its statement and the batch goes on. The statements are the ones clients send at connect and
 * the ones a password change is made of (Microsoft's T-SQL reference for each): SET options and
 * SET @variable, DECLARE, SELECT of expressions (with @variable = assignment), PRINT, USE,
 * EXEC (string) and EXEC procedure (sp_executesql), ALTER LOGIN (alter-login.ts). A variable lives
 * in its batch: EXEC (string) and sp_executesql run in a scope of their own, sp_executesql's with
 * the parameters its definition declares, bound to the values given, converted to their types.
 */
import { alterLogin, parseAlterLogin, type AlterLogin } from './alter-login.js';
import type { LoginStore, SqlLogin } from './logins.js';
import { SqlError, syntaxError, tokenize, Tokens, type Token } from './tsql-lexer.js';
import { callFunction, convert, INT, nvarchar, NVARCHAR_MAX, plus, type SqlType, type Value } from './tsql-values.js';
import { CurCmd, type Column, type ServerMessage, type SqlValue } from './tokens.js';

export interface Session {
  readonly login: SqlLogin;
  readonly store: LoginStore;
  database: string;
  readonly databases: readonly string[];
  readonly serverName: string;
  readonly version: string;
  readonly spid: number;
}

/** What one statement sends back, before it is put into tokens. */
export interface Outcome {
  readonly messages: readonly ServerMessage[];
  readonly result?: { readonly columns: readonly Column[]; readonly rows: readonly (readonly SqlValue[])[] };
  readonly database?: { readonly from: string; readonly to: string };
  readonly curCmd: number;
  readonly rowCount?: number;
  readonly error: boolean;
  /** Sent from inside a procedure or dynamic SQL (DONEINPROC rather than DONE). */
  readonly inProc: boolean;
}

type Expr = { k: 'lit'; v: Value } | { k: 'var'; name: string } | { k: 'sysvar'; name: string } | { k: 'call'; name: string; args: Expr[] } | { k: 'plus'; a: Expr; b: Expr };

interface ProcArg {
  readonly name?: string;
  readonly expr: Expr;
}

type Statement =
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
        this.t.acceptWord('OUTPUT') || this.t.acceptWord('OUT');
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
function parse(sql: string, declared: Iterable<string>): Statement[] {
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

type Scope = Map<string, Value>;

function evaluate(e: Expr, scope: Scope, s: Session): Value {
  switch (e.k) {
    case 'lit':
      return e.v;
    case 'var':
      return scope.get(e.name)!;
    case 'sysvar':
      if (e.name === '@@VERSION') return nvarchar(s.version, 300);
      if (e.name === '@@SPID') return { type: INT, value: s.spid };
      if (e.name === '@@SERVERNAME') return nvarchar(s.serverName, 128);
      if (e.name === '@@TRANCOUNT') return { type: INT, value: 0 };
      throw new SqlError({ number: 137, state: 2, class: 15, message: `Must declare the scalar variable "${e.name}".` }, true);
    case 'call':
      return callFunction(e.name, e.args.map((a) => evaluate(a, scope, s)), { loginName: s.login.name, database: s.database, serverName: s.serverName });
    case 'plus':
      return plus(evaluate(e.a, scope, s), evaluate(e.b, scope, s));
  }
}

const ok = (curCmd: number, inProc: boolean, extra: Partial<Outcome> = {}): Outcome => ({ messages: [], curCmd, error: false, inProc, ...extra });

function columnOf(name: string, v: Value): Column {
  return { name, type: v.type.kind === 'int' ? { kind: 'int' } : { kind: 'nvarchar', length: v.type.length === 'max' ? 4000 : v.type.length } };
}

function run(st: Statement, scope: Scope, s: Session, inProc: boolean): Outcome[] {
  switch (st.kind) {
    case 'set-option':
      return [ok(CurCmd.SET, inProc)];
    case 'declare':
      for (const v of st.vars) scope.set(v.name, convert(v.init ? evaluate(v.init, scope, s) : { type: v.type, value: null }, v.type));
      return [];
    case 'set-var':
      scope.set(st.name, convert(evaluate(st.expr, scope, s), scope.get(st.name)!.type));
      return [ok(CurCmd.SET, inProc)];
    case 'select': {
      if (st.items.some((i) => i.assign !== undefined)) {
        if (!st.items.every((i) => i.assign !== undefined)) {
          throw new SqlError({ number: 141, state: 1, class: 15, message: 'A SELECT statement that assigns a value to a variable must not be combined with data-retrieval operations.' }, true);
        }
        for (const i of st.items) scope.set(i.assign!, convert(evaluate(i.expr, scope, s), scope.get(i.assign!)!.type));
        return [ok(CurCmd.SELECT, inProc, { rowCount: 1 })];
      }
      const values = st.items.map((i) => evaluate(i.expr, scope, s));
      const columns = values.map((v, n) => columnOf(st.items[n]!.alias ?? '', v));
      return [ok(CurCmd.SELECT, inProc, { result: { columns, rows: [values.map((v) => v.value)] }, rowCount: 1 })];
    }
    case 'print': {
      const v = convert(evaluate(st.expr, scope, s), NVARCHAR_MAX);
      return [ok(CurCmd.OTHER, inProc, { messages: [{ number: 0, state: 1, class: 0, message: String(v.value ?? '') }] })];
    }
    case 'use': {
      const db = s.databases.find((d) => d.toLowerCase() === st.database.toLowerCase());
      if (!db) throw new SqlError({ number: 911, state: 1, class: 16, message: `Database '${st.database}' does not exist. Make sure that the name is entered correctly.` });
      const from = s.database;
      s.database = db;
      return [ok(CurCmd.OTHER, inProc, { database: { from, to: db }, messages: [{ number: 5701, state: 2, class: 0, message: `Changed database context to '${db}'.` }] })];
    }
    case 'exec-string': {
      const sql = evaluate(st.expr, scope, s).value;
      return [...runBatch(sql === null ? '' : String(sql), s, new Map(), true), ok(CurCmd.EXECUTE, inProc)];
    }
    case 'exec-proc':
      return [...execProc(st.proc, st.args.map((a) => ({ ...(a.name ? { name: a.name } : {}), value: evaluate(a.expr, scope, s) })), s), ok(CurCmd.EXECUTE, inProc)];
    case 'alter-login':
      alterLogin(st, s.login, s.store);
      return [ok(CurCmd.ALTER, inProc)];
  }
}

/** Runs a batch: its statements' outcomes in order. `scope` holds variables already bound (sp_executesql's parameters). */
export function runBatch(sql: string, s: Session, scope: Scope = new Map(), inProc = false): Outcome[] {
  let statements: Statement[];
  try {
    statements = parse(sql, scope.keys());
  } catch (e) {
    if (e instanceof SqlError) return [{ messages: [e.server], curCmd: CurCmd.OTHER, error: true, inProc }];
    throw e;
  }
  const out: Outcome[] = [];
  for (const st of statements) {
    try {
      out.push(...run(st, scope, s, inProc));
    } catch (e) {
      if (!(e instanceof SqlError)) throw e;
      out.push({ messages: [e.server], curCmd: CurCmd.OTHER, error: true, inProc });
      if (e.abortsBatch) break;
    }
  }
  return out;
}

export interface ProcArgValue {
  readonly name?: string;
  readonly value: Value;
}

/** A procedure called by EXEC or by an RPC request: sp_executesql is the one the simulator has. */
export function execProc(proc: string, args: readonly ProcArgValue[], s: Session): Outcome[] {
  if (proc.toLowerCase() !== 'sp_executesql') {
    throw new SqlError({ number: 2812, state: 62, class: 16, message: `Could not find stored procedure '${proc}'.` });
  }
  return spExecuteSql(args, s);
}

const mustBeNvarchar = (name: string) => new SqlError({ number: 214, state: 2, class: 16, message: `Procedure expects parameter '${name}' of type 'ntext/nchar/nvarchar'.`, procName: 'sp_executesql' });

/** sp_executesql [@stmt =] statement [, [@params =] N'@p type, ...' [, [@p =] value ...]] (learn.microsoft.com/sql/relational-databases/system-stored-procedures/sp-executesql-transact-sql). */
function spExecuteSql(args: readonly ProcArgValue[], s: Session): Outcome[] {
  const [stmt, params, ...values] = args;
  if (stmt === undefined) throw new SqlError({ number: 201, state: 4, class: 16, message: "Procedure or function 'sp_executesql' expects parameter '@statement', which was not supplied.", procName: 'sp_executesql' });
  if (stmt.value.type.kind !== 'nvarchar') throw mustBeNvarchar('@statement');
  const scope: Scope = new Map();
  if (params !== undefined) {
    if (params.value.type.kind !== 'nvarchar') throw mustBeNvarchar('@params');
    const defs = parseParameterDefinitions(String(params.value.value ?? ''));
    defs.forEach((d, i) => {
      const given = values.find((v) => v.name === d.name) ?? (values[i]?.name === undefined ? values[i] : undefined);
      if (!given) {
        throw new SqlError({ number: 8178, state: 1, class: 16, message: `The parameterized query '(${String(params.value.value)})${String(stmt.value.value).slice(0, 40)}' expects the parameter '${d.name}', which was not supplied.` });
      }
      scope.set(d.name, convert(given.value, d.type));
    });
  }
  return runBatch(stmt.value.value === null ? '' : String(stmt.value.value), s, scope, true);
}

/** sp_executesql's parameter definitions: `@name type [OUTPUT]`, separated by commas. */
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
    t.acceptWord('OUTPUT') || t.acceptWord('OUT');
  } while (t.acceptPunct(','));
  if (t.peek().kind !== 'end') throw syntaxError(t.peek());
  return defs;
}
