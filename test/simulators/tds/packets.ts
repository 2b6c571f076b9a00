/**
 * TDS packets and the data types tokens are made of, per Microsoft's [MS-TDS] open specification
 * (https://learn.microsoft.com/openspecs/windows_protocols/ms-tds/): 2.2.3 packet header (type,
 * status, big-endian length, SPID, packet id, window; a message is the packets up to the one whose
 * status carries END_OF_MESSAGE), 2.2.5.1 data type definitions (B_VARCHAR, US_VARCHAR: a length in
 * characters, then UTF-16LE).
 */

/** [MS-TDS] 2.2.3.1.1 packet types. */
export const PacketType = {
  SQL_BATCH: 0x01,
  RPC: 0x03,
  TABULAR_RESULT: 0x04,
  ATTENTION: 0x06,
  LOGIN7: 0x10,
  /** The client's SSPI message (an NTLM AUTHENTICATE_MESSAGE), [MS-TDS] 2.2.6.8. */
  SSPI: 0x11,
  PRELOGIN: 0x12,
} as const;

const HEADER = 8;
const END_OF_MESSAGE = 0x01;

export interface Message {
  readonly type: number;
  readonly data: Buffer;
}

/** Reassembles messages from bytes as they arrive (any split). */
export class MessageReader {
  #buffer = Buffer.alloc(0);
  #parts: Buffer[] = [];

  /** The messages `chunk` completes. */
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
      if (status & END_OF_MESSAGE) {
        out.push({ type, data: Buffer.concat(this.#parts) });
        this.#parts = [];
      }
    }
    return out;
  }

  /** Bytes received past the last whole packet (what a TLS switch must hand over). */
  takeRest(): Buffer {
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return rest;
  }
}

/** `data` as a message of `type`, cut into packets of at most `packetSize` bytes. */
export function packets(type: number, data: Buffer, packetSize: number, spid = 0): Buffer {
  const room = packetSize - HEADER;
  const out: Buffer[] = [];
  let id = 1;
  let offset = 0;
  do {
    const part = data.subarray(offset, offset + room);
    offset += part.length;
    const header = Buffer.alloc(HEADER);
    header[0] = type;
    header[1] = offset >= data.length ? END_OF_MESSAGE : 0;
    header.writeUInt16BE(HEADER + part.length, 2);
    header.writeUInt16BE(spid, 4);
    header[6] = id++ % 256;
    out.push(header, part);
  } while (offset < data.length);
  return Buffer.concat(out);
}

/** A growing little-endian buffer. */
export class Writer {
  #parts: Buffer[] = [];

  u8(v: number): this {
    return this.raw(Buffer.from([v & 0xff]));
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    return this.raw(b);
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.raw(b);
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return this.raw(b);
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return this.raw(b);
  }
  raw(b: Buffer): this {
    this.#parts.push(b);
    return this;
  }
  /** B_VARCHAR: a byte of length in characters, then UTF-16LE. */
  bVarchar(s: string): this {
    return this.u8(s.length).raw(Buffer.from(s, 'utf16le'));
  }
  /** US_VARCHAR: two bytes of length in characters, then UTF-16LE. */
  usVarchar(s: string): this {
    return this.u16(s.length).raw(Buffer.from(s, 'utf16le'));
  }
  /** B_VARBYTE. */
  bVarbyte(b: Buffer): this {
    return this.u8(b.length).raw(b);
  }
  get length(): number {
    return this.#parts.reduce((n, p) => n + p.length, 0);
  }
  done(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/** Reads a buffer front to back; a read past the end is a protocol error. */
export class Reader {
  constructor(
    readonly data: Buffer,
    public offset = 0,
  ) {}

  #need(n: number): void {
    if (this.offset + n > this.data.length) throw new Error(`TDS message ends ${this.offset + n - this.data.length} bytes early`);
  }
  u8(): number {
    this.#need(1);
    return this.data[this.offset++]!;
  }
  u16(): number {
    this.#need(2);
    const v = this.data.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }
  u32(): number {
    this.#need(4);
    const v = this.data.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  u64(): bigint {
    this.#need(8);
    const v = this.data.readBigUInt64LE(this.offset);
    this.offset += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.#need(n);
    const b = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }
  /** `n` UTF-16LE characters. */
  chars(n: number): string {
    return this.bytes(n * 2).toString('utf16le');
  }
  bVarchar(): string {
    return this.chars(this.u8());
  }
  usVarchar(): string {
    return this.chars(this.u16());
  }
  get atEnd(): boolean {
    return this.offset >= this.data.length;
  }
}

/**
 * [MS-TDS] 2.2.5.3 ALL_HEADERS, which SQLBatch and RPC requests start with in TDS 7.2 and later: a
 * DWORD total length (itself included), then the headers. Returns the offset just past them.
 */
export function skipAllHeaders(data: Buffer): number {
  if (data.length < 4) throw new Error('TDS request has no ALL_HEADERS');
  const total = data.readUInt32LE(0);
  if (total < 4 || total > data.length) throw new Error(`ALL_HEADERS length ${total} does not fit the request`);
  return total;
}
