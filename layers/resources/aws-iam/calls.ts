import { AuthenticationError, OutcomeUnknownError, ResetError, TargetTimeoutError, TargetUnchangedError, ThrottledError } from '../../engine/errors.js';

/**
 * How an AWS API call's failure is classified, by what it may have done. IAM and STS answer in the
 * Query protocol; the SDK names an error by its code (`Throttling`, `NoSuchEntity`, with or
 * without the `Exception` suffix its model adds). Codes from the IAM and STS API references'
 * "Errors" and "Common Errors" sections.
 */

/** The caller's credentials or rights were refused: nothing was done. */
const REFUSED_CREDENTIALS = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'ExpiredToken',
  'InvalidAccessKeyId',
  'UnrecognizedClient',
  'MissingAuthenticationToken',
  'AuthFailure',
  'AccessDenied',
  'NotAuthorized',
  'OptInRequired',
  'RegionDisabled',
]);

/** Slow down: the service did not act on the request (Common Errors: ThrottlingException 400, 429). */
const THROTTLING = new Set(['Throttling', 'TooManyRequests', 'RequestLimitExceeded', 'RequestThrottled', 'SlowDown', 'PriorRequestNotComplete']);

/**
 * The service's refusals of UpdateLoginProfile, each of which means the password was not changed
 * (UpdateLoginProfile, IAM API Reference, "Errors"): EntityTemporarilyUnmodifiable (409),
 * LimitExceeded (409), NoSuchEntity (404), PasswordPolicyViolation (400); and the common
 * InvalidParameterValue / ValidationError (400), a request refused as malformed. ServiceFailure
 * (500) is not among them: the service may have failed after acting.
 */
const CHANGE_REFUSALS = new Set(['EntityTemporarilyUnmodifiable', 'LimitExceeded', 'NoSuchEntity', 'PasswordPolicyViolation', 'InvalidParameterValue', 'InvalidParameterCombination', 'ValidationError', 'InvalidInput', 'MalformedQueryString', 'MissingParameter']);

/** Connection failures in which no byte of the request reached the service. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS_CERT_ALTNAME_INVALID']);

interface AwsError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $response?: { readonly headers?: Record<string, string | undefined> };
}

/** The service's error code without the SDK model's `Exception` suffix. */
export function codeOf(e: unknown): string | undefined {
  const name = (e as AwsError | undefined)?.name;
  if (typeof name !== 'string' || name === 'Error') return undefined;
  return name.endsWith('Exception') ? name.slice(0, -'Exception'.length) : name;
}

export function statusOf(e: unknown): number | undefined {
  return (e as AwsError | undefined)?.$metadata?.httpStatusCode;
}

/** Whether the service asked us to slow down (429, 503, or a throttling code). */
export function isThrottled(e: unknown): boolean {
  const code = codeOf(e);
  const status = statusOf(e);
  return status === 429 || status === 503 || (code !== undefined && THROTTLING.has(code));
}

/** Seconds the service asked us to wait (`Retry-After`), if it said. */
export function retryAfterMs(e: unknown): number | undefined {
  const header = (e as AwsError | undefined)?.$response?.headers?.['retry-after'];
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** The service's own message (never carries a password: none is sent in a way it could echo). */
function serviceMessage(e: unknown): string {
  const m = (e as AwsError | undefined)?.message;
  return typeof m === 'string' && m !== '' && m !== 'UnknownError' ? m : String(statusOf(e) ?? 'no answer');
}

/**
 * The engine's error for a failed call. `changing`: the call was the password change; a failure
 * after its request may have been sent is "outcome unknown" unless the service's answer is one of
 * its documented refusals.
 */
export function classify(e: unknown, what: string, changing: boolean): ResetError {
  if (e instanceof ResetError) return e;
  const code = codeOf(e);
  const status = statusOf(e);
  if (isThrottled(e)) return new ThrottledError(`${what}: the service asked to slow down (${code ?? status}); nothing was changed`, { cause: e, retryAfterMs: retryAfterMs(e) });
  if (code !== undefined && REFUSED_CREDENTIALS.has(code)) {
    return new AuthenticationError(`${what}: the admin credentials were refused (${code}: ${serviceMessage(e)}); nothing was changed`, { cause: e });
  }
  if (status !== undefined && status >= 400 && status < 500) {
    // Any 4xx of a read changed nothing; of the change, only the documented refusals say so.
    if (!changing || (code !== undefined && CHANGE_REFUSALS.has(code))) return new TargetUnchangedError(`${what}: refused (${code ?? status}: ${serviceMessage(e)}); nothing was changed`, { cause: e });
    return new OutcomeUnknownError(`${what}: answered ${code ?? status} (${serviceMessage(e)}), which is not a documented refusal; whether the password changed is unknown`, { cause: e });
  }
  const errno = (e as AwsError | undefined)?.code;
  if (errno !== undefined && NEVER_CONNECTED.has(errno)) return new TargetUnchangedError(`${what}: could not connect (${errno}); nothing was sent`, { cause: e });
  // The SDK names a hang-up TimeoutError too (code ECONNRESET): only ETIMEDOUT is a deadline.
  const timedOut = errno === 'ETIMEDOUT' || (code === 'TimeoutError' && errno === undefined);
  // The SDK's connection deadline (`connectionTimeout`) fires before any byte was written.
  if (timedOut && /without establishing a connection/i.test(serviceMessage(e))) return new TargetTimeoutError(`${what}: no connection within the deadline; nothing was sent`, { cause: e });
  if (!changing) {
    if (timedOut) return new TargetTimeoutError(`${what}: no answer within the deadline; nothing was changed (a read)`, { cause: e });
    return new TargetUnchangedError(`${what}: failed (${code ?? errno ?? status ?? 'connection lost'}); nothing was changed (a read)`, { cause: e });
  }
  return new OutcomeUnknownError(`${what}: ${timedOut ? 'no answer within the deadline' : `the connection failed (${code ?? errno ?? status ?? 'lost'})`} after the change was sent; whether the password changed is unknown`, { cause: e });
}
