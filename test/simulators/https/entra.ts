/**
 * Microsoft Entra ID and Microsoft Graph, as the entra-id type meets them: the tenant's OpenID
 * configuration, its v2.0 token endpoint (client credentials with a client secret or a certificate
 * assertion; the resource owner password grant, which the tests use as an independent sign-in as
 * the user), and Graph's `GET` / `PATCH /v1.0/users/{id}`. Written from Microsoft's references:
 *
 * - OpenID configuration and v2.0 token endpoint, client credentials:
 *   https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 *   (`grant_type=client_credentials`, `scope=https://graph.microsoft.com/.default`, `client_secret`
 *   or `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`; answer
 *   `{token_type, expires_in, ext_expires_in, access_token}`; errors `{error, error_description,
 *   error_codes, timestamp, trace_id, correlation_id}`).
 * - Certificate credentials (the assertion: `aud` the token endpoint, `iss` = `sub` = client id,
 *   `exp`, `nbf`, `jti`, header `x5t#S256` or `x5t`, RS256 or PS256):
 *   https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials
 * - AADSTS codes: https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
 *   (90002 tenant not found, 700016 application not found in the directory, 7000215 invalid
 *   client secret, 7000222 expired client secret, 700027 invalid assertion signature, 70011 /
 *   1002012 invalid scope, 50126 invalid user name or password).
 * - Resource owner password credentials: https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth-ropc
 * - Update user, passwordProfile (application access needs `User.ReadWrite.All` and at least the
 *   User Administrator role; a user holding an admin role needs Privileged Authentication
 *   Administrator): https://learn.microsoft.com/en-us/graph/api/user-update?view=graph-rest-1.0
 *   and https://learn.microsoft.com/en-us/graph/api/resources/passwordprofile ; denied:
 *   403 `Authorization_RequestDenied` "Insufficient privileges to complete the operation."
 *   (https://learn.microsoft.com/en-us/troubleshoot/entra/entra-id/app-integration/authorization-request-denied-graph-api).
 * - `lastPasswordChangeDateTime` (returned on `$select`, needs User.Read.All or more):
 *   https://learn.microsoft.com/en-us/graph/api/resources/user?view=graph-rest-1.0
 * - Password rules of cloud accounts (8 to 256 characters, A–Z a–z 0–9, the listed symbols and the
 *   space, no Unicode, three of the four classes):
 *   https://learn.microsoft.com/en-us/entra/identity/authentication/concept-sspr-policy ; the banned
 *   password list (normalisation by lower case and common substitutions, fuzzy match at edit
 *   distance one, one point per banned term found and per remaining character, five points needed):
 *   https://learn.microsoft.com/en-us/entra/identity/authentication/concept-password-ban-bad .
 *   Graph answers a password that fails either with 400 `Request_BadRequest` "The specified
 *   password does not comply with password complexity requirements. Please provide a different
 *   password." (the message seen in Graph's issue trackers, e.g. microsoftgraph/msgraph-sdk-java-auth#36).
 * - Errors: https://learn.microsoft.com/en-us/graph/errors (`{error: {code, message, innerError}}`;
 *   401 `InvalidAuthenticationToken`, 404 `Request_ResourceNotFound`).
 * - Throttling: https://learn.microsoft.com/en-us/graph/throttling and
 *   https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits :
 *   per app and tenant, resource units in a 10-second window (a user read costs 1, a write 3);
 *   beyond it 429 `TooManyRequests` with `Retry-After` in seconds. `rateLimit` sets the budget.
 *
 * Simplified, and said so: tokens are HS256 JWTs signed by the simulator (Graph checks them as
 * Entra's signature would be checked: signature, audience, tenant, expiry); the fuzzy banned-list
 * match compares each window of a banned term's length at Hamming distance one (no insertions or
 * deletions); the token endpoint itself is not throttled.
 */
import { createHash, createHmac, createPublicKey, randomUUID, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';
import { startHttpsSimulator, type HttpsSimulator, type SimRequest, type SimResponse } from './server.js';

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const GRAPH_AUDIENCE = 'https://graph.microsoft.com';

/** Entra's roles the simulator knows, by what they may reset. */
export type EntraRole = 'User Administrator' | 'Privileged Authentication Administrator';

export interface EntraApp {
  readonly clientId: string;
  /** Client secrets with their expiry (unset: valid). */
  readonly secrets?: readonly { readonly value: string; readonly expires?: Date }[];
  /** Certificates (PEM) whose private key may sign an assertion. */
  readonly certificates?: readonly string[];
  /** Graph application permissions granted with admin consent (the token's `roles`). */
  readonly permissions: readonly string[];
  /** Directory roles assigned to the app's service principal. */
  readonly directoryRoles: readonly EntraRole[];
}

export interface EntraUser {
  readonly id: string;
  userPrincipalName: string;
  password: string;
  /** Holds an admin role itself: only a Privileged Authentication Administrator resets it. */
  isAdmin: boolean;
  lastPasswordChangeDateTime: string;
  forceChangePasswordNextSignIn: boolean;
}

export interface EntraSimulatorOptions {
  readonly tenantId: string;
  /** The tenant's verified domain (also accepted in the authority path). */
  readonly domain: string;
  readonly apps: readonly EntraApp[];
  /** Terms of the banned password list (Microsoft's global list and the tenant's custom one). */
  readonly banned?: readonly string[];
  /** Graph's budget per app and tenant: `resourceUnits` in `windowMs` (a read costs 1, a write 3). */
  readonly rateLimit?: { readonly resourceUnits: number; readonly windowMs: number };
}

export interface EntraSimulator {
  readonly https: HttpsSimulator;
  readonly origin: string;
  readonly tenantId: string;
  readonly users: Map<string, EntraUser>;
  addUser(userPrincipalName: string, password: string, options?: { isAdmin?: boolean }): EntraUser;
  /** The user by id or user principal name (case-insensitive), as Graph looks it up. */
  find(idOrUpn: string): EntraUser | undefined;
  /** Tokens issued per client id (client credentials only). */
  tokensIssued(clientId: string): number;
  /** Graph requests answered 429 by the rate limit. */
  graphThrottled(): number;
  stop(): Promise<void>;
}

const COMPLEXITY = 'The specified password does not comply with password complexity requirements. Please provide a different password.';
/** Symbols Entra lists as allowed, and the space. */
const SYMBOLS = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<> ";

/** Entra's rules for a cloud account's password: length, characters, three of four classes, then the banned list. */
export function entraPasswordProblem(password: string, banned: readonly string[]): string | undefined {
  if (password.length < 8 || password.length > 256) return 'length';
  if ([...password].some((c) => !/[A-Za-z0-9]/.test(c) && !SYMBOLS.includes(c))) return 'characters';
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (classes < 3) return 'complexity';
  if (bannedScore(password, banned) < 5) return 'banned';
  return undefined;
}

/** The substitutions Entra's normalisation documents. */
const SUBSTITUTIONS: Record<string, string> = { '0': 'o', '1': 'l', $: 's', '@': 'a' };

/** Points the banned-list evaluation gives a password: one per banned term found, one per remaining character. */
export function bannedScore(password: string, banned: readonly string[]): number {
  const normal = [...password.toLowerCase()].map((c) => SUBSTITUTIONS[c] ?? c).join('');
  const taken = new Array<boolean>(normal.length).fill(false);
  let points = 0;
  for (const term of banned.map((t) => t.toLowerCase())) {
    for (let i = 0; i + term.length <= normal.length; i++) {
      if (taken.slice(i, i + term.length).some(Boolean)) continue;
      let differences = 0;
      for (let j = 0; j < term.length && differences <= 1; j++) if (normal[i + j] !== term[j]) differences++;
      if (differences <= 1) {
        points++;
        for (let j = i; j < i + term.length; j++) taken[j] = true;
      }
    }
  }
  return points + taken.filter((t) => !t).length;
}

function graphError(status: number, code: string, message: string, headers?: Record<string, string>): SimResponse {
  const date = new Date().toISOString().slice(0, 19);
  const id = randomUUID();
  return { status, ...(headers ? { headers } : {}), json: { error: { code, message, innerError: { date, 'request-id': id, 'client-request-id': id } } } };
}

function stsError(status: number, error: string, code: number, description: string): SimResponse {
  const trace = randomUUID();
  const correlation = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z';
  return {
    status,
    json: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: trace,
      correlation_id: correlation,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function decodeJwt(jwt: string): { header: Record<string, unknown>; claims: Record<string, unknown>; signed: string; signature: Buffer } | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>,
      claims: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>,
      signed: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

interface CertificateKey {
  readonly key: KeyObject;
  readonly x5t: string;
  readonly x5tS256: string;
}

function certificateKey(pem: string): CertificateKey {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return { key: createPublicKey(pem), x5t: createHash('sha1').update(der).digest('base64url'), x5tS256: createHash('sha256').update(der).digest('base64url') };
}

export async function startEntraSimulator(options: EntraSimulatorOptions): Promise<EntraSimulator> {
  const signingKey = randomUUID();
  const users = new Map<string, EntraUser>();
  const issued = new Map<string, number>();
  const spent: { at: number; units: number; app: string }[] = [];
  const usedAssertions = new Set<string>();
  let graphThrottled = 0;
  const apps = new Map(options.apps.map((a) => [a.clientId.toLowerCase(), { app: a, keys: (a.certificates ?? []).map(certificateKey) }]));
  const tenants = new Set([options.tenantId.toLowerCase(), options.domain.toLowerCase()]);
  let origin = '';

  const find = (idOrUpn: string): EntraUser | undefined => {
    const key = idOrUpn.toLowerCase();
    return users.get(key) ?? [...users.values()].find((u) => u.userPrincipalName.toLowerCase() === key);
  };

  const sign = (claims: Record<string, unknown>) => {
    const head = `${b64({ typ: 'JWT', alg: 'HS256' })}.${b64(claims)}`;
    return `${head}.${createHmac('sha256', signingKey).update(head).digest('base64url')}`;
  };

  /** The origin the client addressed (its Host header), as Entra names its own endpoints by the host it is reached at. */
  const addressed = (req: SimRequest) => (req.headers.host ? `https://${req.headers.host}` : origin);
  const tokenEndpoint = (req: SimRequest) => `${addressed(req)}/${options.tenantId}/oauth2/v2.0/token`;

  function openidConfiguration(tenant: string, req: SimRequest): SimResponse {
    const origin = addressed(req);
    if (!tenants.has(tenant.toLowerCase())) {
      return stsError(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    const base = `${origin}/${options.tenantId}`;
    return {
      status: 200,
      json: {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${origin}/${options.tenantId}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${origin}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid'],
        kerberos_endpoint: `${base}/kerberos`,
        tenant_region_scope: 'EU',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      },
    };
  }

  /** Checks the client's credential: undefined when it is good, else the STS's error. */
  function clientAuthenticated(entry: { app: EntraApp; keys: CertificateKey[] }, form: URLSearchParams, req: SimRequest): SimResponse | undefined {
    const { app } = entry;
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      const match = (app.secrets ?? []).find((s) => s.value.length === secret.length && timingSafeEqual(Buffer.from(s.value), Buffer.from(secret)));
      if (!match) return stsError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`);
      if (match.expires && match.expires.getTime() <= Date.now()) return stsError(401, 'invalid_client', 7000222, `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app.`);
      return undefined;
    }
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return stsError(400, 'invalid_request', 900023, "The provided value for the input parameter 'client_assertion_type' is not valid.");
      const jwt = decodeJwt(assertion);
      if (!jwt) return stsError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
      const key = entry.keys.find((k) => k.x5tS256 === jwt.header['x5t#S256'] || k.x5t === jwt.header.x5t);
      const alg = jwt.header.alg;
      const good =
        key !== undefined &&
        (alg === 'RS256' || alg === 'PS256') &&
        verifySignature('sha256', Buffer.from(jwt.signed), alg === 'PS256' ? { key: key.key, padding: 6, saltLength: 32 } : key.key, jwt.signature);
      if (!good) return stsError(401, 'invalid_client', 700027, 'Client assertion contains an invalid signature. [Reason - The key was not found.]');
      const now = Date.now() / 1000;
      const { aud, iss, sub, exp, nbf, jti } = jwt.claims;
      if (aud !== tokenEndpoint(req)) return stsError(401, 'invalid_client', 700212, `No matching federated identity record found for presented assertion audience '${String(aud)}'.`);
      if (iss !== app.clientId || sub !== app.clientId) return stsError(401, 'invalid_client', 700023, "Client assertion audience claim does not match Realm issuer.");
      if (typeof exp !== 'number' || exp < now) return stsError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
      if (typeof nbf === 'number' && nbf > now + 300) return stsError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
      if (typeof jti !== 'string' || usedAssertions.has(jti)) return stsError(401, 'invalid_client', 700025, 'Client assertion has already been used (jti replay).');
      usedAssertions.add(jti);
      return undefined;
    }
    return stsError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }

  function token(tenant: string, req: SimRequest): SimResponse {
    if (req.method !== 'POST') return stsError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
    if (!tenants.has(tenant.toLowerCase())) return stsError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    const form = req.form();
    const clientId = form.get('client_id') ?? '';
    const entry = apps.get(clientId.toLowerCase());
    if (!entry) return stsError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${options.domain}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
    const grant = form.get('grant_type');
    const now = Math.floor(Date.now() / 1000);
    if (grant === 'client_credentials') {
      const refused = clientAuthenticated(entry, form, req);
      if (refused) return refused;
      const scope = form.get('scope') ?? '';
      if (!scope.split(' ').includes(GRAPH_SCOPE)) {
        return stsError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
      }
      issued.set(entry.app.clientId, (issued.get(entry.app.clientId) ?? 0) + 1);
      const access = sign({ aud: GRAPH_AUDIENCE, iss: `https://sts.windows.net/${options.tenantId}/`, iat: now, nbf: now, exp: now + 3599, appid: entry.app.clientId, tid: options.tenantId, roles: entry.app.permissions, idtyp: 'app' });
      return { status: 200, json: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: access } };
    }
    if (grant === 'password') {
      const user = find(form.get('username') ?? '');
      if (!user || user.password !== form.get('password')) return stsError(400, 'invalid_grant', 50126, 'Error validating credentials due to invalid username or password.');
      const access = sign({ aud: GRAPH_AUDIENCE, iat: now, nbf: now, exp: now + 3599, oid: user.id, upn: user.userPrincipalName, tid: options.tenantId, idtyp: 'user' });
      return { status: 200, json: { token_type: 'Bearer', scope: form.get('scope') ?? '', expires_in: 3599, ext_expires_in: 3599, access_token: access } };
    }
    return stsError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant ?? ''}'.`);
  }

  /** The app token a Graph request carries, checked as Graph does; or Graph's 401. */
  function caller(req: SimRequest): { app: EntraApp } | SimResponse {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const jwt = decodeJwt(auth.slice(7));
    const expected = jwt && createHmac('sha256', signingKey).update(jwt.signed).digest();
    if (!jwt || !expected || expected.length !== jwt.signature.length || !timingSafeEqual(expected, jwt.signature)) return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    if (jwt.claims.aud !== GRAPH_AUDIENCE) return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    if (jwt.claims.tid !== options.tenantId) return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid issuer.');
    if (typeof jwt.claims.exp !== 'number' || jwt.claims.exp * 1000 < Date.now()) return graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    const app = apps.get(String(jwt.claims.appid ?? '').toLowerCase())?.app;
    if (!app || jwt.claims.idtyp !== 'app') return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    return { app };
  }

  /** Graph's per-app budget: false (and a 429 is due) when `units` would exceed it. */
  function spend(app: string, units: number): number | undefined {
    const limit = options.rateLimit;
    if (!limit) return undefined;
    const now = Date.now();
    while (spent.length && spent[0]!.at <= now - limit.windowMs) spent.shift();
    const used = spent.filter((s) => s.app === app).reduce((n, s) => n + s.units, 0);
    if (used + units > limit.resourceUnits) {
      const oldest = spent.find((s) => s.app === app)?.at ?? now;
      return Math.max(1, Math.ceil((oldest + limit.windowMs - now) / 1000));
    }
    spent.push({ at: now, units, app });
    return undefined;
  }

  function graphUser(req: SimRequest, idOrUpn: string): SimResponse {
    const who = caller(req);
    if ('status' in who) return who;
    const { app } = who;
    const wait = spend(app.clientId, req.method === 'GET' ? 1 : 3);
    if (wait !== undefined) {
      graphThrottled++;
      return graphError(429, 'TooManyRequests', 'Too many requests.', { 'retry-after': String(wait) });
    }
    const can = (...perms: string[]) => perms.some((p) => app.permissions.includes(p));
    const user = find(idOrUpn);
    if (req.method === 'GET') {
      if (!can('User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All')) return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
      if (!user) return graphError(404, 'Request_ResourceNotFound', `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`);
      const all: Record<string, unknown> = { id: user.id, userPrincipalName: user.userPrincipalName, lastPasswordChangeDateTime: user.lastPasswordChangeDateTime, accountEnabled: true };
      const select = req.query.get('$select');
      const fields = select ? select.split(',').map((f) => f.trim()) : ['id', 'userPrincipalName'];
      return { status: 200, json: { '@odata.context': `${origin}/v1.0/$metadata#users(${fields.join(',')})/$entity`, ...Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]])) } };
    }
    if (req.method === 'PATCH') {
      const body = req.json<{ passwordProfile?: { password?: unknown; forceChangePasswordNextSignIn?: unknown } }>();
      if (body === undefined) return graphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
      if (!can('User.ReadWrite.All', 'Directory.ReadWrite.All', 'User-PasswordProfile.ReadWrite.All')) return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
      if (!user) return graphError(404, 'Request_ResourceNotFound', `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`);
      const roles = app.directoryRoles;
      const mayReset = user.isAdmin ? roles.includes('Privileged Authentication Administrator') : roles.length > 0;
      if (!mayReset) return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
      const profile = body.passwordProfile;
      if (profile !== undefined) {
        if (typeof profile.password === 'string') {
          if (entraPasswordProblem(profile.password, options.banned ?? []) !== undefined) return graphError(400, 'Request_BadRequest', COMPLEXITY);
          user.password = profile.password;
          user.lastPasswordChangeDateTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        }
        if (typeof profile.forceChangePasswordNextSignIn === 'boolean') user.forceChangePasswordNextSignIn = profile.forceChangePasswordNextSignIn;
      }
      return { status: 204 };
    }
    return graphError(405, 'Request_BadRequest', `The HTTP method '${req.method}' is not supported here.`);
  }

  const https = await startHttpsSimulator((req) => {
    let m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(req.path);
    if (m && req.method === 'GET') return openidConfiguration(decodeURIComponent(m[1]!), req);
    m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path);
    if (m) return token(decodeURIComponent(m[1]!), req);
    m = /^\/v1\.0\/users\/([^/]+)$/.exec(req.path);
    if (m) return graphUser(req, decodeURIComponent(m[1]!));
    return graphError(400, 'BadRequest', `Resource not found for the segment '${req.path.split('/').pop() ?? ''}'.`);
  });
  origin = https.origin;

  return {
    https,
    origin,
    tenantId: options.tenantId,
    users,
    find,
    addUser(userPrincipalName, password, o = {}) {
      const user: EntraUser = { id: randomUUID(), userPrincipalName, password, isAdmin: o.isAdmin ?? false, lastPasswordChangeDateTime: '2024-01-01T00:00:00Z', forceChangePasswordNextSignIn: false };
      users.set(user.id, user);
      return user;
    },
    tokensIssued: (clientId) => issued.get(clientId) ?? 0,
    graphThrottled: () => graphThrottled,
    stop: () => https.stop(),
  };
}

/** An independent sign-in as the user (the resource owner password grant), with Node's fetch: true when the STS issues a token. */
export async function signsIn(origin: string, tenantId: string, clientId: string, username: string, password: string): Promise<boolean> {
  const res = await fetch(`${origin}/${tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: clientId, scope: 'openid', username, password }).toString(),
  });
  const body = (await res.json()) as { access_token?: string; error_codes?: number[] };
  if (res.status === 200 && body.access_token) return true;
  if (body.error_codes?.includes(50126)) return false;
  throw new Error(`sign-in answered HTTP ${res.status}: ${JSON.stringify(body)}`);
}
