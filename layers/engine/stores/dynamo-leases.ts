import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AccountBusyError } from '../errors.js';
import type { Holder, Lease, LeaseStore } from './types.js';
import { keyPart, partitionKey } from './dynamo-schema.js';
import { isConditionFailure, type DynamoTable, type Item } from './dynamo-table.js';
import { busy, leaseLost } from './state-rules.js';

const LEASE_SK = 'LEASE';

/** Per-account leases (conditional writes, expiry by the table's clock) and set-attempt marks. */
export class DynamoLeaseStore implements LeaseStore {
  readonly #table: DynamoTable;
  readonly #markRetentionSeconds: number;

  constructor(table: DynamoTable, options: { markRetentionSeconds: number }) {
    this.#table = table;
    this.#markRetentionSeconds = options.markRetentionSeconds;
  }

  /**
   * Takes the account's lease if it is free or expired; otherwise throws AccountBusyError naming
   * the holder. Not re-entrant unless asked: a run holding the lease that asks again is refused
   * too, since its owner is the run id; with `reentrant`, the owner takes its own lease back (a
   * retried or continued task of the run, after the attempt that held it was cut off).
   */
  async acquire(accountId: string, owner: string, ttlMs: number, options: { reentrant?: boolean; holder?: Holder } = {}): Promise<Lease> {
    return this.#take(accountId, owner, ttlMs, options.holder, options.reentrant ? { expression: '#owner = :owner', values: { ':owner': owner } } : undefined);
  }

  /** Takes over `held` if the item still holds exactly it (its owner and expiry): one conditional put. */
  async takeOver(held: Lease, owner: string, ttlMs: number, holder?: Holder): Promise<Lease> {
    return this.#take(held.accountId, owner, ttlMs, holder, { expression: '(#owner = :held AND expiresAt = :heldExpiry)', values: { ':held': held.owner, ':heldExpiry': held.expiresAt } });
  }

  /** A put of a new lease if the item is free, expired, or meets `also`; else AccountBusyError carrying the lease read. */
  async #take(accountId: string, owner: string, ttlMs: number, holder: Holder | undefined, also?: { expression: string; values: Record<string, unknown> }): Promise<Lease> {
    const pk = leasePk(accountId);
    for (let attempt = 0; ; attempt++) {
      const now = this.#table.clock();
      const lease: Lease = { accountId, owner, expiresAt: now + ttlMs, ...(holder ? { holder } : {}), heartbeatAt: now };
      try {
        await this.#table.client.send(
          new PutCommand({
            TableName: this.#table.name,
            Item: { pk, sk: LEASE_SK, kind: 'lease', ...leaseAttributes(lease) },
            ConditionExpression: `attribute_not_exists(pk) OR expiresAt < :now${also ? ` OR ${also.expression}` : ''}`,
            ExpressionAttributeValues: { ':now': now, ...also?.values },
            ...(also ? { ExpressionAttributeNames: { '#owner': 'owner' } } : {}),
          }),
        );
        return lease;
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
      const item = await this.#table.get(pk, LEASE_SK);
      // Released or expired between our write and our read: try again, a few times.
      if (item && typeof item.expiresAt === 'number' && item.expiresAt >= this.#table.clock()) throw busy(leaseOf(item));
      if (attempt >= 3) throw new AccountBusyError(`account ${accountId} is busy: its lease changed hands during acquire`);
    }
  }

  /** Extends a lease its owner still holds; throws AccountBusyError if it was lost (released, or taken over after expiry). */
  async renew(lease: Lease, ttlMs: number): Promise<Lease> {
    const pk = leasePk(lease.accountId);
    const now = this.#table.clock();
    const renewed: Lease = { ...lease, expiresAt: now + ttlMs, heartbeatAt: now };
    try {
      await this.#table.client.send(
        new PutCommand({
          TableName: this.#table.name,
          Item: { pk, sk: LEASE_SK, kind: 'lease', ...leaseAttributes(renewed) },
          ConditionExpression: 'attribute_exists(pk) AND #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': lease.owner },
        }),
      );
      return renewed;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const holder = await this.#table.get(pk, LEASE_SK);
      throw leaseLost(lease, holder ? String(holder.owner) : undefined, e);
    }
  }

  /** Releases the lease if `lease.owner` still holds it; never removes another owner's lease. Idempotent. */
  async release(lease: Lease): Promise<void> {
    try {
      await this.#table.client.send(
        new DeleteCommand({
          TableName: this.#table.name,
          Key: { pk: leasePk(lease.accountId), sk: LEASE_SK },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': lease.owner },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  /**
   * The marks a step leaves for its retries live on one item per account and version: that `set`
   * was about to run (`data`, as the item has always held it), and that reconcile set the pending
   * password with the reconcile login (`reconcileSetAt`). Each is written with an update, so
   * neither wipes the other, and the write answers whether it was there before: marking and
   * asking cost one request.
   */
  async markSetAttempt(accountId: string, versionId: string): Promise<{ earlier: boolean }> {
    const now = this.#table.clock();
    const { Attributes } = await this.#table.client.send(
      new UpdateCommand({
        TableName: this.#table.name,
        Key: markKey(accountId, versionId),
        UpdateExpression: 'SET #kind = :kind, #data = if_not_exists(#data, :data), #ttl = :ttl',
        ExpressionAttributeNames: { '#kind': 'kind', '#data': 'data', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':kind': 'set-mark', ':data': { accountId, versionId, markedAt: new Date(now).toISOString() }, ':ttl': this.#markExpiry(now) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return { earlier: Attributes?.data !== undefined };
  }

  async hasSetAttempt(accountId: string, versionId: string): Promise<boolean> {
    const { pk, sk } = markKey(accountId, versionId);
    return (await this.#table.get(pk, sk))?.data !== undefined;
  }

  async markReconcileSet(accountId: string, versionId: string): Promise<boolean> {
    const now = this.#table.clock();
    try {
      await this.#table.client.send(
        new UpdateCommand({
          TableName: this.#table.name,
          Key: markKey(accountId, versionId),
          UpdateExpression: 'SET #kind = :kind, #at = :at, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#at)',
          ExpressionAttributeNames: { '#kind': 'kind', '#at': 'reconcileSetAt', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':kind': 'set-mark', ':at': new Date(now).toISOString(), ':ttl': this.#markExpiry(now) },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  #markExpiry(now: number): number {
    return Math.floor(now / 1000) + this.#markRetentionSeconds;
  }
}

const markKey = (accountId: string, versionId: string) => ({ pk: partitionKey('SETMARK#', accountId), sk: keyPart(versionId) });
const leasePk = (accountId: string) => partitionKey('LEASE#', accountId);

function leaseAttributes(lease: Lease): Item {
  return {
    accountId: lease.accountId,
    owner: lease.owner,
    expiresAt: lease.expiresAt,
    ...(lease.holder ? { holder: lease.holder } : {}),
    ...(lease.heartbeatAt !== undefined ? { heartbeatAt: lease.heartbeatAt } : {}),
    ttl: Math.ceil(lease.expiresAt / 1000),
  };
}

/** The lease an item holds (items written before holders were recorded have none). */
function leaseOf(item: Item): Lease {
  return {
    accountId: String(item.accountId),
    owner: String(item.owner),
    expiresAt: Number(item.expiresAt),
    ...(item.holder && typeof item.holder === 'object' ? { holder: item.holder as Holder } : {}),
    ...(typeof item.heartbeatAt === 'number' ? { heartbeatAt: item.heartbeatAt } : {}),
  };
}
