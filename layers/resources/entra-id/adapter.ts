import { createHash, X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication, LogLevel, ServerError, type Configuration, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, PreflightFinding, PreflightRequest, TargetAdapter, VerifyResult } from '../../engine/adapter.js';
import type { Account } from '../../engine/account.js';
import { AuthenticationError, InvalidConfigurationError, NotSupportedError, OutcomeUnknownError, ResetError, ThrottledError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { assertChangeInput } from '../sql-common.js';
import { call, jsonOf, networkFailure, providerSaid, readWithin, type ApiAnswer, type CallOptions } from '../cloud/https.js';
import { entraIdDefinition, type EntraIdResource } from './schema.js';

/**
 * Microsoft Entra ID through Microsoft Graph, as the application itself (client credentials):
 *
 * - The token: msal-node's ConfidentialClientApplication with the authority
 *   `<authority>/<tenantId>` and that host in `knownAuthorities` (so msal reads the tenant's
 *   OpenID configuration and makes no instance-discovery call), a client secret or a certificate
 *   (PEM private key with its SHA-256 thumbprint). One client per application credential for the
 *   function's life: msal's in-memory cache hands back the token until it is near expiry.
 * - The change: `PATCH /v1.0/users/{id}` with `passwordProfile` (`password`,
 *   `forceChangePasswordNextSignIn`). It is an admin reset, so Entra's password history (which
 *   applies to a user's own change) does not refuse the same password set again: sending the same
 *   PATCH twice is harmless, which is how a cut after sending is settled here.
 * - The proof: `lastPasswordChangeDateTime`, read before and after the change. Graph's 204 alone
 *   is taken only when the read-back shows a newer time; it says a password change happened, not
 *   which password (no sign-in as the user is made), so the type's verification is `none` and the
 *   record says "confirmed by the provider".
 * - Graph's throttling (429, or 503, with Retry-After) is waited out here, a few times within the
 *   call's deadline: a throttled request was not acted on.
 *
 * Graph's own refusals, by their documented codes: 400 `Request_BadRequest` for a password that
 * fails complexity or the banned-password list (unchanged, with Graph's words); 403
 * `Authorization_RequestDenied` when the application lacks `User.ReadWrite.All` or a directory
 * role that may reset this user (User Administrator; Privileged Authentication Administrator for
 * a user who holds an admin role); 404 `Request_ResourceNotFound` for no such user.
 */

const GRAPH = 'Microsoft Graph';
/** How recent a last change must be for the next one to risk the same second of `lastPasswordChangeDateTime`. */
const SAME_SECOND_MS = 1_500;

interface Credential {
  readonly clientSecret?: string;
  readonly clientCertificate?: { readonly privateKey: string; readonly thumbprintSha256: string; readonly x5c?: string };
}

/** The certificate secret: PEM private key with its certificate, or JSON {privateKey, thumbprintSha256}. */
export function certificateCredential(value: string): NonNullable<Credential['clientCertificate']> {
  const field = 'clientCertificateSecretId';
  const text = value.trim();
  if (text.startsWith('{')) {
    let parsed: { privateKey?: unknown; thumbprintSha256?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new InvalidConfigurationError(field, 'the secret is neither PEM nor JSON');
    }
    if (typeof parsed.privateKey !== 'string' || !/-----BEGIN (RSA )?PRIVATE KEY-----/.test(parsed.privateKey)) throw new InvalidConfigurationError(field, 'the JSON secret needs "privateKey", a PEM private key');
    if (typeof parsed.thumbprintSha256 !== 'string' || !/^[0-9A-Fa-f]{64}$/.test(parsed.thumbprintSha256.replace(/:/g, ''))) throw new InvalidConfigurationError(field, 'the JSON secret needs "thumbprintSha256", the certificate\'s SHA-256 thumbprint in hex');
    return { privateKey: parsed.privateKey, thumbprintSha256: parsed.thumbprintSha256.replace(/:/g, '').toUpperCase() };
  }
  const key = /-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+?-----END (RSA )?PRIVATE KEY-----/.exec(text)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
  if (!key || !cert) throw new InvalidConfigurationError(field, 'the secret must hold the PEM private key and the PEM certificate (or JSON with privateKey and thumbprintSha256)');
  let der: Buffer;
  try {
    der = new X509Certificate(cert).raw;
  } catch {
    throw new InvalidConfigurationError(field, 'the certificate in the secret cannot be read');
  }
  return { privateKey: key, thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(), x5c: cert };
}

/**
 * msal's HTTP through Node's fetch (msal's own supported `system.networkClient`): a deadline per
 * call, TLS verified as every call of ours is, and a record of the last failure without an answer
 * and of the last refused OpenID configuration, since msal reports both as the same
 * `endpoints_resolution_error` without its cause.
 */
class MsalNetwork implements INetworkModule {
  lastFailure: { at: number; error: unknown } | undefined;
  lastRefusedDiscovery: { at: number; status: number; body: string } | undefined;
  constructor(private readonly timeoutMs: number) {}

  async #send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method, headers: options?.headers ?? {}, ...(options?.body === undefined ? {} : { body: options.body }), signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' });
      text = await res.text();
    } catch (e) {
      this.lastFailure = { at: Date.now(), error: e };
      throw e;
    }
    if (method === 'GET' && res.status >= 400 && url.includes('/.well-known/openid-configuration')) this.lastRefusedDiscovery = { at: Date.now(), status: res.status, body: text };
    let body: unknown = {};
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      // msal reads a body it cannot parse as empty.
    }
    return { headers: Object.fromEntries(res.headers), body: body as T, status: res.status };
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.#send<T>('GET', url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.#send<T>('POST', url, options);
  }
}

/** msal clients by application and credential, for the function instance's life (msal's cache is per client). */
const CLIENTS = new Map<string, { client: ConfidentialClientApplication; network: MsalNetwork }>();

function clientFor(r: EntraIdResource, credential: Credential, timeoutMs: number): { client: ConfidentialClientApplication; network: MsalNetwork } {
  const key = createHash('sha256').update(JSON.stringify([r.authority, r.tenantId, r.clientId, credential, timeoutMs])).digest('hex');
  let entry = CLIENTS.get(key);
  if (!entry) {
    const network = new MsalNetwork(timeoutMs);
    const config: Configuration = {
      auth: {
        clientId: r.clientId,
        authority: `${r.authority}/${r.tenantId}`,
        knownAuthorities: [new URL(r.authority).host],
        ...(credential.clientSecret !== undefined ? { clientSecret: credential.clientSecret } : { clientCertificate: credential.clientCertificate! }),
      },
      // msal says nothing: our errors say what failed, and no log line can carry a credential.
      system: { networkClient: network, loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined } },
    };
    entry = { client: new ConfidentialClientApplication(config), network };
    CLIENTS.set(key, entry);
  }
  return entry;
}

/** An msal failure, by what it means: the tenant, the client id, the credential, or the network. */
function tokenFailure(e: unknown, r: EntraIdResource, credentialField: string, network: MsalNetwork, since: number): Error {
  const what = 'Entra ID token request (client credentials)';
  if (e instanceof ResetError) return e;
  // No answer at all (refused, silent, TLS): what the network said, not what msal made of it.
  if (network.lastFailure && network.lastFailure.at >= since && !(e instanceof ServerError)) return networkFailure(network.lastFailure.error, what, 'read');
  if (e instanceof ServerError) {
    const said = providerSaid(`${e.errorCode}: ${e.errorMessage.split(/\s+Trace ID:/)[0] ?? ''}`);
    const codes = e.errorMessage;
    if (e.status === 429 || (e.status === 503 && /retry/i.test(codes))) return new ThrottledError(`${what}: Entra ID is throttling (HTTP ${e.status}); nothing was changed`);
    if (/AADSTS90002\b/.test(codes)) return new InvalidConfigurationError('tenantId', `${what}: Entra ID knows no such tenant: ${said}`);
    if (/AADSTS700016\b/.test(codes)) return new InvalidConfigurationError('clientId', `${what}: no such application in the tenant: ${said}`);
    if (/AADSTS(70011|1002012)\b/.test(codes)) return new InvalidConfigurationError('scope', `${what}: ${said}`);
    if (e.errorCode === 'invalid_client' || e.errorCode === 'unauthorized_client' || (e.status !== undefined && e.status >= 400 && e.status < 500)) {
      return new AuthenticationError(`${what}: Entra ID refused the application's credential (${credentialField}): ${said}`);
    }
    return new TargetUnchangedError(`${what}: ${said}; nothing was changed`);
  }
  const code = (e as { errorCode?: unknown }).errorCode;
  // The tenant's OpenID configuration could not be read: a wrong tenant answers 400 there.
  const refused = network.lastRefusedDiscovery;
  if ((code === 'endpoints_resolution_error' || code === 'openid_config_error') && refused && refused.at >= since) {
    const said = (/"error_description"\s*:\s*"([^"]*?)(\s+Trace ID:|")/.exec(refused.body)?.[1] ?? refused.body);
    return new InvalidConfigurationError('tenantId', `${what}: Entra ID refused the tenant's OpenID configuration at ${r.authority}/${r.tenantId} (HTTP ${refused.status}): ${providerSaid(said)}`);
  }
  return networkFailure(e, what, 'read');
}

class EntraIdAdapter implements TargetAdapter {
  readonly type = 'entra-id' as const;
  readonly verification = 'none' as const;
  /**
   * The same PATCH sent again is harmless (an admin reset of the same password: Entra's password
   * history applies to a user's own change), so a reconcile may send the pending password again
   * (TargetAdapter.repeatableChange, as the aws-iam branch adds it).
   */
  readonly repeatableChange = true;
  readonly #ctx: AdapterContext<EntraIdResource>;
  readonly #r: EntraIdResource;
  readonly #graph: string;
  readonly #credentialField: string;
  readonly #credential: Credential;

  constructor(ctx: AdapterContext<EntraIdResource>) {
    this.#ctx = ctx;
    this.#r = ctx.resource;
    this.#graph = `https://${this.#r.host}${this.#r.port === 443 ? '' : `:${this.#r.port}`}/v1.0`;
    if (this.#r.clientSecretSecretId !== undefined) {
      this.#credentialField = 'clientSecretSecretId';
      const secret = ctx.secrets.clientSecret;
      if (!secret) throw new InvalidConfigurationError('clientSecretSecretId', 'the client secret was not loaded');
      this.#credential = { clientSecret: secret.reveal() };
    } else {
      this.#credentialField = 'clientCertificateSecretId';
      const secret = ctx.secrets.clientCertificate;
      if (!secret) throw new InvalidConfigurationError('clientCertificateSecretId', 'the certificate was not loaded');
      this.#credential = { clientCertificate: certificateCredential(secret.reveal()) };
    }
  }

  async #token(): Promise<string> {
    const { client, network } = clientFor(this.#r, this.#credential, this.#ctx.timeoutMs);
    const since = Date.now();
    try {
      const result = await readWithin('Entra ID token request', this.#ctx.timeoutMs, client.acquireTokenByClientCredential({ scopes: [this.#r.scope] }));
      if (!result?.accessToken) throw new AuthenticationError('Entra ID token request: no access token was issued');
      return result.accessToken;
    } catch (e) {
      throw tokenFailure(e, this.#r, this.#credentialField, network, since);
    }
  }

  /** One Graph call with the application's token; Graph's throttling is waited out by `call` (a throttled request was not acted on). */
  async #graphCall(options: Omit<CallOptions, 'headers' | 'timeoutMs' | 'credentialsField'>): Promise<ApiAnswer> {
    const token = await this.#token();
    return call({ ...options, headers: { authorization: `Bearer ${token}` }, timeoutMs: this.#ctx.timeoutMs, credentialsField: this.#credentialField });
  }

  #userUrl(account: Account, query = ''): string {
    return `${this.#graph}/users/${encodeURIComponent(account.username)}${query}`;
  }

  /** The user's `lastPasswordChangeDateTime`, read by the application (a 404 is "no such user", unchanged). */
  async #lastChange(account: Account, secrets: readonly string[] = []): Promise<string | undefined> {
    const answer = await this.#graphCall({ method: 'GET', url: this.#userUrl(account, '?$select=id,lastPasswordChangeDateTime'), what: `${GRAPH} GET /users/{id}`, effect: 'read', secrets });
    const user = jsonOf<{ lastPasswordChangeDateTime?: unknown }>(answer);
    return typeof user?.lastPasswordChangeDateTime === 'string' ? user.lastPasswordChangeDateTime : undefined;
  }

  async #patch(account: Account, password: Secret): Promise<void> {
    await this.#graphCall({
      method: 'PATCH',
      url: this.#userUrl(account),
      what: `${GRAPH} PATCH /users/{id} (passwordProfile)`,
      effect: 'change',
      json: { passwordProfile: { password: password.reveal(), forceChangePasswordNextSignIn: this.#r.forceChangePasswordNextSignIn } },
      secrets: [password.reveal()],
      refusal: (a) => graphRefusal(a),
    }).catch((e: unknown) => {
      if (e instanceof AuthenticationError && /HTTP 403/.test(e.message)) {
        throw new AuthenticationError(
          `${e.message}: the application needs the User.ReadWrite.All application permission (admin consent) and a directory role that may reset this user: User Administrator, or Privileged Authentication Administrator for a user who holds an admin role`,
        );
      }
      throw e;
    });
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    assertChangeInput(this.#ctx, entraIdDefinition.username, req);
    const secrets = [req.newPassword.reveal()];
    const before = await this.#lastChange(req.account, secrets);
    // Graph keeps the time to the second: a change in the same second as the last one would not
    // show in the read-back, so one that recent is let age past its second first.
    if (before !== undefined && Math.abs(Date.now() - Date.parse(before)) < SAME_SECOND_MS) await new Promise((ok) => setTimeout(ok, SAME_SECOND_MS));
    try {
      await this.#patch(req.account, req.newPassword);
    } catch (e) {
      if (!(e instanceof OutcomeUnknownError)) throw e;
      // The PATCH may or may not have reached Graph. The read-back says whether a change landed;
      // if none did, the same PATCH again is harmless (an admin reset with the same password).
      const landed = await this.#lastChange(req.account, secrets).catch(() => undefined);
      if (landed === undefined || landed === before) {
        this.#ctx.log.warn('Graph PATCH outcome unknown and no change is seen; sending the same password again', { errorClass: e.name });
        await this.#patch(req.account, req.newPassword);
      }
    }
    const after = await this.#lastChange(req.account, secrets).catch((e: unknown) => {
      throw new OutcomeUnknownError(`${GRAPH}: the change was accepted, but lastPasswordChangeDateTime could not be read back (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    });
    if (after === undefined || after === before) {
      throw new OutcomeUnknownError(`${GRAPH} accepted the change, yet the user's lastPasswordChangeDateTime did not move (${after ?? 'unset'}); which password it holds is unknown`);
    }
    return { method: `admin reset through ${GRAPH} (confirmed by the provider: lastPasswordChangeDateTime ${after})` };
  }

  verify(): Promise<VerifyResult> {
    return Promise.reject(new NotSupportedError('type', 'entra-id cannot check a password without signing in as the user (verification: none)'));
  }

  async passwordLastSet(account: Account): Promise<Date | undefined> {
    const at = await this.#lastChange(account);
    return at === undefined ? undefined : new Date(at);
  }

  async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    await this.#token();
    const findings: PreflightFinding[] = [{ check: 'application token', ok: true, detail: `Entra ID issued a token to application ${this.#r.clientId} in tenant ${this.#r.tenantId}` }];
    for (const account of req.accounts) {
      try {
        await this.#lastChange(account);
        findings.push({ accountId: account.id, check: 'user', ok: true, detail: 'found in the directory; whether the application may reset it (its directory role) shows only on a change' });
      } catch (e) {
        if (!(e instanceof TargetUnchangedError || e instanceof AuthenticationError)) throw e;
        findings.push({ accountId: account.id, check: 'user', ok: false, detail: e.message });
      }
    }
    return findings;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Graph's refusal of a password (400 `Request_BadRequest` and its message), for "unchanged". */
function graphRefusal(answer: ApiAnswer): string | undefined {
  if (answer.status !== 400) return undefined;
  const error = jsonOf<{ error?: { code?: unknown; message?: unknown } }>(answer)?.error;
  if (typeof error?.code !== 'string') return undefined;
  const message = typeof error.message === 'string' ? error.message : '';
  const hint = /complexity|banned|password/i.test(message)
    ? " (Entra ID's rules: 8 to 256 characters, three of lower case, upper case, digits and symbols, and not close to a term on the banned password list)"
    : '';
  return `${error.code}: ${providerSaid(message)}${hint}`;
}

export const createEntraIdAdapter: AdapterFactory<EntraIdResource> = (ctx) => new EntraIdAdapter(ctx);
