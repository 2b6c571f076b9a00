import { DatabaseSync, type DatabaseSyncInstance, type StatementSyncInstance } from '@photostructure/sqlite';
import { closeSync, openSync } from 'node:fs';
import { TargetUnchangedError } from '../errors.js';

/**
 * The embedded store's database, `<dir>/rpr.db`: one SQLite file that every rpr process on the
 * machine opens at once (the state store, sqlite-state.ts, and the vault's records, sqlite-vault.ts).
 *
 * Why SQLite through `@photostructure/sqlite`: it is node:sqlite's API (DatabaseSync, prepared
 * statements) on Node 20, where node:sqlite does not exist, and on 22, where it is still
 * experimental; its native binaries ship prebuilt inside the registry package, so `npm install`
 * downloads and compiles nothing.
 *
 * WAL journal mode, so a `rpr runs` reads while a reset writes. Changes are made in `BEGIN
 * IMMEDIATE` transactions, which take the database's write lock at their start, so a decision
 * (a lease is free, a version is missing) and the change it leads to are one step against every
 * other process, as DynamoDB's conditional writes are; the changes asked for in one turn of the
 * event loop share one transaction (`write`). A writer waits up to `busyTimeoutMs` for another's
 * transaction (each takes well under a millisecond) before it gives up with StoreBusyError.
 * Durability: a commit survives a crash of the process (synchronous=NORMAL); one holding a
 * `durable` change (the vault's new and pending versions) survives a crash of the machine
 * (synchronous=FULL: the WAL is synced before the commit returns).
 */
export class SqliteDb {
  readonly path: string;
  readonly #db: DatabaseSyncInstance;
  readonly #statements = new Map<string, StatementSyncInstance>();
  #inTransaction = false;
  /** The changes asked for in this turn of the event loop: one transaction at the next (#flush). */
  #batch: { change: () => unknown; durable: boolean; resolve: (value: unknown) => void; reject: (e: unknown) => void }[] = [];

  constructor(path: string, options: { busyTimeoutMs?: number } = {}) {
    this.path = path;
    // Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    if (path !== ':memory:') closeSync(openSync(path, 'a', 0o600));
    this.#db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 10_000 });
    try {
      this.#db.exec('PRAGMA journal_mode = WAL');
      this.#db.exec('PRAGMA synchronous = NORMAL');
      this.#db.exec('PRAGMA foreign_keys = OFF');
    } catch (e) {
      this.#db.close();
      throw storeError(e, path);
    }
  }

  /** A prepared statement, kept for the life of the connection. */
  statement(sql: string): StatementSyncInstance {
    let s = this.#statements.get(sql);
    if (!s) this.#statements.set(sql, (s = this.#db.prepare(sql)));
    return s;
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /**
   * `change` in a write transaction, with every other change asked for in the same turn of the
   * event loop (group commit: one transaction, one commit, one sync for all of them), each in a
   * savepoint of its own, so one that throws is rolled back alone and rejects alone. Resolves with
   * what `change` returned once the transaction is committed (`durable`: and synced to disk).
   */
  write<T>(change: () => T, options: { durable?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#batch.push({ change, durable: options.durable === true, resolve: resolve as (v: unknown) => void, reject });
      if (this.#batch.length === 1) setImmediate(() => this.#flush());
    });
  }

  /** `change` in a write transaction of its own, now (a schema, a migration). */
  writeNow<T>(change: () => T, options: { durable?: boolean } = {}): T {
    return this.#transaction('BEGIN IMMEDIATE', change, options.durable === true);
  }

  /** `reads` in one read transaction: a snapshot, whatever commits meanwhile. */
  read<T>(reads: () => T): T {
    return this.#transaction('BEGIN', reads, false);
  }

  close(): void {
    if (!this.#db.isOpen) return;
    this.#statements.clear();
    this.#db.close();
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = [];
    const settled: (() => void)[] = [];
    try {
      this.#transaction(
        'BEGIN IMMEDIATE',
        () => {
          for (const item of batch) {
            this.#db.exec('SAVEPOINT change');
            try {
              const value = item.change();
              this.#db.exec('RELEASE change');
              settled.push(() => item.resolve(value));
            } catch (e) {
              this.#db.exec('ROLLBACK TO change');
              this.#db.exec('RELEASE change');
              settled.push(() => item.reject(e));
            }
          }
        },
        batch.some((item) => item.durable),
      );
    } catch (e) {
      for (const item of batch) item.reject(e);
      return;
    }
    for (const settle of settled) settle();
  }

  #transaction<T>(begin: string, body: () => T, durable: boolean): T {
    // Every method runs its transaction synchronously, so one cannot start inside another.
    if (this.#inTransaction) throw new Error('a store transaction was started inside another');
    if (!this.#db.isOpen) throw new StoreClosedError(this.path);
    this.#inTransaction = true;
    try {
      if (durable) this.#db.exec('PRAGMA synchronous = FULL');
      try {
        this.#db.exec(begin);
      } catch (e) {
        throw storeError(e, this.path);
      }
      let result: T;
      try {
        result = body();
      } catch (e) {
        this.#db.exec('ROLLBACK');
        throw e;
      }
      try {
        this.#db.exec('COMMIT');
      } catch (e) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw storeError(e, this.path);
      }
      return result;
    } finally {
      if (durable) this.#db.exec('PRAGMA synchronous = NORMAL');
      this.#inTransaction = false;
    }
  }
}

/** Another rpr process held the embedded database's write lock longer than the busy timeout. */
export class StoreBusyError extends TargetUnchangedError {}

/** The store was used after close (a programming error, not the target's). */
export class StoreClosedError extends Error {
  constructor(path: string) {
    super(`the embedded store ${path} is closed`);
    this.name = 'StoreClosedError';
  }
}

function storeError(e: unknown, path: string): unknown {
  const code = (e as { errcode?: number; code?: string }).errcode;
  // SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included.
  if (typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6)) {
    return new StoreBusyError(`the embedded store ${path} stayed locked by another rpr process past the busy timeout; try again`, { cause: e });
  }
  return e;
}
