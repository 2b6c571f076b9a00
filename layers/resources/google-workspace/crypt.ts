import { randomBytes } from 'node:crypto';
import { encrypt } from 'unixcrypt';
import type { Secret } from '../../engine/secret.js';

/** crypt(3)'s salt alphabet, 64 characters: a random byte's low six bits pick one without bias. */
const SALT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** 16 characters, the longest salt SHA-crypt takes (96 bits). */
export function cryptSalt(): string {
  return [...randomBytes(16)].map((b) => SALT_ALPHABET[b & 63]).join('');
}

/**
 * The password as Google's Directory API takes it with `hashFunction: "crypt"`: a SHA-512 crypt
 * string (`$6$<salt>$<hash>`, Drepper's "Unix crypt using SHA-256 and SHA-512", as glibc's
 * crypt(3) makes it), with a fresh random salt and the default 5,000 rounds. Google stores it as
 * given, so the clear text never leaves the function. Computed by `unixcrypt` (Node's crypto has
 * no crypt(3)); its output is checked against the specification's vectors and `openssl passwd -6`.
 */
export function sha512Crypt(password: Secret, salt: string = cryptSalt()): string {
  if (!/^[./0-9A-Za-z]{1,16}$/.test(salt)) throw new Error('a crypt salt is 1 to 16 characters of [./0-9A-Za-z]');
  return encrypt(password.reveal(), `$6$${salt}`);
}
