import type { Secret } from '../../engine/secret.js';

/**
 * The value of Active Directory's `unicodePwd` attribute for a password: the UTF-16LE encoding of the
 * password enclosed in double quotes ([MS-ADTS] 3.1.1.3.1.5.1 "unicodePwd"). Sent as a binary value;
 * an admin reset replaces it, a user's own change deletes the old value and adds the new in one modify.
 * The buffer holds the password: send it, never log it, and zero it when done (`buffer.fill(0)`).
 */
export function unicodePwdValue(password: Secret): Buffer {
  return Buffer.from(`"${password.reveal()}"`, 'utf16le');
}
