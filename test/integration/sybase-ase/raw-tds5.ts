// A raw TDS 5.0 client for the simulator's tests, written from SAP's "Tabular Data Stream (TDS) 5.0
// Functional Specification" (TDS_LOGINREC, the packet header, TDS_LANGUAGE, TDS_DBRPC/DBRPC2,
// TDS_PARAMFMT/PARAMFMT2/TDS_PARAMS) for what tsql cannot show: byte order, packet splits, RPCs.
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import type { AseSimulator } from '../../simulators/tds5/server.js';

export interface Order {
  readonly little: boolean;
}

function u16(o: Order, v: number): Buffer {
  const b = Buffer.alloc(2);
  if (o.little) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}
function i32(o: Order, v: number): Buffer {
  const b = Buffer.alloc(4);
  if (o.little) b.writeInt32LE(v);
  else b.writeInt32BE(v);
  return b;
}
const r16 = (o: Order, b: Buffer, at: number): number => (o.little ? b.readUInt16LE(at) : b.readUInt16BE(at));
const r32 = (o: Order, b: Buffer, at: number): number => (o.little ? b.readInt32LE(at) : b.readInt32BE(at));

/** A fixed-width login record field followed by its length byte. */
function fixed(s: string, width: number): Buffer {
  const b = Buffer.alloc(width + 1);
  const v = Buffer.from(s, 'utf8').subarray(0, width);
  v.copy(b);
  b[width] = v.length;
  return b;
}

/** The 568-byte TDS_LOGINREC and a CAPABILITY token. */
export function loginRecord(o: Order, user: string, password: string, packetSize = 512): Buffer {
  const pw = Buffer.from(password, 'utf8');
  const rempw = Buffer.alloc(256);
  rempw[0] = 0;
  rempw[1] = pw.length;
  pw.copy(rempw, 2);
  rempw[255] = pw.length + 2;
  const rec = Buffer.concat([
    fixed('testhost', 30),
    fixed(user, 30),
    fixed(password, 30),
    fixed('4242', 30),
    Buffer.from([o.little ? 3 : 2, o.little ? 1 : 0, 6, o.little ? 10 : 4, o.little ? 9 : 8, 1, 0, 0, 0]),
    Buffer.alloc(7),
    fixed('rawclient', 30),
    fixed('SIMULATOR', 30),
    rempw,
    Buffer.from([5, 0, 0, 0]),
    fixed('rawlib', 10),
    Buffer.from([5, 0, 0, 0]),
    Buffer.from([0, o.little ? 13 : 12, o.little ? 17 : 16]),
    fixed('', 30),
    Buffer.from([0]), // lsetlang
    Buffer.alloc(13), // loldsecure 2, lseclogin, lsecbulk, lhalogin, lhasessionid 6, lsecspare 2
    fixed('', 30),
    Buffer.from([0]),
    fixed(String(packetSize), 6),
    Buffer.alloc(4),
  ]);
  const caps = Buffer.from([1, 2, 0x00, 0x02, 2, 1, 0x00]);
  return Buffer.concat([rec, Buffer.from([0xe2]), u16(o, caps.length), caps]);
}

export function packetsOf(type: number, data: Buffer, size: number): Buffer {
  const out: Buffer[] = [];
  for (let at = 0, n = 1; at < data.length; at += size - 8, n++) {
    const part = data.subarray(at, at + size - 8);
    const h = Buffer.from([type, at + size - 8 >= data.length ? 1 : 0, 0, 0, 0, 0, n, 0]);
    h.writeUInt16BE(part.length + 8, 2);
    out.push(h, part);
  }
  return Buffer.concat(out);
}

/** TDS_PARAMFMT (or, wide, TDS_PARAMFMT2) of VARCHAR(255) parameters, then their TDS_PARAMS. */
export function params(o: Order, list: readonly { name: string; value: string }[], wide = false): Buffer {
  const fmts = list.map((p) => Buffer.concat([Buffer.from([p.name.length]), Buffer.from(p.name), wide ? i32(o, 0) : Buffer.from([0]), i32(o, 2), Buffer.from([0x27, 255, 0])]));
  const fmt = Buffer.concat([u16(o, list.length), ...fmts]);
  const values = list.map((p) => {
    const v = Buffer.from(p.value, 'utf8');
    return Buffer.concat([Buffer.from([v.length]), v]);
  });
  return Buffer.concat([wide ? Buffer.from([0x20]) : Buffer.from([0xec]), wide ? i32(o, fmt.length) : u16(o, fmt.length), fmt, Buffer.from([0xd7]), ...values]);
}

/** TDS_LANGUAGE; with parameters its status is TDS_LANGUAGE_HASARGS and PARAMFMT/PARAMS follow. */
export function language(o: Order, text: string, args: readonly { name: string; value: string }[] = []): Buffer {
  const t = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([0x21]), i32(o, t.length + 1), Buffer.from([args.length ? 1 : 0]), t, args.length ? params(o, args) : Buffer.alloc(0)]);
}

/** TDS_DBRPC (or TDS_DBRPC2, its name length on 2 bytes, with PARAMFMT2) with TDS_RPC_PARAMS. */
export function dbrpc(o: Order, proc: string, list: readonly { name: string; value: string }[], v2 = false): Buffer {
  const name = Buffer.from(proc);
  const rpc = Buffer.concat([v2 ? u16(o, name.length) : Buffer.from([name.length]), name, u16(o, 0x02)]);
  return Buffer.concat([Buffer.from([v2 ? 0xe8 : 0xe6]), u16(o, rpc.length), rpc, params(o, list, v2)]);
}

export interface Answer {
  readonly packets: { type: number; length: number; last: boolean }[];
  readonly loginAck?: number;
  readonly messages: { number: number; severity: number; text: string }[];
  readonly rows: (string | number | null)[][];
  readonly returnStatus?: number;
  readonly done: { token: number; status: number; tranState: number; count: number }[];
}

/** Splits packets and decodes the tokens a response carries. */
function decode(o: Order, bytes: Buffer): Answer {
  const packets: Answer['packets'] = [];
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    const length = bytes.readUInt16BE(at + 2);
    packets.push({ type: bytes[at]!, length, last: (bytes[at + 1]! & 1) === 1 });
    parts.push(bytes.subarray(at + 8, at + length));
    at += length;
  }
  const d = Buffer.concat(parts);
  const a = { packets, messages: [] as Answer['messages'], rows: [] as Answer['rows'], done: [] as Answer['done'] } as { -readonly [K in keyof Answer]: Answer[K] };
  let cols: number[] = [];
  for (let i = 0; i < d.length; ) {
    const t = d[i]!;
    if (t === 0xfd || t === 0xfe || t === 0xff) {
      a.done.push({ token: t, status: r16(o, d, i + 1), tranState: r16(o, d, i + 3), count: r32(o, d, i + 5) });
      i += 9;
    } else if (t === 0x79) {
      a.returnStatus = r32(o, d, i + 1);
      i += 5;
    } else if (t === 0xd1) {
      i++;
      const row: (string | number | null)[] = [];
      for (const c of cols) {
        const n = c === 0xaf ? r32(o, d, i) : d[i]!;
        i += c === 0xaf ? 4 : 1;
        const v = d.subarray(i, i + n);
        i += n;
        row.push(n === 0 ? null : c === 0x26 ? r32(o, v, 0) : v.toString('utf8'));
      }
      a.rows.push(row);
    } else {
      const len = r16(o, d, i + 1);
      const body = d.subarray(i + 3, i + 3 + len);
      if (t === 0xad) a.loginAck = body[0]!;
      if (t === 0xe5) {
        const sl = body[6]!;
        const ml = r16(o, body, 10 + sl);
        a.messages.push({ number: r32(o, body, 0), severity: body[5]!, text: body.subarray(12 + sl, 12 + sl + ml).toString('utf8') });
      }
      if (t === 0xee) {
        cols = [];
        let j = 2;
        for (let c = 0; c < r16(o, body, 0); c++) {
          j += 1 + body[j]! + 1 + 4;
          const type = body[j]!;
          cols.push(type);
          j += 1 + (type === 0xaf ? 4 : 1);
          j += 1 + body[j]!;
        }
      }
      i += 3 + len;
    }
  }
  return a;
}

/** A raw session: writes messages, reads each answer up to its last packet. */
export class Raw {
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  closed = false;
  constructor(
    readonly socket: Socket,
    readonly order: Order,
  ) {
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#waiters.splice(0).forEach((w) => w());
    });
    socket.on('close', () => {
      this.closed = true;
      this.#waiters.splice(0).forEach((w) => w());
    });
    socket.on('error', () => {});
  }

  static async open(sim: AseSimulator, order: Order, tls = false): Promise<Raw> {
    const socket = tls ? tlsConnect({ host: sim.host, port: sim.port, ca: testCertificates().ca, servername: 'localhost' }) : tcpConnect(sim.port, sim.host);
    await new Promise<void>((ok, fail) => {
      socket.once(tls ? 'secureConnect' : 'connect', () => ok());
      socket.once('error', fail);
    });
    return new Raw(socket, order);
  }

  /** The bytes up to a packet with the last-packet bit, or undefined when the server closed first. */
  async #answer(): Promise<Buffer | undefined> {
    for (;;) {
      let at = 0;
      while (at + 8 <= this.#buf.length) {
        const len = this.#buf.readUInt16BE(at + 2);
        if (at + len > this.#buf.length) break;
        const last = (this.#buf[at + 1]! & 1) === 1;
        at += len;
        if (last) {
          const out = this.#buf.subarray(0, at);
          this.#buf = this.#buf.subarray(at);
          return out;
        }
      }
      if (this.closed) return undefined;
      await new Promise<void>((ok) => this.#waiters.push(ok));
    }
  }

  async send(bytes: Buffer, byteByByte = false): Promise<Answer | undefined> {
    if (byteByByte) for (const b of bytes) this.socket.write(Buffer.from([b]));
    else this.socket.write(bytes);
    const a = await this.#answer();
    return a && decode(this.order, a);
  }

  async login(user: string, password: string, packetSize = 512, packetLength = 512): Promise<Answer> {
    return (await this.send(packetsOf(0x02, loginRecord(this.order, user, password, packetSize), packetLength)))!;
  }

  close(): void {
    this.socket.destroy();
  }
}

export const LE: Order = { little: true };
export const BE: Order = { little: false };
