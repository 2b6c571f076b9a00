import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DYNALITE_TABLE_NAME, openDynaliteState, type DynaliteState } from './dynalite-state.js';
import { fsyncDir, Journal, STATE_JOURNAL } from './local-journal.js';
import type { StateJournalEntry } from './local-state.js';

/**
 * Brings a folder configured before the journal (`<dir>/state/`, dynalite's LevelDB) to it: if
 * `state/` exists and `journalPath` does not, everything is read through dynalite as the embedded
 * store used to open it, written as a journal (fsynced, renamed into place), and only then is
 * `state/` renamed to `state.migrated-<date>/`, kept, never deleted. A crash between the two
 * renames leaves both; the journal is used and `state/` stays untouched.
 *
 * The table is read whole in one scan and each item taken by its `kind` (dynamo-schema.ts), so
 * host keys of every resource and the set-attempt marks come too, and runs, results and marks
 * keep their expiry (`ttl`). Leases are left behind: they are transient. A mark holding only
 * reconcile's record, of an account or version id too long for a key (stored as a digest), names
 * neither and cannot be brought; it would at worst let reconcile set that version once more.
 *
 * Returns where `state/` went, or undefined if there was nothing to migrate.
 */
export async function migrateDynaliteFolder(dir: string, journalPath: string): Promise<string | undefined> {
  const old = join(dir, 'state');
  if (!existsSync(old) || existsSync(journalPath)) return undefined;
  const dynalite = await openDynaliteState(old);
  try {
    Journal.write(journalPath, await readTable(dynalite.client), STATE_JOURNAL);
  } finally {
    await dynalite.close();
  }
  const kept = join(dir, `state.migrated-${new Date().toISOString().replace(/:/g, '-')}`);
  renameSync(old, kept);
  fsyncDir(dir);
  return kept;
}

type Item = Record<string, unknown>;

async function readTable(client: DynaliteState['client']): Promise<StateJournalEntry[]> {
  const entries: StateJournalEntry[] = [];
  let startKey: Item | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: DYNALITE_TABLE_NAME, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
    for (const item of page.Items ?? []) {
      const entry = entryOf(item);
      if (entry) entries.push(entry);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return entries;
}

function entryOf(item: Item): StateJournalEntry | undefined {
  const data = item.data as never;
  const x = typeof item.ttl === 'number' ? item.ttl * 1000 : Number.MAX_SAFE_INTEGER;
  switch (item.kind) {
    case 'resource':
      return { t: 'resource', v: data };
    case 'account':
      return { t: 'account', v: data };
    case 'host-key':
      return { t: 'host-key', v: data };
    case 'run':
      return { t: 'run', v: data, x };
    case 'account-result':
      return { t: 'result', v: data, x };
    case 'audit':
      return { t: 'audit', o: String(item.sk), v: data };
    case 'set-mark':
      return markEntry(item, x);
    default:
      return undefined; // leases, the write budget
  }
}

function markEntry(item: Item, expiresAt: number): StateJournalEntry | undefined {
  const data = item.data as { accountId: string; versionId: string; markedAt: string } | undefined;
  const fromKeys = { accountId: String(item.pk).slice('SETMARK#'.length), versionId: String(item.sk) };
  const ids = data ?? (fromKeys.accountId.startsWith('~') || fromKeys.versionId.startsWith('~') ? undefined : fromKeys);
  if (!ids) return undefined;
  const reconcileSetAt = typeof item.reconcileSetAt === 'string' ? item.reconcileSetAt : undefined;
  return {
    t: 'mark',
    v: { accountId: ids.accountId, versionId: ids.versionId, ...(data ? { markedAt: data.markedAt } : {}), ...(reconcileSetAt ? { reconcileSetAt } : {}), expiresAt },
  };
}
