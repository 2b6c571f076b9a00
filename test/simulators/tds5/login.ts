/**
 * The TDS 5.0 login record (TDS_BUF_LOGIN), laid out as the TDS 5.0 Functional Specification's
 * "Login Record" and SAP's tdspublic.h struct TDS_LOGINREC define it: fixed-width fields, each
 * string followed by its length byte, 568 bytes in all, then a TDS_CAPABILITY token (0xE2).
 * FreeTDS's src/tds/login.c (tds_send_login) is what a real client sends: le1 = lint2 3
 * (TDS_INT2_LSB_LO), lint4 1 (TDS_INT4_LSB_LO), ...; an empty lcharset with lsetcharset 1; the
 * password both in lpw (30 bytes at most, ASE's password limit) and in lrempw as the entry for
 * "any server"; lrempw holds passwords for remote servers (server-to-server RPCs) and is not read.
 */
import type { ByteOrder } from './wire.js';

export interface LoginRecord {
  readonly hostName: string;
  readonly userName: string;
  /** Kept only until checked; never recorded. */
  readonly password: string;
  readonly hostProcess: string;
  readonly order: ByteOrder;
  readonly appName: string;
  readonly serverName: string;
  readonly tdsVersion: readonly number[];
  readonly programName: string;
  readonly programVersion: readonly number[];
  readonly language: string;
  readonly setLanguage: boolean;
  /** lseclogin: a non-zero value asks for the encrypted-password handshake (TDS_SEC_LOG_ENCRYPT*). */
  readonly secLogin: number;
  readonly charset: string;
  readonly setCharset: boolean;
  readonly packetSize: number;
  /** The CAPABILITY token's body (after its length), echoed in the answer. */
  readonly capabilities: Buffer;
}

const MAXNAME = 30;
export const LOGINREC_LENGTH = 568;
export const CAPABILITY_TOKEN = 0xe2;

/** A field of `width` bytes whose length byte follows it. */
function field(data: Buffer, at: number, width: number): string {
  const len = Math.min(data[at + width]!, width);
  return data.subarray(at, at + len).toString('utf8');
}

export function parseLogin(data: Buffer): LoginRecord {
  if (data.length < LOGINREC_LENGTH) throw new Error('TDS 5.0 login record too short');
  const lint2 = data[124]!;
  const lint4 = data[125]!;
  if ((lint2 !== 2 && lint2 !== 3) || (lint4 !== 0 && lint4 !== 1)) throw new Error('unknown lint2/lint4');
  const order: ByteOrder = { int2LittleEndian: lint2 === 3, int4LittleEndian: lint4 === 1 };
  let capabilities = Buffer.alloc(0);
  if (data.length > LOGINREC_LENGTH + 3 && data[LOGINREC_LENGTH] === CAPABILITY_TOKEN) {
    const len = order.int2LittleEndian ? data.readUInt16LE(LOGINREC_LENGTH + 1) : data.readUInt16BE(LOGINREC_LENGTH + 1);
    capabilities = Buffer.from(data.subarray(LOGINREC_LENGTH + 3, LOGINREC_LENGTH + 3 + len));
  }
  const packetSize = Number.parseInt(field(data, 557, 6), 10);
  return {
    hostName: field(data, 0, MAXNAME),
    userName: field(data, 31, MAXNAME),
    password: field(data, 62, MAXNAME),
    hostProcess: field(data, 93, MAXNAME),
    order,
    appName: field(data, 140, MAXNAME),
    serverName: field(data, 171, MAXNAME),
    tdsVersion: [...data.subarray(458, 462)],
    programName: field(data, 462, 10),
    programVersion: [...data.subarray(473, 477)],
    language: field(data, 480, MAXNAME),
    setLanguage: data[511] !== 0,
    secLogin: data[514]!,
    charset: field(data, 525, MAXNAME),
    setCharset: data[556] !== 0,
    packetSize: Number.isFinite(packetSize) ? packetSize : 0,
    capabilities,
  };
}
