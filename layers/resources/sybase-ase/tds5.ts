/**
 * A TDS 5.0 client: as much of SAP's "Tabular Data Stream (TDS) 5.0 Functional Specification"
 * (Sybase, version 3.8) as a password change needs, and nothing more. No well-kept Node driver for
 * SAP ASE exists (see README.md in this folder), so this one is written from the specification:
 *
 * - the packet header (type, status with 0x01 = last packet of a message, length big-endian,
 *   channel, packet number, window) and messages split into packets of the negotiated size;
 * - the login record (packet type TDS_BUF_LOGIN 0x02) with the integer byte order declared
 *   little-endian (lint2 = TDS_INT2_LSB_LO 3, lint4 = TDS_INT4_LSB_LO 1), so the server answers
 *   every integer in that order, followed by the TDS_CAPABILITY token (0xE2);
 * - TDS_LANGUAGE (0x21) and TDS_DBRPC (0xE6) requests in TDS_BUF_NORMAL (0x0F) messages, their
 *   parameters described by TDS_PARAMFMT (0xEC) and sent in TDS_PARAMS (0xD7), as VARCHAR;
 * - the answers' tokens: TDS_LOGINACK (0xAD), TDS_ENVCHANGE (0xE3), TDS_CAPABILITY, TDS_EED
 *   (0xE5) and the older TDS_ERROR/TDS_INFO (0xAA/0xAB), TDS_ROWFMT (0xEE) and TDS_ROW (0xD1),
 *   TDS_RETURNSTATUS (0x79), TDS_DONE/TDS_DONEPROC/TDS_DONEINPROC (0xFD/0xFE/0xFF), and the few
 *   others ASE sends around them, skipped by their length;
 * - TDS_LOGOUT (0x71) to end a session.
 *
 * The password travels in the login record's lpw field (at most 30 bytes) as ASE takes it when
 * password encryption is not required; TLS (`tls`) wraps the whole connection from its first
 * byte, as ASE's SSL listener expects. A server that requires password encryption ("net
 * password encryption reqd") answers the login with TDS_LOG_NEGOTIATE: that is reported, not
 * attempted. FreeTDS's src/tds/login.c (tds_send_login) served to check the login record's field
 * order against a client in use.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export const PacketType = { LANGUAGE: 0x01, LOGIN: 0x02, RESPONSE: 0x04, ATTENTION: 0x06, NORMAL: 0x0f } as const;

const Token = {
  PARAMFMT2: 0x20, LANGUAGE: 0x21, ORDERBY2: 0x22, ROWFMT2: 0x61, MSG: 0x65, LOGOUT: 0x71, RETURNSTATUS: 0x79,
  CONTROL: 0xae, TABNAME: 0xa4, COLINFO: 0xa5, OPTIONCMD: 0xa6, ORDERBY: 0xa9, ERROR: 0xaa, INFO: 0xab, LOGINACK: 0xad,
  ROW: 0xd1, PARAMS: 0xd7, CAPABILITY: 0xe2, ENVCHANGE: 0xe3, EED: 0xe5, DBRPC: 0xe6, PARAMFMT: 0xec, ROWFMT: 0xee,
  DONE: 0xfd, DONEPROC: 0xfe, DONEINPROC: 0xff,
} as const;

/** LOGINACK status (spec, TDS_LOGINACK). */
const LoginStatus = { SUCCEED: 5, FAIL: 6, NEGOTIATE: 7 } as const;
/** DONE status bits. */
const Done = { MORE: 0x0001, ERROR: 0x0002, COUNT: 0x0010, ATTN: 0x0020 } as const;
const ENV_PACKETSIZE = 4;

const HEADER = 8;
const LOGIN_PACKET = 512;
const MAX_MESSAGE = 16 * 1024 * 1024;
/** The login record's name fields hold 30 bytes (TDS_MAXNAME). */
export const MAX_NAME_BYTES = 30;
/** A VARCHAR parameter holds at most 255 bytes. */
const MAX_VARCHAR = 255;

/** Capability bits (spec, TDS_CAPABILITY: the request and response capability bit numbers). */
const REQUEST_CAPS = [
  1, // TDS_REQ_LANG
  2, // TDS_REQ_RPC
  9, // TDS_REQ_PARAM
  10, 11, 12, 13, // TDS_REQ_DATA_INT1, INT2, INT4, BIT
  14, 15, // TDS_REQ_DATA_CHAR, VCHAR
  28, // TDS_REQ_DATA_LCHAR
  30, // TDS_REQ_DATA_INTN
];
const RESPONSE_CAPS = [
  27, // TDS_RES_CON_NOOOB: no out-of-band attention
  29, // TDS_RES_PROTO_NOTEXT
  30, // TDS_RES_PROTO_NOBULK
  33, // TDS_RES_NOTDSDEBUG
];

/** A message from the server (TDS_EED, or TDS_ERROR/TDS_INFO). Severity above 10 is an error. */
export interface ServerMessage {
  readonly number: number;
  readonly state: number;
  readonly severity: number;
  readonly message: string;
  readonly sqlState?: string;
  readonly procedure?: string;
  readonly line: number;
}

export interface Tds5Result {
  readonly rows: readonly (readonly unknown[])[];
  readonly messages: readonly ServerMessage[];
  /** TDS_RETURNSTATUS of a procedure. */
  readonly returnStatus?: number;
}

/** The server refused the login (LOGINACK TDS_LOG_FAIL), with the messages it gave why. */
export class Tds5LoginRefused extends Error {
  readonly number: number | undefined;
  constructor(readonly messages: readonly ServerMessage[]) {
    const first = messages.find((m) => m.severity > 10) ?? messages[0];
    super(first ? `${first.message} (Msg ${first.number}, severity ${first.severity})` : 'the server refused the login without a message');
    this.name = 'Tds5LoginRefused';
    this.number = first?.number;
  }
}

/** The server asked for a security negotiation (password encryption, LOGINACK TDS_LOG_NEGOTIATE) this client does not do. */
export class Tds5NegotiationRequired extends Error {
  constructor() {
    super('the server requires password encryption (TDS_LOG_NEGOTIATE; ASE\'s "net password encryption reqd"), which this client does not do');
    this.name = 'Tds5NegotiationRequired';
  }
}

/** The connection ended before the server's answer was complete. */
export class Tds5ConnectionLost extends Error {
  readonly code = 'TDS5_CONNECTION_LOST';
  constructor(detail: string) {
    super(`connection lost: ${detail}`);
    this.name = 'Tds5ConnectionLost';
  }
}

/** The server sent what the specification does not allow here. */
export class Tds5ProtocolError extends Error {
  readonly code = 'TDS5_PROTOCOL';
  constructor(detail: string) {
    super(`TDS 5.0 protocol error: ${detail}`);
    this.name = 'Tds5ProtocolError';
  }
}

export interface Tds5ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** TLS from the first byte; the options of node:tls's connect (ca, servername, …). */
  readonly tls?: ConnectionOptions;
  readonly appName?: string;
  /** The packet size asked for; the server may answer another (ENVCHANGE). */
  readonly packetSize?: number;
}

/** A name field of the login record: the bytes, zero-padded to `size`, then their length. */
function loginString(value: string, size: number, field: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > size) throw new RangeError(`${field} is ${bytes.length} bytes; the TDS 5.0 login record holds at most ${size}`);
  const out = Buffer.alloc(size + 1);
  bytes.copy(out);
  out[size] = bytes.length;
  return out;
}

function capabilityBytes(type: number, bits: readonly number[]): Buffer {
  // The spec's bitmask is 14 bytes, the highest-numbered bits first.
  const values = Buffer.alloc(14);
  for (const bit of bits) values[13 - (bit >> 3)]! |= 1 << (bit & 7);
  return Buffer.concat([Buffer.from([type, values.length]), values]);
}

/** The login record and its capability token (spec, "Login Record"). Exported for its unit test. */
export function loginRecord(o: Tds5ConnectOptions, packetSize: number): Buffer {
  const password = Buffer.from(o.password, 'utf8');
  if (password.length > MAX_NAME_BYTES) throw new RangeError(`the password is ${password.length} bytes; the TDS 5.0 login record holds at most ${MAX_NAME_BYTES}`);
  // lrempw: a list of (server name, password) pairs; one with an empty server name applies to all.
  const rempw = Buffer.alloc(256);
  rempw[1] = password.length;
  password.copy(rempw, 2);
  rempw[255] = password.length + 2;
  const caps = Buffer.concat([capabilityBytes(1, REQUEST_CAPS), capabilityBytes(2, RESPONSE_CAPS)]);
  const capToken = Buffer.alloc(3);
  capToken[0] = Token.CAPABILITY;
  capToken.writeUInt16LE(caps.length, 1);
  return Buffer.concat([
    loginString('rpr', 30, 'lhostname'),
    loginString(o.user, 30, 'lusername'),
    loginString(o.password, 30, 'lpw'),
    loginString(String(process.pid), 30, 'lhostproc'),
    // lint2 LSB_LO, lint4 LSB_LO, lchar ASCII, lflt IEEE LSB_LO, ldate 8-byte LSB_LO, lusedb
    Buffer.from([3, 1, 6, 10, 9, 1]),
    // ldmpld (not bulk copy), linterfacespare, ltype, lbufsize (4), lspare (3)
    Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    loginString(o.appName ?? 'remote-password-reset', 30, 'lappname'),
    loginString('', 30, 'lservname'),
    rempw,
    Buffer.from([5, 0, 0, 0]), // ltds version
    loginString('rpr-tds5', 10, 'lprogname'),
    Buffer.from([5, 0, 0, 0]), // lprogvers
    Buffer.from([0, 13, 17]), // lnoshort, lflt4 IEEE LSB_LO, ldate4 LSB_LO
    loginString('', 30, 'llanguage'),
    Buffer.from([0]), // lsetlang
    Buffer.alloc(13), // loldsecure (2), lseclogin, lsecbulk, lhalogin, lhasessionid (6), lsecspare (2)
    loginString('utf8', 30, 'lcharset'),
    Buffer.from([1]), // lsetcharset: the server converts to the client's character set
    loginString(String(packetSize), 6, 'lpacketsize'),
    Buffer.alloc(4), // ldummy
    capToken,
    caps,
  ]);
}

/** Splits a message into packets of at most `size` bytes. Exported for its unit test. */
export function packets(type: number, payload: Buffer, size: number): Buffer[] {
  const room = size - HEADER;
  const out: Buffer[] = [];
  let number = 1;
  for (let at = 0; at === 0 || at < payload.length; at += room) {
    const chunk = payload.subarray(at, at + room);
    const header = Buffer.alloc(HEADER);
    header[0] = type;
    header[1] = at + room >= payload.length ? 0x01 : 0x00;
    header.writeUInt16BE(HEADER + chunk.length, 2);
    header[6] = number++ & 0xff;
    out.push(Buffer.concat([header, chunk]));
  }
  return out;
}

/** TDS_PARAMFMT and TDS_PARAMS for VARCHAR parameters (named, or positional when the name is ''). */
function parameterTokens(params: readonly { readonly name: string; readonly value: string }[]): Buffer {
  const formats: Buffer[] = [];
  const values: Buffer[] = [];
  for (const p of params) {
    const name = Buffer.from(p.name, 'utf8');
    const value = Buffer.from(p.value, 'utf8');
    if (value.length > MAX_VARCHAR) throw new RangeError(`parameter ${p.name || '(positional)'} is ${value.length} bytes; a VARCHAR parameter holds at most ${MAX_VARCHAR}`);
    // name, status (input), usertype (4), datatype VARCHAR, maximum length, locale length
    const f = Buffer.alloc(1 + name.length + 1 + 4 + 1 + 1 + 1);
    f[0] = name.length;
    name.copy(f, 1);
    f[1 + name.length + 5] = 0x27;
    f[1 + name.length + 6] = MAX_VARCHAR;
    formats.push(f);
    // A zero length is NULL in TDS 5.0; an empty string is sent as NULL, which no password is.
    values.push(Buffer.concat([Buffer.from([value.length]), value]));
  }
  const fmtBody = Buffer.concat([u16(params.length), ...formats]);
  return Buffer.concat([Buffer.from([Token.PARAMFMT]), u16(fmtBody.length), fmtBody, Buffer.from([Token.PARAMS]), ...values]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** A TDS_LANGUAGE request, its parameters after it. Exported for its unit test. */
export function languageRequest(sql: string, params: readonly { readonly name: string; readonly value: string }[] = []): Buffer {
  const text = Buffer.from(sql, 'utf8');
  const head = Buffer.concat([Buffer.from([Token.LANGUAGE]), u32(1 + text.length), Buffer.from([params.length ? 0x01 : 0x00]), text]);
  return params.length ? Buffer.concat([head, parameterTokens(params)]) : head;
}

/** A TDS_DBRPC request of a stored procedure with its parameters. Exported for its unit test. */
export function rpcRequest(proc: string, params: readonly { readonly name: string; readonly value: string }[]): Buffer {
  const name = Buffer.from(proc, 'utf8');
  const body = Buffer.concat([Buffer.from([name.length]), name, u16(params.length ? 0x0002 : 0x0000)]);
  const head = Buffer.concat([Buffer.from([Token.DBRPC]), u16(body.length), body]);
  return params.length ? Buffer.concat([head, parameterTokens(params)]) : head;
}

interface Column {
  readonly type: number;
}

/** Data types this client reads in rows (spec, "Datatypes"): fixed-length ones, with their sizes. */
const FIXED: Readonly<Record<number, number>> = { 0x30: 1, 0x34: 2, 0x38: 4, 0xbf: 8, 0x32: 1, 0x41: 2, 0x42: 4, 0x43: 8, 0x3b: 4, 0x3e: 8, 0x3d: 8, 0x3a: 4, 0x3c: 8, 0x7a: 4, 0x31: 4, 0x33: 4 };
/** Types with a one-byte length in the format and before each value. */
const SHORT_VAR = new Set([0x26, 0x2f, 0x27, 0x2d, 0x25, 0x6d, 0x6e, 0x6f, 0x68, 0x7b, 0x93, 0x44, 0x6a, 0x6c]);
/** Types with a four-byte length (LONGCHAR, LONGBINARY). */
const LONG_VAR = new Set([0xaf, 0xe1]);
const CHAR_TYPES = new Set([0x2f, 0x27, 0xaf]);
const INT_TYPES = new Set([0x30, 0x34, 0x38, 0x26, 0x41, 0x42, 0x44]);

/** Reads the tokens of one message. */
class TokenReader {
  at = 0;
  constructor(readonly buf: Buffer) {}

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  need(n: number): void {
    if (this.at + n > this.buf.length) throw new Tds5ProtocolError(`a token runs past the end of the message (${n} bytes wanted at ${this.at} of ${this.buf.length})`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.at);
    this.at += 2;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.at);
    this.at += 4;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }

  text(n: number): string {
    return this.bytes(n).toString('utf8');
  }

  /** The reader of a token's body of `n` bytes; this one moves past it. */
  body(n: number): TokenReader {
    return new TokenReader(this.bytes(n));
  }
}

/** What a message's tokens said. */
interface Parsed {
  rows: unknown[][];
  messages: ServerMessage[];
  returnStatus?: number;
  loginStatus?: number;
  packetSize?: number;
  doneError: boolean;
  attention: boolean;
}

function readMessage(r: TokenReader, severityFirst: boolean): ServerMessage {
  // TDS_EED: msgnumber, state, class, sqlstate, status, transtate, message, server, procedure, line.
  const number = r.i32();
  const state = r.u8();
  const severity = r.u8();
  if (severityFirst) {
    const sqlState = r.text(r.u8());
    r.u8(); // status
    r.u16(); // transtate
    const message = r.text(r.u16());
    r.text(r.u8()); // server name
    const procedure = r.text(r.u8());
    const line = r.u16();
    return { number, state, severity, message, line, ...(sqlState ? { sqlState } : {}), ...(procedure ? { procedure } : {}) };
  }
  // TDS_ERROR / TDS_INFO: no sqlstate, status or transtate.
  const message = r.text(r.u16());
  r.text(r.u8());
  const procedure = r.text(r.u8());
  const line = r.u16();
  return { number, state, severity, message, line, ...(procedure ? { procedure } : {}) };
}

function readFormat(r: TokenReader, wide: boolean): Column[] {
  const count = r.u16();
  const columns: Column[] = [];
  for (let i = 0; i < count; i++) {
    if (wide) for (let k = 0; k < 5; k++) r.bytes(r.u8()); // label, catalog, schema, table, column
    else r.bytes(r.u8()); // name
    if (wide) r.u32();
    else r.u8(); // status
    r.u32(); // usertype
    const type = r.u8();
    if (SHORT_VAR.has(type)) {
      r.u8();
      if (type === 0x6a || type === 0x6c) r.bytes(2); // precision, scale
    } else if (LONG_VAR.has(type)) r.u32();
    else if (FIXED[type] === undefined) throw new Tds5ProtocolError(`the server sent a column of data type 0x${type.toString(16)}, which this client does not read`);
    r.bytes(r.u8()); // locale
    columns.push({ type });
  }
  return columns;
}

function readValue(r: TokenReader, c: Column): unknown {
  const fixed = FIXED[c.type];
  const length = fixed ?? (LONG_VAR.has(c.type) ? r.u32() : r.u8());
  if (fixed === undefined && length === 0) return null;
  const raw = r.bytes(length);
  if (CHAR_TYPES.has(c.type)) return raw.toString('utf8');
  if (INT_TYPES.has(c.type)) {
    if (length === 1) return raw.readUInt8(0);
    if (length === 2) return c.type === 0x41 ? raw.readUInt16LE(0) : raw.readInt16LE(0);
    if (length === 4) return c.type === 0x42 ? raw.readUInt32LE(0) : raw.readInt32LE(0);
  }
  if (c.type === 0x32) return raw[0] !== 0;
  return Buffer.from(raw);
}

/** Parses one answer's tokens (spec, "Tokens"). Exported for its unit test. */
export function parseResponse(message: Buffer): Parsed {
  const r = new TokenReader(message);
  const out: Parsed = { rows: [], messages: [], doneError: false, attention: false };
  let columns: Column[] = [];
  let params: Column[] = [];
  while (!r.done) {
    const token = r.u8();
    switch (token) {
      case Token.LOGINACK: {
        const b = r.body(r.u16());
        out.loginStatus = b.u8();
        break;
      }
      case Token.ENVCHANGE: {
        const b = r.body(r.u16());
        while (!b.done) {
          const type = b.u8();
          const value = b.text(b.u8());
          b.text(b.u8());
          if (type === ENV_PACKETSIZE && /^\d+$/.test(value)) out.packetSize = Number(value);
        }
        break;
      }
      case Token.EED:
        out.messages.push(readMessage(r.body(r.u16()), true));
        break;
      case Token.ERROR:
      case Token.INFO:
        out.messages.push(readMessage(r.body(r.u16()), false));
        break;
      case Token.ROWFMT:
        columns = readFormat(r.body(r.u16()), false);
        break;
      case Token.ROWFMT2:
        columns = readFormat(r.body(r.u32()), true);
        break;
      case Token.PARAMFMT:
        params = readFormat(r.body(r.u16()), false);
        break;
      case Token.PARAMFMT2:
        params = readFormat(r.body(r.u32()), true);
        break;
      case Token.ROW:
        out.rows.push(columns.map((c) => readValue(r, c)));
        break;
      case Token.PARAMS:
        // Output parameters (and an EED's arguments): read and dropped, nothing here asks for them.
        for (const p of params) readValue(r, p);
        break;
      case Token.RETURNSTATUS:
        out.returnStatus = r.i32();
        break;
      case Token.DONE:
      case Token.DONEPROC:
      case Token.DONEINPROC: {
        const status = r.u16();
        r.u16(); // transtate
        r.u32(); // count
        if (status & Done.ERROR) out.doneError = true;
        if (status & Done.ATTN) out.attention = true;
        break;
      }
      case Token.CAPABILITY:
      case Token.TABNAME:
      case Token.COLINFO:
      case Token.OPTIONCMD:
      case Token.ORDERBY:
      case Token.CONTROL:
        r.bytes(r.u16());
        break;
      case Token.ORDERBY2:
        r.bytes(r.u32());
        break;
      case Token.MSG:
        r.bytes(r.u8());
        break;
      default:
        throw new Tds5ProtocolError(`unexpected token 0x${token.toString(16)} at byte ${r.at - 1}`);
    }
  }
  return out;
}

/** Reassembles messages from the packets arriving on a socket. */
class MessageStream {
  #buffer = Buffer.alloc(0);
  #parts: Buffer[] = [];
  #size = 0;
  #waiting: { resolve: (m: Buffer) => void; reject: (e: Error) => void } | undefined;
  #ready: Buffer[] = [];
  #ended: Error | undefined;

  constructor(socket: Socket) {
    socket.on('data', (d: Buffer) => this.#data(d));
    socket.on('error', (e) => this.#end(new Tds5ConnectionLost(e.message)));
    socket.on('close', () => this.#end(new Tds5ConnectionLost('the server closed the connection')));
  }

  #data(d: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, d]);
    while (this.#buffer.length >= HEADER) {
      const length = this.#buffer.readUInt16BE(2);
      if (length < HEADER) return this.#end(new Tds5ProtocolError(`a packet header gives length ${length}`));
      if (this.#buffer.length < length) return;
      const last = (this.#buffer[1]! & 0x01) !== 0;
      this.#parts.push(this.#buffer.subarray(HEADER, length));
      this.#size += length - HEADER;
      this.#buffer = this.#buffer.subarray(length);
      if (this.#size > MAX_MESSAGE) return this.#end(new Tds5ProtocolError(`an answer of more than ${MAX_MESSAGE} bytes`));
      if (last) {
        const message = Buffer.concat(this.#parts);
        this.#parts = [];
        this.#size = 0;
        const w = this.#waiting;
        this.#waiting = undefined;
        if (w) w.resolve(message);
        else this.#ready.push(message);
      }
    }
  }

  #end(e: Error): void {
    this.#ended ??= e;
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.reject(this.#ended);
  }

  next(): Promise<Buffer> {
    const ready = this.#ready.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }));
  }
}

/** One logged-in session. Requests run one at a time, as TDS allows. */
export class Tds5Connection {
  #broken = false;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly socket: Socket,
    private readonly stream: MessageStream,
    private packetSize: number,
  ) {
    socket.on('close', () => (this.#broken = true));
  }

  get broken(): boolean {
    return this.#broken;
  }

  /** Opens the connection (TLS first when asked) and logs in; rejects with Tds5LoginRefused when the server says no. */
  static async connect(o: Tds5ConnectOptions, signal?: AbortSignal): Promise<Tds5Connection> {
    const asked = o.packetSize ?? 2048;
    const record = loginRecord(o, asked);
    const socket = await open(o, signal);
    const connection = new Tds5Connection(socket, new MessageStream(socket), LOGIN_PACKET);
    const abort = () => connection.destroy();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      const answer = parseResponse(await connection.#send(PacketType.LOGIN, record));
      if (answer.loginStatus === LoginStatus.NEGOTIATE) throw new Tds5NegotiationRequired();
      if (answer.loginStatus !== LoginStatus.SUCCEED) throw new Tds5LoginRefused(answer.messages);
      connection.packetSize = answer.packetSize ?? LOGIN_PACKET;
      return connection;
    } catch (e) {
      connection.destroy();
      throw e;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  /** A language request; `params` are bound as VARCHAR and named in `sql` (`@name`). */
  language(sql: string, params: Readonly<Record<string, string>> = {}): Promise<Tds5Result> {
    const bound = Object.entries(params).map(([name, value]) => ({ name: `@${name}`, value }));
    return this.#request(languageRequest(sql, bound));
  }

  /** A stored procedure call with positional VARCHAR parameters. */
  rpc(proc: string, params: readonly string[]): Promise<Tds5Result> {
    return this.#request(rpcRequest(proc, params.map((value) => ({ name: '', value }))));
  }

  #request(payload: Buffer): Promise<Tds5Result> {
    const run = this.#queue.then(async () => {
      const p = parseResponse(await this.#send(PacketType.NORMAL, payload));
      return { rows: p.rows, messages: p.messages, ...(p.returnStatus === undefined ? {} : { returnStatus: p.returnStatus }) };
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #send(type: number, payload: Buffer): Promise<Buffer> {
    if (this.#broken) throw new Tds5ConnectionLost('the connection is closed');
    for (const p of packets(type, payload, this.packetSize)) this.socket.write(p);
    return this.stream.next();
  }

  /** Ends the session with TDS_LOGOUT and waits (briefly) for the server to close. */
  async close(): Promise<void> {
    if (this.#broken) return;
    try {
      await Promise.race([this.#send(PacketType.NORMAL, Buffer.from([Token.LOGOUT, 0])), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    } catch {
      // The server may close at once; the session is over either way.
    }
    this.destroy();
  }

  destroy(): void {
    this.#broken = true;
    this.socket.destroy();
  }
}

function open(o: Tds5ConnectOptions, signal: AbortSignal | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = o.tls ? tlsConnect({ host: o.host, port: o.port, ...o.tls }) : tcpConnect({ host: o.host, port: o.port });
    const fail = (e: Error) => {
      socket.destroy();
      signal?.removeEventListener('abort', aborted);
      reject(e);
    };
    const aborted = () => fail(new Tds5ConnectionLost('given up before the connection opened'));
    if (signal?.aborted) return aborted();
    signal?.addEventListener('abort', aborted, { once: true });
    socket.once('error', fail);
    socket.once(o.tls ? 'secureConnect' : 'connect', () => {
      socket.off('error', fail);
      signal?.removeEventListener('abort', aborted);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
