/**
 * TDS 5.0 packets and the integers inside them, per SAP's "Tabular Data Stream (TDS) 5.0 Functional
 * Specification" (chapter "The TDS packet": an 8-byte header of type, status, length, channel,
 * packet number and window; status 0x01 TDS_BUFSTAT_EOM marks a message's last packet) and SAP's
 * CT-Library header tdspublic.h (TDS_BUF_* types, TDS_HDR_* layout). The header's length is always
 * most significant byte first; every integer inside tokens follows the byte order the client
 * declared in the login record (lint2, lint4), both in what it sends and in what it is sent.
 */

/** tdspublic.h TDS_BUF_* message types. */
export const BufType = {
  LANG: 0x01,
  LOGIN: 0x02,
  RPC: 0x03,
  RESPONSE: 0x04,
  ATTN: 0x06,
  NORMAL: 0x0f,
} as const;

const HEADER = 8;
const EOM = 0x01;

export interface Message {
  readonly type: number;
  readonly data: Buffer;
  /** How many packets it came in. */
  readonly packets: number;
}

/** Reassembles messages from bytes split anywhere. */
export class MessageReader {
  #buffer = Buffer.alloc(0);
  #parts: Buffer[] = [];

  push(chunk: Buffer): Message[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const out: Message[] = [];
    while (this.#buffer.length >= HEADER) {
      const length = this.#buffer.readUInt16BE(2);
      if (length < HEADER) throw new Error(`TDS packet length ${length} is shorter than its header`);
      if (this.#buffer.length < length) break;
      const type = this.#buffer[0]!;
      const status = this.#buffer[1]!;
      this.#parts.push(this.#buffer.subarray(HEADER, length));
      this.#buffer = this.#buffer.subarray(length);
      if (status & EOM) {
        out.push({ type, data: Buffer.concat(this.#parts), packets: this.#parts.length });
        this.#parts = [];
      }
    }
    return out;
  }
}

/** `data` cut into packets of at most `size` bytes (header included), numbered from 1 modulo 256. */
export function packets(type: number, data: Buffer, size: number, channel = 0): Buffer {
  const room = size - HEADER;
  const out: Buffer[] = [];
  let n = 0;
  for (let at = 0; at < data.length || n === 0; at += room) {
    const part = data.subarray(at, at + room);
    const header = Buffer.alloc(HEADER);
    header[0] = type;
    header[1] = at + room >= data.length ? EOM : 0;
    header.writeUInt16BE(HEADER + part.length, 2);
    header.writeUInt16BE(channel, 4);
    header[6] = ++n & 0xff;
    out.push(header, part);
  }
  return Buffer.concat(out);
}

/** The client's declared byte orders (login record lint2: 2 = TDS_INT2_LSB_HI, 3 = TDS_INT2_LSB_LO; lint4: 0 = TDS_INT4_LSB_HI, 1 = TDS_INT4_LSB_LO). */
export interface ByteOrder {
  readonly int2LittleEndian: boolean;
  readonly int4LittleEndian: boolean;
}

export const LITTLE_ENDIAN: ByteOrder = { int2LittleEndian: true, int4LittleEndian: true };

/** Builds a token stream in the client's byte order. */
export class Writer {
  readonly #parts: Buffer[] = [];
  constructor(readonly order: ByteOrder) {}

  u8(v: number): this {
    this.#parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.order.int2LittleEndian) b.writeUInt16LE(v & 0xffff);
    else b.writeUInt16BE(v & 0xffff);
    this.#parts.push(b);
    return this;
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.order.int4LittleEndian) b.writeInt32LE(v | 0);
    else b.writeInt32BE(v | 0);
    this.#parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.order.int4LittleEndian) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    this.#parts.push(b);
    return this;
  }
  bytes(b: Buffer): this {
    this.#parts.push(b);
    return this;
  }
  /** A 1-byte length, then the UTF-8 bytes (cut at 255). */
  str8(s: string): this {
    const b = Buffer.from(s, 'utf8').subarray(0, 255);
    return this.u8(b.length).bytes(b);
  }
  /** A 2-byte length, then the UTF-8 bytes. */
  str16(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.u16(b.length).bytes(b);
  }
  get length(): number {
    return this.#parts.reduce((n, p) => n + p.length, 0);
  }
  done(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/** A token: its byte, a length of `lengthBytes` (2 or 4) in the client's order, then `body`. */
export function token(order: ByteOrder, type: number, body: Buffer, lengthBytes: 2 | 4 = 2): Buffer {
  const w = new Writer(order).u8(type);
  if (lengthBytes === 2) w.u16(body.length);
  else w.u32(body.length);
  return w.bytes(body).done();
}

/** Reads a client's token stream in its byte order. */
export class Reader {
  at = 0;
  constructor(
    readonly data: Buffer,
    readonly order: ByteOrder,
  ) {}

  #need(n: number): void {
    if (this.at + n > this.data.length) throw new Error('TDS token stream ends early');
  }
  get done(): boolean {
    return this.at >= this.data.length;
  }
  u8(): number {
    this.#need(1);
    return this.data[this.at++]!;
  }
  u16(): number {
    this.#need(2);
    const v = this.order.int2LittleEndian ? this.data.readUInt16LE(this.at) : this.data.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  i16(): number {
    const v = this.u16();
    return v >= 0x8000 ? v - 0x10000 : v;
  }
  i32(): number {
    this.#need(4);
    const v = this.order.int4LittleEndian ? this.data.readInt32LE(this.at) : this.data.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  u32(): number {
    return this.i32() >>> 0;
  }
  i64(): bigint {
    this.#need(8);
    const v = this.order.int4LittleEndian ? this.data.readBigInt64LE(this.at) : this.data.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.#need(n);
    const b = this.data.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
  str8(): string {
    return this.bytes(this.u8()).toString('utf8');
  }
}
