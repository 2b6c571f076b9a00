import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../../engine/secret.js';
import { ed25519PasswordKey } from './ed25519.js';

/**
 * What MySQL and MariaDB store for a password, computed here so that the server is sent the
 * stored form instead of the clear text (which a general query log, slow log or audit plugin
 * would keep), and so that the admin can attest a password by reading the stored form back.
 * The server takes the password as the bytes of the connection's character set: the adapter's
 * sessions are utf8mb4, so every form below hashes the UTF-8 bytes.
 */

export { ed25519PasswordKey };

const sha1 = (b: Buffer): Buffer => createHash('sha1').update(b).digest();

/**
 * mysql_native_password: `*` and the upper-case hex of SHA1(SHA1(password)), 41 characters
 * (MySQL's `scramble_password`/`make_scrambled_password`, the value PASSWORD() returned). Only
 * hex characters, so it travels without escaping whatever the session's sql_mode.
 */
export function nativePasswordHash(password: Secret): string {
  return `*${sha1(sha1(Buffer.from(password.reveal(), 'utf8'))).toString('hex').toUpperCase()}`;
}

// ------------------------------------------------------------------ caching_sha2_password

/** MySQL's defaults (sql/auth/i_sha2_password_common.h): 20 salt bytes, 5000 rounds stored as "005". */
export const CACHING_SHA2_SALT_LENGTH = 20;
export const CACHING_SHA2_ROUNDS = 5000;
const ITERATION_MULTIPLIER = 1000;
const DIGEST_LENGTH = 43;

const B64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Ulrich Drepper's SHA-crypt with SHA-256 (https://www.akkadia.org/drepper/SHA-crypt.txt, the
 * steps numbered as there), returning only the 43-character digest. MySQL's `my_crypt_genhash`
 * (mysys/crypt_genhash_impl.cc) is this algorithm with the salt cut at 20 bytes instead of 16;
 * the salt length is a parameter here, so the same code checks against glibc's `$5$` for 16.
 */
export function sha256CryptDigest(password: Buffer, salt: Buffer, rounds: number): string {
  const sha = () => createHash('sha256');
  const plen = password.length;
  // 4.-8. B = SHA(password, salt, password)
  const b = sha().update(password).update(salt).update(password).digest();
  // 1.-3., 9.-12. A
  const a = sha().update(password).update(salt);
  let i: number;
  for (i = plen; i > 32; i -= 32) a.update(b);
  a.update(b.subarray(0, i));
  for (i = plen; i > 0; i >>= 1) a.update(i & 1 ? b : password);
  const digestA = a.digest();
  // 13.-16. P: the password's own digest, repeated to its length
  const dp = sha();
  for (i = 0; i < plen; i++) dp.update(password);
  const p = repeatTo(dp.digest(), plen);
  // 17.-20. S: the salt's digest, repeated to its length
  const ds = sha();
  for (i = 0; i < 16 + digestA[0]!; i++) ds.update(salt);
  const s = repeatTo(ds.digest(), salt.length);
  // 21. the rounds
  let c = digestA;
  for (i = 0; i < rounds; i++) {
    const h = sha();
    h.update(i & 1 ? p : c);
    if (i % 3 !== 0) h.update(s);
    if (i % 7 !== 0) h.update(p);
    h.update(i & 1 ? c : p);
    c = h.digest();
  }
  // 22. the digest's bytes in crypt's order and alphabet
  const order = [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29]] as const;
  let out = '';
  const put = (w: number, n: number) => {
    for (let k = 0; k < n; k++, w >>= 6) out += B64[w & 0x3f];
  };
  for (const [x, y, z] of order) put((c[x]! << 16) | (c[y]! << 8) | c[z]!, 4);
  put((c[31]! << 8) | c[30]!, 3);
  return out;
}

function repeatTo(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let at = 0; at < length; at += digest.length) digest.copy(out, at, 0, Math.min(digest.length, length - at));
  return out;
}

/** A salt as MySQL's `generate_user_salt` makes one: 7-bit bytes, never NUL or "$". */
export function cachingSha2Salt(): Buffer {
  const salt = randomBytes(CACHING_SHA2_SALT_LENGTH);
  for (let i = 0; i < salt.length; i++) {
    salt[i] = salt[i]! & 0x7f;
    if (salt[i] === 0 || salt[i] === 0x24) salt[i]! += 1;
  }
  return salt;
}

/**
 * caching_sha2_password's stored form, `$A$<rounds/1000 as 3 hex digits>$<20 salt bytes><43-char
 * digest>` (`Caching_sha2_password::serialize` in sql/auth/sha2_password.cc; current MySQL reads
 * the round count as hex). Returned as bytes: the salt may hold any 7-bit byte but NUL and "$".
 * Derived from MySQL's source and checked against glibc's SHA-crypt only: no MySQL 8 server
 * is part of the test suite.
 */
export function cachingSha2Hash(password: Secret, options: { salt?: Buffer; rounds?: number } = {}): Buffer {
  const salt = options.salt ?? cachingSha2Salt();
  const rounds = options.rounds ?? CACHING_SHA2_ROUNDS;
  if (salt.length !== CACHING_SHA2_SALT_LENGTH) throw new RangeError(`caching_sha2_password salts are ${CACHING_SHA2_SALT_LENGTH} bytes`);
  if (rounds % ITERATION_MULTIPLIER !== 0 || rounds < ITERATION_MULTIPLIER || rounds > 0xfff * ITERATION_MULTIPLIER) {
    throw new RangeError('caching_sha2_password rounds are a multiple of 1000 up to 4095000');
  }
  const digest = sha256CryptDigest(Buffer.from(password.reveal(), 'utf8'), salt, rounds);
  const head = `$A$${(rounds / ITERATION_MULTIPLIER).toString(16).toUpperCase().padStart(3, '0')}$`;
  return Buffer.concat([Buffer.from(head, 'latin1'), salt, Buffer.from(digest, 'latin1')]);
}

/** The parts of a stored caching_sha2_password string, or undefined when it is not one. */
export function parseCachingSha2(stored: Buffer): { rounds: number; salt: Buffer; digest: string } | undefined {
  const expected = 3 + 4 + CACHING_SHA2_SALT_LENGTH + DIGEST_LENGTH;
  if (stored.length !== expected) return undefined;
  const head = stored.subarray(0, 7).toString('latin1');
  const m = /^\$A\$([0-9A-Fa-f]{3})\$$/.exec(head);
  if (!m) return undefined;
  const rounds = parseInt(m[1]!, 16) * ITERATION_MULTIPLIER;
  if (rounds === 0) return undefined;
  return { rounds, salt: Buffer.from(stored.subarray(7, 7 + CACHING_SHA2_SALT_LENGTH)), digest: stored.subarray(7 + CACHING_SHA2_SALT_LENGTH).toString('latin1') };
}

// ------------------------------------------------------------------ attestation

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether the stored value is one `attest` can compare a password with. */
export function comparable(plugin: string, stored: Buffer): boolean {
  if (plugin === 'mysql_native_password') return stored.length === 0 || /^\*[0-9A-Fa-f]{40}$/.test(stored.toString('latin1'));
  if (plugin === 'caching_sha2_password') return stored.length === 0 || parseCachingSha2(stored) !== undefined;
  if (plugin === 'ed25519') return /^[A-Za-z0-9+/]{43}$/.test(stored.toString('latin1'));
  return false;
}

/**
 * Whether `password` is the one whose stored form (mysql.user.authentication_string, as bytes)
 * the server holds, for the plugins rpr can compute; undefined when the plugin or the stored
 * value gives nothing to compare (another plugin, an unreadable string).
 */
export function attest(plugin: string, stored: Buffer, password: Secret): boolean | undefined {
  if (!comparable(plugin, stored)) return undefined;
  if (stored.length === 0) return password.length === 0;
  if (plugin === 'mysql_native_password') {
    const text = stored.toString('latin1');
    return sameBytes(Buffer.from(text.toUpperCase(), 'latin1'), Buffer.from(nativePasswordHash(password), 'latin1'));
  }
  if (plugin === 'ed25519') return sameBytes(Buffer.from(ed25519PasswordKey(password), 'latin1'), stored);
  const parts = parseCachingSha2(stored)!;
  return sameBytes(cachingSha2Hash(password, parts), stored);
}
