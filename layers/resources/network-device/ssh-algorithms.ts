import { z } from 'zod';
import { LEGACY_SSH_ALGORITHMS, type LegacySshAlgorithmKind } from '../../engine/ssh-algorithms.js';

function kind<K extends LegacySshAlgorithmKind>(k: K) {
  const known: readonly string[] = LEGACY_SSH_ALGORITHMS[k];
  return z
    .array(z.string())
    .max(known.length)
    .superRefine((names, ctx) => {
      names.forEach((name, i) => {
        if (!known.includes(name)) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(name)} (item ${i + 1}) is not a legacy ${k} algorithm rpr offers; known: ${known.join(', ')}` });
        else if (names.indexOf(name) !== i) ctx.addIssue({ code: 'custom', message: `names ${JSON.stringify(name)} twice` });
      });
    })
    .transform((names) => names as (typeof LEGACY_SSH_ALGORITHMS)[K][number][]);
}

/**
 * The legacy SSH algorithms a device needs, by kind, each a subset of LEGACY_SSH_ALGORITHMS
 * (layers/engine/ssh-algorithms.ts): added after the client's defaults, never in their place.
 * Default none. An unknown name is refused naming `sshAlgorithms.<kind>`; over Telnet the field is
 * refused (see `checkDeviceTransport`).
 */
export const sshAlgorithmsSchema = z
  .object({
    kex: kind('kex').optional(),
    serverHostKey: kind('serverHostKey').optional(),
    cipher: kind('cipher').optional(),
    hmac: kind('hmac').optional(),
  })
  .strict();

export type SshAlgorithmsConfig = z.output<typeof sshAlgorithmsSchema>;
