/**
 * O5LOGON with the 12c password verifier, the server's half of what
 * node_modules/oracledb/lib/thin/protocol/encryptDecrypt.js (updateVerifierData,
 * _setEncryptedPasswordBuffers) and lib/thin/protocol/messages/auth.js do on the client:
 *
 * - The verifier (type 0x4815, TNS_VERIFIER_TYPE_12C) is what the server stores: a 16-byte salt and
 *   SHA-512(PBKDF2-SHA512(password, salt || "AUTH_PBKDF2_SPEEDY_KEY", VGEN_COUNT, 64) || salt).
 *   Its first 32 bytes are the AES-256 key for the session key halves. Oracle's Database Security
 *   Guide ("12C password version") describes the same: a salted SHA-512 over a PBKDF2 key.
 * - Phase one sends AUTH_SESSKEY: the server's 32 random bytes AES-256-CBC encrypted (zero IV, no
 *   padding) with that key, AUTH_VFR_DATA (the salt, with the verifier type as its flags),
 *   AUTH_PBKDF2_CSK_SALT and the two iteration counts.
 * - Phase two brings the client's half the same way, and the combined key is
 *   PBKDF2-SHA512(hex(client half || server half) in upper case, CSK salt, SDER_COUNT, 32).
 *   AUTH_PASSWORD (and AUTH_NEWPASSWORD) are AES-256-CBC under the combined key of 16 random bytes
 *   and the password, padded with n bytes of value n; AUTH_PBKDF2_SPEEDY_KEY is 16 random bytes and
 *   the 64-byte PBKDF2 key, which is how the server checks the password against a verifier alone.
 * - AUTH_SVR_RESPONSE proves the server knew the verifier: 16 random bytes and "SERVER_TO_CLIENT"
 *   under the combined key, which the driver checks (auth.js processReturnParameter).
 */
import { createCipheriv, createDecipheriv, createHash, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const VERIFIER_TYPE_12C = 0x4815;
/** The counts a 12c+ server announces (AUTH_PBKDF2_VGEN_COUNT, AUTH_PBKDF2_SDER_COUNT). */
export const VGEN_COUNT = 4096;
export const SDER_COUNT = 3;

export interface Verifier {
  readonly salt: Buffer;
  /** SHA-512 over the PBKDF2 key and the salt (64 bytes). */
  readonly hash: Buffer;
}

function speedyKey(password: string, salt: Buffer): Buffer {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.concat([salt, Buffer.from('AUTH_PBKDF2_SPEEDY_KEY')]), VGEN_COUNT, 64, 'sha512');
}

function hashOf(key: Buffer, salt: Buffer): Buffer {
  return createHash('sha512').update(key).update(salt).digest();
}

export function makeVerifier(password: string, salt: Buffer = randomBytes(16)): Verifier {
  return { salt, hash: hashOf(speedyKey(password, salt), salt) };
}

/** Whether `password` is the one `v` was made from. */
export function verifierMatches(v: Verifier, password: string): boolean {
  return timingSafeEqual(hashOf(speedyKey(password, v.salt), v.salt), v.hash);
}

const ZERO_IV = Buffer.alloc(16);

function aes(key: Buffer, data: Buffer, decrypt: boolean): Buffer {
  const c = decrypt ? createDecipheriv('aes-256-cbc', key, ZERO_IV) : createCipheriv('aes-256-cbc', key, ZERO_IV);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** Pads with n bytes of value n (1..16), as the driver's _encrypt does, then encrypts. */
function encryptPadded(key: Buffer, data: Buffer): Buffer {
  const n = 16 - (data.length % 16);
  return aes(key, Buffer.concat([data, Buffer.alloc(n, n)]), false);
}

function decryptPadded(key: Buffer, data: Buffer): Buffer | undefined {
  if (data.length === 0 || data.length % 16 !== 0) return undefined;
  const plain = aes(key, data, true);
  const n = plain[plain.length - 1]!;
  if (n < 1 || n > 16 || n > plain.length) return undefined;
  for (let i = plain.length - n; i < plain.length; i++) if (plain[i] !== n) return undefined;
  return plain.subarray(0, plain.length - n);
}

const hex = (b: Buffer) => b.toString('hex').toUpperCase();
const unhex = (s: string) => (/^(?:[0-9A-Fa-f]{2})*$/.test(s) ? Buffer.from(s, 'hex') : Buffer.alloc(0));

/** One login's O5LOGON state on the server. */
export class O5Logon {
  readonly #serverHalf = randomBytes(32);
  readonly cskSalt = randomBytes(16);
  #comboKey: Buffer | undefined;

  /** `verifier` is the user's; an unknown user gets a made-up one, so phase one looks the same for every name. */
  constructor(readonly verifier: Verifier) {}

  /** The phase-one parameters (AUTH_SESSKEY, AUTH_VFR_DATA with its type as flags, CSK salt, counts). */
  phaseOne(): { key: string; value: string; flags?: number }[] {
    return [
      { key: 'AUTH_SESSKEY', value: hex(aes(this.#key(), this.#serverHalf, false)) },
      { key: 'AUTH_VFR_DATA', value: hex(this.verifier.salt), flags: VERIFIER_TYPE_12C },
      { key: 'AUTH_PBKDF2_CSK_SALT', value: hex(this.cskSalt) },
      { key: 'AUTH_PBKDF2_VGEN_COUNT', value: String(VGEN_COUNT) },
      { key: 'AUTH_PBKDF2_SDER_COUNT', value: String(SDER_COUNT) },
    ];
  }

  #key(): Buffer {
    return this.verifier.hash.subarray(0, 32);
  }

  /** Takes the client's AUTH_SESSKEY and works out the combined key. */
  combine(clientSessKey: string): void {
    const encrypted = unhex(clientSessKey);
    if (encrypted.length !== 32) throw new Error('AUTH_SESSKEY from the client is not 32 bytes');
    const clientHalf = aes(this.#key(), encrypted, true);
    const mixed = Buffer.from(hex(Buffer.concat([clientHalf, this.#serverHalf])), 'utf8');
    this.#comboKey = pbkdf2Sync(mixed, this.cskSalt, SDER_COUNT, 32, 'sha512');
  }

  get comboKey(): Buffer {
    if (!this.#comboKey) throw new Error('no combined key before phase two');
    return this.#comboKey;
  }

  /** Whether AUTH_PBKDF2_SPEEDY_KEY holds the PBKDF2 key of the verifier's password: the login check, with the verifier alone. */
  speedyKeyMatches(value: string): boolean {
    const data = unhex(value);
    if (data.length !== 80) return false;
    const key = aes(this.comboKey, data, true).subarray(16, 80);
    return timingSafeEqual(hashOf(key, this.verifier.salt), this.verifier.hash);
  }

  /** AUTH_PASSWORD or AUTH_NEWPASSWORD in clear (after the 16 random bytes), or undefined when it does not decrypt. */
  password(value: string): string | undefined {
    const plain = decryptPadded(this.comboKey, unhex(value));
    return plain && plain.length >= 16 ? plain.subarray(16).toString('utf8') : undefined;
  }

  serverResponse(): string {
    return hex(encryptPadded(this.comboKey, Buffer.concat([randomBytes(16), Buffer.from('SERVER_TO_CLIENT')])));
  }
}
