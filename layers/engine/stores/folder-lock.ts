import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreInUseError } from '../errors.js';

export const LOCK_FILE = 'state.lock';

/** A folder held by this process: the embedded store's one writer. */
export interface FolderLock {
  release(): void;
}

/**
 * Takes `<dir>/state.lock`, holding this process's id, or throws StoreInUseError naming the folder
 * and the holder: one writer per folder, whether the second opener is another process or another
 * instance in this one. The file is written whole under a temporary name and linked into place,
 * which fails if it exists, so a lock file is never seen half-written. A lock whose process is gone
 * is taken over: it is first renamed aside (one taker wins the rename) and checked to be the stale
 * one before it is removed; a fresh lock renamed aside by a slower taker is linked back.
 */
export function takeFolderLock(dir: string): FolderLock {
  const path = join(dir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  for (let attempt = 0; ; attempt++) {
    const temp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`;
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, mine);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temp, path);
      held.add(path);
      return {
        release: () => {
          held.delete(path);
          releaseLock(path, mine);
        },
      };
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw e;
    } finally {
      unlinkSync(temp);
    }
    const holder = readHolder(path);
    // Our own id on a lock this process did not take: an earlier process that had the same id (a
    // container's first process, after a crash), so stale like any other whose process is gone.
    const ours = holder === process.pid && held.has(path);
    if (holder !== undefined && (ours || (holder !== process.pid && isAlive(holder)))) {
      throw new StoreInUseError(
        'dir',
        `the embedded store ${dir} is in use by process ${holder}${holder === process.pid ? ' (this one)' : ''}: close it first ` +
          `(if no rpr process uses the folder, remove ${path})`,
      );
    }
    if (attempt >= 3) throw new StoreInUseError('dir', `the embedded store ${dir} is being opened by another process`);
    takeOverStale(path, holder);
  }
}

/** Lock files this process holds. */
const held = new Set<string>();

function takeOverStale(path: string, holder: number | undefined): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if (isCode(e, 'ENOENT')) return;
    throw e;
  }
  if (readHolder(aside) !== holder) {
    // Another taker's fresh lock, not the stale one: put it back (unless yet another lock is in place).
    try {
      linkSync(aside, path);
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw e;
    }
  }
  unlinkSync(aside);
}

function releaseLock(path: string, mine: string): void {
  try {
    if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
  } catch (e) {
    if (!isCode(e, 'ENOENT')) throw e;
  }
}

function readHolder(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (e) {
    if (isCode(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/** Whether a process with this id exists (EPERM: it exists, owned by someone else). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isCode(e, 'EPERM');
  }
}

function isCode(e: unknown, code: string): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === code;
}
