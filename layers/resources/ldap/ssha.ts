import { createHash, randomBytes } from 'node:crypto';
import type { Secret } from '../../engine/secret.js';

/**
 * A salted SHA-1 userPassword value, "{SSHA}" + base64(SHA1(password + salt) + salt), the scheme
 * OpenLDAP verifies out of the box (slappasswd(8), the default of olcPasswordHash). Used where we must
 * write `userPassword` ourselves on a server that would otherwise store the clear text as given.
 */
export function sshaUserPassword(password: Secret, salt: Buffer = randomBytes(8)): string {
  const digest = createHash('sha1').update(Buffer.from(password.reveal(), 'utf8')).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** Whether a stored userPassword value names a storage scheme ("{SSHA}...", "{CRYPT}..."), i.e. is not clear text. */
export function hasStorageScheme(value: Buffer | string): boolean {
  const text = typeof value === 'string' ? value : value.toString('latin1');
  return /^\{[A-Za-z0-9._-]+\}/.test(text);
}
