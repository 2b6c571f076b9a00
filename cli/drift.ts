import { errorClassOf, ResetError } from '../layers/engine/errors.js';
import type { Log } from '../layers/engine/log.js';
import { openResourceSession, type AdapterRegistry } from '../layers/engine/session.js';
import type { AccountResult, CredentialStore, StateStore } from '../layers/engine/stores/types.js';
import { REGISTRY } from '../layers/resources/registry.js';

/**
 * Drift: whether an account's password was changed outside rpr since its last successful reset,
 * told by the target without logging in as the account (adapters that offer passwordLastSet,
 * e.g. Active Directory's pwdLastSet). The target's clock and ours may differ a little, and the
 * change itself happens before the reset is recorded, so a change within DRIFT_TOLERANCE_MS after
 * the recorded reset is not called drift.
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

async function lastSuccessfulReset(state: StateStore, accountId: string): Promise<Date | undefined> {
  const audit = await state.listAudit({ accountId, limit: 100 });
  const at = audit.filter((a) => a.outcome === 'succeeded').map((a) => Date.parse(a.at)).filter((t) => !Number.isNaN(t));
  return at.length ? new Date(Math.max(...at)) : undefined;
}

/**
 * The drift of each account of the results whose adapter offers passwordLastSet; accounts of other
 * types get no entry. One connection per resource, opened with the resource's configured logins.
 */
export async function detectDrift(
  deps: { readonly state: StateStore; readonly credentials: CredentialStore; readonly adapters?: AdapterRegistry; readonly log: Log; readonly timeoutMs?: number },
  results: readonly Pick<AccountResult, 'accountId' | 'resourceId'>[],
): Promise<Map<string, Drift>> {
  const out = new Map<string, Drift>();
  const byResource = new Map<string, string[]>();
  for (const r of results) byResource.set(r.resourceId, [...(byResource.get(r.resourceId) ?? []), r.accountId]);
  for (const [resourceId, accountIds] of byResource) {
    // A resource gone, of a type without an adapter, or whose logins cannot be read gets no entries.
    let session: Awaited<ReturnType<typeof openResourceSession>>;
    try {
      session = await openResourceSession({ registry: REGISTRY, state: deps.state, credentials: deps.credentials, ...(deps.adapters ? { adapters: deps.adapters } : {}), log: deps.log, timeoutMs: deps.timeoutMs ?? 15_000 }, resourceId);
    } catch {
      continue;
    }
    try {
      const reader = session.adapter.passwordLastSet;
      if (!reader) continue;
      for (const id of accountIds) {
        const account = await deps.state.getAccount(id);
        if (!account) {
          out.set(id, { state: 'unknown', reason: 'the account no longer exists' });
          continue;
        }
        try {
          out.set(id, driftOf(await reader(account), await lastSuccessfulReset(deps.state, id)));
        } catch (e) {
          // The session's adapter redacts and classifies what it throws.
          out.set(id, { state: 'unknown', reason: e instanceof ResetError ? e.message : errorClassOf(e) });
        }
      }
    } finally {
      await session.close();
    }
  }
  return out;
}
