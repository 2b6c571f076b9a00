import { readFileSync } from 'node:fs';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PreflightFinding } from '../../../layers/engine/adapter.js';
import { AuthenticationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { createWindowsDomainAdapter } from '../../../layers/resources/windows-domain/adapter.js';
import { describeServer } from '../../../harness/servers/index.js';
import { account, bindWorks, context, createPso, createUser, credential, delegateResetPassword, deletePso, deleteUser, freshPassword, makeDomainAdmin, readUser, resource, type TestUser } from './support.js';

const summary = (findings: readonly PreflightFinding[]) => findings.map((f) => ({ ...(f.accountId ? { accountId: f.accountId } : {}), check: f.check, ok: f.ok }));
const find = (findings: readonly PreflightFinding[], check: string, accountId?: string) => findings.find((f) => f.check === check && f.accountId === accountId);

describeServer('samba', 'Active Directory dry run on Samba (rpr reset --dry-run)', (info) => {
  const made: TestUser[] = [];
  const passwords = new Map<TestUser, string>();
  let admin: TestUser;
  let target: TestUser;

  async function user(): Promise<TestUser> {
    const password = freshPassword();
    const u = await createUser(info, password);
    made.push(u);
    passwords.set(u, password);
    return u;
  }

  beforeAll(async () => {
    admin = await user();
    await makeDomainAdmin(info, admin);
    target = await user();
  });
  afterAll(async () => {
    for (const u of made) await deleteUser(info, u.dn);
  });

  /** The dry run as `as`, then proof that nothing changed: each user's pwdLastSet is as it was and its password still binds. */
  async function dryRun(as: TestUser, names: string[], over: Record<string, unknown> = {}, adminPassword = passwords.get(as)!): Promise<readonly PreflightFinding[]> {
    const watched = [as, target];
    const before = await Promise.all(watched.map((u) => readUser(info, u.sam, ['pwdLastSet'])));
    const adapter = createWindowsDomainAdapter(context(resource(info, { adminAccount: `ad-test/${as.sam}`, ...over }), credential(as.sam, adminPassword)));
    let findings: readonly PreflightFinding[];
    try {
      findings = await adapter.preflight!({ accounts: names.map((n) => account(n)) });
    } finally {
      await adapter.close();
    }
    expect(await Promise.all(watched.map((u) => readUser(info, u.sam, ['pwdLastSet'])))).toEqual(before);
    for (const u of watched) {
      expect(await bindWorks(info, u.upn, passwords.get(u)!), u.sam).toBe(true);
      expect(JSON.stringify(findings)).not.toContain(passwords.get(u)!);
    }
    return findings;
  }

  it("a Domain Admin may reset the account, and the resource's policy meets the domain's; a missing account is not ok", async () => {
    const findings = await dryRun(admin, [target.sam, 'pf_nosuch_x']);
    expect(summary(findings)).toEqual([
      { check: 'admin login', ok: true },
      { check: 'domain policy', ok: true },
      { accountId: account(target.sam).id, check: 'account exists', ok: true },
      { accountId: account(target.sam).id, check: 'right to reset', ok: true },
      { accountId: account('pf_nosuch_x').id, check: 'account exists', ok: false },
    ]);
    expect(find(findings, 'domain policy')?.detail).toContain('minimum length 7 and complexity rule');
  });

  it('an admin without the right to reset is not ok; one given only "Reset Password" on the account is', async () => {
    const plain = await user();
    expect(find(await dryRun(plain, [target.sam]), 'right to reset', account(target.sam).id)).toMatchObject({ ok: false, detail: expect.stringContaining('lacks the "Reset Password" right') as unknown });
    const delegate = await user();
    const only = await user();
    await delegateResetPassword(info, delegate, only);
    const findings = await dryRun(delegate, [only.sam, target.sam]);
    expect(find(findings, 'right to reset', account(only.sam).id)?.ok).toBe(true);
    expect(find(findings, 'right to reset', account(target.sam).id)?.ok).toBe(false);
  });

  it('a Domain Admin denied "Reset Password" on one account is not ok there: the deny comes first', async () => {
    const guarded = await user();
    await delegateResetPassword(info, admin, guarded, 'deny');
    const findings = await dryRun(admin, [guarded.sam, target.sam]);
    expect(find(findings, 'right to reset', account(guarded.sam).id)?.ok).toBe(false);
    expect(find(findings, 'right to reset', account(target.sam).id)?.ok).toBe(true);
    // The domain agrees: the admin's own reset of that account is refused (insufficient access, 50).
    const client = new Client({ url: `ldaps://${info.host}:${info.ldapsPort}`, tlsOptions: { ca: readFileSync(info.caFile, 'utf8') } });
    try {
      await client.bind(admin.upn, passwords.get(admin)!);
      const reset = new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [Buffer.from(`"${freshPassword()}"`, 'utf16le')] }) });
      await expect(client.modify(guarded.dn, [reset])).rejects.toMatchObject({ code: 50 });
    } finally {
      await client.unbind();
    }
    expect(await bindWorks(info, guarded.upn, passwords.get(guarded)!)).toBe(true);
  });

  it("a resource policy shorter than the domain's minimum, or without 3 complexity categories, is not ok, naming the setting", async () => {
    const short = find(await dryRun(admin, [target.sam], { policy: { length: 6 } }), 'domain policy');
    expect(short?.ok).toBe(false);
    expect(short?.detail).toContain("policy.length is 6 and the domain's minimum password length is 7");
    const simple = find(await dryRun(admin, [target.sam], { policy: { minUpper: 0, minDigits: 0, minSymbols: 0 } }), 'domain policy');
    expect(simple?.ok).toBe(false);
    expect(simple?.detail).toMatch(/makes sure of 1 \(lower-case letters\); set 2 more of minUpper, minDigits, minSymbols/);
  });

  it("an account's fine-grained policy (PSO) longer than the resource's policy is not ok for that account", async () => {
    const pso = await createPso(info, target, { minLength: 40 });
    try {
      const findings = await dryRun(admin, [target.sam]);
      expect(find(findings, 'domain policy')?.ok).toBe(true);
      expect(find(findings, 'domain policy', account(target.sam).id)).toMatchObject({ ok: false, detail: expect.stringContaining('minimum password length is 40') as unknown });
    } finally {
      await deletePso(info, pso);
    }
  });

  it('a refused admin bind throws AuthenticationError, an unreachable controller TargetUnchangedError', async () => {
    const refused = createWindowsDomainAdapter(context(resource(info, { adminAccount: `ad-test/${admin.sam}` }), credential(admin.sam, freshPassword())));
    await expect(refused.preflight!({ accounts: [account(target.sam)] })).rejects.toBeInstanceOf(AuthenticationError);
    const unreachable = createWindowsDomainAdapter(context(resource(info, { port: 1, adminAccount: `ad-test/${admin.sam}` }), credential(admin.sam, passwords.get(admin)!)));
    await expect(unreachable.preflight!({ accounts: [account(target.sam)] })).rejects.toBeInstanceOf(TargetUnchangedError);
    expect(await bindWorks(info, admin.upn, passwords.get(admin)!)).toBe(true);
  });
});
