/**
 * A Transact-SQL batch parsed whole and then run, as SQL Server does: a compile error (syntax, an
 * undeclared variable) stops the batch before any statement runs; a run-time error of severity 16
 * ends its statement and the batch goes on. The statements are the ones clients send at connect and
 * the ones a password change is made of (Microsoft's T-SQL reference for each): SET options and
 * SET @variable, DECLARE, SELECT of expressions (with @variable = assignment), PRINT, USE,
 * EXEC (string) and EXEC procedure (sp_executesql), ALTER LOGIN (alter-login.ts), parsed by
 * tsql-parser.ts and run here. A variable lives
 * in its batch: EXEC (string) and sp_executesql run in a scope of their own, sp_executesql's with
 * the parameters its definition declares, bound to the values given, converted to their types.
 */
import { alterLogin } from './alter-login.js';
import type { LoginStore, SqlLogin } from './logins.js';
import { SqlError } from './tsql-lexer.js';
import { parse, parseParameterDefinitions, type Expr, type Statement } from './tsql-parser.js';
import { callFunction, convert, INT, nvarchar, NVARCHAR_MAX, plus, type Value } from './tsql-values.js';
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
      return callFunction(e.name, e.args.map((a) => evaluate(a, scope, s)), {
        loginName: s.login.name,
        database: s.database,
        serverName: s.serverName,
        hasServerPermission: (p) => p === 'CONNECT SQL' || (p === 'ALTER ANY LOGIN' && s.login.alterAnyLogin),
        principalId: (name) => s.store.get(name)?.principalId ?? null,
      });
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
