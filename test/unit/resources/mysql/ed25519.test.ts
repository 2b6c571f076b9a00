import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../../../layers/engine/secret.js';
import { ed25519PasswordKey } from '../../../../layers/resources/mysql/ed25519.js';
import { attest } from '../../../../layers/resources/mysql/hashes.js';

/** RFC 8032's public key for a 32-byte seed, from node:crypto's own Ed25519. */
function rfc8032PublicKey(seed: Buffer): string {
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - 32).toString('base64').replace(/=+$/, '');
}

describe("MariaDB's ed25519 stored key", () => {
  it("is MariaDB's documented value for 'secret'", () => {
    // https://mariadb.com/kb/en/authentication-plugin-ed25519/: CREATE USER ... USING PASSWORD('secret').
    expect(ed25519PasswordKey(new Secret('secret'))).toBe('ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY');
  });

  it("equals RFC 8032's public key when the password is 32 bytes (both hash exactly those bytes with SHA-512): either sign of x", () => {
    let odd = 0;
    for (let i = 0; i < 64; i++) {
      const password = randomBytes(24).toString('base64'); // 32 ASCII bytes
      const expected = rfc8032PublicKey(Buffer.from(password, 'latin1'));
      expect(ed25519PasswordKey(new Secret(password)), password).toBe(expected);
      if (Buffer.from(expected, 'base64')[31]! & 0x80) odd++;
    }
    // Both signs were exercised.
    expect(odd).toBeGreaterThan(0);
    expect(odd).toBeLessThan(64);
  });

  it('attests the right password, refuses a wrong one, and has nothing to compare for a malformed key', () => {
    const stored = Buffer.from('ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY', 'latin1');
    expect(attest('ed25519', stored, new Secret('secret'))).toBe(true);
    expect(attest('ed25519', stored, new Secret('Secret'))).toBe(false);
    expect(attest('ed25519', Buffer.from('short', 'latin1'), new Secret('secret'))).toBeUndefined();
  });
});
