import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidConfigurationError } from '../errors.js';
import { takeFolderLock } from './folder-lock.js';
import { fsyncDir } from './local-journal.js';
import { LocalStateStore } from './local-state.js';
import type { SqliteDb } from './sqlite-db.js';
import type { SqliteStateStore } from './sqlite-state.js';
import type { SqliteVaultRecords } from './sqlite-vault.js';
import { JournalVaultRecords } from './vault-journal.js';

/** The files of a folder from before the embedded database: the state journal and the vault's folder. */
export const STATE_JOURNAL_FILE = 'state.jsonl';
const VAULT_DIR = 'vault';
/** Where they are moved while a migration reads them: no rpr from before the database writes there. */
const STAGED = { state: `${STATE_JOURNAL_FILE}.migrating`, vault: `${VAULT_DIR}.migrating` } as const;

/** Whether `dir` holds anything from before the embedded database (a dynalite folder, journals, a half-done migration). */
export function hasOldStore(dir: string): boolean {
  return [STATE_JOURNAL_FILE, VAULT_DIR, 'state', STAGED.state, STAGED.vault].some((f) => existsSync(join(dir, f)));
}

/**
 * Brings a folder from before the embedded database into it, once: the state journal
 * (`state.jsonl`, replayed as local-state.ts does, expired records dropped) and the vault
 * (`vault/vault.jsonl`, or its files per secret from before that; values stay sealed as they
 * were), all written in one durable transaction; a dynalite folder (`state/`) is first brought to
 * a journal (local-migration.ts). Crash-safe in steps: the old files are first renamed to
 * `*.migrating` (no rpr from before the database writes there), read from there, written, and
 * only after the commit renamed to `*.migrated-<time>` (kept, never deleted). A crash before the
 * commit leaves `*.migrating`, taken up by the next open; after it, the next open only finishes the
 * renames. The folder's lock (which an rpr from before the database holds while it runs) is held
 * throughout, so a running older rpr refuses the migration (StoreInUseError) rather than write to
 * files being moved. Leases are not brought: the lock proves no older run is alive to hold one.
 *
 * Old files that appear again after a migration (an older rpr run since) are refused, naming them:
 * their changes would otherwise be lost or overwrite newer ones.
 */
export async function migrateOldStore(dir: string, db: SqliteDb, state: SqliteStateStore, records: SqliteVaultRecords): Promise<void> {
  const lock = takeFolderLock(dir);
  try {
    db.exec('CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID');
    const migrated = db.statement("SELECT v FROM meta WHERE k = 'migrated'").get() as { v: string } | undefined;
    const reappeared = [STATE_JOURNAL_FILE, VAULT_DIR, 'state'].filter((f) => existsSync(join(dir, f)));
    if (migrated && reappeared.length > 0) {
      throw new InvalidConfigurationError(
        'dataDir',
        `${dir} holds ${reappeared.join(' and ')} beside rpr.db, into which this folder was migrated (${JSON.parse(migrated.v).at}): an rpr from before the embedded database wrote them since. ` +
          `Move them aside to go on with rpr.db, or export what they hold with that rpr (rpr resource list --json, rpr account list --json) and import it here.`,
      );
    }
    if (!migrated) {
      if (existsSync(join(dir, 'state')) && !existsSync(join(dir, STATE_JOURNAL_FILE)) && !existsSync(join(dir, STAGED.state))) {
        // Loaded only here: the AWS SDK and dynalite are what this needs, and nothing else.
        const { migrateDynaliteFolder } = await import('./local-migration.js');
        await migrateDynaliteFolder(dir, join(dir, STATE_JOURNAL_FILE));
      }
      stage(dir);
      const entries = existsSync(join(dir, STAGED.state)) ? [...LocalStateStore.open(join(dir, STAGED.state)).entries()] : [];
      const vault = existsSync(join(dir, STAGED.vault)) ? new JournalVaultRecords(join(dir, STAGED.vault)) : undefined;
      const secrets = vault?.all() ?? [];
      await vault?.close();
      db.writeNow(
        () => {
          state.importJournal(entries);
          for (const file of secrets) records.put(file);
          db.statement("INSERT INTO meta (k, v) VALUES ('migrated', ?)").run(JSON.stringify({ at: new Date().toISOString(), records: entries.length, secrets: secrets.length }));
        },
        { durable: true },
      );
    }
    const at = new Date().toISOString().replace(/[:.]/g, '-');
    for (const [name, staged] of [[STATE_JOURNAL_FILE, STAGED.state], [VAULT_DIR, STAGED.vault]] as const) {
      if (existsSync(join(dir, staged))) renameSync(join(dir, staged), join(dir, `${name}.migrated-${at}`));
    }
    fsyncDir(dir);
  } finally {
    lock.release();
  }
}

function stage(dir: string): void {
  for (const [name, staged] of [[STATE_JOURNAL_FILE, STAGED.state], [VAULT_DIR, STAGED.vault]] as const) {
    if (existsSync(join(dir, name)) && !existsSync(join(dir, staged))) renameSync(join(dir, name), join(dir, staged));
  }
  fsyncDir(dir);
}
