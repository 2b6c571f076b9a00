import { Attribute, Change, type Client } from 'ldapts';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, PreflightFinding, PreflightRequest, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import type { Account } from '../common.js';
import { InvalidConfigurationError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { AdminConnection, assertChangeInput, currentPasswordForSelfChange, selfChangeFindings } from '../sql-common.js';
import { classifyLdapError, closeLdap, isLdapAlive, LDAP_RESULT, ldapResultCode, openLdap, tryBind, type LdapEndpoint, type LdapOptions } from './connection.js';
import { isDnUnder, sameDn } from './dn-compare.js';
import { dnProblem } from './dn.js';
import { PASSWORD_MODIFY_OID, passwordModifyValue } from './password-modify.js';
import { ldapDefinition, type LdapResource } from './schema.js';
import { hasStorageScheme, sshaUserPassword } from './ssha.js';
import { unicodePwdValue } from './unicode-pwd.js';

/**
 * How each server type changes a password, and where that comes from:
 *
 * - Password Modify extended operation (RFC 3062, OID 1.3.6.1.4.1.4203.1.11.1), used whenever the
 *   server's root DSE lists it in supportedExtension (or `passwordChange: extended-operation`). The
 *   server hashes the password by its own policy; the old password travels for a self change.
 *   OpenLDAP: built into slapd and always listed (slapd.conf(5) password-hash; "The Password Modify
 *   extended operation always hashes", TEST-SERVERS.md). Novell/NetIQ eDirectory: listed in the root
 *   DSE, over LDAPS or StartTLS only, for Universal Passwords (NetIQ eDirectory 8.8 SP8 Administration
 *   Guide, 16.14 "Configuring and Using the LDAP Password Modify Extended Operation").
 * - Otherwise a modify of `userPassword`. Oracle Internet Directory documents no Password Modify
 *   operation; it stores `userPassword` as a one-way hash by its configured scheme, orclCryptoScheme
 *   (Oracle Internet Directory Administrator's Guide, "Managing Password Verifiers": "Oracle Internet
 *   Directory stores users' directory passwords in the userPassword attribute ... as a one-way hash").
 *   An admin replaces the value; a user's own change deletes the old value and adds the new one.
 * - Entra ID (Entra Domain Services, LDAPS only): `unicodePwd`, the UTF-16LE quoted password
 *   ([MS-ADTS] 3.1.1.3.1.5.1): an admin replaces it, a user deletes the old value and adds the new
 *   in one modify.
 *
 * Never clear text by accident: on OpenLDAP a `userPassword` we write ourselves is a salted hash
 * ({SSHA}), because slapd stores a plain replace as given unless ppolicy's olcPPolicyHashCleartext is
 * on. On the other types the server hashes; before writing we read the entry's current `userPassword`
 * when we may, and refuse if it is held as given (no "{SCHEME}" prefix): that server would store ours
 * in clear too.
 */

type Method = 'extended-operation' | 'userPassword' | 'unicodePwd';

const METHOD_NAMES: Record<Method, string> = {
  'extended-operation': 'Password Modify extended operation',
  userPassword: 'userPassword modify',
  unicodePwd: 'unicodePwd modify',
};

/** One bound connection. */
class LdapSession {
  constructor(
    readonly client: Client,
    readonly dn: string,
    private readonly options: LdapOptions,
  ) {}

  get broken(): boolean {
    return !isLdapAlive(this.client);
  }

  close(): Promise<void> {
    return closeLdap(this.client, this.options);
  }
}

export function ldapEndpoint(r: LdapResource): LdapEndpoint {
  return {
    host: r.host,
    port: r.port,
    security: r.ssl ? 'ldaps' : r.starttls ? 'starttls' : 'plain',
    ...(r.caCertificate ? { caCertificate: r.caCertificate } : {}),
  };
}

class LdapAdapter implements TargetAdapter {
  readonly type = 'ldap' as const;
  readonly verification = 'login' as const;
  readonly #admin: AdminConnection<LdapSession> | undefined;
  readonly #endpoint: LdapEndpoint;
  readonly #options: LdapOptions;
  /** The root DSE's supportedExtension, read once per resource group. */
  #extensions: Promise<ReadonlySet<string>> | undefined;

  constructor(private readonly ctx: AdapterContext<LdapResource>) {
    this.#endpoint = ldapEndpoint(ctx.resource);
    this.#options = { timeoutMs: ctx.timeoutMs };
    const admin = ctx.credentials.admin;
    this.#admin = admin && new AdminConnection(admin, (password) => this.#bind(admin.username, password, 'adminAccount', 'binding as the admin'));
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    this.#checkAccount(req.account.username);
    assertChangeInput(this.ctx, ldapDefinition.username, req);
    const dn = req.account.username;
    if (this.#admin) {
      const admin = this.#admin;
      const session = await admin.session();
      const self = req.account.id === admin.credential.accountId || sameDn(dn, admin.credential.username);
      const method = await this.#method(session);
      await this.#write(session, method, {
        dn,
        newPassword: req.newPassword,
        // The admin changing its own password proves the old one where the method carries it.
        oldPassword: self ? (req.currentPassword ?? admin.password) : undefined,
        as: self ? 'self' : 'admin',
      });
      if (self) admin.changed(req.newPassword);
      return { method: `${self ? 'self change (admin account)' : 'admin reset'}: ${METHOD_NAMES[method]}` };
    }
    const current = currentPasswordForSelfChange(req);
    const session = await this.#bind(dn, current, 'currentPassword', `binding as ${dn}`);
    try {
      const method = await this.#method(session);
      await this.#write(session, method, { dn, newPassword: req.newPassword, oldPassword: current, as: 'self' });
      return { method: `self change: ${METHOD_NAMES[method]}` };
    } finally {
      await session.close();
    }
  }

  async verify(req: VerifyRequest): Promise<VerifyResult> {
    this.#checkAccount(req.account.username);
    if (req.password.length === 0) return { valid: false, detail: 'an empty password never authenticates (it would be an unauthenticated bind)' };
    const valid = await tryBind(this.#endpoint, req.account.username, req.password, this.#options);
    return valid ? { valid: true } : { valid: false, detail: 'the server refused the bind (invalid credentials)' };
  }

  /**
   * When the directory says the password was last set, read by the admin login (undefined without an
   * admin, or when the entry holds no such time): `pwdLastSet` on Entra ID, else `pwdChangedTime`
   * (OpenLDAP's ppolicy, Oracle Internet Directory and eDirectory keep it where a password policy applies).
   */
  async passwordLastSet(acct: Account): Promise<Date | undefined> {
    if (!this.#admin) return undefined;
    this.#checkAccount(acct.username);
    const session = await this.#admin.session();
    const attribute = this.ctx.resource.serverType === 'entra-id' ? 'pwdLastSet' : 'pwdChangedTime';
    let raw: unknown;
    try {
      const { searchEntries } = await session.client.search(acct.username, { scope: 'base', filter: '(objectClass=*)', attributes: [attribute] });
      raw = searchEntries[0]?.[attribute];
    } catch (e) {
      throw classifyLdapError(e, { operation: `reading ${attribute} of ${JSON.stringify(acct.username)}`, sent: false });
    }
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined || value === '') return undefined;
    const text = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    return attribute === 'pwdLastSet' ? fromFileTime(text) : fromGeneralizedTime(text);
  }

  /**
   * With the admin's bind: how the password will be changed (the root DSE's Password Modify), and
   * that each account's entry is there for the admin. Whether the directory's ACLs let the admin
   * write the password cannot be read without writing; the change itself will tell.
   */
  async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    if (!this.#admin) return selfChangeFindings(req.accounts);
    const session = await this.#admin.session();
    const findings: PreflightFinding[] = [
      { check: 'admin login', ok: true, detail: `bound as ${JSON.stringify(session.dn)}` },
      { check: 'change method', ok: true, detail: `passwords will be changed with the ${METHOD_NAMES[await this.#method(session)]}` },
    ];
    for (const account of req.accounts) {
      const accountId = account.id;
      try {
        this.#checkAccount(account.username);
        await session.client.search(account.username, { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'] });
        findings.push({ accountId, check: 'account exists', ok: true, detail: `the admin sees the entry ${JSON.stringify(account.username)}` });
      } catch (e) {
        if (e instanceof InvalidConfigurationError) findings.push({ accountId, check: 'account name', ok: false, detail: e.message });
        else if (ldapResultCode(e) === LDAP_RESULT.noSuchObject) findings.push({ accountId, check: 'account exists', ok: false, detail: `the admin sees no entry ${JSON.stringify(account.username)} (noSuchObject); a reset of it would fail` });
        else throw classifyLdapError(e, { operation: `looking up ${JSON.stringify(account.username)}`, sent: false });
      }
    }
    return findings;
  }

  async close(): Promise<void> {
    await this.#admin?.close();
  }

  /** Refuses, before anything is sent, a DN that is malformed or outside baseDn. */
  #checkAccount(dn: string): void {
    const problem = dnProblem(dn);
    if (problem) throw new InvalidConfigurationError('account.username', `must be a distinguished name (RFC 4514): ${problem}; nothing was sent`);
    const base = this.ctx.resource.baseDn;
    if (base !== undefined && !isDnUnder(dn, base)) {
      throw new InvalidConfigurationError('account.username', `${JSON.stringify(dn)} is not under the resource's baseDn ${JSON.stringify(base)}; nothing was sent`);
    }
  }

  async #bind(dn: string, password: Secret, field: string, what: string): Promise<LdapSession> {
    if (password.length === 0) throw new InvalidConfigurationError(field, 'is empty: an LDAP simple bind with an empty password is an unauthenticated bind; nothing was sent');
    const client = await openLdap(this.#endpoint, this.#options);
    try {
      await client.bind(dn, password.reveal());
    } catch (e) {
      await closeLdap(client, this.#options);
      throw classifyLdapError(e, { operation: what, sent: false });
    }
    return new LdapSession(client, dn, this.#options);
  }

  async #method(session: LdapSession): Promise<Method> {
    const r = this.ctx.resource;
    if (r.serverType === 'entra-id') return 'unicodePwd';
    if (r.passwordChange === 'extended-operation') return 'extended-operation';
    if (r.passwordChange === 'replace') return 'userPassword';
    this.#extensions ??= this.#readExtensions(session);
    try {
      return (await this.#extensions).has(PASSWORD_MODIFY_OID) ? 'extended-operation' : 'userPassword';
    } catch (e) {
      this.#extensions = undefined;
      throw e;
    }
  }

  async #readExtensions(session: LdapSession): Promise<ReadonlySet<string>> {
    try {
      const { searchEntries } = await session.client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['supportedExtension'] });
      const raw = searchEntries[0]?.supportedExtension;
      const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
      const set = new Set(values.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v)));
      this.ctx.log.debug('ldap: root DSE read', { host: this.#endpoint.host, passwordModify: set.has(PASSWORD_MODIFY_OID) });
      return set;
    } catch (e) {
      throw classifyLdapError(e, { operation: 'reading the root DSE (supportedExtension)', sent: false });
    }
  }

  async #write(session: LdapSession, method: Method, w: { dn: string; newPassword: Secret; oldPassword: Secret | undefined; as: 'admin' | 'self' }): Promise<void> {
    const who = JSON.stringify(w.dn);
    const r = this.ctx.resource;
    let changes: Change[] | undefined;
    let exopValue: Buffer | undefined;
    if (method === 'extended-operation') {
      exopValue = passwordModifyValue({ userIdentity: w.dn, oldPassword: w.as === 'self' ? w.oldPassword : undefined, newPassword: w.newPassword });
    } else if (method === 'unicodePwd') {
      changes =
        w.as === 'self' && w.oldPassword !== undefined && !this.#admin
          ? [this.#change('delete', 'unicodePwd', unicodePwdValue(w.oldPassword)), this.#change('add', 'unicodePwd', unicodePwdValue(w.newPassword))]
          : [this.#change('replace', 'unicodePwd', unicodePwdValue(w.newPassword))];
    } else if (r.serverType === 'openldap') {
      // slapd stores a userPassword modify as given unless ppolicy hashes it: we send a salted hash.
      changes = [this.#change('replace', 'userPassword', Buffer.from(sshaUserPassword(w.newPassword), 'utf8'))];
    } else {
      await this.#refuseIfStoredInClear(session, w.dn);
      changes =
        w.as === 'self' && w.oldPassword !== undefined && !this.#admin
          ? [this.#change('delete', 'userPassword', Buffer.from(w.oldPassword.reveal(), 'utf8')), this.#change('add', 'userPassword', Buffer.from(w.newPassword.reveal(), 'utf8'))]
          : [this.#change('replace', 'userPassword', Buffer.from(w.newPassword.reveal(), 'utf8'))];
    }
    if (session.broken) throw new TargetUnchangedError(`changing the password of ${who}: the connection was lost before the change was sent; nothing was changed`);
    try {
      if (exopValue !== undefined) await session.client.exop(PASSWORD_MODIFY_OID, exopValue);
      else await session.client.modify(w.dn, changes!);
    } catch (e) {
      throw classifyLdapError(e, { operation: `changing the password of ${who} (${METHOD_NAMES[method]})`, sent: true });
    } finally {
      exopValue?.fill(0);
      for (const c of changes ?? []) for (const v of c.modification.values) if (Buffer.isBuffer(v)) v.fill(0);
    }
  }

  #change(operation: 'add' | 'delete' | 'replace', type: string, value: Buffer): Change {
    return new Change({ operation, modification: new Attribute({ type, values: [value] }) });
  }

  /**
   * The clear-text guard for servers that hash `userPassword` themselves: if the entry's current value
   * is readable and has no storage scheme, this server keeps what it is given, so we refuse. Nothing is
   * sent when the value cannot be read (eDirectory never returns it; OID returns its hash).
   */
  async #refuseIfStoredInClear(session: LdapSession, dn: string): Promise<void> {
    let values: Buffer[];
    try {
      const { searchEntries } = await session.client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['userPassword'], explicitBufferAttributes: ['userPassword'] });
      const raw = searchEntries[0]?.userPassword as Buffer | Buffer[] | undefined;
      values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    } catch (e) {
      throw classifyLdapError(e, { operation: `reading how ${JSON.stringify(dn)} stores its password`, sent: false });
    }
    const clear = values.some((v) => !hasStorageScheme(v));
    for (const v of values) v.fill(0);
    if (clear) {
      throw new InvalidConfigurationError(
        'passwordChange',
        `the server holds the userPassword of ${JSON.stringify(dn)} as given (clear text), so it would store the new one in clear too; refusing. Turn on the server's password hashing or use the Password Modify extended operation; nothing was changed`,
      );
    }
  }
}

/** An LDAP GeneralizedTime (RFC 4517 3.3.13), e.g. "20261128195812Z" or "20261128195812.5+0100"; undefined if malformed. */
export function fromGeneralizedTime(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi = '00', sec = '00', frac, zone] = m;
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  let offsetMin = 0;
  if (zone !== 'Z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    offsetMin = sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(3, 5) || '0'));
  }
  const date = new Date(utc - offsetMin * 60_000);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** An Active Directory FILETIME (100 ns intervals since 1601-01-01 UTC); 0 ("must change at next logon") is undefined. */
export function fromFileTime(text: string): Date | undefined {
  if (!/^\d+$/.test(text.trim())) return undefined;
  const ticks = BigInt(text.trim());
  if (ticks === 0n) return undefined;
  return new Date(Number(ticks / 10_000n - 11_644_473_600_000n));
}

/** LDAP directories: admin reset with an admin DN, or each account's self change. */
export const createLdapAdapter: AdapterFactory<LdapResource> = (ctx) => new LdapAdapter(ctx);
