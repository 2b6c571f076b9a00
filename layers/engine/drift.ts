import type { StateStore } from './stores/types.js';

/**
 * Drift: whether an account's password was changed outside rpr since its last successful reset,
 * told by the target without logging in as the account (adapters that offer passwordLastSet,
 * e.g. Active Directory's pwdLastSet). The target's clock and ours may differ a little, and the
 * change itself happens before the reset is recorded, so a change within DRIFT_TOLERANCE_MS after
 * the recorded reset is not called drift. `rpr status` and verify runs both use it.
 */
export const DRIFT_TOLERANCE_MS = 5_000;

export type DriftState = 'changed outside rpr' | 'none' | 'unknown';

export interface Drift {
  readonly state: DriftState;
  /** When the target says the password was last set (ISO 8601). */
  readonly passwordLastSet?: string;
  /** The account's last successful reset recorded in the state store (ISO 8601). */
  readonly lastReset?: string;
  readonly reason?: string;
}

/** Compares the target's pwdLastSet-like time with the last recorded successful reset. */
export function driftOf(passwordLastSet: Date | undefined, lastReset: Date | undefined, toleranceMs = DRIFT_TOLERANCE_MS): Drift {
  const times = { ...(passwordLastSet ? { passwordLastSet: passwordLastSet.toISOString() } : {}), ...(lastReset ? { lastReset: lastReset.toISOString() } : {}) };
  if (!passwordLastSet) return { state: 'unknown', ...times, reason: 'the target does not say when the password was last set (it may need an admin login, e.g. a windows-domain adminAccount)' };
  if (!lastReset) return { state: 'unknown', ...times, reason: 'no successful reset by rpr is recorded' };
  if (passwordLastSet.getTime() > lastReset.getTime() + toleranceMs) return { state: 'changed outside rpr', ...times };
  return { state: 'none', ...times };
}

/**
 * When rpr last changed the account's password successfully (a reset or a rotation), from its
 * newest audit records; a verify run's records never say "succeeded", so they do not count.
 */
export async function lastSuccessfulReset(state: Pick<StateStore, 'listAudit'>, accountId: string): Promise<Date | undefined> {
  const audit = await state.listAudit({ accountId, limit: 100 });
  const at = audit.filter((a) => a.outcome === 'succeeded').map((a) => Date.parse(a.at)).filter((t) => !Number.isNaN(t));
  return at.length ? new Date(Math.max(...at)) : undefined;
}
