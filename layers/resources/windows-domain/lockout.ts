import type { LockoutReading } from '../../engine/lockout.js';
import type { DomainPolicy } from './policy.js';

/**
 * AD's side of the protocol's lockout budget (the rule is in layers/engine/lockout.ts): what the
 * adapter reports of an account before a login that may fail (a probe, a self change's bind with a
 * password that may be stale).
 *
 * The threshold is the account's policy (its PSO's or the domain's). The count is the account's
 * badPwdCount read from the same domain controller (it is not replicated, and the adapter talks to
 * one DC), ignored once the observation window has passed since badPasswordTime (the DC then starts
 * again from 0); where it cannot be read (no admin), the adapter's own failed logons since the last
 * good one count instead. Both are taken together, the higher wins. lockoutTime, with the lockout
 * duration, says whether the account is locked now.
 */
export interface LockoutState {
  /** badPwdCount as read from the DC; undefined when it could not be read. */
  readonly badPwdCount?: number | undefined;
  readonly badPasswordTime?: Date | undefined;
  readonly lockoutTime?: Date | undefined;
}

/** The failed logons that count now: badPwdCount unless the observation window has passed. */
function effectiveBadPwdCount(state: LockoutState, policy: DomainPolicy, now: Date): number | undefined {
  if (state.badPwdCount === undefined) return undefined;
  if (state.badPasswordTime && policy.lockoutObservationWindowMs > 0 && now.getTime() - state.badPasswordTime.getTime() > policy.lockoutObservationWindowMs) return 0;
  return state.badPwdCount;
}

/** Whether the account is locked now (lockoutTime set and, for a timed lockout, not yet over). */
function isLockedOut(state: LockoutState, policy: DomainPolicy, now: Date): boolean {
  if (!state.lockoutTime) return false;
  if (policy.lockoutDurationMs === 0 || policy.lockoutDurationMs === Number.POSITIVE_INFINITY) return true;
  return now.getTime() < state.lockoutTime.getTime() + policy.lockoutDurationMs;
}

/** The adapter's own failed logons per account (by DN or bind name), and the reading they make with the DC's. */
export class FailedLogons {
  readonly #byAccount = new Map<string, number>();

  /** The account's lockout reading: its policy's threshold, the higher of its badPwdCount and our count, its lockout. */
  reading(key: string, policy: DomainPolicy, state: LockoutState, now: Date): LockoutReading {
    const own = this.#byAccount.get(key.toLowerCase()) ?? 0;
    const observed = effectiveBadPwdCount(state, policy, now);
    const source = observed === undefined ? `${own} failed by this run, badPwdCount not readable without an admin` : `badPwdCount ${observed} on the domain controller`;
    return {
      threshold: policy.lockoutThreshold,
      failedLogons: Math.max(own, observed ?? 0),
      lockedOut: isLockedOut(state, policy, now),
      detail: `${source}; try again after the domain's observation window`,
    };
  }

  failed(key: string): void {
    const k = key.toLowerCase();
    this.#byAccount.set(k, (this.#byAccount.get(k) ?? 0) + 1);
  }

  /** A good logon resets the domain's count, and so ours. */
  succeeded(key: string): void {
    this.#byAccount.delete(key.toLowerCase());
  }
}
