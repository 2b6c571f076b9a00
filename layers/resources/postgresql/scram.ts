import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { Secret } from '../../engine/secret.js';
import { saslprep } from './saslprep.js';

const pbkdf2Async = promisify(pbkdf2);

/** PostgreSQL's default (`scram_iterations`, 4096 up to 15; RFC 7677's minimum). */
export const SCRAM_ITERATIONS = 4096;

export interface ScramKeys {
  readonly saltedPassword: Buffer;
  readonly clientKey: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/** The RFC 5802 key schedule for SCRAM-SHA-256, after PostgreSQL's SASLprep of the password. */
export async function scramKeys(password: string, salt: Buffer, iterations: number): Promise<ScramKeys> {
  const saltedPassword = await pbkdf2Async(Buffer.from(saslprep(password), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', saltedPassword).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', saltedPassword).update('Server Key').digest();
  return { saltedPassword, clientKey, storedKey, serverKey };
}

/**
 * The text PostgreSQL stores in pg_authid.rolpassword for a SCRAM-SHA-256 password:
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64. Sent as the
 * role's password, the server stores it as is, so the plaintext never reaches the server
 * (nor its log, where a failing statement is written in full).
 */
export async function scramVerifier(password: Secret, options: { salt?: Buffer; iterations?: number } = {}): Promise<string> {
  const salt = options.salt ?? randomBytes(16);
  const iterations = options.iterations ?? SCRAM_ITERATIONS;
  const k = await scramKeys(password.reveal(), salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${k.storedKey.toString('base64')}:${k.serverKey.toString('base64')}`;
}
