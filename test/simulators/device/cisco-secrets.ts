/**
 * The secrets IOS stores, computed as IOS computes them so a configuration a driver reads back
 * holds what a real device would hold, and a login is checked against the stored form only:
 * - type 5: MD5-crypt ("$1$" + 4-character salt, FreeBSD's algorithm), IOS's `secret` default
 *   before IOS XE 16;
 * - type 8: PBKDF2-HMAC-SHA256, 20 000 iterations, 14-character salt, 32-byte key;
 * - type 9: scrypt, N = 16384, r = 1, p = 1, 14-character salt, 32-byte key;
 *   both printed as "$8$SALT$HASH" / "$9$SALT$HASH" in the crypt base64 alphabet ("./0-9A-Za-z");
 * - type 7: the reversible `service password-encryption` cipher: two decimal digits (the offset
 *   into a fixed key), then each character XOR the key, in upper-case hexadecimal.
 * Sources: "Cisco IOS Security Command Reference" (`enable secret`, `username`: types 0, 5, 7,
 * 8, 9) and "Cisco Guide to Harden Cisco IOS Devices" (type 8 = PBKDF2-SHA256, type 9 = scrypt);
 * the iteration count, scrypt parameters and salt length are those hashcat (modes 500, 9200,
 * 9300) and every public verifier use, as Cisco does not publish them.
 */
import { createHash, pbkdf2Sync, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const CRYPT64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export type SecretType = 5 | 8 | 9;

function salt(length: number): string {
  return [...randomBytes(length)].map((b) => CRYPT64[b % 64]).join('');
}

/** Standard base64 re-lettered into the crypt alphabet, unpadded (how types 8 and 9 print). */
function cisco64(bytes: Buffer): string {
  return [...bytes.toString('base64').replace(/=+$/, '')].map((c) => CRYPT64[BASE64.indexOf(c)]).join('');
}

/** MD5-crypt (Poul-Henning Kamp's algorithm, `$1$`). */
export function md5Crypt(password: string, saltText: string): string {
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(saltText.slice(0, 8), 'utf8');
  const md5 = (...parts: Buffer[]) => createHash('md5').update(Buffer.concat(parts)).digest();
  let alt = md5(pw, s, pw);
  const parts: Buffer[] = [pw, Buffer.from('$1$'), s];
  for (let n = pw.length; n > 0; n -= 16) parts.push(alt.subarray(0, Math.min(16, n)));
  for (let i = pw.length; i > 0; i >>= 1) parts.push(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let final = md5(...parts);
  for (let i = 0; i < 1000; i++) {
    const round: Buffer[] = [];
    round.push(i & 1 ? pw : final);
    if (i % 3) round.push(s);
    if (i % 7) round.push(pw);
    round.push(i & 1 ? final : pw);
    final = md5(...round);
  }
  alt = final;
  const to64 = (v: number, n: number) => {
    let out = '';
    for (; n > 0; n--, v >>= 6) out += CRYPT64[v & 0x3f];
    return out;
  };
  const f = alt;
  const out =
    to64((f[0]! << 16) | (f[6]! << 8) | f[12]!, 4) +
    to64((f[1]! << 16) | (f[7]! << 8) | f[13]!, 4) +
    to64((f[2]! << 16) | (f[8]! << 8) | f[14]!, 4) +
    to64((f[3]! << 16) | (f[9]! << 8) | f[15]!, 4) +
    to64((f[4]! << 16) | (f[10]! << 8) | f[5]!, 4) +
    to64(f[11]!, 2);
  return `$1$${s.toString('utf8')}$${out}`;
}

function type8(password: string, s: string): string {
  return `$8$${s}$${cisco64(pbkdf2Sync(password, s, 20000, 32, 'sha256'))}`;
}

function type9(password: string, s: string): string {
  return `$9$${s}$${cisco64(scryptSync(password, s, 32, { N: 16384, r: 1, p: 1 }))}`;
}

/** Hashes a clear-text secret as IOS stores it for that type. */
export function hashSecret(type: SecretType, password: string): string {
  if (type === 5) return md5Crypt(password, salt(4));
  return type === 8 ? type8(password, salt(14)) : type9(password, salt(14));
}

/** Whether `hash` is a well-formed secret of that type (what IOS takes after `secret 5|8|9`). */
export function validSecret(type: SecretType, hash: string): boolean {
  if (type === 5) return /^\$1\$[./0-9A-Za-z]{0,8}\$[./0-9A-Za-z]{22}$/.test(hash);
  return new RegExp(`^\\$${type}\\$[./0-9A-Za-z]{14}\\$[./0-9A-Za-z]{43}$`).test(hash);
}

/** Checks a clear-text password against a stored secret. */
export function verifySecret(type: SecretType, hash: string, password: string): boolean {
  const parts = hash.split('$');
  const s = parts[2] ?? '';
  const computed = type === 5 ? md5Crypt(password, s) : type === 8 ? type8(password, s) : type9(password, s);
  const a = Buffer.from(computed);
  const b = Buffer.from(hash);
  return a.length === b.length && timingSafeEqual(a, b);
}

const TYPE7_KEY = 'dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87';

/** The type 7 form of a password (`service password-encryption`). */
export function encodeType7(password: string, seed = Math.floor(Math.random() * 16)): string {
  let out = seed.toString().padStart(2, '0');
  const bytes = Buffer.from(password, 'latin1');
  for (let i = 0; i < bytes.length; i++) {
    out += (bytes[i]! ^ TYPE7_KEY.charCodeAt((seed + i) % TYPE7_KEY.length)).toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** The clear text of a type 7 password, or undefined when the text is not one. */
export function decodeType7(encoded: string): string | undefined {
  if (!/^[0-9]{2}([0-9A-Fa-f]{2})*$/.test(encoded)) return undefined;
  const seed = Number(encoded.slice(0, 2));
  if (seed > 15) return undefined;
  const bytes: number[] = [];
  for (let i = 2; i < encoded.length; i += 2) {
    bytes.push(parseInt(encoded.slice(i, i + 2), 16) ^ TYPE7_KEY.charCodeAt((seed + (i - 2) / 2) % TYPE7_KEY.length));
  }
  return Buffer.from(bytes).toString('latin1');
}
