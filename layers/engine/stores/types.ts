import { z } from 'zod';
import type { Secret } from '../secret.js';
import type { Account } from '../account.js';

/** A secret's name or ARN in the credential store. */
export const secretIdSchema = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^[A-Za-z0-9/_+=.@:-]+$/, 'may hold only letters, digits and / _ + = . @ : -');

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

/**
 * The label a kept version carries: one that may hold the target's password but could not be
 * promoted (an out-of-sync reset's, or one the type cannot prove wrong). Its own label per
 * version, since a label sits on one version at a time; not AWSPENDING, which would stop Secrets
 * Manager's own rotation of the secret; and never none, which would let Secrets Manager delete it.
 */
export const keptLabel = (versionId: string): string => `rpr-kept-${versionId}`;
export const isKeptLabel = (stage: string): boolean => stage.startsWith('rpr-kept-');

export interface SecretVersionInfo {
  readonly versionId: string;
  readonly stages: readonly string[];
}

/**
 * Where every credential lives: Secrets Manager, or the embedded vault with the same
 * version and label semantics. Version ids are the reset's token (ClientRequestToken).
 */
export interface CredentialStore {
  /** Creates a secret with its first value as AWSCURRENT. Returns its id (an ARN on AWS). Fails if it exists. */
  createSecret(name: string, value: Secret, options?: { description?: string; tags?: Record<string, string> }): Promise<string>;
  /**
   * The value of a version, by id or by stage (default AWSCURRENT), with the stages it holds (one
   * read gives a step both). Throws NotFoundError naming `secretId`.
   */
  getValue(secretId: string, selector?: { versionId?: string; stage?: string }): Promise<{ versionId: string; value: Secret; stages: readonly string[] }>;
  /** Every version that carries a stage, with its stages. */
  listVersions(secretId: string): Promise<SecretVersionInfo[]>;
  /**
   * Stores `value` as version `versionId` labelled AWSPENDING (the label leaves any other version).
   * Idempotent: if the version exists, nothing changes and its stored value is kept. Returns
   * whether this call stored `value`.
   */
  putPending(secretId: string, versionId: string, value: Secret): Promise<boolean>;
  /**
   * Moves AWSCURRENT to `versionId` (the old current becomes AWSPREVIOUS). AWSPENDING, if the
   * version holds it, stays: a version holding AWSCURRENT is current whatever else it holds,
   * as Secrets Manager's rotation reads it too. Idempotent. `current`, the version the caller
   * last saw holding AWSCURRENT, spares a read of the labels; a stale one costs that read after all.
   */
  promote(secretId: string, versionId: string, options?: { current?: string }): Promise<void>;
  /** Removes AWSPENDING from `versionId` if it holds it. Idempotent. */
  discardPending(secretId: string, versionId: string): Promise<void>;
  /**
   * Keeps a version under its own label (`keptLabel`), then takes AWSPENDING off it. Idempotent.
   * Returns the label.
   */
  keep(secretId: string, versionId: string): Promise<string>;
  /** Takes the kept label off a version (proven wrong, or promoted). Idempotent. */
  release(secretId: string, versionId: string): Promise<void>;
  deleteSecret(secretId: string): Promise<void>;
}

/**
 * The process that holds a lease or runs a run, recorded precisely enough for a later run to tell
 * a dead owner from a live one (layers/engine/holder.ts): on the same machine and boot, by its pid
 * and the pid's start time; anywhere else (another host, a Lambda, an agent), by a heartbeat gone
 * stale.
 */
export interface Holder {
  /** os.hostname(). */
  readonly host: string;
  /** The kernel's boot id and pid namespace (Linux: /proc/sys/kernel/random/boot_id, /proc/self/ns/pid): the same one means the same machine, boot and pids, where a pid means something. */
  readonly bootId?: string;
  readonly pid?: number;
  /** When the kernel started the process (Linux: /proc/<pid>/stat field 22, in clock ticks since boot), telling a reused pid from the holder. */
  readonly processStart?: string;
  /** What the process is: `lambda` in a Lambda function, else `process` (EngineOptions.holder may name it otherwise). */
  readonly kind?: string;
}

export interface Lease {
  readonly accountId: string;
  readonly owner: string;
  readonly expiresAt: number;
  /** The process holding it, as the acquire said (leases taken before holders were recorded have none). */
  readonly holder?: Holder;
  /** When the holder last took or renewed it (epoch ms, the store's clock): its heartbeat. */
  readonly heartbeatAt?: number;
}

/**
 * A reset ends succeeded, failed, out-of-sync, rolled-back or skipped. A verify run (nothing
 * changed) ends each account in-sync (AWSCURRENT proven), drifted (changed outside rpr),
 * out-of-sync (another version rpr holds works), failed (could not tell) or skipped (the type
 * cannot prove a password without a change).
 */
export type AccountOutcome = 'succeeded' | 'failed' | 'out-of-sync' | 'rolled-back' | 'skipped' | 'in-sync' | 'drifted';

/** What a run does: reset passwords, or only verify each account's AWSCURRENT (changing nothing). */
export type RunMode = 'reset' | 'verify';

/** The outcomes that count toward a run's success: its accounts got what the run was for. */
export const GOOD_OUTCOMES: readonly AccountOutcome[] = ['succeeded', 'in-sync'];

/** The outcomes that mean AWSCURRENT does not work on the target: the out-of-sync metric counts them. */
export const OUT_OF_SYNC_OUTCOMES: readonly AccountOutcome[] = ['out-of-sync', 'drifted'];

/** The audit trail's event for an account's result in a run of that mode. */
export const auditEventOf = (mode: RunMode | undefined): string => (mode === 'verify' ? 'password-verify' : 'password-reset');

/** A run's status from its counts: succeeded when every account got a good outcome, failed when none did. */
export function runStatusOf(counts: Partial<Record<AccountOutcome, number>> & { total: number }): Exclude<RunStatus, 'running'> {
  const ok = GOOD_OUTCOMES.reduce((n, o) => n + (counts[o] ?? 0), 0);
  return ok === counts.total ? 'succeeded' : ok === 0 ? 'failed' : 'partial';
}

/** One account's record in one run. Never holds a secret: only ids, versions and redacted messages. */
export interface AccountResult {
  readonly runId: string;
  readonly accountId: string;
  readonly resourceId: string;
  readonly outcome: AccountOutcome;
  /** The secret version this run created (its token). */
  readonly versionId?: string;
  /** The step that ended the reset: create, set, test, finish, reconcile. */
  readonly step: string;
  readonly method?: string;
  /** What proved the new password: "logged in", "confirmed by the target" (attestation), or "confirmed by the provider" (its answer to the change, verification `none`). */
  readonly proof?: string;
  readonly errorClass?: string;
  readonly message?: string;
  /** For out-of-sync: which stored version works on the target ("pending", "current", "previous", "kept", "none", "unknown"); for drifted, "none". */
  readonly workingVersion?: string;
  /** For out-of-sync: the label the pending version is kept under (`rpr-kept-<version>`), the version to try; in a verify run, the kept version that works. */
  readonly keptVersion?: string;
  /** Throttled responses from Secrets Manager or DynamoDB that this account's reset met and retried. */
  readonly throttled?: number;
  readonly startedAt: string;
  readonly endedAt: string;
}

export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed';

export interface RunRecord {
  readonly runId: string;
  readonly status: RunStatus;
  /** Absent: a reset run (records written before verify runs existed have none). */
  readonly mode?: RunMode;
  readonly selector: Record<string, unknown>;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly counts: Partial<Record<AccountOutcome, number>> & { total: number };
  /** Accounts whose reset met throttled responses, and how many it retried in all: slowed down, not failed. */
  readonly throttling?: { readonly accounts: number; readonly retries: number };
  /** When the run's events and metric were sent: a retried summary step does not send them again. */
  readonly eventsSentAt?: string;
  /** The process running the run (a run of the engine's own `run`; a workflow's runs have none). */
  readonly owner?: Holder;
  /** When the owner last said it was alive (ISO time): the run's heartbeat, while it is running. */
  readonly heartbeatAt?: string;
  /** The accounts in flight at the last heartbeat and the step each was at. */
  readonly inFlight?: readonly { readonly accountId: string; readonly step: string }[];
}

export interface AuditRecord {
  readonly at: string;
  readonly accountId: string;
  readonly resourceId: string;
  readonly runId: string;
  readonly event: string;
  readonly outcome?: AccountOutcome;
  readonly versionId?: string;
  readonly detail?: string;
}

/** Resources and accounts, stored as validated configuration (no secret values, only secret ids). */
export interface ConfigStore {
  putResource(resource: StoredResource): Promise<void>;
  getResource(id: string): Promise<StoredResource | undefined>;
  listResources(filter?: { type?: string; tag?: string; site?: string }): Promise<StoredResource[]>;
  deleteResource(id: string): Promise<void>;
  putAccount(account: Account): Promise<void>;
  getAccount(id: string): Promise<Account | undefined>;
  /**
   * An account and the resource it belongs to, read together (one request where the store
   * allows): what a rotation's first step needs. Either is undefined when missing.
   */
  getAccountAndResource?(accountId: string): Promise<{ account?: Account; resource?: StoredResource }>;
  listAccounts(filter?: { resourceId?: string }): Promise<Account[]>;
  deleteAccount(id: string): Promise<void>;
}

/** A resource as stored: its parsed configuration (type-specific fields included). */
export type StoredResource = { readonly id: string; readonly type: string; readonly site: string; readonly tags: readonly string[] } & Record<string, unknown>;

/** Per-account leases: at most one reset of an account at a time, whoever started it. */
export interface LeaseStore {
  /**
   * Takes the lease or throws AccountBusyError naming the holder's run. An expired lease may be
   * taken over; with `reentrant`, so may a lease the same owner holds (a run's retried task).
   * The AccountBusyError carries the lease as read (`lease`), for a caller that finds its holder
   * dead to take it over. `holder` is recorded on the lease; its heartbeat is now.
   */
  acquire(accountId: string, owner: string, ttlMs: number, options?: { reentrant?: boolean; holder?: Holder }): Promise<Lease>;
  /** Extends a lease its owner still holds, keeping its holder; its heartbeat is now. Throws AccountBusyError if it was lost. */
  renew(lease: Lease, ttlMs: number): Promise<Lease>;
  /**
   * Takes over `held` (a lease as an AccountBusyError gave it, whose holder the caller found dead)
   * for `owner`, in one conditional write: only if the lease is still exactly `held` (the same owner
   * and expiry). Otherwise (renewed meanwhile, taken by someone else) throws AccountBusyError as
   * acquire does; a lease released meanwhile is simply taken.
   */
  takeOver(held: Lease, owner: string, ttlMs: number, holder?: Holder): Promise<Lease>;
  release(lease: Lease): Promise<void>;
  /**
   * Records, durably and before the target is touched, that `set` is about to run for this version,
   * and answers whether an earlier attempt had recorded it (so may have reached the target): a
   * retried set then checks whether the pending password already works. One request for both.
   */
  markSetAttempt(accountId: string, versionId: string): Promise<{ earlier: boolean }>;
  hasSetAttempt(accountId: string, versionId: string): Promise<boolean>;
  /**
   * Records that reconcile is about to set the pending password again with the reconcile login,
   * once per version: true if this call recorded it, false if an earlier reconcile of the same
   * version had (it is not tried again: a second admin change could change the password twice).
   */
  markReconcileSet(accountId: string, versionId: string): Promise<boolean>;
}

export interface RunStore {
  createRun(run: RunRecord): Promise<void>;
  updateRun(run: RunRecord): Promise<void>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(limit?: number): Promise<RunRecord[]>;
  putAccountResult(result: AccountResult): Promise<void>;
  /** Stores an account's result and its audit record together (one request where the store allows). */
  recordAccountResult(result: AccountResult, audit: AuditRecord): Promise<void>;
  listAccountResults(runId: string): Promise<AccountResult[]>;
  /** The recorded results of just these accounts in a run. */
  getAccountResults(runId: string, accountIds: readonly string[]): Promise<AccountResult[]>;
  appendAudit(record: AuditRecord): Promise<void>;
  listAudit(filter?: { accountId?: string; runId?: string; limit?: number }): Promise<AuditRecord[]>;
}

/**
 * The SSH host key trusted for a resource: recorded on its first connection (trust on first use)
 * or by an operator accepting a changed key. State, not configuration: a pinned `hostKeySha256`
 * in the configuration wins over it and is never written here.
 */
export interface HostKeyRecord {
  readonly resourceId: string;
  /** base64 SHA-256 of the key blob without padding, as `ssh-keygen -lf` prints after "SHA256:". */
  readonly sha256: string;
  /** The key's algorithm as the server named it (`ssh-ed25519`, `ssh-rsa`, ...), when known. */
  readonly keyType?: string;
  /** Where the server was reached when the key was seen (`host:port`), when known. */
  readonly seenAt?: string;
  /** `first-use`: a reset's first connection recorded it; `operator`: an operator accepted it. */
  readonly source: 'first-use' | 'operator';
  readonly recordedAt: string;
  /** For an operator's acceptance: the fingerprint it replaced. */
  readonly replaced?: string;
}

export interface HostKeyStore {
  getHostKey(resourceId: string): Promise<HostKeyRecord | undefined>;
  /**
   * Compare and set: records `record` if the fingerprint recorded for its resource is `previous`
   * (undefined: none is recorded yet), in one conditional write, and returns the record that holds
   * afterwards: `record`, or the one another writer recorded first.
   */
  recordHostKey(record: HostKeyRecord, previous: string | undefined): Promise<HostKeyRecord>;
}

export interface StateStore extends ConfigStore, LeaseStore, RunStore, HostKeyStore {}
