/**
 * The server's side of NTLM as SQL Server runs it inside TDS for Windows authentication, per
 * Microsoft's [MS-NLMP] open specification (https://learn.microsoft.com/openspecs/windows_protocols/ms-nlmp/)
 * and [MS-TDS] 2.2.6.4 (LOGIN7's SSPI field), 2.2.7.22 (the SSPI token, 0xED) and 2.2.6.8 (the
 * client's SSPI message, packet type 0x11):
 *
 * - NEGOTIATE_MESSAGE (2.2.1.1) arrives in LOGIN7's SSPI field; it must carry the signature and type 1.
 * - CHALLENGE_MESSAGE (2.2.1.2) goes back in an SSPI token: an 8-byte server challenge, the NetBIOS
 *   domain as TargetName and TargetInfo AV pairs (2.2.2.1: MsvAvNbDomainName, MsvAvNbComputerName,
 *   MsvAvDnsDomainName, MsvAvDnsComputerName, MsvAvTimestamp, MsvAvEOL), laid out as Windows lays it
 *   out: the 48-byte header, the 8-byte VERSION, then TargetName and TargetInfo.
 * - AUTHENTICATE_MESSAGE (2.2.1.3) is checked as 3.3.2 says for NTLMv2: NTOWFv2 = HMAC_MD5(MD4(UNICODE(
 *   password)), UNICODE(Uppercase(user) ‖ domain)); an NtChallengeResponse longer than 24 bytes is
 *   NTProofStr ‖ blob and must equal HMAC_MD5(NTOWFv2, ServerChallenge ‖ blob); otherwise the
 *   LMv2 response HMAC_MD5(NTOWFv2, ServerChallenge ‖ ClientChallenge) ‖ ClientChallenge is checked.
 *   As Samba's ntlm_password_check does (libcli/auth/ntlm_check.c), the domain is tried as the
 *   client sent it, upper-cased, and empty.
 *
 * The domain controller's part (the account's NT hash) is the login store's: the simulator holds
 * MD4 of the password, never the password.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import md4 from 'js-md4';

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

/** [MS-NLMP] 2.2.2.5 NegotiateFlags this server sets: Unicode, request target, NTLM, always sign, target type domain, extended session security, target info, version, 128- and 56-bit. */
const FLAGS = 0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00010000 | 0x00080000 | 0x00800000 | 0x02000000 | 0x20000000 | 0x80000000;

/** The NT hash a domain controller keeps for an account: MD4 of the UTF-16LE password ([MS-NLMP] 3.3.1 NTOWFv1). */
export function ntHash(password: string): Buffer {
  return Buffer.from(md4.arrayBuffer(Buffer.from(password, 'utf16le')));
}

const hmac = (key: Buffer, ...data: Buffer[]) => {
  const h = createHmac('md5', key);
  for (const d of data) h.update(d);
  return h.digest();
};

export function isNegotiate(m: Buffer): boolean {
  return m.length >= 16 && m.subarray(0, 8).equals(SIGNATURE) && m.readUInt32LE(8) === 1;
}

export interface ChallengeIdentity {
  /** NetBIOS domain name, e.g. CORP. */
  readonly domain: string;
  readonly dnsDomain: string;
  readonly computer: string;
}

/** CHALLENGE_MESSAGE with a fresh server challenge. */
export function challengeMessage(who: ChallengeIdentity, serverChallenge: Buffer = randomBytes(8)): { message: Buffer; serverChallenge: Buffer } {
  const utf16 = (s: string) => Buffer.from(s, 'utf16le');
  const av = (id: number, value: Buffer) => {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(id, 0);
    h.writeUInt16LE(value.length, 2);
    return Buffer.concat([h, value]);
  };
  const filetime = Buffer.alloc(8);
  filetime.writeBigUInt64LE((BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n);
  const targetName = utf16(who.domain.toUpperCase());
  const targetInfo = Buffer.concat([
    av(2, utf16(who.domain.toUpperCase())),
    av(1, utf16(who.computer.toUpperCase())),
    av(4, utf16(who.dnsDomain)),
    av(3, utf16(`${who.computer.toLowerCase()}.${who.dnsDomain}`)),
    av(7, filetime),
    av(0, Buffer.alloc(0)),
  ]);
  const header = Buffer.alloc(56);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(2, 8);
  header.writeUInt16LE(targetName.length, 12);
  header.writeUInt16LE(targetName.length, 14);
  header.writeUInt32LE(56, 16);
  header.writeUInt32LE(FLAGS >>> 0, 20);
  serverChallenge.copy(header, 24);
  header.writeUInt16LE(targetInfo.length, 40);
  header.writeUInt16LE(targetInfo.length, 42);
  header.writeUInt32LE(56 + targetName.length, 44);
  // VERSION (2.2.2.10): Windows 10.0 build 20348, NTLMSSP revision 15.
  Buffer.from([10, 0, 0x1c, 0x4f, 0, 0, 0, 15]).copy(header, 48);
  return { message: Buffer.concat([header, targetName, targetInfo]), serverChallenge };
}

export interface Authenticate {
  readonly domain: string;
  readonly user: string;
  readonly lm: Buffer;
  readonly nt: Buffer;
}

/** AUTHENTICATE_MESSAGE's fields (2.2.1.3), Unicode as negotiated. */
export function parseAuthenticate(m: Buffer): Authenticate {
  if (m.length < 64 || !m.subarray(0, 8).equals(SIGNATURE) || m.readUInt32LE(8) !== 3) throw new Error('not an NTLM AUTHENTICATE_MESSAGE');
  const field = (at: number) => {
    const length = m.readUInt16LE(at);
    const offset = m.readUInt32LE(at + 4);
    if (offset + length > m.length) throw new Error('NTLM field outside the message');
    return m.subarray(offset, offset + length);
  };
  const nt = field(20);
  // An NTLMv2 response's length field may count NTProofStr alone (16), as tedious writes it, with
  // its blob after it in the payload; such a response is checked as LMv2, which 3.3.2 falls back to.
  return { lm: field(12), nt, domain: field(28).toString('utf16le'), user: field(36).toString('utf16le') };
}

/** Whether the response proves the password whose NT hash is `hash`, for this challenge. */
export function verifyAuthenticate(a: Authenticate, serverChallenge: Buffer, hash: Buffer): boolean {
  const same = (x: Buffer, y: Buffer) => x.length === y.length && timingSafeEqual(x, y);
  for (const domain of new Set([a.domain, a.domain.toUpperCase(), ''])) {
    const ntowf = hmac(hash, Buffer.from(a.user.toUpperCase() + domain, 'utf16le'));
    if (a.nt.length > 24) {
      const proof = a.nt.subarray(0, 16);
      if (same(hmac(ntowf, serverChallenge, a.nt.subarray(16)), proof)) return true;
    } else if (a.lm.length === 24) {
      const clientChallenge = a.lm.subarray(16);
      if (same(Buffer.concat([hmac(ntowf, serverChallenge, clientChallenge), clientChallenge]), a.lm)) return true;
    }
  }
  return false;
}
