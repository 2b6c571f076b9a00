import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LocalVault } from './local-vault.js';
import { SqliteDb } from './sqlite-db.js';
import { SqliteStateStore, type SqliteStateStoreOptions } from './sqlite-state.js';
import { SqliteVaultRecords } from './sqlite-vault.js';

/** The embedded database, in the store's folder. */
export const DB_FILE = 'rpr.db';

export interface EmbeddedStores {
  readonly state: SqliteStateStore;
  readonly credentials: LocalVault;
  close(): Promise<void>;
}

/**
 * The stores of the embedded default (no AWS account): the state store and the vault, both in one
 * SQLite database, `<dir>/rpr.db` (sqlite-db.ts), which every rpr process on the machine may open
 * at once. A folder from before the database (journals, or dynalite under `state/`) is migrated
 * into it on its first open (sqlite-migration.ts).
 */
export async function openEmbeddedStores(options: { dir: string; vaultKey: Buffer }): Promise<EmbeddedStores> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const db = new SqliteDb(join(options.dir, DB_FILE));
  try {
    const state = new SqliteStateStore(db);
    const records = new SqliteVaultRecords(db);
    const { hasOldStore, migrateOldStore } = await import('./sqlite-migration.js');
    if (hasOldStore(options.dir)) await migrateOldStore(options.dir, db, state, records);
    return stores(db, state, records, options.vaultKey);
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Options of the state store that tests may set (a fake clock). */
export type MemoryStoresOptions = Pick<SqliteStateStoreOptions, 'clock'>;

/** Like openEmbeddedStores, but the database in memory, gone on close, with a random vault key. For tests and short benchmarks. */
export async function openMemoryStores(options: MemoryStoresOptions = {}): Promise<EmbeddedStores> {
  const db = new SqliteDb(':memory:');
  return stores(db, new SqliteStateStore(db, options), new SqliteVaultRecords(db), randomBytes(32));
}

function stores(db: SqliteDb, state: SqliteStateStore, records: SqliteVaultRecords, key: Buffer): EmbeddedStores {
  return {
    state,
    credentials: new LocalVault({ key, records }),
    async close() {
      db.close();
    },
  };
}
