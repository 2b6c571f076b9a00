import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeFolderLock } from './folder-lock.js';
import { LocalStateStore, type LocalStateStoreOptions } from './local-state.js';
import { LocalVault } from './local-vault.js';

export const JOURNAL_FILE = 'state.jsonl';

export interface EmbeddedStores {
  readonly state: LocalStateStore;
  readonly credentials: LocalVault;
  close(): Promise<void>;
}

/**
 * The stores of the embedded default (no AWS account), all under one folder: the state store's
 * journal `<dir>/state.jsonl` (local-state.ts) and the local vault's, `<dir>/vault/vault.jsonl`
 * (local-vault.ts). The folder's lock (`<dir>/state.lock`) keeps every other opener out, in this
 * process or another, until close. A folder configured before the journal (dynalite's `<dir>/state/`) is migrated
 * on its first open (local-migration.ts).
 */
export async function openEmbeddedStores(options: { dir: string; vaultKey: Buffer }): Promise<EmbeddedStores> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const lock = takeFolderLock(options.dir);
  try {
    const journal = join(options.dir, JOURNAL_FILE);
    if (existsSync(join(options.dir, 'state')) && !existsSync(journal)) {
      // Loaded only here: the AWS SDK and dynalite are what a migration needs, and nothing else.
      const { migrateDynaliteFolder } = await import('./local-migration.js');
      await migrateDynaliteFolder(options.dir, journal);
    }
    const state = LocalStateStore.open(journal);
    const credentials = new LocalVault({ dir: join(options.dir, 'vault'), key: options.vaultKey });
    return {
      state,
      credentials,
      async close() {
        try {
          await state.close();
        } finally {
          try {
            await credentials.close();
          } finally {
            lock.release();
          }
        }
      },
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** Options of the state store that tests may set (a fake clock). */
export type MemoryStoresOptions = Pick<LocalStateStoreOptions, 'clock'>;

/**
 * Like openEmbeddedStores, but state in memory only (no journal) and the vault in a temporary
 * directory removed on close. For tests and short benchmarks.
 */
export async function openMemoryStores(options: MemoryStoresOptions = {}): Promise<EmbeddedStores> {
  const vaultDir = await mkdtemp(join(tmpdir(), 'rpr-vault-'));
  const credentials = new LocalVault({ dir: join(vaultDir, 'vault'), key: randomBytes(32) });
  return {
    state: new LocalStateStore(options),
    credentials,
    async close() {
      await credentials.close();
      await rm(vaultDir, { recursive: true, force: true });
    },
  };
}
