/**
 * Errors are classified by what the engine may do next. Their class names are the
 * Retry/Catch contract of the state machine, so they must not be renamed.
 * Messages never contain a secret: adapters' errors pass through the redactor first.
 */
import type { Lease } from './stores/types.js';

export abstract class ResetError extends Error {
  /** Whether the target may have been changed by the failed operation. */
  abstract readonly targetMayHaveChanged: boolean;
  /** Whether the same operation may simply be retried. */
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The operation failed without modifying the account: safe to retry. */
export class TargetUnchangedError extends ResetError {
  readonly targetMayHaveChanged = false;
  readonly retryable = true;
}

/** The change may or may not have been applied: reconcile before anything else. */
export class OutcomeUnknownError extends ResetError {
  readonly targetMayHaveChanged = true;
  readonly retryable = false;
}

/** The target refused the credentials the engine logged in with. */
export class AuthenticationError extends ResetError {
  readonly targetMayHaveChanged = false;
  readonly retryable = false;
}

/** Configuration, policy or input is wrong; nothing was changed. `field` names the offending field. */
export class InvalidConfigurationError extends ResetError {
  readonly targetMayHaveChanged = false;
  readonly retryable = false;
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(field ? `${field}: ${message}` : message, options);
    this.field = field;
  }
}

/** The target did not answer in time before anything was sent that could change it. */
export class TargetTimeoutError extends ResetError {
  readonly targetMayHaveChanged = false;
  readonly retryable = true;
}

/** The target or a provider asked us to slow down; nothing was changed. */
export class ThrottledError extends ResetError {
  readonly targetMayHaveChanged = false;
  readonly retryable = true;
  /** How long the provider asked us to wait (its Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number | undefined }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * Secrets Manager or DynamoDB kept asking us to slow down (or the run's write budget had no slot)
 * until the account's time was up. It says nothing about the target: the engine leaves the
 * account unfinished, with its pending version kept, and the next attempt of the run resumes it.
 */
export class StoreThrottledError extends ThrottledError {}

/** Another reset of the same account holds its lease. Nothing was changed. */
export class AccountBusyError extends TargetUnchangedError {
  /** The lease as the store read it, when another owner holds it: what a caller that finds its holder dead takes over. */
  readonly lease?: Lease;
  constructor(message: string, options?: { cause?: unknown; lease?: Lease }) {
    super(message, options);
    if (options?.lease) this.lease = options.lease;
  }
}

/**
 * An SSH server presented a host key other than the one trusted for the resource: the one pinned
 * in `hostKeySha256`, or the one recorded on first use (or accepted by an operator). The
 * connection ended during the key exchange, before any login, so no password was sent. Not
 * retried (its class name is on no Retry list): only an operator can accept a new key.
 */
export class HostKeyMismatchError extends InvalidConfigurationError {
  /** The fingerprint trusted for the resource (base64 SHA-256, as `ssh-keygen -lf` prints after "SHA256:"). */
  readonly trustedSha256: string;
  /** The fingerprint the server presented. */
  readonly presentedSha256: string;
  constructor(options: { where: string; trusted: string; presented: string; pinned: boolean; resourceId: string }) {
    const { where, trusted, presented, pinned, resourceId } = options;
    const remedy = pinned
      ? 'if the new key is genuine, change hostKeySha256 in the resource\'s configuration'
      : `if the new key is genuine, accept it with "rpr resource trust-host-key ${resourceId}"`;
    super(
      'hostKeySha256',
      `the SSH host key of ${where} is SHA256:${presented}, not the ${pinned ? 'pinned' : 'recorded'} SHA256:${trusted}; ` +
        `nothing was sent (${remedy})`,
    );
    this.trustedSha256 = trusted;
    this.presentedSha256 = presented;
  }
}

/** The resource type is known to the configuration model but has no adapter yet. */
export class NotSupportedError extends InvalidConfigurationError {}

/** A stored object (resource, account, secret, version) does not exist. */
export class NotFoundError extends InvalidConfigurationError {}

/** The embedded store's folder is open elsewhere (another process, or another instance in this one); `field` is `dir`. */
export class StoreInUseError extends InvalidConfigurationError {}

export function isResetError(e: unknown): e is ResetError {
  return e instanceof ResetError;
}

/** Error class name for records and the state machine; unknown errors are treated as outcome-unknown by callers. */
export function errorClassOf(e: unknown): string {
  return e instanceof Error ? e.name : 'Error';
}
