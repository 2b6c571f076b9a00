/**
 * Dry runs of a reset: for each selected resource, open its session, authenticate its logins and
 * check what the change will need where the type can tell (the adapter's `preflight`), and say
 * per account what a real run would do or why it would fail. Nothing is written to the
 * credential store or changed on the target, and no run is recorded; the only write a dry run
 * may make is the one any first connection makes: an SSH host key seen for the first time is
 * recorded (trust on first use).
 */
import type { PreflightFinding } from './adapter.js';
import { errorClassOf, ResetError, StoreThrottledError } from './errors.js';
import { assertPolicyPossible } from './policy.js';
import { probePassword } from './protocol.js';
import { openResourceSession, type ResourceSession, type SessionDeps } from './session.js';
import type { StoredResource } from './stores/types.js';
import type { Account } from './types.js';

export interface DryRunAccount {
  readonly accountId: string;
  /** true: a real run would get past every check made; false: `failures` say where it would fail. */
  readonly ok: boolean;
  /** What a real run would do for it. */
  readonly wouldDo: string;
  readonly failures: readonly string[];
}

export interface DryRunResource {
  readonly resourceId: string;
  readonly type: string;
  readonly ok: boolean;
  /** Every check made, passed or failed: the adapter's preflight, the policy, the logins. */
  readonly findings: readonly PreflightFinding[];
  readonly accounts: readonly DryRunAccount[];
}

export interface DryRunReport {
  /** true when a real run would get past every check on every resource. */
  readonly ok: boolean;
  readonly resources: readonly DryRunResource[];
}

const reason = (e: unknown) => `${errorClassOf(e)}: ${e instanceof ResetError || e instanceof Error ? e.message : String(e)}`;

/**
 * Without a preflight of its own, a type's logins are authenticated the way a real run proves a
 * password: one probe of each login's AWSCURRENT (the resource's own logins; for a resource
 * without any, each selected account's, which a self change logs in with), within the lockout
 * budget. The first error that is not a refusal (unreachable, say) ends the probes: the others
 * would meet it too.
 */
async function proveLogins(deps: SessionDeps, session: ResourceSession, accounts: readonly Account[]): Promise<PreflightFinding[]> {
  if (session.adapter.verification === 'none') return [{ check: 'logins', ok: true, detail: 'not checked: the type cannot prove a password without a change' }];
  const logins = (await Promise.all([...session.loginAccountIds].map((id) => deps.state.getAccount(id)))).filter((a): a is Account => a !== undefined);
  const own = logins.filter((a) => a.resourceId === session.resource.id);
  const findings: PreflightFinding[] = logins.filter((a) => a.resourceId !== session.resource.id).map((a) => ({ check: 'login', ok: true, detail: `${a.id}: not checked here (an account of resource "${a.resourceId}"; a dry run of that resource checks it)` }));
  const selfChange = logins.length === 0;
  for (const account of selfChange ? accounts : own) {
    // A refused login of the resource fails every account; a refused self change only its own.
    const about = selfChange ? { accountId: account.id } : {};
    try {
      const { value } = await deps.credentials.getValue(account.secretId);
      session.redactor.add(value);
      const probe = (await probePassword(session.adapter, account, value))!;
      findings.push({ ...about, check: 'login', ok: probe.valid, detail: probe.valid ? `${account.id}: ${probe.proof} with AWSCURRENT` : `${account.id}: AWSCURRENT is refused, so a real run could not log in (AuthenticationError)` });
    } catch (e) {
      if (e instanceof StoreThrottledError) throw e;
      findings.push({ check: 'connection', ok: false, detail: `${account.id}: ${session.redactor.redact(reason(e))}` });
      break;
    }
  }
  return findings;
}

/** What a real run would do for an account, from the logins the resource's configuration names. */
function wouldDo(session: ResourceSession, account: Account, loginFields: readonly string[]): string {
  const proof = session.adapter.verification === 'none' ? "the provider's confirmation of the change" : session.adapter.verification === 'login' ? 'a fresh login' : "the target's attestation";
  if (session.loginAccountIds.has(account.id)) return `reset, proven by ${proof}; changed last (a login of the resource)`;
  if (loginFields.length) return `reset with the login(s) ${loginFields.join(', ')}, proven by ${proof}`;
  return `self change with its AWSCURRENT, proven by ${proof}`;
}

/** One resource's dry run: its findings and, per account, what a real run would do or why it would fail. */
export async function dryRunResource(deps: SessionDeps, resource: StoredResource, accounts: readonly Account[]): Promise<DryRunResource> {
  const findings: PreflightFinding[] = [];
  let plans = new Map<string, string>();
  let session: ResourceSession | undefined;
  try {
    session = await openResourceSession(deps, resource.id);
  } catch (e) {
    if (e instanceof StoreThrottledError) throw e;
    findings.push({ check: 'configuration', ok: false, detail: reason(e) });
  }
  if (session) {
    const s = session;
    try {
      assertPolicyPossible(s.policy);
      findings.push({ check: 'password policy', ok: true, detail: `a password of ${s.policy.length} characters can be generated` });
      if (s.adapter.preflight) {
        try {
          findings.push(...(await s.adapter.preflight({ accounts })));
        } catch (e) {
          if (e instanceof StoreThrottledError) throw e;
          findings.push({ check: 'connection and logins', ok: false, detail: reason(e) });
        }
      } else {
        findings.push(...(await proveLogins(deps, s, accounts)));
      }
      const fields = deps.registry.typeOf(resource.type).references(resource as never).map((r) => `${r.field} (${r.accountId})`);
      plans = new Map(accounts.map((a) => [a.id, wouldDo(s, a, fields)]));
    } catch (e) {
      if (e instanceof StoreThrottledError) throw e;
      findings.push({ check: 'configuration', ok: false, detail: reason(e) });
    } finally {
      await s.close();
    }
  }
  const rows = accounts.map((a) => {
    const failures = findings.filter((f) => !f.ok && (f.accountId === undefined || f.accountId === a.id)).map((f) => `${f.check}: ${f.detail}`);
    return { accountId: a.id, ok: failures.length === 0, wouldDo: plans.get(a.id) ?? 'nothing: the resource cannot be opened', failures };
  });
  return { resourceId: resource.id, type: resource.type, ok: findings.every((f) => f.ok), findings, accounts: rows };
}
