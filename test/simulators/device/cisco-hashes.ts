/**
 * The password encodings CatOS and PIX store, so the simulators keep (and `show` prints) what the
 * device keeps, never the clear text.
 *
 * - CatOS shows `set password $2$FMFQ$HfZR5DUszVHIRhrz4h6V70` ("Catalyst 6500 Series Software
 *   Command Reference (CatOS)", `show config`): a 4-character salt and a 22-character digest, the
 *   shape of FreeBSD's MD5-crypt. We compute MD5-crypt with its usual "$1$" magic and print the
 *   "$2$" prefix CatOS prints: the prefix is documented, the exact inner magic is our best guess.
 * - PIX shows `passwd 2KFQnbNIdI.2KYOU encrypted` ("Cisco PIX Firewall Command Reference, Version
 *   6.3", `passwd`, the default "cisco"): MD5 of the password padded with NULs to 16 bytes, of
 *   whose digest 12 bytes (every fourth dropped) are written in crypt's base-64 alphabet. This is
 *   the known "PIX-MD5" encoding; the documented defaults ("cisco" and the empty enable password
 *   `8Ry2YjIyt7RRXU24`) are its test vectors.
 */
import { createHash, randomBytes } from 'node:crypto';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function to64(value: number, chars: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < chars; i++) {
    out += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return out;
}

function md5(...parts: Buffer[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** MD5-crypt (FreeBSD `$1$`), as `openssl passwd -1` computes it: returns the digest part alone. */
export function md5CryptDigest(password: string, salt: string): string {
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 8), 'utf8');
  const magic = Buffer.from('$1$');
  const alt = md5(pw, s, pw);
  const parts: Buffer[] = [pw, magic, s];
  for (let left = pw.length; left > 0; left -= 16) parts.push(alt.subarray(0, Math.min(left, 16)));
  for (let i = pw.length; i > 0; i >>= 1) parts.push(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let final = md5(...parts);
  for (let i = 0; i < 1000; i++) {
    const round: Buffer[] = [i & 1 ? pw : final];
    if (i % 3) round.push(s);
    if (i % 7) round.push(pw);
    round.push(i & 1 ? final : pw);
    final = md5(...round);
  }
  const f = final;
  const triple = (a: number, b: number, c: number): string => to64((f[a]! << 16) | (f[b]! << 8) | f[c]!, 4);
  return (
    triple(0, 6, 12) + triple(1, 7, 13) + triple(2, 8, 14) + triple(3, 9, 15) + triple(4, 10, 5) + to64(f[11]!, 2)
  );
}

/** A CatOS password hash, `$2$SALT$DIGEST`, with a fresh salt unless one is given. */
export function catosHash(password: string, salt?: string): string {
  const s = salt ?? to64(randomBytes(3).readUIntLE(0, 3), 4);
  return `$2$${s}$${md5CryptDigest(password, s)}`;
}

/** Whether `password` matches a stored CatOS hash. */
export function catosVerify(password: string, stored: string): boolean {
  const m = /^\$2\$([^$]{1,8})\$/.exec(stored);
  return m !== null && catosHash(password, m[1]) === stored;
}

/** The PIX 6.3 encoding of a `passwd` / `enable password` / `username` password (16 characters). */
export function pixHash(password: string): string {
  const padded = Buffer.alloc(16);
  Buffer.from(password, 'utf8').copy(padded, 0, 0, 16);
  const d = md5(padded);
  let out = '';
  for (let i = 0; i < 16; i += 4) out += to64(d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16), 4);
  return out;
}
