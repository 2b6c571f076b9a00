import { BerWriter } from 'ldapts';
import type { Secret } from '../../engine/secret.js';

/** The Password Modify extended operation (RFC 3062 section 2). */
export const PASSWORD_MODIFY_OID = '1.3.6.1.4.1.4203.1.11.1';

// Context-specific, primitive tags of the request's three fields.
const TAG_USER_IDENTITY = 0x80;
const TAG_OLD_PASSWD = 0x81;
const TAG_NEW_PASSWD = 0x82;

export interface PasswordModifyRequest {
  /** The entry whose password changes; omitted: the bound identity (RFC 3062 section 2). */
  readonly userIdentity?: string | undefined;
  readonly oldPassword?: Secret | undefined;
  readonly newPassword?: Secret | undefined;
}

/**
 * The request value, BER-encoded:
 *   PasswdModifyRequestValue ::= SEQUENCE {
 *     userIdentity [0] OCTET STRING OPTIONAL,
 *     oldPasswd    [1] OCTET STRING OPTIONAL,
 *     newPasswd    [2] OCTET STRING OPTIONAL }
 * Strings travel as UTF-8 octets, exactly as given: the DN is one protocol field, never parsed or
 * rebuilt here. The buffer holds the passwords: send it, never log it.
 */
export function passwordModifyValue(request: PasswordModifyRequest): Buffer {
  const writer = new BerWriter();
  writer.startSequence();
  if (request.userIdentity !== undefined) writer.writeBuffer(Buffer.from(request.userIdentity, 'utf8'), TAG_USER_IDENTITY);
  if (request.oldPassword !== undefined) writer.writeBuffer(Buffer.from(request.oldPassword.reveal(), 'utf8'), TAG_OLD_PASSWD);
  if (request.newPassword !== undefined) writer.writeBuffer(Buffer.from(request.newPassword.reveal(), 'utf8'), TAG_NEW_PASSWD);
  writer.endSequence();
  return writer.buffer;
}
