import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, Journal, type JournalKind } from './local-journal.js';
import { copyOf, FORMAT, isVaultFile, VaultIntegrityError, type VaultFile, type VaultRecords } from './vault-format.js';

/** The vault's journal, in its folder. */
export const VAULT_JOURNAL_FILE = 'vault.jsonl';
const VAULT_JOURNAL: JournalKind = { name: 'vault journal', header: JSON.stringify({ rpr: 'vault-journal', version: 1 }) };
/** A secret's file, as vaults before the journal kept them: the SHA-256 of its id, in hex. */
const SECRET_FILE = /^[0-9a-f]{64}\.json$/;

/** A line of the journal: a secret as it is after a change, or that it was deleted. */
type VaultJournalEntry = VaultFile | { deleted: string };

/**
 * The vault's records as a folder held `vault.jsonl` (mode 0600, folder 0700) before the embedded
 * database, a journal (local-journal.ts): each change appends one line, the secret as it is after
 * it, values sealed; the last line of a secret is what it holds. Read now to migrate a folder into
 * the database (embedded.ts), and by tests; one process at a time (the folder's lock kept others
 * out). The journal is read once, on the first operation, and every secret kept in memory, sealed
 * as on disk; a change is kept only once its line is written (`durable`: and fdatasynced).
 * When most of the journal's lines are superseded, it is rewritten as it is opened. A vault kept
 * as one file per secret (before the journal) is moved into it on its first open (#opened).
 */
export class JournalVaultRecords implements VaultRecords {
  readonly #dir: string;
  #journal: Journal | undefined;
  /** The tail of each secret's queue of operations: one at a time per secret. */
  readonly #queues = new Map<string, Promise<unknown>>();
  /** Secret id → the secret as its last line in the journal holds it (never changed in place). */
  readonly #files = new Map<string, VaultFile>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  use<T>(secretId: string, mode: 'read' | 'write' | 'durable', body: (file: VaultFile | undefined) => { file?: VaultFile | null; result: T }): Promise<T> {
    return this.#serialize(secretId, async () => {
      this.#opened();
      const held = this.#files.get(secretId);
      const { file, result } = body(held && copyOf(held));
      if (mode === 'read' || file === undefined || (file === null && !held)) return result;
      const entry: VaultJournalEntry = file ?? { deleted: secretId };
      await this.#opened().append(entry, { sync: mode === 'durable' });
      if (file) this.#files.set(secretId, file);
      else this.#files.delete(secretId);
      return result;
    });
  }

  /** Every secret the folder holds (what a migration takes). */
  all(): VaultFile[] {
    this.#opened();
    return [...this.#files.values()];
  }

  /** Waits for the journal's last write, fsyncs and closes it; an operation after that is refused. */
  async close(): Promise<void> {
    await this.#journal?.close();
  }

  /** The journal, opened (and read, compacted or migrated into) on the first operation. */
  #opened(): Journal {
    if (this.#journal) return this.#journal;
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    chmodSync(this.#dir, 0o700);
    const path = join(this.#dir, VAULT_JOURNAL_FILE);
    // A vault kept as one file per secret (before the journal): every file is read and checked
    // before anything is written, so a bad one refuses the migration and changes nothing.
    const migrating = !existsSync(path);
    const names = readdirSync(this.#dir).filter((f) => SECRET_FILE.test(f));
    const old = names.map((name) => this.#readSecretFile(name, migrating ? 'nothing was migrated' : 'move it aside'));
    if (migrating && old.length > 0) Journal.write(path, old, VAULT_JOURNAL);
    const entries = Journal.load(path, VAULT_JOURNAL);
    this.#files.clear();
    entries.forEach((entry, i) => this.#apply(entry, `line ${i + 2} of ${path}`));
    if (old.length > 0) this.#moveAside(names, old);
    if (entries.length - this.#files.size > Math.max(100, this.#files.size)) Journal.write(path, this.#files.values(), VAULT_JOURNAL);
    this.#journal = Journal.open(path, VAULT_JOURNAL);
    return this.#journal;
  }

  #apply(entry: unknown, where: string): void {
    if (typeof entry === 'object' && entry !== null && typeof (entry as { deleted?: unknown }).deleted === 'string') {
      this.#files.delete((entry as { deleted: string }).deleted);
      return;
    }
    if (!isVaultFile(entry)) throw new VaultIntegrityError('secretId', `${where} is not a ${FORMAT} secret`);
    this.#files.set(entry.secretId, entry);
  }

  /**
   * Moves the files a migration took in aside, into `files.migrated-<time>/` (kept, sealed as they
   * were, for whoever wants them; nothing reads them again). A file there beside the journal that
   * is not what the journal holds for its secret (written by an rpr from before the journal, after
   * the migration) refuses the open, naming it: the journal cannot tell which is newer.
   */
  #moveAside(names: readonly string[], files: readonly VaultFile[]): void {
    for (const [i, file] of files.entries()) {
      if (JSON.stringify(this.#files.get(file.secretId)) !== JSON.stringify(file)) {
        throw new VaultIntegrityError(
          'secretId',
          `the vault file ${join(this.#dir, names[i]!)} (secret ${file.secretId}) is not what the vault journal holds for it; it was written by an rpr from before the journal, after the vault was moved into ${VAULT_JOURNAL_FILE}. Move one of the two aside.`,
        );
      }
    }
    const aside = join(this.#dir, `files.migrated-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(aside, { mode: 0o700 });
    for (const name of names) renameSync(join(this.#dir, name), join(aside, name));
    fsyncDir(this.#dir);
  }

  /** A secret's file from before the journal, checked: a vault file for the secret its name is the digest of. */
  #readSecretFile(name: string, advice: string): VaultFile {
    const where = join(this.#dir, name);
    let file: unknown;
    try {
      file = JSON.parse(readFileSync(where, 'utf8'));
    } catch {
      throw new VaultIntegrityError('secretId', `the vault file ${where} is not valid JSON; ${advice}`);
    }
    if (!isVaultFile(file) || `${secretDigest(file.secretId)}.json` !== name) {
      throw new VaultIntegrityError('secretId', `the vault file ${where} is not a ${FORMAT} file for the secret its name is the digest of; ${advice}`);
    }
    return file;
  }

  /** Runs `operation` after every earlier operation on the same secret has settled. */
  #serialize<T>(secretId: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(secretId) ?? Promise.resolve();
    const result = previous.then(operation, operation);
    const tail = result.catch(() => undefined);
    this.#queues.set(secretId, tail);
    void tail.then(() => {
      if (this.#queues.get(secretId) === tail) this.#queues.delete(secretId);
    });
    return result;
  }
}

function secretDigest(secretId: string): string {
  return createHash('sha256').update(secretId, 'utf8').digest('hex');
}
