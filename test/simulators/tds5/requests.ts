/**
 * The client's requests in a TDS_BUF_NORMAL message, per the TDS 5.0 Functional Specification's
 * token pages and tdspublic.h: TDS_LANGUAGE (0x21; 4-byte length, status TDS_LANGUAGE_HASARGS 0x01,
 * then the text), TDS_DBRPC (0xE6; 2-byte length, 1-byte name length, name, 2-byte options with
 * TDS_RPC_PARAMS 0x02) and TDS_DBRPC2 (0xE8; as DBRPC with a 2-byte name length), each optionally
 * followed by TDS_PARAMFMT (0xEC; 2-byte length, 1-byte status per parameter) or TDS_PARAMFMT2
 * (0x20; 4-byte length, 4-byte status) and TDS_PARAMS (0xD7), whose values are laid out as in a
 * TDS_ROW. TDS_LOGOUT (0x71) ends the session. FreeTDS's src/tds/query.c (tds_submit_query,
 * tds5_put_params) is what a real client sends.
 */
import { Token, type Value } from './tokens.js';
import { Reader, type ByteOrder } from './wire.js';

export interface Parameter {
  /** With its '@', or '' when positional. */
  readonly name: string;
  readonly value: Value;
  readonly output: boolean;
}

export type Request =
  | { readonly kind: 'language'; readonly text: string; readonly parameters: readonly Parameter[] }
  | { readonly kind: 'rpc'; readonly proc: string; readonly parameters: readonly Parameter[] }
  | { readonly kind: 'logout' };

interface Format {
  readonly name: string;
  readonly output: boolean;
  readonly type: number;
}

/** Data types whose formats carry a 1-byte maximum length and whose values a 1-byte length. */
const LEN1 = new Set([0x2f /* CHAR */, 0x27 /* VARCHAR */, 0x26 /* INTN */, 0x2d /* BINARY */, 0x25 /* VARBINARY */, 0x44 /* UINTN */, 0x67 /* NVARCHAR (TDS_SENSITIVITY slot, as FreeTDS's SYBNVARCHAR) */]);
/** ... with 4-byte lengths. */
const LEN4 = new Set([0xaf /* LONGCHAR */, 0xe1 /* LONGBINARY */]);
const FIXED: Record<number, number> = { 0x30: 1, 0x34: 2, 0x38: 4, 0xbf: 8, 0x32: 1, 0x41: 2, 0x42: 4 };
const TEXTUAL = new Set([0x2f, 0x27, 0xaf, 0x67]);

function formats(r: Reader, wide: boolean): Format[] {
  const count = r.u16();
  const out: Format[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.str8();
    const status = wide ? r.u32() : r.u8();
    const usertype = r.i32();
    const type = r.u8();
    if (LEN1.has(type)) r.u8();
    else if (LEN4.has(type)) r.u32();
    else if (FIXED[type] === undefined) throw new Error(`parameter data type 0x${type.toString(16)} not simulated`);
    r.bytes(r.u8()); // locale
    // LONGBINARY with usertype 34/35 is UNICHAR/UNIVARCHAR (UTF-16), as ASE sends them.
    out.push({ name, output: (status & 0x01) !== 0, type: type === 0xe1 && (usertype === 34 || usertype === 35) ? -1 : type });
  }
  return out;
}

function value(r: Reader, f: Format): Value {
  if (f.type === -1) {
    const n = r.u32();
    return n === 0 ? null : r.bytes(n).toString('utf16le');
  }
  if (LEN4.has(f.type) || LEN1.has(f.type)) {
    const n = LEN4.has(f.type) ? r.u32() : r.u8();
    if (n === 0) return null;
    const b = r.bytes(n);
    if (TEXTUAL.has(f.type)) return b.toString('utf8');
    if (f.type === 0x26 || f.type === 0x44) return intOf(new Reader(b, r.order), n, f.type === 0x44);
    return b.toString('hex');
  }
  return intOf(r, FIXED[f.type]!, f.type >= 0x41 && f.type <= 0x43);
}

function intOf(r: Reader, n: number, unsigned: boolean): number {
  if (n === 1) return r.u8();
  if (n === 2) return unsigned ? r.u16() : r.i16();
  if (n === 4) return unsigned ? r.u32() : r.i32();
  return Number(r.i64());
}

function parameters(r: Reader): Parameter[] {
  if (r.done) return [];
  const t = r.u8();
  if (t !== Token.PARAMFMT && t !== Token.PARAMFMT2) throw new Error(`expected PARAMFMT, got 0x${t.toString(16)}`);
  const wide = t === Token.PARAMFMT2;
  const len = wide ? r.u32() : r.u16();
  const fmts = formats(new Reader(r.bytes(len), r.order), wide);
  if (r.u8() !== Token.PARAMS) throw new Error('expected PARAMS');
  return fmts.map((f) => ({ name: f.name, output: f.output, value: value(r, f) }));
}

export function parseRequest(data: Buffer, order: ByteOrder): Request {
  const r = new Reader(data, order);
  const t = r.u8();
  if (t === Token.LANGUAGE) {
    const len = r.u32();
    const body = new Reader(r.bytes(len), order);
    const status = body.u8();
    const text = body.bytes(len - 1).toString('utf8');
    return { kind: 'language', text, parameters: status & 0x01 ? parameters(r) : [] };
  }
  if (t === Token.DBRPC || t === Token.DBRPC2) {
    const len = r.u16();
    const body = new Reader(r.bytes(len), order);
    const proc = body.bytes(t === Token.DBRPC ? body.u8() : body.u16()).toString('utf8');
    const options = body.u16();
    return { kind: 'rpc', proc, parameters: options & 0x02 ? parameters(r) : [] };
  }
  if (t === Token.LOGOUT) return { kind: 'logout' };
  throw new Error(`request token 0x${t.toString(16)} not simulated`);
}
