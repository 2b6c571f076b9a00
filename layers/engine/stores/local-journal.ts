import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, truncateSync, write, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname } from 'node:path';

const HEADER = JSON.stringify({ rpr: 'state-journal', version: 1 });

/**
 * The embedded state store's file: one JSON line per change, appended, replayed on open.
 *
 * Appends are group-committed: the lines of every change made in one turn of the event loop go
 * out in one `write`, in order, and each change's promise resolves once that write is done. The
 * write is made off the main thread, one at a time: lines appended meanwhile go in the next.
 * Durability is that of a `write` without fsync, as LevelDB's (the store before this one) was:
 * a line written survives a crash of the process, not necessarily of the machine. `close` fsyncs.
 * A crash in the middle of a write leaves a torn last line: it is dropped (and cut from the file)
 * when the journal is next loaded; its change had not been acknowledged. A write that fails
 * stops the journal: that change and every later one are refused, since memory would no longer
 * match the file.
 */
export class Journal {
  readonly #path: string;
  readonly #fd: number;
  #batch: string[] = [];
  #written: Promise<void> | undefined;
  /** The latest write, settled either way: the next one starts after it. */
  #tail: Promise<void> = Promise.resolve();
  #failed: Error | undefined;
  #closed = false;

  private constructor(path: string) {
    this.#path = path;
    this.#fd = openSync(path, 'a', 0o600);
  }

  /**
   * The entries of the journal at `path`, in order (none if it does not exist or is empty). A torn
   * last line is dropped and cut from the file, so appends start clean.
   */
  static load(path: string): unknown[] {
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
    if (lines[0] !== HEADER) throw new Error(`${path} is not an rpr state journal (its first line is not ${HEADER})`);
    return lines.slice(1).map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (e) {
        throw new Error(`${path}: line ${i + 2} is not a journal entry`, { cause: e });
      }
    });
  }

  /**
   * Writes a whole journal (a snapshot: compaction, migration) under a temporary name, fsyncs it
   * and renames it into place, so the file at `path` is always either the old one or the new one.
   */
  static write(path: string, entries: Iterable<unknown>): void {
    const temp = `${path}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      let chunk = `${HEADER}\n`;
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
  static open(path: string): Journal {
    const journal = new Journal(path);
    if (fstatSync(journal.#fd).size === 0) writeAll(journal.#fd, `${HEADER}\n`);
    return journal;
  }

  /** Throws if the journal takes no more lines (a write failed, or it was closed): check before changing what it records. */
  assertWritable(): void {
    if (this.#failed) throw this.#failed;
    if (this.#closed) throw new Error(`the state journal ${this.#path} is closed`);
  }

  /** Appends an entry; resolves when its line (and every line before it) has been written. */
  append(entry: unknown): Promise<void> {
    this.assertWritable();
    this.#batch.push(JSON.stringify(entry));
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
    this.#batch = [];
    this.#written = undefined;
    try {
      const bytes = Buffer.from(text, 'utf8');
      for (let done = 0; done < bytes.length; ) done += (await writeAsync(this.#fd, bytes, done, bytes.length - done, null)).bytesWritten;
    } catch (e) {
      this.#failed = new Error(`could not write the state journal ${this.#path}: ${(e as Error).message}`, { cause: e });
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

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
}

/** Makes a rename in `dir` durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
