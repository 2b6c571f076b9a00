/**
 * The lockout budget, kept by the protocol for every type whose failed logins count toward a
 * lockout: a probe that may fail (settling a stale version, set's retry probe, test, reconcile)
 * costs one of the account's failed logons before the target locks it.
 *
 * Rule: with a lockout threshold T, a probe is made only if, should it fail, at least
 * R = reserve(T) failed logons would remain, where R = max(2, ceil(T / 5)) for T >= 3 and 1 for
 * T = 1 or 2. So with T = 5 at most 3 failed logons are ever reached, with T = 2 one, and with
 * T = 1 none. A probe not made is a ThrottledError: nothing was sent and nothing learned, so the
 * protocol can never read it as "the password is wrong".
 */
import { ThrottledError } from './errors.js';

/** What an adapter reports of an account's lockout state before a probe. */
export interface LockoutReading {
  /** Failed logons that lock the account; 0 or less: the target does not lock. */
  readonly threshold: number;
  /** Failed logons that count now (the target's counter, or the adapter's own count where it cannot read it). */
  readonly failedLogons: number;
  /** The account is locked now. */
  readonly lockedOut?: boolean;
  /** How the target counts, for the message of a refused probe (where the count comes from, when it starts again). */
  readonly detail?: string;
}

export function lockoutReserve(threshold: number): number {
  if (threshold <= 2) return 1;
  return Math.max(2, Math.ceil(threshold / 5));
}

/** How many failed logons a probe may still cause right now (0: none). */
export function probesLeft(threshold: number, failedLogons: number): number {
  if (threshold <= 0) return Number.POSITIVE_INFINITY;
  return Math.max(0, threshold - lockoutReserve(threshold) - failedLogons);
}

/** Throws ThrottledError when a probe that may fail is not affordable now. `what` names it for the message. */
export function assertProbeAffordable(reading: LockoutReading | undefined, what: string): void {
  if (!reading) return;
  if (reading.lockedOut) throw new ThrottledError(`${what}: not attempted, the account is locked out; try again after its lockout ends`);
  if (probesLeft(reading.threshold, reading.failedLogons) < 1) {
    throw new ThrottledError(
      `${what}: not attempted, to protect the account from lockout: it has ${reading.failedLogons} failed logons of a threshold of ${reading.threshold}, ` +
        `and a probe is made only while ${lockoutReserve(reading.threshold)} would remain after it fails; whether the password works is unknown${reading.detail ? ` (${reading.detail})` : ''}`,
    );
  }
}
