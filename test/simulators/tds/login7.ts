/**
 * The messages before a session exists, per [MS-TDS]: PRELOGIN (2.2.6.5) with the encryption
 * negotiation of its ENCRYPTION option, and LOGIN7 (2.2.6.4) with its password obfuscation (each
 * byte's nibbles swapped and then XOR 0xA5; the server undoes it: XOR 0xA5, then swap).
 */
import { Reader } from './packets.js';

/** [MS-TDS] 2.2.6.5 PRELOGIN option tokens. */
const Option = { VERSION: 0x00, ENCRYPTION: 0x01, INSTOPT: 0x02, THREADID: 0x03, MARS: 0x04, TERMINATOR: 0xff } as const;

/** B_FENCRYPTION values. */
export const Encrypt = { OFF: 0x00, ON: 0x01, NOT_SUP: 0x02, REQ: 0x03 } as const;

/**
 * The server's setting: `off` (a certificate, encryption not forced: the client chooses, and a
 * client that only offers it has the LOGIN7 packet alone encrypted), `on` (Force Encryption: every
 * client must encrypt the whole session), `not-supported` (no certificate).
 */
export type EncryptionSetting = 'off' | 'on' | 'not-supported';

/** What the session does after PRELOGIN: nothing, TLS for the LOGIN7 packet only, or TLS throughout. */
export type Negotiated = 'none' | 'login-only' | 'full';

export interface Prelogin {
  readonly options: ReadonlyMap<number, Buffer>;
  /** The client's B_FENCRYPTION, when it sent one. */
  readonly encryption?: number;
}

export function parsePrelogin(data: Buffer): Prelogin {
  const options = new Map<number, Buffer>();
  let i = 0;
  while (i < data.length && data[i] !== Option.TERMINATOR) {
    if (i + 5 > data.length) throw new Error('PRELOGIN option table ends early');
    const token = data[i]!;
    const offset = data.readUInt16BE(i + 1);
    const length = data.readUInt16BE(i + 3);
    if (offset + length > data.length) throw new Error(`PRELOGIN option 0x${token.toString(16)} lies outside the message`);
    options.set(token, data.subarray(offset, offset + length));
    i += 5;
  }
  if (i >= data.length) throw new Error('PRELOGIN has no TERMINATOR');
  const e = options.get(Option.ENCRYPTION);
  return { options, ...(e && e.length >= 1 ? { encryption: e[0]! } : {}) };
}

/**
 * The server's answer to the client's encryption option, and what follows, per the negotiation
 * table of [MS-TDS] 2.2.6.5: with encryption forced the server answers REQ to a client that did not
 * ask for it (a client that cannot encrypt then ends the connection); a client asking for ON with a
 * server that cannot gets NOT_SUP and ends it itself.
 */
export function negotiate(setting: EncryptionSetting, client: number | undefined): { answer: number; then: Negotiated } {
  const c = client ?? Encrypt.NOT_SUP;
  if (setting === 'not-supported') return { answer: Encrypt.NOT_SUP, then: 'none' };
  if (setting === 'on') return { answer: c === Encrypt.ON ? Encrypt.ON : Encrypt.REQ, then: 'full' };
  if (c === Encrypt.ON || c === Encrypt.REQ) return { answer: Encrypt.ON, then: 'full' };
  if (c === Encrypt.OFF) return { answer: Encrypt.OFF, then: 'login-only' };
  return { answer: Encrypt.NOT_SUP, then: 'none' };
}

/** The server's PRELOGIN: VERSION, ENCRYPTION, INSTOPT (0: the instance matched), THREADID (empty, as SQL Server sends it), MARS off. */
export function preloginAnswer(version: readonly [number, number, number], encryption: number): Buffer {
  const values: [number, Buffer][] = [
    [Option.VERSION, Buffer.from([version[0], version[1], version[2] >> 8, version[2] & 0xff, 0, 0])],
    [Option.ENCRYPTION, Buffer.from([encryption])],
    [Option.INSTOPT, Buffer.from([0])],
    [Option.THREADID, Buffer.alloc(0)],
    [Option.MARS, Buffer.from([0])],
  ];
  const table = Buffer.alloc(values.length * 5 + 1);
  let offset = table.length;
  values.forEach(([token, v], i) => {
    table[i * 5] = token;
    table.writeUInt16BE(offset, i * 5 + 1);
    table.writeUInt16BE(v.length, i * 5 + 3);
    offset += v.length;
  });
  table[table.length - 1] = Option.TERMINATOR;
  return Buffer.concat([table, ...values.map(([, v]) => v)]);
}

export interface Login7 {
  readonly tdsVersion: number;
  readonly packetSize: number;
  readonly hostName: string;
  readonly userName: string;
  readonly password: string;
  readonly appName: string;
  readonly serverName: string;
  readonly language: string;
  readonly database: string;
  /** Windows (SSPI) authentication was asked for (fIntSecurity). */
  readonly integratedSecurity: boolean;
  /** The new password of a login that changes it while logging in (fChangePassword, ChangePassword). */
  readonly changePassword?: string;
  /** SSPI: the first message of Windows authentication (an NTLM NEGOTIATE_MESSAGE), ibSSPI/cbSSPI in bytes. */
  readonly sspi?: Buffer;
}

/** Undoes the obfuscation of [MS-TDS] 2.2.6.4: XOR 0xA5, then swap the nibbles. */
export function deobfuscate(bytes: Buffer): string {
  const clear = Buffer.alloc(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const x = bytes[i]! ^ 0xa5;
    clear[i] = ((x & 0x0f) << 4) | (x >> 4);
  }
  return clear.toString('utf16le');
}

const fIntSecurity = 0x80;
const fChangePassword = 0x01;

export function parseLogin7(data: Buffer): Login7 {
  const r = new Reader(data);
  const length = r.u32();
  if (length > data.length || length < 94) throw new Error(`LOGIN7 length ${length} does not fit the message`);
  const tdsVersion = r.u32();
  const packetSize = r.u32();
  r.offset = 25;
  const optionFlags2 = r.u8();
  r.offset = 27;
  const optionFlags3 = r.u8();
  // OffsetLength: pairs of USHORT offset and USHORT length in characters, from byte 36.
  const field = (at: number): Buffer => {
    const offset = data.readUInt16LE(at);
    const chars = data.readUInt16LE(at + 2);
    if (offset + chars * 2 > length) throw new Error(`LOGIN7 field at ${at} lies outside the message`);
    return data.subarray(offset, offset + chars * 2);
  };
  const text = (at: number) => field(at).toString('utf16le');
  const changed = field(86);
  const sspiAt = data.readUInt16LE(78);
  const sspiLength = data.readUInt16LE(80);
  if (sspiAt + sspiLength > length) throw new Error('LOGIN7 SSPI lies outside the message');
  return {
    tdsVersion,
    packetSize,
    hostName: text(36),
    userName: text(40),
    password: deobfuscate(field(44)),
    appName: text(48),
    serverName: text(52),
    language: text(64),
    database: text(68),
    integratedSecurity: (optionFlags2 & fIntSecurity) !== 0,
    ...(optionFlags3 & fChangePassword ? { changePassword: deobfuscate(changed) } : {}),
    ...(sspiLength > 0 ? { sspi: data.subarray(sspiAt, sspiAt + sspiLength) } : {}),
  };
}
