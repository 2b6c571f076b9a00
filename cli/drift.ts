import { driftOf, lastSuccessfulReset, type Drift } from '../layers/engine/drift.js';
import { errorClassOf, ResetError } from '../layers/engine/errors.js';
import type { Log } from '../layers/engine/log.js';
import { openResourceSession, type AdapterRegistry } from '../layers/engine/session.js';
import type { AccountResult, CredentialStore, StateStore } from '../layers/engine/stores/types.js';
import { REGISTRY } from '../layers/resources/registry.js';

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
