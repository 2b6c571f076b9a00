import { Attribute, Change, type Client } from 'ldapts';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, Credential, PreflightFinding, PreflightRequest, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { AuthenticationError, errorClassOf, InvalidConfigurationError, ResetError, TargetUnchangedError, ThrottledError } from '../../engine/errors.js';
import { assertProbeAffordable, type LockoutReading } from '../../engine/lockout.js';
import type { Secret } from '../../engine/secret.js';
import type { Account } from '../common.js';
import { closeLdap, isLdapAlive, LDAP_RESULT, ldapResultCode, openLdap, type LdapEndpoint } from '../ldap/connection.js';
import { unicodePwdValue } from '../ldap/unicode-pwd.js';
import { assertChangeInput, currentPasswordForSelfChange, selfChangeFindings } from '../sql-common.js';
import { accountName, bindName, defaultNamingContext, findAccount, readDomainPolicy, readPsoPolicy, type AccountEntry } from './directory.js';
import { bindFailure, classifyAdError } from './errors.js';
import { FailedLogons } from './lockout.js';
import { assertDomainPolicy, cautiousPolicy, resourcePolicyProblem, type DomainPolicy } from './policy.js';
import { accountDacl, loginSids, resetRightIn } from './rights.js';
import { windowsDomainDefinition, type WindowsDomainResource } from './schema.js';

/** unicodePwd holds at most 256 UTF-16 code units ([MS-ADTS] 3.1.1.3.1.5.1; Windows' password limit). */
const MAX_UTF16_UNITS = 256;

/**
 * Until the domain's policy could be read (no admin, and no account of the group has logged in yet:
 * AD answers no anonymous reads), the lockout budget assumes a threshold of 3, lower than any
 * common baseline (Microsoft's 10, CIS's 5): one failed login per account, then none.
 */
const UNKNOWN_DOMAIN_POLICY: DomainPolicy = {
  minPwdLength: 0,
  complex: false,
  historyLength: 0,
  minPwdAgeMs: 0,
  lockoutThreshold: 3,
  lockoutDurationMs: 0,
  lockoutObservationWindowMs: 0,
};

/** What the adapter reads from the domain once per resource group. */
interface DomainInfo {
  /** The domain head (rootDSE defaultNamingContext), where the policy lives. */
  readonly domainDn: string;
  /** Where accounts are searched: the resource's baseDn, else the domain head. */
  readonly searchBase: string;
  readonly policy: DomainPolicy;
}

/**
 * Active Directory over LDAP (LDAPS or StartTLS) on one domain controller.
 *
 * - Admin reset (adminAccount set, of this or another windows-domain resource): one bound connection
 *   per group; each account is found by sAMAccountName, UPN or DN, checked against the domain's
 *   password policy, and its unicodePwd replaced.
 * - Self change (no adminAccount): per account, a connection bound as the account with its current
 *   password; one modify deletes the old unicodePwd value and adds the new one.
 * - Verify: a simple bind as the account on a fresh connection. The protocol makes it only within the
 *   lockout budget, from what lockout() reads (lockout.ts); a self change's bind is held to the same rule.
 * - passwordLastSet: pwdLastSet read with the admin connection, for drift detection without a login.
 */
class ActiveDirectoryAdapter implements TargetAdapter {
  readonly type = 'windows-domain' as const;
  readonly verification = 'login' as const;
  readonly #endpoint: LdapEndpoint;
  readonly #failedLogons = new FailedLogons();
  /** The DN lockout() found for an account (by user name, lower case), taken by the verify() that follows. */
  readonly #foundDns = new Map<string, string>();
  readonly #admin: Credential | undefined;
  #adminPassword: Secret | undefined;
  #adminClient: Client | undefined;
  #domain: DomainInfo | undefined;
  #adminEntryDn: string | null | undefined;
  /** Password Settings Object DN (lower case) → its policy, or undefined when it cannot be read. */
  readonly #psoPolicies = new Map<string, DomainPolicy | undefined>();
  /** Without an admin: each account's policy (by bind name, lower case), learned while logged in as it. */
  readonly #selfPolicies = new Map<string, DomainPolicy>();

  constructor(private readonly ctx: AdapterContext<WindowsDomainResource>) {
    const r = ctx.resource;
    this.#endpoint = { host: r.host, port: r.port, security: r.mode, caCertificate: r.caCertificate };
    this.#admin = ctx.credentials.admin;
    this.#adminPassword = this.#admin?.password;
  }

  get #options() {
    return { timeoutMs: this.ctx.timeoutMs };
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    this.#assertInput(req.account, req.newPassword);
    if (this.#admin) return await this.#adminReset(req);
    return await this.#selfChange(req);
  }

  async verify(req: VerifyRequest): Promise<VerifyResult> {
    if (req.password.length === 0) throw new InvalidConfigurationError('password', 'is empty: a simple bind with an empty password is anonymous and proves nothing');
    this.#assertName(req.account);
    const what = `checking the password of ${req.account.username}`;
    if (!this.#admin) return await this.#probe(this.#selfBindName(req.account), req.password, what, true);
    const key = req.account.username.toLowerCase();
    const dn = this.#foundDns.get(key) ?? (await this.#findWithAdmin(req.account)).entry.dn;
    this.#foundDns.delete(key);
    return await this.#probe(dn, req.password, what, false);
  }

  /**
   * The account's lockout reading, before each probe: with an admin, its badPwdCount, badPasswordTime
   * and lockoutTime read fresh from the DC under its own policy; without one, this adapter's own
   * failed logons under the policy known so far.
   */
  async lockout(account: Account): Promise<LockoutReading> {
    this.#assertName(account);
    if (!this.#admin) return this.#selfReading(this.#selfBindName(account));
    const { client, domain, entry } = await this.#findWithAdmin(account);
    // The probe that follows binds as this DN without searching again; its badPwdCount is not kept.
    this.#foundDns.set(account.username.toLowerCase(), entry.dn);
    return this.#failedLogons.reading(entry.dn, await this.#policyFor(client, domain, entry), entry, new Date());
  }

  /**
   * Without an admin, the account's own policy is known once it has logged in in this group; until
   * then the domain's, capped cautiously (a stricter PSO may apply), or a guess before any login.
   */
  #selfReading(who: string): LockoutReading {
    const policy = this.#selfPolicies.get(who.toLowerCase()) ?? cautiousPolicy(this.#domain?.policy ?? UNKNOWN_DOMAIN_POLICY);
    return this.#failedLogons.reading(who, policy, {}, new Date());
  }

  #selfBindName(account: Account): string {
    return bindName(accountName(account.username), this.ctx.resource.domain);
  }

  async #findWithAdmin(account: Account): Promise<{ client: Client; domain: DomainInfo; entry: AccountEntry }> {
    const client = await this.#adminSession();
    const domain = await this.#domainInfo(client);
    return { client, domain, entry: await findAccount(client, domain.searchBase, account.username, this.ctx.resource.domain) };
  }

  /**
   * When the account's password was last set, read with the admin login (no login as the account):
   * undefined without an admin, or when the domain says it must be changed at next logon.
   */
  async passwordLastSet(account: Account): Promise<Date | undefined> {
    if (!this.#admin) return undefined;
    this.#assertName(account);
    return (await this.#findWithAdmin(account)).entry.pwdLastSet;
  }

  /**
   * With the admin's connection: the domain's password policy (and each account's PSO, where one
   * applies and can be read) against the resource's policy, and the admin's "Reset Password" right
   * on each account, read from the account's DACL. Sends no password but the admin's bind.
   */
  async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    if (!this.#admin) return selfChangeFindings(req.accounts);
    const client = await this.#adminSession();
    const domain = await this.#domainInfo(client);
    const admin = JSON.stringify(this.#admin.username);
    const policyFinding = (rules: DomainPolicy, whose: string, accountId?: string): PreflightFinding => {
      const problem = resourcePolicyProblem(this.ctx.policy, rules, whose);
      const detail = problem ?? `the resource's policy (length ${this.ctx.policy.length}) meets ${whose} minimum length ${rules.minPwdLength}${rules.complex ? ' and complexity rule' : ''}`;
      return { ...(accountId ? { accountId } : {}), check: 'domain policy', ok: !problem, detail };
    };
    const findings: PreflightFinding[] = [{ check: 'admin login', ok: true, detail: `logged in as ${admin}` }, policyFinding(domain.policy, "the domain's")];
    const adminEntry = await findAccount(client, domain.domainDn, this.#admin.username, this.#admin.domain ?? this.ctx.resource.domain).catch(() => undefined);
    const sids = adminEntry && (await loginSids(client, adminEntry.dn));
    for (const account of req.accounts) {
      const accountId = account.id;
      const name = windowsDomainDefinition.username.safeParse(account.username);
      if (!name.success) {
        findings.push({ accountId, check: 'user name', ok: false, detail: name.error.issues[0]?.message ?? 'is not a domain account name' });
        continue;
      }
      let entry: AccountEntry;
      try {
        entry = await findAccount(client, domain.searchBase, account.username, this.ctx.resource.domain);
      } catch (e) {
        if (!(e instanceof InvalidConfigurationError)) throw e;
        findings.push({ accountId, check: 'account exists', ok: false, detail: e.message });
        continue;
      }
      findings.push({ accountId, check: 'account exists', ok: true, detail: `found ${entry.dn}` });
      findings.push(await this.#resetRight(client, entry, sids, admin, accountId));
      if (entry.resultantPso) {
        const rules = await this.#policyFor(client, domain, entry);
        findings.push(
          this.#psoPolicies.get(entry.resultantPso.toLowerCase())
            ? policyFinding(rules, `the password settings object ${entry.resultantPso}'s`, accountId)
            : { accountId, check: 'domain policy', ok: true, detail: `the password settings object ${entry.resultantPso} applies, which the admin may not read; only the domain's policy was checked` },
        );
      }
    }
    return findings;
  }

  async #resetRight(client: Client, entry: AccountEntry, sids: ReadonlySet<string> | undefined, admin: string, accountId: string): Promise<PreflightFinding> {
    const check = 'right to reset';
    if (!sids) return { accountId, check, ok: false, detail: `the admin ${admin} has no entry under the domain head, so its groups and rights cannot be read` };
    const dacl = await accountDacl(client, entry.dn);
    if (!dacl) return { accountId, check, ok: false, detail: `the admin ${admin} may not read the security descriptor of ${entry.dn}, so its right to reset cannot be told` };
    if (resetRightIn(dacl, sids) === 'allow') return { accountId, check, ok: true, detail: `the admin ${admin} holds "Reset Password" on ${entry.dn}` };
    return { accountId, check, ok: false, detail: `the admin ${admin} lacks the "Reset Password" right on ${entry.dn}; delegate it (or make the admin a member of a group that holds it)` };
  }

  async close(): Promise<void> {
    const client = this.#adminClient;
    this.#adminClient = undefined;
    if (client) await closeLdap(client, this.#options);
  }

  #assertName(account: Account): void {
    const name = windowsDomainDefinition.username.safeParse(account.username);
    if (!name.success) throw new InvalidConfigurationError('account.username', name.error.issues[0]?.message ?? 'is not a domain account name');
  }

  #assertInput(account: Account, password: Secret): void {
    assertChangeInput(this.ctx, windowsDomainDefinition.username, { account, newPassword: password });
    if (password.reveal().length > MAX_UTF16_UNITS) {
      throw new InvalidConfigurationError('newPassword', `is longer than the ${MAX_UTF16_UNITS} UTF-16 code units unicodePwd holds (characters outside the Basic Multilingual Plane count twice)`);
    }
  }

  /** The admin's own DN (lower case), when it lies under the search base; found once. */
  async #adminDn(client: Client, domain: DomainInfo): Promise<string | undefined> {
    if (this.#adminEntryDn === undefined) {
      this.#adminEntryDn = await findAccount(client, domain.searchBase, this.#admin!.username, this.ctx.resource.domain).then(
        (e) => e.dn.toLowerCase(),
        () => null,
      );
    }
    return this.#adminEntryDn ?? undefined;
  }

  #isAdmin(account: Account): boolean {
    const admin = this.#admin;
    return admin !== undefined && (account.id === admin.accountId || account.username.toLowerCase() === admin.username.toLowerCase());
  }

  async #adminReset(req: ChangeRequest): Promise<ChangeResult> {
    const { client, domain, entry } = await this.#findWithAdmin(req.account);
    assertDomainPolicy(req.newPassword, await this.#policyFor(client, domain, entry), entry, { selfChange: false, now: new Date() });
    const value = unicodePwdValue(req.newPassword);
    await this.#modify(client, entry.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [value] }) })], value, `resetting the password of ${req.account.username}`);
    if (this.#isAdmin(req.account) || entry.dn.toLowerCase() === (await this.#adminDn(client, domain))) {
      // Later logins of this group (a reconnect) use the admin's new password.
      this.#adminPassword = req.newPassword;
      return { method: 'admin reset (the admin account itself)' };
    }
    return { method: 'admin reset' };
  }

  async #selfChange(req: ChangeRequest): Promise<ChangeResult> {
    const current = currentPasswordForSelfChange(req);
    const who = this.#selfBindName(req.account);
    const what = `logging in as ${req.account.username} to change its password`;
    // Not a protocol probe, but a bind with a password that may be stale: held to the same budget.
    assertProbeAffordable(this.#selfReading(who), what);
    const client = await openLdap(this.#endpoint, this.#options);
    try {
      await this.#bind(client, who, current, what);
      const domain = await this.#domainInfo(client);
      const entry = await findAccount(client, domain.searchBase, req.account.username, this.ctx.resource.domain);
      const policy = await this.#policyFor(client, domain, entry);
      this.#selfPolicies.set(who.toLowerCase(), policy);
      assertDomainPolicy(req.newPassword, policy, entry, { selfChange: true, now: new Date() });
      const oldValue = unicodePwdValue(current);
      const newValue = unicodePwdValue(req.newPassword);
      try {
        await this.#modify(
          client,
          entry.dn,
          [
            new Change({ operation: 'delete', modification: new Attribute({ type: 'unicodePwd', values: [oldValue] }) }),
            new Change({ operation: 'add', modification: new Attribute({ type: 'unicodePwd', values: [newValue] }) }),
          ],
          newValue,
          `changing the password of ${req.account.username}`,
        );
      } finally {
        oldValue.fill(0);
      }
      return { method: 'self change' };
    } finally {
      await closeLdap(client, this.#options);
    }
  }

  /** A bind that counts against the lockout budget: a refusal is recorded as a failed logon. */
  async #bind(client: Client, who: string, password: Secret, what: string): Promise<void> {
    try {
      await client.bind(who, password.reveal());
      this.#failedLogons.succeeded(who);
    } catch (e) {
      if (ldapResultCode(e) === LDAP_RESULT.invalidCredentials && bindFailure(e instanceof Error ? e.message : '').kind === 'wrong-password') this.#failedLogons.failed(who);
      throw classifyAdError(e, { operation: what, sent: false });
    }
  }

  /** A login as the account on a fresh connection: the answer to "does this password work?". */
  async #probe(who: string, password: Secret, what: string, learnPolicy: boolean): Promise<VerifyResult> {
    const client = await openLdap(this.#endpoint, this.#options);
    try {
      await client.bind(who, password.reveal());
      this.#failedLogons.succeeded(who);
      // Without an admin, a good login is the chance to learn the account's policy, as the account.
      if (learnPolicy) await this.#learnOwnPolicy(client, who).catch(() => undefined);
      return { valid: true };
    } catch (e) {
      if (ldapResultCode(e) !== LDAP_RESULT.invalidCredentials) throw classifyAdError(e, { operation: what, sent: false });
      const failure = bindFailure(e instanceof Error ? e.message : '');
      switch (failure.kind) {
        case 'wrong-password':
          this.#failedLogons.failed(who);
          return { valid: false, detail: failure.meaning };
        case 'right-but-must-change':
          return { valid: true, detail: failure.meaning };
        case 'untestable':
          if (failure.locked) throw new ThrottledError(`${what}: ${failure.meaning}; whether the password works is unknown until the lockout ends`, { cause: e });
          throw new AuthenticationError(`${what}: ${failure.meaning}; whether the password works cannot be tested`, { cause: e });
      }
    } finally {
      await closeLdap(client, this.#options);
    }
  }

  /**
   * Sends one modify. The connection is checked first: ldapts would otherwise reconnect on its own,
   * unbound (connection.ts makes that fail instead), and a failure before sending changed nothing.
   * `secret` (the encoded password) is zeroed afterwards.
   */
  async #modify(client: Client, dn: string, changes: Change[], secret: Buffer, what: string): Promise<void> {
    try {
      if (!isLdapAlive(client)) throw new TargetUnchangedError(`${what}: the connection was lost before the change was sent; nothing was changed`);
      await client.modify(dn, changes);
    } catch (e) {
      if (e instanceof ResetError) throw e;
      throw classifyAdError(e, { operation: what, sent: !isReconnectRefusal(e) });
    } finally {
      secret.fill(0);
    }
  }

  async #adminSession(): Promise<Client> {
    if (this.#adminClient && isLdapAlive(this.#adminClient)) return this.#adminClient;
    await this.close();
    const admin = this.#admin!;
    if (!this.#adminPassword) throw new InvalidConfigurationError('adminAccount', 'the admin account has no password');
    const client = await openLdap(this.#endpoint, this.#options);
    try {
      // An admin of another windows-domain resource is qualified with its own domain when the credential says which.
      const adminDomain = 'domain' in admin && typeof admin.domain === 'string' ? admin.domain : this.ctx.resource.domain;
      await client.bind(bindName(accountName(admin.username), adminDomain), this.#adminPassword.reveal());
    } catch (e) {
      await closeLdap(client, this.#options);
      const error = classifyAdError(e, { operation: `logging in as the admin ${admin.username}`, sent: false });
      if (error instanceof AuthenticationError) throw new AuthenticationError(`${error.message} (adminAccount ${admin.accountId})`, { cause: e });
      throw error;
    }
    this.#adminClient = client;
    return client;
  }

  /**
   * The policy that governs the account: its Password Settings Object's when one applies (read once
   * per PSO), else the domain's. A PSO that cannot be read (by default only Domain Admins may) makes
   * the lockout budget cautious; its password rules are then enforced by the domain alone.
   */
  async #policyFor(client: Client, domain: DomainInfo, entry: AccountEntry): Promise<DomainPolicy> {
    const pso = entry.resultantPso;
    if (!pso) return domain.policy;
    const key = pso.toLowerCase();
    if (!this.#psoPolicies.has(key)) {
      const policy = await readPsoPolicy(client, pso).catch((e: unknown) => {
        this.ctx.log.warn('a password settings object applies but cannot be read; the lockout budget assumes a threshold of 3', { pso, errorClass: errorClassOf(e) });
        return undefined;
      });
      this.#psoPolicies.set(key, policy);
    }
    return this.#psoPolicies.get(key) ?? cautiousPolicy(domain.policy);
  }

  async #learnOwnPolicy(client: Client, who: string): Promise<void> {
    const domain = await this.#domainInfo(client);
    const entry = await findAccount(client, domain.searchBase, who, this.ctx.resource.domain);
    this.#selfPolicies.set(who.toLowerCase(), await this.#policyFor(client, domain, entry));
  }

  /** The domain head and its policy, read once per group. */
  async #domainInfo(client: Client): Promise<DomainInfo> {
    if (this.#domain) return this.#domain;
    const domainDn = await defaultNamingContext(client);
    const policy = await readDomainPolicy(client, domainDn);
    this.#domain = { domainDn, searchBase: this.ctx.resource.baseDn ?? domainDn, policy };
    this.ctx.log.debug('read the domain password policy', { domainDn, ...policy });
    return this.#domain;
  }
}

/** connection.ts refuses ldapts's silent reconnect: that failure happens before anything is sent. */
function isReconnectRefusal(e: unknown): boolean {
  return e instanceof Error && /not reconnecting/.test(e.message);
}

/** Active Directory domain accounts: admin reset or self change of unicodePwd over LDAPS or StartTLS. */
export const createWindowsDomainAdapter: AdapterFactory<WindowsDomainResource> = (ctx) => new ActiveDirectoryAdapter(ctx);
