/**
 * Verify runs: each account's AWSCURRENT checked on the target by the type's verification
 * capability, within the lockout budget, changing nothing on the target or in the credential
 * store. Each account is classified:
 *
 * - `in-sync`: AWSCURRENT proven (a fresh login, or the target's attestation).
 * - `out-of-sync`: AWSCURRENT refused, and another version rpr holds works (a pending version
 *   not promoted, a version kept as `rpr-kept-…`, or AWSPREVIOUS): the result names it.
 * - `drifted`: AWSCURRENT refused, and the password was changed outside rpr: every other
 *   version rpr holds is refused too, or (when the lockout budget stopped the probes) the target
 *   says the password was set after rpr's last recorded reset (passwordLastSet).
 * - `skipped`: the type cannot prove a password without a change (verification `none`), unless
 *   the target says the password was changed outside rpr (then `drifted`).
 * - `failed` (thrown here): the target could not tell, e.g. unreachable, or the lockout budget
 *   allowed no probe of AWSCURRENT (ThrottledError).
 */
import type { TargetAdapter } from './adapter.js';
import { driftOf, lastSuccessfulReset, type Drift } from './drift.js';
import { NotFoundError, ThrottledError } from './errors.js';
import { probePassword } from './protocol.js';
import type { Redactor } from './redact.js';
import type { Secret } from './secret.js';
import type { ResourceSession } from './session.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, isKeptLabel, type AccountResult, type CredentialStore, type SecretVersionInfo, type StateStore } from './stores/types.js';
import type { Account } from './types.js';

/** What a verify found for one account: the fields of its result beyond the run's. */
export type VerifyFinding = Pick<AccountResult, 'outcome'> & Partial<Pick<AccountResult, 'proof' | 'workingVersion' | 'keptVersion' | 'message'>>;

export interface VerifyDeps {
  readonly state: Pick<StateStore, 'listAudit'>;
  readonly credentials: Pick<CredentialStore, 'listVersions' | 'getValue'>;
}

/** A version other than AWSCURRENT that rpr holds and that may be what the target has. */
interface Candidate {
  readonly versionId: string;
  readonly name: 'pending' | 'kept' | 'previous';
  readonly label?: string;
}

/** The other versions rpr holds, in the order a real reset's settling would try them: pending, kept, previous. */
function candidates(versions: readonly SecretVersionInfo[], currentId: string): Candidate[] {
  const others = versions.filter((v) => v.versionId !== currentId);
  const out: Candidate[] = [];
  for (const v of others) if (v.stages.includes(AWSPENDING)) out.push({ versionId: v.versionId, name: 'pending' });
  for (const v of others) {
    const label = v.stages.find(isKeptLabel);
    if (label && !out.some((c) => c.versionId === v.versionId)) out.push({ versionId: v.versionId, name: 'kept', label });
  }
  for (const v of others) if (v.stages.includes(AWSPREVIOUS) && !out.some((c) => c.versionId === v.versionId)) out.push({ versionId: v.versionId, name: 'previous' });
  return out;
}

/** What the target says of when the password was last set, against rpr's last reset; undefined when it cannot tell. */
async function targetDrift(deps: VerifyDeps, adapter: TargetAdapter, account: Account): Promise<Drift | undefined> {
  if (!adapter.passwordLastSet) return undefined;
  try {
    return driftOf(await adapter.passwordLastSet(account), await lastSuccessfulReset(deps.state, account.id));
  } catch {
    return undefined;
  }
}

const changedOutside = (d: Drift | undefined) =>
  d?.state === 'changed outside rpr' ? `the target says the password was set at ${d.passwordLastSet}, after rpr's last reset at ${d.lastReset}` : undefined;

/** Checks one account's AWSCURRENT and classifies it (see the file's comment). Throws when the target cannot tell. */
export async function verifyCurrent(deps: VerifyDeps, session: ResourceSession, account: Account, redactor: Redactor): Promise<VerifyFinding> {
  const adapter = session.adapter;
  const versions = await deps.credentials.listVersions(account.secretId);
  const current = versions.find((v) => v.stages.includes(AWSCURRENT));
  if (!current) throw new NotFoundError('secretId', `secret "${account.secretId}" has no AWSCURRENT version`);
  const value = async (versionId: string): Promise<Secret> => {
    const { value: v } = await deps.credentials.getValue(account.secretId, { versionId });
    redactor.add(v);
    return v;
  };
  if (adapter.verification === 'none') {
    const outside = changedOutside(await targetDrift(deps, adapter, account));
    if (outside) return { outcome: 'drifted', workingVersion: 'unknown', message: outside };
    return { outcome: 'skipped', message: "cannot be verified without a change: the type proves a password only by the provider's answer to a change (verification: none)" };
  }
  const probe = (await probePassword(adapter, account, await value(current.versionId)))!;
  if (probe.valid) return { outcome: 'in-sync', proof: probe.proof };

  // AWSCURRENT is refused: does a version rpr holds work?
  const others = candidates(versions, current.versionId);
  let notTried: string | undefined;
  for (const [i, c] of others.entries()) {
    let p;
    try {
      p = (await probePassword(adapter, account, await value(c.versionId)))!;
    } catch (e) {
      if (!(e instanceof ThrottledError)) throw e;
      notTried = `${others.length - i} other version(s) rpr holds were not tried: ${e.message}`;
      break;
    }
    if (p.valid) {
      const what = c.label ? `kept version ${c.versionId} (${c.label})` : `${c.name === 'pending' ? 'AWSPENDING' : 'AWSPREVIOUS'} version ${c.versionId}`;
      return { outcome: 'out-of-sync', proof: p.proof, workingVersion: c.name, ...(c.label ? { keptVersion: c.label } : {}), message: `AWSCURRENT is refused; the ${what} works (${p.proof}): reset the account, or make that version AWSCURRENT` };
    }
  }
  const outside = changedOutside(await targetDrift(deps, adapter, account));
  if (notTried === undefined) {
    const held = others.length ? `AWSCURRENT and the ${others.length} other version(s) rpr holds (${others.map((c) => c.label ?? c.name).join(', ')}) are refused` : 'AWSCURRENT is refused and rpr holds no other version';
    return { outcome: 'drifted', workingVersion: 'none', message: `${held}: the password was changed outside rpr${outside ? `; ${outside}` : ''}` };
  }
  if (outside) return { outcome: 'drifted', workingVersion: 'unknown', message: `AWSCURRENT is refused; ${outside}; ${notTried}` };
  return { outcome: 'out-of-sync', workingVersion: 'unknown', message: `AWSCURRENT is refused; ${notTried}` };
}
