/**
 * Oracle Net (TNS) packets and the TTC encodings inside them, the server's side of what
 * node-oracledb 26's Thin mode reads and writes:
 *
 * - node_modules/oracledb/lib/thin/sqlnet/packet.js (ConnectPacket, AcceptPacket, RefusePacket) and
 *   sqlnet/constants.js for the offsets: a packet header is length, checksum, type, flags, header
 *   checksum (8 bytes); from TNS version 315 on ("large SDU") the length is 4 bytes and the checksum
 *   goes; a DATA packet adds 2 bytes of data flags.
 * - node_modules/oracledb/lib/thin/sqlnet/ntTcp.js: the length is 2 bytes until the ACCEPT, 4 after.
 * - node_modules/oracledb/lib/impl/datahandlers/buffer.js and lib/thin/protocol/packet.js for the
 *   TTC integers (UB2/UB4/UB8: a length byte, then that many big-endian bytes; the length's top bit
 *   is the sign), byte strings (a length byte, or 0xFE and UB4-prefixed chunks ending with a 0) and
 *   key/value pairs.
 */

/** TNS packet types (sqlnet/constants.js NSPT*). */
export const PacketType = { CONNECT: 1, ACCEPT: 2, REFUSE: 4, DATA: 6, MARKER: 12, CONTROL: 14 } as const;

/** Data flag: the client is closing (NSPDAFEOF). */
export const DATA_FLAG_EOF = 0x0040;

export interface Packet {
  readonly type: number;
  readonly flags: number;
  /** The whole packet, header included. */
  readonly buf: Buffer;
}

/** Splits a byte stream into TNS packets; `largeSdu` once the ACCEPT has said so. */
export class PacketReader {
  #pending = Buffer.alloc(0);
  largeSdu = false;

  push(chunk: Buffer): Packet[] {
    this.#pending = Buffer.concat([this.#pending, chunk]);
    const out: Packet[] = [];
    while (this.#pending.length >= 8) {
      const len = this.largeSdu ? this.#pending.readUInt32BE(0) : this.#pending.readUInt16BE(0);
      if (len < 8) throw new Error(`TNS packet length ${len} is shorter than its header`);
      if (this.#pending.length < len) break;
      const buf = this.#pending.subarray(0, len);
      out.push({ type: buf[4]!, flags: buf[5]!, buf });
      this.#pending = this.#pending.subarray(len);
    }
    return out;
  }
}

function header(type: number, length: number, largeSdu: boolean, flags = 0): Buffer {
  const h = Buffer.alloc(8);
  if (largeSdu) h.writeUInt32BE(length, 0);
  else h.writeUInt16BE(length, 0);
  h[4] = type;
  h[5] = flags;
  return h;
}

/** A DATA packet: header, data flags, payload. */
export function dataPacket(payload: Buffer, largeSdu: boolean, dataFlags = 0): Buffer {
  const flags = Buffer.alloc(2);
  flags.writeUInt16BE(dataFlags, 0);
  return Buffer.concat([header(PacketType.DATA, 10 + payload.length, largeSdu), flags, payload]);
}

export interface ConnectRequest {
  readonly version: number;
  readonly sdu: number;
  readonly tdu: number;
  /** The connect descriptor, when it came inside the CONNECT packet (at most 230 bytes). */
  readonly connectData?: string;
  readonly connectDataLength: number;
}

/** The CONNECT packet's fields (ConnectPacket: version at 8, connect data length at 24, offset at 26, large SDU/TDU at 58/62). */
export function parseConnect(buf: Buffer): ConnectRequest {
  const version = buf.readUInt16BE(8);
  const length = buf.readUInt16BE(24);
  const offset = buf.readUInt16BE(26);
  const sdu = buf.length >= 66 ? buf.readUInt32BE(58) : buf.readUInt16BE(14);
  const tdu = buf.length >= 66 ? buf.readUInt32BE(62) : buf.readUInt16BE(16);
  const inline = length > 0 && buf.length >= offset + length;
  return { version, sdu, tdu, connectDataLength: length, ...(inline ? { connectData: buf.toString('ascii', offset, offset + length) } : {}) };
}

/** TNS version 319 (TNS_VERSION_DESIRED): large SDU (315+) and accept flags (318+). */
export const TNS_VERSION = 319;

/**
 * The ACCEPT packet (AcceptPacket): version at 8, options at 10, SDU/TDU at 12/14 (and 4-byte at
 * 32/36 from 315), NA flags at 22/23, compression at 40, accept flags at 41. NA flag 0x08 is
 * "no NA services linked", so the client skips the Advanced Networking Option exchange (ANO.js);
 * accept flags 0: neither end-of-request markers nor fast authentication.
 */
export function acceptPacket(sdu: number, tdu: number): Buffer {
  const body = Buffer.alloc(45);
  body.writeUInt16BE(TNS_VERSION, 8);
  body.writeUInt16BE(0x0001, 10);
  body.writeUInt16BE(Math.min(sdu, 0xffff), 12);
  body.writeUInt16BE(Math.min(tdu, 0xffff), 14);
  body.writeUInt16BE(1, 16);
  body.writeUInt16BE(0, 18);
  body.writeUInt16BE(45, 20);
  body[22] = 0x00;
  body[23] = 0x08;
  body.writeUInt32BE(sdu, 32);
  body.writeUInt32BE(tdu, 36);
  body[40] = 0;
  body.writeUInt32BE(0, 41);
  header(PacketType.ACCEPT, body.length, false).copy(body, 0);
  return body;
}

/** A REFUSE packet carrying Oracle's "(DESCRIPTION=(ERR=n)…)" text, which the driver reads for 12514 / 12505. */
export function refusePacket(text: string): Buffer {
  const data = Buffer.from(text, 'ascii');
  const body = Buffer.alloc(12 + data.length);
  body[8] = 1;
  body[9] = 0;
  body.writeUInt16BE(data.length, 10);
  data.copy(body, 12);
  header(PacketType.REFUSE, body.length, false).copy(body, 0);
  return body;
}

/** A read past the end of a TTC message. */
export class ShortMessageError extends Error {}

/** Reads TTC values from one message payload (the bytes after the data flags). */
export class TtcReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get left(): number {
    return this.buf.length - this.pos;
  }

  bytes(n: number): Buffer {
    if (n > this.left) throw new ShortMessageError(`TTC message ends ${n - this.left} bytes early`);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  u8(): number {
    return this.bytes(1)[0]!;
  }

  u16be(): number {
    return this.bytes(2).readUInt16BE(0);
  }

  u16le(): number {
    return this.bytes(2).readUInt16LE(0);
  }

  /** UB1/UB2/UB4/UB8 and their signed forms: a length byte (top bit: negative), then the value. */
  int(max = 8): number {
    let size = this.u8();
    if (size === 0) return 0;
    const negative = (size & 0x80) !== 0;
    size &= 0x7f;
    if (size > max) throw new Error(`TTC integer of ${size} bytes where at most ${max} fit`);
    const b = this.bytes(size);
    let v = 0;
    for (const x of b) v = v * 256 + x;
    return negative ? -v : v;
  }

  /** Bytes with a length: 0 (or 0xFF) is null, 0xFE starts chunks each prefixed by a UB4, ending with 0. */
  bytesWithLength(): Buffer | undefined {
    const n = this.u8();
    if (n === 0 || n === 0xff) return undefined;
    if (n !== 0xfe) return Buffer.from(this.bytes(n));
    const parts: Buffer[] = [];
    for (let c = this.int(4); c !== 0; c = this.int(4)) parts.push(Buffer.from(this.bytes(c)));
    return Buffer.concat(parts);
  }

  /** A key/value pair as writeKeyValue writes it: UB4 key length, key, UB4 value length, value if any, UB4 flags. */
  keyValue(): { key: string; value: Buffer; flags: number } {
    this.int(4);
    const key = (this.bytesWithLength() ?? Buffer.alloc(0)).toString('utf8');
    const valueLength = this.int(4);
    const value = valueLength > 0 ? (this.bytesWithLength() ?? Buffer.alloc(0)) : Buffer.alloc(0);
    const flags = this.int(4);
    return { key, value, flags };
  }
}

/** Writes TTC values into one message payload. */
export class TtcWriter {
  readonly #parts: Buffer[] = [];

  raw(b: Buffer): this {
    this.#parts.push(Buffer.from(b));
    return this;
  }

  u8(n: number): this {
    return this.raw(Buffer.from([n & 0xff]));
  }

  u16be(n: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n, 0);
    return this.raw(b);
  }

  u16le(n: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n, 0);
    return this.raw(b);
  }

  u32be(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return this.raw(b);
  }

  /** A variable-length integer, as writeUB4/writeSB4 write it (1, 2, 4 or 8 value bytes). */
  int(n: number): this {
    const sign = n < 0 ? 0x80 : 0;
    const v = Math.abs(n);
    if (v === 0) return this.u8(0);
    if (v <= 0xff) return this.u8(1 | sign).u8(v);
    if (v <= 0xffff) return this.u8(2 | sign).u16be(v);
    if (v <= 0xffffffff) return this.u8(4 | sign).u32be(v);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(v), 0);
    return this.u8(8 | sign).raw(b);
  }

  bytesWithLength(b: Buffer): this {
    if (b.length <= 252) return this.u8(b.length).raw(b);
    this.u8(0xfe);
    for (let i = 0; i < b.length; i += 32767) {
      const chunk = b.subarray(i, i + 32767);
      this.int(chunk.length).raw(chunk);
    }
    return this.int(0);
  }

  str(s: string): this {
    return this.bytesWithLength(Buffer.from(s, 'utf8'));
  }

  /** A returned parameter as AuthMessage.processReturnParameter reads it: UB4 key length, key, UB4 value length, value, UB4 flags. */
  keyValue(key: string, value: string, flags = 0): this {
    const k = Buffer.from(key, 'utf8');
    const v = Buffer.from(value, 'utf8');
    this.int(k.length).bytesWithLength(k).int(v.length);
    if (v.length > 0) this.bytesWithLength(v);
    return this.int(flags);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.#parts);
  }
}
