import { ThrottledError } from '../../engine/errors.js';
import { lockoutReserve, probesLeft } from '../../engine/lockout.js';
import type { DomainPolicy } from './policy.js';

/**
 * The lockout budget: a login that may fail (a verify or reconcile probe, a user's own change with a
 * password that may be stale) costs one of the account's failed logons before the domain locks it.
 *
 * The rule is the protocol's (layers/engine/lockout.ts); this file reads AD's side of it.
 *
 * Rule: with a lockout threshold T, such a login is made only if, should it fail, at least
 * R = reserve(T) failed logons would remain before the lockout, where R = max(2, ceil(T / 5)) for
 * T >= 3 and 1 for T = 1 or 2. So with T = 5 (the test domain) at most 3 failed logons are ever
 * reached, with T = 2 one, and with T = 1 none: every probe is refused, since any failure would
 * lock. The count is the account's badPwdCount read from the same domain controller (it is not
 * replicated, and the adapter talks to one DC), ignored once the observation window has passed
 * since badPasswordTime (the DC then starts again from 0); where it cannot be read (no admin),
 * the adapter's own failed logons since the last good one count instead. Both are taken together,
 * the higher wins.
 *
 * A refused probe is a ThrottledError: nothing was sent and nothing was learned about the password.
 * The engine then cannot tell which password works; reconcile records the account out of sync with
 * the pending version kept (needs attention), never as "the password is wrong".
 */
export { lockoutReserve, probesLeft };

export interface LockoutState {
  /** badPwdCount as read from the DC; undefined when it could not be read. */
  readonly badPwdCount?: number | undefined;
  readonly badPasswordTime?: Date | undefined;
  readonly lockoutTime?: Date | undefined;
}

/** The failed logons that count now: badPwdCount unless the observation window has passed. */
export function effectiveBadPwdCount(state: LockoutState, policy: DomainPolicy, now: Date): number | undefined {
  if (state.badPwdCount === undefined) return undefined;
  if (state.badPasswordTime && policy.lockoutObservationWindowMs > 0 && now.getTime() - state.badPasswordTime.getTime() > policy.lockoutObservationWindowMs) return 0;
  return state.badPwdCount;
}

/** Whether the account is locked now (lockoutTime set and, for a timed lockout, not yet over). */
export function isLockedOut(state: LockoutState, policy: DomainPolicy, now: Date): boolean {
  if (!state.lockoutTime) return false;
  if (policy.lockoutDurationMs === 0 || policy.lockoutDurationMs === Number.POSITIVE_INFINITY) return true;
  return now.getTime() < state.lockoutTime.getTime() + policy.lockoutDurationMs;
}

/** The adapter's own failed logons per account (by DN or bind name), for when badPwdCount cannot be read. */
export class LockoutBudget {
  readonly #ownFailures = new Map<string, number>();

  /** Throws ThrottledError when a login that may fail is not affordable now. `what` names it for the message. */
  check(key: string, what: string, policy: DomainPolicy, state: LockoutState, now: Date): void {
    if (isLockedOut(state, policy, now)) {
      throw new ThrottledError(`${what}: not attempted, the account is locked out by the domain; try again after its lockout duration`);
    }
    if (policy.lockoutThreshold <= 0) return;
    const own = this.#ownFailures.get(key.toLowerCase()) ?? 0;
    const observed = effectiveBadPwdCount(state, policy, now);
    const failed = Math.max(own, observed ?? 0);
    if (probesLeft(policy.lockoutThreshold, failed) < 1) {
      const source = observed === undefined ? `${own} failed by this run (badPwdCount not readable without an admin)` : `badPwdCount ${observed}`;
      throw new ThrottledError(
        `${what}: not attempted, to protect the account from lockout: it has ${source} of the domain's threshold of ${policy.lockoutThreshold}, ` +
          `and a login is tried only while ${lockoutReserve(policy.lockoutThreshold)} failed logons would remain after it fails; ` +
          `whether the password works is unknown; try again after the domain's observation window`,
      );
    }
  }

  failed(key: string): void {
    const k = key.toLowerCase();
    this.#ownFailures.set(k, (this.#ownFailures.get(k) ?? 0) + 1);
  }

  /** A good logon resets the domain's count, and so ours. */
  succeeded(key: string): void {
    this.#ownFailures.delete(key.toLowerCase());
  }
}
