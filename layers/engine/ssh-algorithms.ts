/**
 * SSH algorithms older devices may offer alone (IOS 12/15, PIX, ScreenOS, ProCurve, iLO 2-4,
 * ALOM): weak by today's measure, so never offered unless a resource names them, by kind, in its
 * `sshAlgorithms` field. Named ones are added after the defaults (preferred last), never in place
 * of them; nothing else widens what the client offers. ssh2 implements every name here.
 */
export const LEGACY_SSH_ALGORITHMS = {
  kex: ['diffie-hellman-group14-sha1', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group1-sha1'],
  serverHostKey: ['ssh-rsa', 'ssh-dss'],
  cipher: ['aes128-cbc', 'aes192-cbc', 'aes256-cbc', '3des-cbc'],
  hmac: ['hmac-sha1', 'hmac-sha1-96', 'hmac-md5', 'hmac-md5-96'],
} as const;

export type LegacySshAlgorithmKind = keyof typeof LEGACY_SSH_ALGORITHMS;

/** The legacy algorithms a resource names, by kind (each a subset of LEGACY_SSH_ALGORITHMS). */
export type LegacySshAlgorithms = { readonly [K in LegacySshAlgorithmKind]?: readonly (typeof LEGACY_SSH_ALGORITHMS)[K][number][] };
