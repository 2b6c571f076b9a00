/**
 * The server's TDS 5.0 tokens, per the TDS 5.0 Functional Specification's token reference pages and
 * the values in SAP's tdspublic.h: TDS_LOGINACK (0xAD; status TDS_LOG_SUCCEED 5 / TDS_LOG_FAIL 6,
 * TDS version, program name and version), TDS_ENVCHANGE (0xE3; TDS_ENV_DB 1, TDS_ENV_LANG 2,
 * TDS_ENV_CHARSET 3, TDS_ENV_PACKSIZE 4, each new then old value), TDS_CAPABILITY (0xE2),
 * TDS_EED (0xE5; msgnumber, state, class, sqlstate, status, transtate, message, server, procedure,
 * line), TDS_ROWFMT (0xEE) and TDS_ROW (0xD1), TDS_RETURNSTATUS (0x79), TDS_DONE (0xFD) /
 * TDS_DONEPROC (0xFE) / TDS_DONEINPROC (0xFF) with TDS_DONE_* status bits. Every integer is written
 * in the byte order the client declared (wire.ts).
 */
import { token, Writer, type ByteOrder } from './wire.js';

export const Token = {
  LANGUAGE: 0x21,
  PARAMFMT2: 0x20,
  LOGOUT: 0x71,
  RETURNSTATUS: 0x79,
  LOGINACK: 0xad,
  ROW: 0xd1,
  PARAMS: 0xd7,
  CAPABILITY: 0xe2,
  ENVCHANGE: 0xe3,
  EED: 0xe5,
  DBRPC: 0xe6,
  DBRPC2: 0xe8,
  PARAMFMT: 0xec,
  ROWFMT: 0xee,
  DONE: 0xfd,
  DONEPROC: 0xfe,
  DONEINPROC: 0xff,
} as const;

export const Done = { FINAL: 0x0000, MORE: 0x0001, ERROR: 0x0002, INXACT: 0x0004, PROC: 0x0008, COUNT: 0x0010, ATTN: 0x0020, EVENT: 0x0040 } as const;

export const LOG_SUCCEED = 5;
export const LOG_FAIL = 6;

/** A server message as ASE numbers it (an EED). */
export interface ServerMessage {
  readonly number: number;
  readonly severity: number;
  readonly state?: number;
  readonly text: string;
  readonly procedure?: string;
  readonly line?: number;
  readonly sqlState?: string;
}

export function loginAck(order: ByteOrder, status: number, version: readonly number[]): Buffer {
  const body = new Writer(order)
    .u8(status)
    .bytes(Buffer.from([5, 0, 0, 0]))
    .str8('sql server')
    .bytes(Buffer.from(version))
    .done();
  return token(order, Token.LOGINACK, body);
}

export function envChange(order: ByteOrder, type: number, now: string, before: string): Buffer {
  return token(order, Token.ENVCHANGE, new Writer(order).u8(type).str8(now).str8(before).done());
}

export function capability(order: ByteOrder, body: Buffer): Buffer {
  return token(order, Token.CAPABILITY, body);
}

export function eed(order: ByteOrder, m: ServerMessage, serverName: string, transtate = 0): Buffer {
  const body = new Writer(order)
    .i32(m.number)
    .u8(m.state ?? 1)
    .u8(m.severity)
    .str8(m.sqlState ?? (m.severity > 10 ? 'ZZZZZ' : '00000'))
    .u8(0) // TDS_NO_EED: no extended parameters follow
    .u16(transtate)
    .str16(m.text)
    .str8(serverName)
    .str8(m.procedure ?? '')
    .u16(m.line ?? 1)
    .done();
  return token(order, Token.EED, body);
}

/** TDS_DONE TranState: TDS_NOT_IN_TRAN 0, TDS_TRAN_IN_PROGRESS 1, TDS_TRAN_COMPLETED 2, TDS_TRAN_FAIL 3, TDS_TRAN_STMT_FAIL 4. */
export const TRAN_COMPLETED = 2;

/**
 * DONE / DONEPROC / DONEINPROC. The simulator has no transactions: every command completes, and
 * ASE says so with TDS_TRAN_COMPLETED (SAP's go-ase driver, tds/login.go and its query path, checks
 * for exactly that after a login, a logout and a query).
 */
export function done(order: ByteOrder, status: number, count = 0, type: number = Token.DONE): Buffer {
  return new Writer(order).u8(type).u16(status).u16(TRAN_COMPLETED).i32(count).done();
}

export function returnStatus(order: ByteOrder, value: number): Buffer {
  return new Writer(order).u8(Token.RETURNSTATUS).i32(value).done();
}

export type Value = string | number | null;

export interface Column {
  readonly name: string;
  readonly type: 'varchar' | 'int';
}

const TDS_VARCHAR = 0x27;
const TDS_INTN = 0x26;
const TDS_LONGCHAR = 0xaf;
const ROW_NULLALLOWED = 0x20;

/** ROWFMT and one ROW per row: strings as VARCHAR(255) (LONGCHAR when a value is longer), integers as INTN(4), both nullable. */
export function resultSet(order: ByteOrder, columns: readonly Column[], rows: readonly (readonly Value[])[]): Buffer {
  const long = columns.map((_, i) => rows.some((r) => typeof r[i] === 'string' && Buffer.byteLength(r[i] as string) > 255));
  const fmt = new Writer(order).u16(columns.length);
  columns.forEach((c, i) => {
    fmt.str8(c.name).u8(ROW_NULLALLOWED);
    if (c.type === 'int') fmt.i32(13).u8(TDS_INTN).u8(4);
    else if (long[i]) fmt.i32(2).u8(TDS_LONGCHAR).i32(0x7fffffff);
    else fmt.i32(2).u8(TDS_VARCHAR).u8(255);
    fmt.u8(0); // no locale
  });
  const out = [token(order, Token.ROWFMT, fmt.done())];
  for (const r of rows) {
    const w = new Writer(order).u8(Token.ROW);
    columns.forEach((c, i) => {
      const v = r[i] ?? null;
      if (c.type === 'int') {
        if (v === null) w.u8(0);
        else w.u8(4).i32(Number(v));
      } else if (v === null) {
        if (long[i]) w.i32(0);
        else w.u8(0);
      } else {
        const b = Buffer.from(String(v), 'utf8');
        if (long[i]) w.i32(b.length).bytes(b);
        else w.u8(b.length).bytes(b);
      }
    });
    out.push(w.done());
  }
  return Buffer.concat(out);
}
