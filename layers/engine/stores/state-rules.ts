import { createHash } from 'node:crypto';
import { AccountBusyError, InvalidConfigurationError } from '../errors.js';
import { Secret } from '../secret.js';
import type { AuditRecord, HostKeyRecord, Lease } from './types.js';

/**
 * What every StateStore (DynamoDB's and the embedded one) decides the same way: the records it may
 * keep, the order of the audit trail, the errors a lease's holder is told. No AWS SDK here, so the
 * embedded store loads none.
 */

export const DAY_MS = 86_400_000;
/** How long run records and their account results are kept. */
export const RUN_RETENTION_DAYS = 400;
/** How long set-attempt marks are kept: longer than any reset can be retried. */
export const MARK_RETENTION_DAYS = 90;

/**
 * The record as plain JSON (undefined fields dropped), a copy of the caller's. A Secret anywhere in
 * it is refused: passwords never reach the state store, not even as "[secret]".
 */
export function plainRecord<T>(record: T, field: string): T {
  assertNoSecret(record, field);
  return JSON.parse(JSON.stringify(record)) as T;
}

function assertNoSecret(value: unknown, path: string): void {
  if (value instanceof Secret) {
    throw new InvalidConfigurationError(path, 'holds a secret value; only secret ids may be stored');
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertNoSecret(v, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertNoSecret(v, `${path}.${k}`);
  }
}

/**
 * An audit record's place in the trail: its time, then a digest of the record, so appending the
 * same record twice stores it once and records of the same millisecond keep a stable order.
 */
export function auditOrder(data: AuditRecord): string {
  return `${data.at}#${createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 20)}`;
}

const FINGERPRINT = /^[A-Za-z0-9+/]{43}$/;

/** A host key record as stored (a copy). Only fingerprints are stored: nothing else a caller holds can be written there by mistake. */
export function hostKeyRecord(record: HostKeyRecord): HostKeyRecord {
  if (!FINGERPRINT.test(record.sha256)) throw new InvalidConfigurationError('hostKeySha256', 'must be a base64 SHA-256 fingerprint without padding');
  return JSON.parse(JSON.stringify(record)) as HostKeyRecord;
}

/** A compare-and-set of a host key that found nothing recorded to replace. */
export function noHostKeyToReplace(resourceId: string): InvalidConfigurationError {
  return new InvalidConfigurationError('hostKeySha256', `no host key is recorded for resource "${resourceId}" to replace`);
}

/** Creating a run under an id that holds another. */
export function differentRun(runId: string, cause?: unknown): InvalidConfigurationError {
  return new InvalidConfigurationError('runId', `a different run ${runId} already exists`, cause === undefined ? undefined : { cause });
}

/** The same run again (a retried plan step): same start and selector. */
export function sameRun(a: { startedAt: string; selector: unknown }, b: { startedAt: string; selector: unknown }): boolean {
  return a.startedAt === b.startedAt && JSON.stringify(a.selector) === JSON.stringify(b.selector);
}

export function busy(held: Lease): AccountBusyError {
  return new AccountBusyError(`account ${held.accountId} is being reset by ${held.owner} (lease held until ${new Date(held.expiresAt).toISOString()})`, { lease: held });
}

/** A renew by an owner that no longer holds the lease (released, or taken over after expiry). */
export function leaseLost(lease: { accountId: string; owner: string }, holder: string | undefined, cause?: unknown): AccountBusyError {
  const held = holder !== undefined ? ` it is held by ${holder}` : ' it is not held';
  return new AccountBusyError(`lease on account ${lease.accountId} was lost by ${lease.owner}:${held}`, cause === undefined ? undefined : { cause });
}

/** An account's id must be `<resource id>/<name>`, naming its own resource. */
export function checkAccountId(account: { id: string; resourceId: string }): void {
  if (!account.id.startsWith(`${account.resourceId}/`)) {
    throw new InvalidConfigurationError('id', `account id must start with its resource id "${account.resourceId}/"`);
  }
  if (account.id.indexOf('/') <= 0) throw new InvalidConfigurationError('id', 'account id must be "<resource id>/<account name>"');
}
