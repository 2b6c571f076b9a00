/**
 * The tokens a SQL Server answer is made of, per [MS-TDS] 2.2.7 (TDS 7.4): ENVCHANGE (2.2.7.9),
 * ERROR (2.2.7.10) and INFO (2.2.7.13), LOGINACK (2.2.7.14), COLMETADATA (2.2.7.4) and ROW (2.2.7.19)
 * for the result sets of simple SELECTs, RETURNSTATUS (2.2.7.18), and DONE / DONEPROC / DONEINPROC
 * (2.2.7.6 to 2.2.7.8).
 */
import { Writer } from './packets.js';

/** The collation SQL Server reports for SQL_Latin1_General_CP1_CI_AS ([MS-TDS] 2.2.5.1.2): LCID 0x0409, case- and width-insensitive flags, sort id 52. */
export const COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);

/** TDS 7.4 as LOGINACK carries it (big-endian, [MS-TDS] 2.2.7.14). */
export const TDS_7_4 = 0x74000004;

/** [MS-TDS] 2.2.7.6 DONE status bits. */
export const DoneStatus = { FINAL: 0x00, MORE: 0x01, ERROR: 0x02, COUNT: 0x10 } as const;

/** CURCMD values SQL Server puts in DONE tokens for the statements the simulator runs. */
export const CurCmd = { SELECT: 0xc1, SET: 0xb9, DECLARE: 0xe6, EXECUTE: 0xe0, ALTER: 0xd3, OTHER: 0 } as const;

const Token = {
  RETURNSTATUS: 0x79,
  COLMETADATA: 0x81,
  ERROR: 0xaa,
  INFO: 0xab,
  LOGINACK: 0xad,
  ROW: 0xd1,
  ENVCHANGE: 0xe3,
  SSPI: 0xed,
  DONE: 0xfd,
  DONEPROC: 0xfe,
  DONEINPROC: 0xff,
} as const;

/** A token with a USHORT length before its body. */
function sized(token: number, body: Buffer): Buffer {
  return new Writer().u8(token).u16(body.length).raw(body).done();
}

/** [MS-TDS] 2.2.7.22 SSPI: the server's security token (an NTLM CHALLENGE_MESSAGE). */
export function sspiToken(data: Buffer): Buffer {
  return sized(Token.SSPI, data);
}

/** [MS-TDS] 2.2.7.9 ENVCHANGE types used at login. */
export const EnvChange = { DATABASE: 1, LANGUAGE: 2, PACKET_SIZE: 4, SQL_COLLATION: 7 } as const;

export function envChange(type: 1 | 2 | 4, newValue: string, oldValue: string): Buffer {
  return sized(Token.ENVCHANGE, new Writer().u8(type).bVarchar(newValue).bVarchar(oldValue).done());
}

export function collationChange(newValue: Buffer): Buffer {
  return sized(Token.ENVCHANGE, new Writer().u8(EnvChange.SQL_COLLATION).bVarbyte(newValue).bVarbyte(Buffer.alloc(0)).done());
}

export interface ServerMessage {
  readonly number: number;
  readonly state: number;
  /** Severity: 10 and below is INFO, above is ERROR. */
  readonly class: number;
  readonly message: string;
  readonly procName?: string;
  readonly line?: number;
}

/** ERROR or INFO, by the message's class (severity), as SQL Server sends it. */
export function message(m: ServerMessage, serverName: string): Buffer {
  const body = new Writer()
    .i32(m.number)
    .u8(m.state)
    .u8(m.class)
    .usVarchar(m.message)
    .bVarchar(serverName)
    .bVarchar(m.procName ?? '')
    .i32(m.line ?? 1)
    .done();
  return sized(m.class > 10 ? Token.ERROR : Token.INFO, body);
}

/** LOGINACK for the T-SQL interface (1) and TDS 7.4; `version` is the server's major, minor and build. */
export function loginAck(progName: string, version: readonly [number, number, number]): Buffer {
  const w = new Writer().u8(1);
  const tds = Buffer.alloc(4);
  tds.writeUInt32BE(TDS_7_4);
  w.raw(tds).bVarchar(progName).u8(version[0]).u8(version[1]).u8(version[2] >> 8).u8(version[2] & 0xff);
  return sized(Token.LOGINACK, w.done());
}

function done(token: number, status: number, curCmd: number, rowCount = 0): Buffer {
  return new Writer().u8(token).u16(status).u16(curCmd).u64(BigInt(rowCount)).done();
}

export const doneToken = (status: number, curCmd: number, rowCount = 0) => done(Token.DONE, status, curCmd, rowCount);
export const doneProc = (status: number, curCmd: number, rowCount = 0) => done(Token.DONEPROC, status, curCmd, rowCount);
export const doneInProc = (status: number, curCmd: number, rowCount = 0) => done(Token.DONEINPROC, status, curCmd, rowCount);

export function returnStatus(value: number): Buffer {
  return new Writer().u8(Token.RETURNSTATUS).i32(value).done();
}

/** A column's value as the evaluator holds it: T-SQL strings and integers, or NULL. */
export type SqlValue = string | number | null;

export interface Column {
  readonly name: string;
  /** nvarchar(length) or int. */
  readonly type: { readonly kind: 'nvarchar'; readonly length: number } | { readonly kind: 'int' };
}

const NULLABLE = 0x0001;
const NVARCHAR = 0xe7;
const INTN = 0x26;

/** COLMETADATA then one ROW per row: NVARCHAR with its collation, INTN of 4 bytes. */
export function resultSet(columns: readonly Column[], rows: readonly (readonly SqlValue[])[]): Buffer {
  const w = new Writer().u8(Token.COLMETADATA).u16(columns.length);
  for (const c of columns) {
    w.u32(0).u16(NULLABLE);
    if (c.type.kind === 'nvarchar') w.u8(NVARCHAR).u16(Math.min(c.type.length, 4000) * 2).raw(COLLATION);
    else w.u8(INTN).u8(4);
    w.bVarchar(c.name);
  }
  for (const row of rows) {
    w.u8(Token.ROW);
    columns.forEach((c, i) => {
      const v = row[i] ?? null;
      if (c.type.kind === 'nvarchar') {
        if (v === null) w.u16(0xffff);
        else {
          const b = Buffer.from(String(v), 'utf16le');
          w.u16(b.length).raw(b);
        }
      } else if (v === null) w.u8(0);
      else w.u8(4).i32(Number(v));
    });
  }
  return w.done();
}
