import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { Secret } from '../../engine/secret.js';

/**
 * MariaDB's ed25519 authentication plugin stores the Ed25519 public key of the password:
 * A = s·B with s = clamp(SHA-512(password)[0..32]) (plugin/auth_ed25519/ref10/keypair.c, which
 * hashes the whole password where RFC 8032 hashes a 32-byte seed), as 43 characters of unpadded
 * base64 (https://mariadb.com/kb/en/authentication-plugin-ed25519/).
 *
 * node:crypto has no Ed25519 key from an already expanded scalar, but its X25519 uses the same
 * clamped scalar on the birationally equivalent Montgomery curve (RFC 7748 4.1): X25519(s) is the
 * u-coordinate of A, from which y = (u-1)/(u+1) follows. What it drops is the sign of x: that is
 * read off X25519(s+8), the u-coordinate of A + 8B, by adding 8B to both candidates. The secret
 * scalar is only ever handled by OpenSSL; the arithmetic here is on public points.
 */

const P = 2n ** 255n - 19n;
const mod = (a: bigint): bigint => ((a % P) + P) % P;
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  for (; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
  }
  return r;
}
const inv = (a: bigint): bigint => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

type Point = readonly [x: bigint, y: bigint];

/** The base point of RFC 8032 5.1. */
const B: Point = [
  15112221349535400772501151409588531511454012693041857206046113283949847762202n,
  46316835694926478169428394003475163141307993866256225615783033603165251855960n,
];

/** Affine addition on -x² + y² = 1 + d·x²·y² (complete: no special cases). */
function add([x1, y1]: Point, [x2, y2]: Point): Point {
  const t = mod(D * x1 * x2 * y1 * y2);
  return [mod((x1 * y2 + y1 * x2) * inv(1n + t)), mod((y1 * y2 + x1 * x2) * inv(1n - t))];
}

/** The x with x² = (y² - 1)/(d·y² + 1) whose low bit is 0 (RFC 8032 5.1.3). */
function evenX(y: bigint): bigint {
  const xx = mod((y * y - 1n) * inv(D * y * y + 1n));
  let x = pow(xx, (P + 3n) / 8n);
  if (mod(x * x - xx) !== 0n) x = mod(x * SQRT_M1);
  if (mod(x * x - xx) !== 0n) throw new Error('not a point on the curve');
  return x & 1n ? P - x : x;
}

const littleEndian = (b: Buffer): bigint => BigInt(`0x${Buffer.from(b).reverse().toString('hex') || '0'}`);

// PKCS #8 for an X25519 private key (RFC 8410): the 32 scalar bytes follow this prefix.
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The u-coordinate of k·(base point 9), computed by OpenSSL. */
function x25519(k: Buffer): bigint {
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8, k]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return littleEndian(spki.subarray(spki.length - 32));
}

const TWO_B = add(B, B);
const EIGHT_B = add(add(TWO_B, TWO_B), add(TWO_B, TWO_B));

const yFromU = (u: bigint): bigint => mod((u - 1n) * inv(u + 1n));
const uFromY = (y: bigint): bigint => mod((1n + y) * inv(1n - y));

/** The public key MariaDB's ed25519 plugin stores for `password`, as it stores it (43 characters of base64). */
export function ed25519PasswordKey(password: Secret): string {
  const s = createHash('sha512').update(password.reveal(), 'utf8').digest().subarray(0, 32);
  s[0]! &= 248;
  s[31]! &= 127;
  s[31]! |= 64;
  const y = yFromU(x25519(s));
  // s + 8 keeps the clamped form (its low bits stay 0, bit 254 set) unless it would reach 2^255: then s - 8.
  const up = s[31] !== 127 || s.subarray(1, 31).some((b) => b !== 255) || s[0] !== 248;
  const t = Buffer.from(s);
  let carry = up ? 8 : -8;
  for (let i = 0; i < 32 && carry !== 0; i++) {
    const v = t[i]! + carry;
    t[i] = v & 0xff;
    carry = v >> 8;
  }
  const shifted = x25519(t);
  const q: Point = up ? EIGHT_B : [mod(-EIGHT_B[0]), EIGHT_B[1]];
  const even = evenX(y);
  const x = uFromY(add([even, y], q)[1]) === shifted ? even : P - even;
  const key = Buffer.from(y.toString(16).padStart(64, '0'), 'hex').reverse();
  if (x & 1n) key[31]! |= 0x80;
  return key.toString('base64').replace(/=+$/, '');
}
