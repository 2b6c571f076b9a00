import type { LockoutReading } from './lockout.js';
import type { Log } from './log.js';
import type { Redactor } from './redact.js';
import type { Secret } from './secret.js';
import type { Policy } from './policy.js';
import type { Account } from './account.js';

/** A login the adapter uses: an account of this resource or of another (a domain admin, say). */
export interface Credential {
  readonly accountId: string;
  readonly username: string;
  readonly password?: Secret;
  /** PEM private key, for SSH key logins. */
  readonly privateKey?: Secret;
  /** The realm of the login's own resource (an Active Directory domain's DNS name), so a sAMAccountName can be qualified. */
  readonly domain?: string;
}

/** What an adapter is given once per resource group. It never reads the environment. */
export interface AdapterContext<C> {
  readonly resource: C;
  readonly policy: Policy;
  /** The logins the type's configuration names, by role ("login", "root", "admin", ...), resolved to their current values. */
  readonly credentials: Readonly<Record<string, Credential>>;
  /** The standalone secrets the type's configuration names (key files, client secrets), by name. */
  readonly secrets: Readonly<Record<string, Secret>>;
  readonly log: Log;
  readonly redactor: Redactor;
  /** Deadline for one network operation, in milliseconds. */
  readonly timeoutMs: number;
  /** The resource's SSH host key, trusted on first use: what an SSH adapter checks before it sends any password. */
  readonly hostKeys: HostKeyTrust;
}

/**
 * A resource's SSH host key as its state records it (not its configuration): the first key seen,
 * or one an operator accepted. The engine backs it with the state store; adapters never touch stores.
 */
export interface HostKeyTrust {
  /** The fingerprint recorded for the resource (base64 SHA-256 without padding), if any. */
  trusted(): Promise<string | undefined>;
  /**
   * Records `sha256` as the resource's key if none is recorded yet, with a conditional write, and
   * returns the fingerprint recorded afterwards: `sha256`, or another group's if it recorded first.
   * `seen`: the key's algorithm and the `host:port` that presented it, kept with the record.
   */
  firstSeen(sha256: string, seen?: { readonly keyType?: string; readonly at?: string }): Promise<string>;
}

export interface ChangeRequest {
  readonly account: Account;
  readonly newPassword: Secret;
  /** The account's working password, for a self change (and for types that need the old one). */
  readonly currentPassword?: Secret;
}

export interface ChangeResult {
  /** How the change was made, for the audit trail ("admin reset", "self change"). */
  readonly method: string;
}

/** What a provider that issues credentials is given (see `TargetAdapter.issue`). */
export interface IssueRequest {
  readonly account: Account;
  /** The account's AWSCURRENT value: the credential that must never be removed to make room. */
  readonly current?: Secret;
  /** Its AWSPREVIOUS value: the credential an earlier reset retired, if any. */
  readonly previous?: Secret;
}

export interface VerifyRequest {
  readonly account: Account;
  readonly password: Secret;
}

/**
 * How an adapter can prove a password: `login` (a fresh login as the account), `attestation`
 * (the target confirms without a login: a hash the admin reads and compares, a provider's
 * read-back), or `none` (the provider's answer to the change is all there is: recorded as
 * "confirmed by the provider").
 */
export type Verification = 'login' | 'attestation' | 'none';

export interface VerifyResult {
  /** true: the target accepted the password; false: it refused it. Unreachable targets throw. */
  readonly valid: boolean;
  readonly detail?: string;
  /** How this answer was reached, when not the adapter's declared capability (an attested account of a login type, say). */
  readonly by?: Exclude<Verification, 'none'>;
}

/**
 * One resource's adapter. It opens its connection once and reuses it for every account
 * of the group. `change` must be idempotent from the engine's view: the engine checks
 * whether the pending password already works before a retried change.
 * Errors are the classes of errors.ts; the engine wraps every adapter in its redactor.
 */
export interface TargetAdapter {
  /** For logs and metrics only. */
  readonly type: string;
  /** How `verify` proves a password. With `none`, `verify` is never called. */
  readonly verification: Verification;
  /**
   * True when the same change sent again is harmless: the provider sets the password it is given
   * whatever the account held (IAM's UpdateLoginProfile). A type that cannot probe (`none`) is
   * then reconciled by sending the same pending password again; otherwise it is kept out of sync.
   */
  readonly repeatableChange?: boolean;
  change(req: ChangeRequest): Promise<ChangeResult>;
  verify(req: VerifyRequest): Promise<VerifyResult>;
  /**
   * For a provider that makes the credential itself (an IAM access key: AWS issues the secret,
   * nobody can choose it): create calls this instead of generating a password and stores what it
   * returns as the pending version at once; `change` then only confirms the issued credential is
   * in place. The account's current credential keeps working throughout, so a credential that
   * was issued but could not be stored is revoked and nothing is lost. Undefined: the engine
   * generates the password from the policy, as for every other type.
   */
  issue?(req: IssueRequest): Promise<Secret>;
  /** Removes an issued credential the engine drops (never stored, rolled back, proven wrong). Idempotent. */
  revoke?(req: { readonly account: Account; readonly credential: Secret }): Promise<void>;
  /**
   * After finish promoted an issued credential: the one it replaced is retired (deactivated, or
   * deleted). Returns what was done, for the record. Idempotent.
   */
  retire?(req: { readonly account: Account; readonly previous: Secret; readonly current: Secret }): Promise<string | undefined>;
  /**
   * Optional, for drift detection: when the target says the account's password was last set,
   * read without logging in as the account (e.g. AD's pwdLastSet, read by the admin login).
   * undefined when the target cannot tell. `rpr status` compares it with the last reset recorded.
   */
  passwordLastSet?(account: Account): Promise<Date | undefined>;
  /**
   * For targets whose failed logins lock an account: its threshold and the failed logons that
   * count now, read before each probe. The protocol probes only within the lockout budget
   * (lockout.ts). Undefined: the target does not lock, or cannot tell.
   */
  lockout?(account: Account): Promise<LockoutReading | undefined>;
  /**
   * For `rpr reset --dry-run`: connects, authenticates the resource's logins, and checks what a
   * change of these accounts will need where the target can tell (sudo rights, CREATEROLE or
   * CREATE USER, the right to reset a password, the domain's password policy against the
   * resource's), changing nothing. A check that fails is a finding with `ok: false`, not a throw;
   * an unreachable target or a refused login throws as `change` would. Undefined: the type can
   * tell nothing beyond what opening the session proves.
   */
  preflight?(req: PreflightRequest): Promise<readonly PreflightFinding[]>;
  close(): Promise<void>;
}

export interface PreflightRequest {
  readonly accounts: readonly Account[];
}

/** One thing a dry run checked, for the whole resource (`accountId` unset) or one account. */
export interface PreflightFinding {
  readonly accountId?: string;
  /** What was checked, short: "sudo rights", "CREATE USER", "right to reset", "domain policy". */
  readonly check: string;
  /** true: a real run would get past it; false: it would fail here. */
  readonly ok: boolean;
  /** What was found, or why a real run would fail, with the setting to change. Never a password. */
  readonly detail: string;
}

export type AdapterFactory<C> = (ctx: AdapterContext<C>) => TargetAdapter;
