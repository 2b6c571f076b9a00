import { closeSync, fdatasync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, truncateSync, write, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname } from 'node:path';

/** What a journal file holds: its first line, and what errors call it. */
export interface JournalKind {
  /** As errors name it: "the state journal". */
  readonly name: string;
  /** Its first line. */
  readonly header: string;
}

export const STATE_JOURNAL: JournalKind = { name: 'state journal', header: JSON.stringify({ rpr: 'state-journal', version: 1 }) };

/**
 * An embedded store's file: one JSON line per change, appended, replayed on open (the state
 * store's, local-state.ts, and the vault's, local-vault.ts).
 *
 * Appends are group-committed: the lines of every change made in one turn of the event loop go
 * out in one `write`, in order, and each change's promise resolves once that write is done. The
 * write is made off the main thread, one at a time: lines appended meanwhile go in the next.
 * Durability is that of a `write` without fsync, as LevelDB's (the state store before this one)
 * was: a line written survives a crash of the process, not necessarily of the machine; a change
 * appended with `sync` is answered only after an fdatasync that follows its write, so it (and
 * every line before it) survives a crash of the machine too; one fdatasync serves the whole group.
 * `close` fsyncs. A crash in the middle of a write leaves a torn last line: it is dropped (and
 * cut from the file) when the journal is next loaded; its change had not been acknowledged. A
 * write that fails stops the journal: that change and every later one are refused, since memory
 * would no longer match the file.
 */
export class Journal {
  readonly #path: string;
  readonly #kind: JournalKind;
  readonly #fd: number;
  #batch: string[] = [];
  #batchSyncs = false;
  #written: Promise<void> | undefined;
  /** The latest write, settled either way: the next one starts after it. */
  #tail: Promise<void> = Promise.resolve();
  #failed: Error | undefined;
  #closed = false;

  private constructor(path: string, kind: JournalKind) {
    this.#path = path;
    this.#kind = kind;
    this.#fd = openSync(path, 'a', 0o600);
  }

  /**
   * The entries of the journal at `path`, in order (none if it does not exist or is empty). A torn
   * last line is dropped and cut from the file, so appends start clean.
   */
  static load(path: string, kind: JournalKind): unknown[] {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end < bytes.length) truncateSync(path, end);
    const lines = bytes.subarray(0, end).toString('utf8').split('\n');
    lines.pop();
    if (lines.length === 0) return [];
    if (lines[0] !== kind.header) throw new Error(`${path} is not an rpr ${kind.name} (its first line is not ${kind.header})`);
    return lines.slice(1).map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (e) {
        throw new Error(`${path}: line ${i + 2} is not an entry of the ${kind.name}`, { cause: e });
      }
    });
  }

  /**
   * Writes a whole journal (a snapshot: compaction, migration) under a temporary name, fsyncs it
   * and renames it into place, so the file at `path` is always either the old one or the new one.
   */
  static write(path: string, entries: Iterable<unknown>, kind: JournalKind): void {
    const temp = `${path}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      let chunk = `${kind.header}\n`;
      for (const entry of entries) {
        chunk += `${JSON.stringify(entry)}\n`;
        if (chunk.length > 1 << 20) {
          writeAll(fd, chunk);
          chunk = '';
        }
      }
      writeAll(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    fsyncDir(dirname(path));
  }

  /** Opens the journal at `path` for appending, creating it (mode 0600) with its header if needed. */
  static open(path: string, kind: JournalKind): Journal {
    const journal = new Journal(path, kind);
    if (fstatSync(journal.#fd).size === 0) {
      writeAll(journal.#fd, `${kind.header}\n`);
      fsyncSync(journal.#fd);
      fsyncDir(dirname(path));
    }
    return journal;
  }

  /** Throws if the journal takes no more lines (a write failed, or it was closed): check before changing what it records. */
  assertWritable(): void {
    if (this.#failed) throw this.#failed;
    if (this.#closed) throw new Error(`the ${this.#kind.name} ${this.#path} is closed`);
  }

  /**
   * Appends an entry; resolves when its line (and every line before it) has been written, and with
   * `sync`, made durable with fdatasync.
   */
  append(entry: unknown, options: { sync?: boolean } = {}): Promise<void> {
    this.assertWritable();
    this.#batch.push(JSON.stringify(entry));
    if (options.sync) this.#batchSyncs = true;
    if (!this.#written) {
      const previous = this.#tail;
      this.#written = new Promise<void>((resolve) => setImmediate(resolve)).then(() => previous).then(() => this.#flush());
      this.#tail = this.#written.catch(() => undefined);
    }
    return this.#written;
  }

  /** Resolves when every line appended so far has been written. */
  async settled(): Promise<void> {
    await this.#tail;
    if (this.#failed) throw this.#failed;
  }

  async #flush(): Promise<void> {
    if (this.#failed) throw this.#failed;
    const text = `${this.#batch.join('\n')}\n`;
    const sync = this.#batchSyncs;
    this.#batch = [];
    this.#batchSyncs = false;
    this.#written = undefined;
    try {
      const bytes = Buffer.from(text, 'utf8');
      for (let done = 0; done < bytes.length; ) done += (await writeAsync(this.#fd, bytes, done, bytes.length - done, null)).bytesWritten;
      if (sync) await fdatasyncAsync(this.#fd);
    } catch (e) {
      this.#failed = new Error(`could not write the ${this.#kind.name} ${this.#path}: ${(e as Error).message}`, { cause: e });
      throw this.#failed;
    }
  }

  /** Waits for the last write, fsyncs and closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.settled();
    } finally {
      fsyncSync(this.#fd);
      closeSync(this.#fd);
    }
  }
}

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
}

/** Makes a rename or a new file in `dir` durable, where the file system lets a folder be synced. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (e) {
    // Some file systems refuse to sync a folder (EINVAL); the rename is still atomic there.
    if (!['EINVAL', 'ENOTSUP', 'EISDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    closeSync(fd);
  }
}
