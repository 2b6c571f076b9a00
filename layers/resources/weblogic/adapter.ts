import { Agent } from 'node:https';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, Credential, PreflightFinding, PreflightRequest, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { call, jsonOf, providerSaid, type ApiAnswer, type CallOptions } from '../cloud/https.js';
import { assertChangeInput } from '../sql-common.js';
import { weblogicDefinition, type WeblogicResource } from './schema.js';

/**
 * Oracle WebLogic Server 12.2.1+ through the Administration Server's RESTful management API
 * ("RESTful Management Services for Oracle WebLogic Server 12.2.1", its "Send Requests" and "Status
 * Codes" pages; "Add Users" for how a security provider's operation is invoked), over cloud/https.ts
 * `call` with a node:https agent of the resource's CA:
 *
 * - Every request carries HTTP Basic credentials (the API has no token); the admin's are sent over
 *   TLS only, so `ssl: false` is refused before anything is sent.
 * - Once per adapter: `GET .../serverConfig/securityConfiguration/realms/{realm}/authenticationProviders/{provider}`
 *   as the admin, which proves the admin's password (401: AuthenticationError) and that the
 *   realm and provider exist (404: the field named), before any password is sent.
 * - The change: `POST .../authenticationProviders/{provider}/resetUserPassword` with
 *   `{"userName", "newPassword"}` (UserPasswordEditorMBean: "used by an administrator"), or
 *   `changeUserPassword` with `{"userName", "oldPassword", "newPassword"}` when the account is the
 *   admin itself ("used by a user to change his or her password"), the admin's current password as
 *   the old one; later requests then authenticate with the new one. POSTs carry `X-Requested-By`,
 *   without which WebLogic's CSRF filter answers 400.
 * - Refusals: 400 with WebLogic's error body (`{"title": "FAILURE", "detail": ...}`) is the
 *   provider's InvalidParameterException (a password its rules refuse, a wrong old password):
 *   unchanged, WebLogic's detail kept. 403 is the admin outside the Admin role (the Administrators
 *   group). 404 is an unknown user. A connection lost after the request left is OutcomeUnknownError
 *   (`call`); setting the same password again is harmless, so the engine's reconcile may repeat it.
 * - Verification: a fresh `GET .../serverRuntime` as the user: 200 is the password accepted, 401
 *   refused. A 403 (the user authenticated but is in no management role, which the management
 *   application requires) neither proves nor refuses it, and says so.
 */

const MANAGEMENT = '/management/weblogic/latest';

/** The `detail` of WebLogic's error body, or of the first of its `wls:errorsDetails`. */
export function weblogicDetail(answer: ApiAnswer): string | undefined {
  const body = jsonOf<{ detail?: unknown; 'wls:errorsDetails'?: { detail?: unknown }[] }>(answer);
  if (!body || typeof body !== 'object') return undefined;
  if (typeof body.detail === 'string') return body.detail;
  const first = Array.isArray(body['wls:errorsDetails']) ? body['wls:errorsDetails'][0] : undefined;
  return typeof first?.detail === 'string' ? first.detail : undefined;
}

const said = (answer: ApiAnswer) => weblogicDetail(answer) ?? providerSaid(answer.text);

class WeblogicAdapter implements TargetAdapter {
  readonly type = 'weblogic' as const;
  readonly verification = 'login' as const;
  readonly #r: WeblogicResource;
  readonly #admin: Credential;
  /** The admin's password now (the new one once the admin account itself was changed). */
  #adminPassword: Secret;
  readonly #agent: Agent;
  readonly #base: string;
  readonly #provider: string;
  #checked: Promise<void> | undefined;

  constructor(private readonly ctx: AdapterContext<WeblogicResource>) {
    const r = ctx.resource;
    if (!r.ssl) {
      throw new InvalidConfigurationError('ssl', 'is false: the WebLogic REST API authenticates every request with HTTP Basic, so the admin\'s password and the new one would cross the network in clear; enable the SSL listen port (7002 by default), set ssl to true and give its CA in caCertificate; nothing was sent');
    }
    const admin = ctx.credentials.admin;
    if (!admin?.password) throw new InvalidConfigurationError('adminAccount', `names ${r.adminAccount}, whose password is not available to authenticate with; nothing was sent`);
    this.#r = r;
    this.#admin = admin;
    this.#adminPassword = admin.password;
    // One keep-alive connection serves the group; the CA given replaces the trust store.
    this.#agent = new Agent({ keepAlive: true, maxSockets: 1, ...(r.caCertificate ? { ca: r.caCertificate } : {}) });
    const host = r.host.includes(':') && !r.host.startsWith('[') ? `[${r.host}]` : r.host;
    this.#base = `https://${host}:${r.port}${MANAGEMENT}`;
    this.#provider = `/serverConfig/securityConfiguration/realms/${encodeURIComponent(r.realm)}/authenticationProviders/${encodeURIComponent(r.authenticationProvider)}`;
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    assertChangeInput(this.ctx, weblogicDefinition.username, req);
    await this.#check();
    const self = this.#isAdmin(req.account.username);
    const newPassword = req.newPassword.reveal();
    if (self) {
      const old = this.#adminPassword.reveal();
      await this.#operation('changeUserPassword', { userName: req.account.username, oldPassword: old, newPassword }, [old, newPassword]);
      this.#adminPassword = req.newPassword;
      return { method: 'self change (admin account): changeUserPassword' };
    }
    await this.#operation('resetUserPassword', { userName: req.account.username, newPassword }, [newPassword]);
    return { method: 'admin reset: resetUserPassword' };
  }

  async verify(req: VerifyRequest): Promise<VerifyResult> {
    const name = weblogicDefinition.username.safeParse(req.account.username);
    if (!name.success) throw new InvalidConfigurationError('account.username', name.error.issues[0]?.message ?? 'is not a WebLogic user name');
    if (req.password.length === 0) return { valid: false, detail: 'an empty password never authenticates' };
    const password = req.password.reveal();
    const answer = await this.#call({
      method: 'GET',
      url: `${this.#base}/serverRuntime?fields=name&links=none`,
      what: `WebLogic GET ${MANAGEMENT}/serverRuntime (as the user)`,
      effect: 'read',
      headers: { authorization: basic(req.account.username, password) },
      secrets: [password],
      answered: [401, 403],
    });
    if (answer.status === 401) return { valid: false, detail: 'WebLogic refused the credentials (HTTP 401)' };
    if (answer.status === 403) {
      throw new TargetUnchangedError(`WebLogic denied ${req.account.username} the management API (HTTP 403: ${said(answer)}): the user is in none of the Administrators, Deployers, Operators or Monitors groups the REST API admits, so its password can be neither proved nor refused this way; add it to Monitors to make it verifiable`);
    }
    return { valid: true };
  }

  /** The admin's authentication and the realm and provider, as one read; whether the admin may reset others only the change can tell. */
  async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    await this.#check();
    const r = this.#r;
    const findings: PreflightFinding[] = [
      { check: 'admin login', ok: true, detail: `WebLogic authenticated ${JSON.stringify(this.#admin.username)} and showed the provider ${r.authenticationProvider} of realm ${r.realm}` },
    ];
    for (const account of req.accounts) {
      const name = weblogicDefinition.username.safeParse(account.username);
      findings.push(
        name.success
          ? { accountId: account.id, check: 'account name', ok: true, detail: `${this.#isAdmin(account.username) ? 'the admin itself: changeUserPassword with its current password' : 'resetUserPassword by the admin'}; the Admin role (Administrators group) is needed for others, which only the reset itself shows` }
          : { accountId: account.id, check: 'account name', ok: false, detail: name.error.issues[0]?.message ?? 'is not a WebLogic user name' },
      );
    }
    return findings;
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }

  #isAdmin(username: string): boolean {
    // The embedded LDAP server compares user names without regard to case.
    return username.toLowerCase() === this.#admin.username.toLowerCase();
  }

  #call(options: Omit<CallOptions, 'timeoutMs' | 'agent' | 'caField'>): Promise<ApiAnswer> {
    return call({ timeoutMs: this.ctx.timeoutMs, agent: this.#agent, caField: 'caCertificate', ...options });
  }

  /** Once per adapter (again after a failure): the admin authenticates and the provider exists. */
  #check(): Promise<void> {
    this.#checked ??= this.#readProvider().catch((e: unknown) => {
      this.#checked = undefined;
      throw e;
    });
    return this.#checked;
  }

  async #readProvider(): Promise<void> {
    const r = this.#r;
    const password = this.#adminPassword.reveal();
    const read = (path: string) =>
      this.#call({
        method: 'GET',
        url: `${this.#base}${path}?fields=name&links=none`,
        what: `WebLogic GET ${MANAGEMENT}${path.replace(/\/authenticationProviders\/[^/]+/, '/authenticationProviders/{provider}')} (as the admin ${this.#admin.username})`,
        effect: 'read',
        headers: { authorization: basic(this.#admin.username, password) },
        secrets: [password],
        answered: [401, 403, 404],
      });
    const answer = await read(this.#provider);
    if (answer.status === 401) throw new AuthenticationError(`WebLogic refused the password of the admin ${this.#admin.username} (adminAccount) (HTTP 401); nothing was changed`);
    if (answer.status === 403) throw new InvalidConfigurationError('adminAccount', `names ${this.#admin.username}, whom WebLogic denies the security configuration (HTTP 403: ${said(answer)}); it must be in the Administrators group; nothing was changed`);
    if (answer.status === 404) {
      const realm = await read(`/serverConfig/securityConfiguration/realms/${encodeURIComponent(r.realm)}`);
      if (realm.status === 404) throw new InvalidConfigurationError('realm', `names ${r.realm}, a security realm WebLogic does not have (HTTP 404); nothing was changed`);
      throw new InvalidConfigurationError('authenticationProvider', `names ${r.authenticationProvider}, which realm ${r.realm} does not have (HTTP 404); nothing was changed`);
    }
  }

  /** One UserPasswordEditorMBean operation as the admin; throws unless WebLogic answered 2xx. */
  async #operation(name: 'resetUserPassword' | 'changeUserPassword', body: Record<string, string>, secrets: string[]): Promise<void> {
    const what = `WebLogic POST ${MANAGEMENT}/serverConfig/securityConfiguration/realms/{realm}/authenticationProviders/{provider}/${name}`;
    const answer = await this.#call({
      method: 'POST',
      url: `${this.#base}${this.#provider}/${name}`,
      what,
      effect: 'change',
      headers: { authorization: basic(this.#admin.username, this.#adminPassword.reveal()), 'x-requested-by': 'rpr' },
      json: body,
      secrets,
      // WebLogic answers these before it acts: the provider refused, or the caller may not.
      answered: [401, 403, 404],
      refusal: (a) => (a.status === 400 ? `HTTP 400: ${said(a)}; nothing was changed` : undefined),
    });
    if (answer.status === 401) throw new AuthenticationError(`${what}: WebLogic refused the password of the admin ${this.#admin.username} (adminAccount) (HTTP 401); nothing was changed`);
    if (answer.status === 403) {
      throw new InvalidConfigurationError('adminAccount', `names ${this.#admin.username}, whom WebLogic denied ${name} (HTTP 403: ${said(answer)}): only the Admin role (the Administrators group) may reset another user's password; nothing was changed`);
    }
    if (answer.status === 404) throw new TargetUnchangedError(`${what}: WebLogic has no such user ${body.userName} in ${this.#r.authenticationProvider} (HTTP 404: ${said(answer)}); nothing was changed`);
  }
}

/** An HTTP Basic Authorization value (RFC 7617), UTF-8 encoded. */
function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export const createWeblogicAdapter: AdapterFactory<WeblogicResource> = (ctx) => new WeblogicAdapter(ctx);
