import type { SqliteDb } from './sqlite-db.js';
import { FORMAT, isVaultFile, VaultIntegrityError, type VaultFile, type VaultRecords } from './vault-format.js';

/**
 * The vault's secrets in the embedded database (sqlite-db.ts): one row per secret, the VaultFile
 * as JSON, values sealed as local-vault.ts seals them. Each use is one transaction: a change reads
 * the row and writes it back in the same write transaction, so two processes changing one secret
 * do so one after the other.
 */
export class SqliteVaultRecords implements VaultRecords {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
    db.writeNow(() => db.exec('CREATE TABLE IF NOT EXISTS secrets (secret_id TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID'));
  }

  async use<T>(secretId: string, mode: 'read' | 'write' | 'durable', body: (file: VaultFile | undefined) => { file?: VaultFile | null; result: T }): Promise<T> {
    if (mode === 'read') return this.#db.read(() => body(this.#get(secretId)).result);
    return this.#db.write(
      () => {
        const held = this.#get(secretId);
        const { file, result } = body(held);
        if (file === null) this.#db.statement('DELETE FROM secrets WHERE secret_id = ?').run(secretId);
        else if (file) this.put(file);
        return result;
      },
      { durable: mode === 'durable' },
    );
  }

  /** Stores a secret as it is (within the caller's write transaction, or on its own). */
  put(file: VaultFile): void {
    this.#db.statement('INSERT OR REPLACE INTO secrets (secret_id, v) VALUES (?, ?)').run(file.secretId, JSON.stringify(file));
  }

  /** The database is closed by whoever opened it (embedded.ts). */
  async close(): Promise<void> {}

  #get(secretId: string): VaultFile | undefined {
    const row = this.#db.statement('SELECT v FROM secrets WHERE secret_id = ?').get(secretId) as { v: string } | undefined;
    if (!row) return undefined;
    const file: unknown = JSON.parse(row.v);
    if (!isVaultFile(file) || file.secretId !== secretId) throw new VaultIntegrityError('secretId', `the embedded database's record of secret ${secretId} is not a ${FORMAT} secret`);
    return file;
  }
}
