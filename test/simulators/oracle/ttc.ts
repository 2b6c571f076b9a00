/**
 * The TTC messages the simulator reads and writes, each as node-oracledb 26's Thin mode has the
 * other side of it (paths under node_modules/oracledb/lib/thin/):
 *
 * - protocol negotiation: protocol/messages/protocol.js (processProtocolInfo), protocol/capabilities.js;
 * - data types negotiation: protocol/messages/dataType.js;
 * - OALL8: protocol/messages/execute.js (writeExecuteMessage);
 * - the end of a call: protocol/messages/base.js (processErrorInfo, and STATUS in processMessage).
 *
 * Constants are protocol/constants.js's. The server is 19c: TTC field version 12
 * (TNS_CCAP_FIELD_VERSION_19_1), so the driver writes no pipelining tokens and reads no 20c error
 * fields.
 */
import { TtcReader, TtcWriter } from './wire.js';
import type { OracleError } from './users.js';

/** TTC message types (protocol/constants.js TNS_MSG_TYPE_*). */
export const Msg = { PROTOCOL: 1, DATA_TYPES: 2, FUNCTION: 3, ERROR: 4, PARAMETER: 8, STATUS: 9, PIGGYBACK: 17 } as const;
/** TTC function codes (TNS_FUNC_*). */
export const Fn = { AUTH_PHASE_ONE: 118, AUTH_PHASE_TWO: 115, EXECUTE: 94, REEXECUTE: 4, LOGOFF: 9, COMMIT: 14, ROLLBACK: 15, PING: 147, CLOSE_CURSORS: 105 } as const;
/** TNS_CCAP_FIELD_VERSION_19_1. */
const TTC_FIELD_VERSION = 12;
const EXEC_OPTION_PARSE = 0x01;
/** 19.3.0.0.0 in the 18.1+ layout connection.js _postConnect decodes. */
export const VERSION_NO = (19 << 24) | (3 << 16);

/** The TTC protocol negotiation answer (protocol.js processProtocolInfo). */
export function protocolAnswer(): Buffer {
  const fdo = Buffer.alloc(11);
  // processProtocolInfo reads the national character set at 6 + fdo[5] + fdo[6] + 3.
  fdo.writeUInt16BE(2000, 9);
  const compileCaps = Buffer.alloc(53);
  compileCaps[1] = 6; // TNS_CCAP_SQL_VERSION
  compileCaps[4] = 0x08 | 0x02 | 0x20 | 0x80; // TNS_CCAP_LOGON_TYPES: O5LOGON and the long identifier / password forms
  compileCaps[7] = TTC_FIELD_VERSION;
  const runtimeCaps = Buffer.alloc(7);
  runtimeCaps[0] = 2; // TNS_RCAP_COMPAT_81
  runtimeCaps[1] = 0x01; // TNS_RCAP_TZ_EX
  runtimeCaps[6] = 0x01 | 0x04; // TNS_RCAP_TTC_ZERO_COPY | TNS_RCAP_TTC_32K
  return new TtcWriter()
    .u8(Msg.PROTOCOL)
    .u8(6)
    .u8(0)
    .raw(Buffer.from('Linux x86_64 19.3.0.0.0\0', 'ascii'))
    .u16le(873)
    .u8(0)
    .u16le(0)
    .u16be(fdo.length)
    .raw(fdo)
    .bytesWithLength(compileCaps)
    .bytesWithLength(runtimeCaps)
    .toBuffer();
}

/**
 * The data types answer (dataType.js): with TZ_EX first DBTIMEZONE as an 11-byte INTERVAL DAY TO
 * SECOND (+00:00: hour and minute biased by 60), then the client's types echoed, ending with 0.
 */
export function dataTypesAnswer(r: TtcReader): Buffer {
  r.u16le();
  r.u16le();
  r.u8();
  r.bytesWithLength(); // the client's compile capabilities
  const clientRuntime = r.bytesWithLength() ?? Buffer.alloc(0);
  if (clientRuntime[1] === 0x01) r.bytes(11);
  const w = new TtcWriter().u8(Msg.DATA_TYPES);
  if (clientRuntime[1] === 0x01) w.raw(Buffer.from([0x80, 0, 0, 0, 60, 60, 0x80, 0, 0, 0, 0]));
  for (;;) {
    const type = r.u16be();
    if (type === 0) break;
    const conv = r.u16be();
    const rep = r.u16be();
    r.u16be();
    w.u16be(type).u16be(conv);
    if (conv !== 0) w.u16be(rep).u16be(0);
  }
  return w.u16be(0).toBuffer();
}

/** The STATUS message ending a call: UB4 call status, UB2 end-to-end sequence number. */
export function status(): Buffer {
  return new TtcWriter().u8(Msg.STATUS).int(0).int(0).toBuffer();
}

/** The end-of-call ERROR message (base.js processErrorInfo, TTC field version below 20.1), with error 0 on success. */
export function errorMessage(error: OracleError | undefined, cursor = 0): Buffer {
  const w = new TtcWriter().u8(Msg.ERROR);
  w.int(0).int(0).int(0); // call status, end-to-end sequence number, current row
  w.int(error ? Math.min(error.number, 0xffff) : 0).int(0).int(0); // error number, array element errors
  w.int(cursor).int(0); // cursor id, error position
  w.u8(0).u8(0).u8(0).u8(0).u8(0); // SQL type, fatal, flags, cursor options, UPI parameter
  w.u8(0); // warning flags
  w.int(0).int(0).u8(0).int(0).int(0); // rowid: rba, partition, (one byte), block, slot
  w.int(0).u8(0).u8(0).int(0).int(0); // OS error, statement error, call number, padding, success iterations
  w.int(0); // oerrdd
  w.int(0).int(0).int(0); // batch error codes, offsets, messages
  w.int(error?.number ?? 0).int(0); // error number (extended), row count
  if (error) w.str(`${error.message}\n`);
  return w.toBuffer();
}

export interface ExecuteCall {
  readonly options: number;
  readonly cursor: number;
  readonly binds: number;
  /** The statement, when the call parses one (EXEC_OPTION_PARSE). */
  readonly sql?: string;
}

/** OALL8 as writeExecuteMessage writes it, after the function header, at TTC field version 12 (with the 12.2 SQL signature and chunk id fields). */
export function parseExecute(r: TtcReader): ExecuteCall {
  const options = r.int(4);
  const cursor = r.int(4);
  r.u8();
  r.int(4); // SQL length
  r.u8();
  r.int(4); // al8i4 length
  r.u8();
  r.u8();
  r.u8();
  r.int(4); // prefetch rows
  r.int(4); // max long size
  r.u8();
  const binds = r.int(4);
  for (let i = 0; i < 5; i++) r.u8();
  r.u8();
  r.int(4); // defines
  r.int(4); // registration id (low)
  r.u8();
  r.u8();
  r.u8();
  r.int(4);
  r.u8();
  r.int(4);
  r.int(4); // registration id (high)
  r.u8();
  r.int(4);
  r.u8();
  r.u8();
  r.int(4);
  r.u8();
  r.int(4);
  r.u8();
  r.u8();
  r.int(4);
  const sql = options & EXEC_OPTION_PARSE ? (r.bytesWithLength() ?? Buffer.alloc(0)).toString('utf8') : undefined;
  return { options, cursor, binds, ...(sql !== undefined ? { sql } : {}) };
}
