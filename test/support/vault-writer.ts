/**
 * A process that writes to a local vault until it is killed (the vault's crash test,
 * test/unit/engine/stores/local-vault.test.ts): `node --import tsx vault-writer.ts DIR`, the key
 * in hex on RPR_VAULT_KEY. It creates secrets s0 to s3, then puts a pending version on each, all
 * four at once, again and again, printing "SECRET VERSION" once putPending has answered for it.
 */
import { randomUUID } from 'node:crypto';
import { LocalVault } from '../../layers/engine/stores/local-vault.js';
import { Secret } from '../../layers/engine/secret.js';

const vault = new LocalVault({ dir: process.argv[2]!, key: Buffer.from(process.env.RPR_VAULT_KEY!, 'hex') });
const secrets = ['s0', 's1', 's2', 's3'];
for (const s of secrets) await vault.createSecret(s, new Secret('first'));
process.stdout.write('created\n');
for (;;) {
  await Promise.all(
    secrets.map(async (s) => {
      const id = randomUUID();
      await vault.putPending(s, id, new Secret(`pending ${id}`));
      process.stdout.write(`${s} ${id}\n`);
    }),
  );
}
