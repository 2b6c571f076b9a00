import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';

export interface Ed25519KeyPair {
  /** OpenSSH private key format, as ssh2 and OpenSSH take it. */
  readonly private: string;
  /** One authorized_keys line: "ssh-ed25519 BASE64". */
  readonly public: string;
  /** SHA-256 of the public key blob, base64 without padding: what `ssh-keygen -lf` prints after "SHA256:". */
  readonly sha256: string;
}

/**
 * An Ed25519 key pair from ssh2's generator, checked by ssh2's own parser: about one generated
 * key in 170 is one the parser then refuses ("Malformed OpenSSH public key"), which made tests
 * that start an SSH server or log in by key fail at random. Such a key is made again.
 */
export function ed25519KeyPair(): Ed25519KeyPair {
  for (let attempt = 0; attempt < 20; attempt++) {
    const keys = ssh2.utils.generateKeyPairSync('ed25519');
    const priv = ssh2.utils.parseKey(keys.private);
    const pub = ssh2.utils.parseKey(keys.public);
    if (priv instanceof Error || pub instanceof Error || !priv.getPublicSSH().equals(pub.getPublicSSH())) continue;
    return { private: keys.private, public: keys.public, sha256: createHash('sha256').update(pub.getPublicSSH()).digest('base64').replace(/=+$/, '') };
  }
  throw new Error('ssh2 made 20 Ed25519 keys in a row that it cannot parse');
}
