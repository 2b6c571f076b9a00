/**
 * Google Workspace as the google-workspace type meets it: the OAuth 2.0 token endpoint's JWT
 * bearer grant for a service account with domain-wide delegation, and the Admin SDK Directory
 * API's `users.update`, on the HTTPS simulator core (server.ts). Written from Google's reference:
 *
 * - Service accounts, JWT grant: https://developers.google.com/identity/protocols/oauth2/service-account
 *   (POST https://oauth2.googleapis.com/token, `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
 *   `assertion` an RS256 JWT with `iss` the service account's e-mail, `scope`, `aud`
 *   "https://oauth2.googleapis.com/token", `iat`, `exp` at most an hour later, and `sub` the user
 *   impersonated; the answer `{"access_token", "expires_in": 3599, "token_type": "Bearer"}`; the
 *   error table: `invalid_grant` "Invalid JWT Signature.", "Invalid JWT: Token must be a
 *   short-lived token (60 minutes) and in a reasonable timeframe...", "Invalid email or User ID";
 *   `unauthorized_client` "Client is unauthorized to retrieve access tokens using this method, or
 *   client not authorized for any of the scopes requested." when the scope is not delegated).
 * - Domain-wide delegation: https://support.google.com/a/answer/162106 (client id and scopes in the
 *   Admin console; the impersonated user must hold an admin role for the Directory API).
 * - users.update: https://developers.google.com/admin-sdk/directory/reference/rest/v1/users/update
 *   (PUT https://admin.googleapis.com/admin/directory/v1/users/{userKey}, userKey the primary
 *   e-mail, an alias or the id; patch semantics) and the User resource,
 *   https://developers.google.com/admin-sdk/directory/reference/rest/v1/users (`password`: "...
 *   between 8 and 100 ASCII characters"; `hashFunction`: "MD5", "SHA-1" or "crypt", and then
 *   `password` must be a valid hash of that function; `crypt` is crypt(3): DES, MD5 `$1$`,
 *   SHA-256 `$5$`, SHA-512 `$6$`; `changePasswordAtNextLogin`).
 * - Errors: https://developers.google.com/admin-sdk/directory/v1/limits and
 *   https://developers.google.com/workspace/admin/directory/v1/guides/troubleshoot-error-codes
 *   (`{"error": {"code", "message", "errors": [{"message", "domain", "reason"}]}}`; 401 authError
 *   "Invalid Credentials"; 403 "Not Authorized to access this resource/api" for a user who is not
 *   an admin, `insufficientPermissions` for a token without the scope; 404 "Resource Not Found:
 *   userKey"; 400 "Invalid Password"; quota: 403 `userRateLimitExceeded`/`rateLimitExceeded`, or 429).
 *
 * Passwords are stored as crypt strings, never in clear: a clear password set by a test is hashed
 * here with `openssl passwd -6`, and `passwordWorks` (a user's sign-in, which the Directory API
 * itself cannot do) compares a candidate by running `openssl passwd` with the stored salt, an
 * implementation independent of the adapter's.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, verify as verifySignature, type KeyObject } from 'node:crypto';
import { startHttpsSimulator, type HttpsSimulator, type HttpsSimulatorOptions, type SimRequest, type SimResponse } from './server.js';

/** What google-auth-library puts in every assertion's `aud`, and where it posts it. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const USERS_PATH = /^\/admin\/directory\/v1\/users\/([^/]+)$/;
const USER_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user';
/** Google's allowance for clock skew on `iat` (the docs' "reasonable timeframe"). */
const SKEW_S = 300;

export interface ServiceAccount {
  readonly clientEmail: string;
  readonly clientId: string;
  /** The JSON key file as Google's console downloads it. */
  readonly keyFile: string;
}

interface StoredUser {
  readonly id: string;
  readonly primaryEmail: string;
  isAdmin: boolean;
  /** A crypt(3) string (or an MD5 / SHA-1 hex digest with its function), never a clear password. */
  password: { hash: string; hashFunction: 'crypt' | 'MD5' | 'SHA-1' };
  changePasswordAtNextLogin: boolean;
  updates: number;
}

interface Client {
  readonly account: ServiceAccount;
  publicKey: KeyObject;
  /** Scopes the Workspace admin delegated to the client id (domain-wide delegation). */
  delegated: Set<string>;
}

interface Token {
  readonly subject: string | undefined;
  readonly scopes: readonly string[];
  readonly expiresAt: number;
}

export interface GoogleSimulator {
  readonly server: HttpsSimulator;
  readonly origin: string;
  /** The Directory API's host and port, for the resource's `host` and `port`. */
  readonly host: string;
  readonly port: number;
  /** A service account with its key; `delegated` scopes (default: admin.directory.user) granted domain-wide. */
  addServiceAccount(options?: { delegated?: readonly string[] }): ServiceAccount;
  /** The Admin console's Domain-wide delegation entry for the client id, replaced. */
  delegate(clientEmail: string, scopes: readonly string[]): void;
  /** A new key replaces the account's: the old key file no longer signs a valid grant. */
  rotateKey(clientEmail: string): ServiceAccount;
  addUser(email: string, password: string, options?: { admin?: boolean }): void;
  removeUser(email: string): void;
  /** A sign-in as the user: does `password` match the stored hash? */
  passwordWorks(email: string, password: string): boolean;
  user(email: string): Readonly<StoredUser> | undefined;
  /** The next `count` Directory API calls answer Google's quota error (403 rateLimitExceeded). */
  exhaustQuota(count: number): void;
  /** Every access token issued so far expires now (as an hour passing would). */
  expireTokens(): void;
  /** Every token the endpoint issued (for tests of how often the adapter asks). */
  tokensIssued(): number;
  stop(): Promise<void>;
}

function base64urlJson(part: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const oauthError = (error: string, description: string, status = 400): SimResponse => ({ status, json: { error, error_description: description } });

function googleError(code: number, message: string, reason: string, extra: Record<string, unknown> = {}): SimResponse {
  return { status: code, json: { error: { code, message, errors: [{ message, domain: 'global', reason, ...extra }] } } };
}

/** A crypt(3) string by OpenSSL, the password on standard input (never in an argument list). */
function opensslCrypt(password: string, prefix: '1' | '5' | '6', salt: string): string {
  const flag = { '1': '-1', '5': '-5', '6': '-6' }[prefix];
  return execFileSync('openssl', ['passwd', flag, '-salt', salt, '-stdin'], { input: `${password}\n`, encoding: 'utf8' }).trim();
}

/** `$id$[rounds=N$]salt$hash` for the crypt(3) schemes OpenSSL computes; undefined for anything else. */
function parseCrypt(hash: string): { id: '1' | '5' | '6'; salt: string } | undefined {
  const m = /^\$(1|5|6)\$(rounds=\d+\$)?([./0-9A-Za-z]{0,16})\$([./0-9A-Za-z]+)$/.exec(hash);
  if (!m) return undefined;
  const length = { '1': 22, '5': 43, '6': 86 }[m[1] as '1' | '5' | '6'];
  if (m[4]!.length !== length) return undefined;
  return { id: m[1] as '1' | '5' | '6', salt: `${m[2] ?? ''}${m[3]}` };
}

/** Google's rule for a clear password: 8 to 100 ASCII characters. */
function clearPasswordAllowed(p: string): boolean {
  return p.length >= 8 && p.length <= 100 && /^[\x20-\x7e]*$/.test(p);
}

export async function startGoogleSimulator(options: HttpsSimulatorOptions = {}): Promise<GoogleSimulator> {
  const clients = new Map<string, Client>();
  const users = new Map<string, StoredUser>();
  const tokens = new Map<string, Token>();
  let quotaLeft = 0;
  let issued = 0;
  let nextId = 100000000000000000000;

  const findUser = (key: string): StoredUser | undefined => users.get(key.toLowerCase()) ?? [...users.values()].find((u) => u.id === key);

  function token(req: SimRequest): SimResponse {
    const form = req.form();
    if (form.get('grant_type') !== JWT_BEARER) return oauthError('unsupported_grant_type', `Invalid grant_type: ${form.get('grant_type') ?? ''}`);
    const assertion = form.get('assertion') ?? '';
    const parts = assertion.split('.');
    const header = parts.length === 3 ? base64urlJson(parts[0]!) : undefined;
    const claims = parts.length === 3 ? base64urlJson(parts[1]!) : undefined;
    if (!header || !claims) return oauthError('invalid_request', 'Invalid JWT: malformed assertion.');
    const client = typeof claims.iss === 'string' ? clients.get(claims.iss) : undefined;
    if (!client) return oauthError('invalid_grant', 'Invalid grant: account not found');
    if (header.alg !== 'RS256') return oauthError('invalid_grant', 'Invalid JWT Signature.');
    const signed = verifySignature('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), client.publicKey, Buffer.from(parts[2]!, 'base64url'));
    if (!signed) return oauthError('invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== GOOGLE_TOKEN_URL) return oauthError('invalid_grant', `Invalid JWT: Failed audience check. The right audience is ${GOOGLE_TOKEN_URL}`);
    const now = Date.now() / 1000;
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp - iat > 3600 || exp <= iat || iat > now + SKEW_S || exp < now) {
      return oauthError('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    if (scopes.length === 0) return oauthError('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
    if (sub !== undefined) {
      if (!findUser(sub)) return oauthError('invalid_grant', 'Invalid email or User ID');
      // Impersonation needs every requested scope delegated to the client id.
      if (!scopes.every((s) => client.delegated.has(s))) {
        return oauthError('unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.', 401);
      }
    }
    const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
    tokens.set(accessToken, { subject: sub?.toLowerCase(), scopes, expiresAt: Date.now() + 3599_000 });
    issued++;
    return { status: 200, json: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } };
  }

  /** What every Directory API call checks first: the bearer token, its scope, the quota, an admin behind it. */
  function authorized(req: SimRequest): SimResponse | undefined {
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const t = auth ? tokens.get(auth[1]!) : undefined;
    if (!t || t.expiresAt < Date.now()) {
      return {
        status: 401,
        json: {
          error: {
            code: 401,
            message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
            errors: [{ message: 'Invalid Credentials', domain: 'global', reason: 'authError', location: 'Authorization', locationType: 'header' }],
            status: 'UNAUTHENTICATED',
          },
        },
      };
    }
    if (!t.scopes.includes(USER_SCOPE)) return googleError(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions');
    if (quotaLeft > 0) {
      quotaLeft--;
      return googleError(403, "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com'.", 'rateLimitExceeded');
    }
    const actor = t.subject === undefined ? undefined : findUser(t.subject);
    if (!actor?.isAdmin) return googleError(403, 'Not Authorized to access this resource/api', 'forbidden');
    return undefined;
  }

  /** users.get: the User resource, which never holds the password. */
  function get(req: SimRequest, userKey: string): SimResponse {
    const refused = authorized(req);
    if (refused) return refused;
    const user = findUser(decodeURIComponent(userKey));
    if (!user) return googleError(404, 'Resource Not Found: userKey', 'notFound');
    return { status: 200, json: { kind: 'admin#directory#user', id: user.id, primaryEmail: user.primaryEmail, isAdmin: user.isAdmin, changePasswordAtNextLogin: user.changePasswordAtNextLogin } };
  }

  function update(req: SimRequest, userKey: string): SimResponse {
    const refused = authorized(req);
    if (refused) return refused;
    const user = findUser(decodeURIComponent(userKey));
    if (!user) return googleError(404, 'Resource Not Found: userKey', 'notFound');
    const body = req.json<Record<string, unknown>>();
    if (!body || typeof body !== 'object') return googleError(400, 'Invalid Input', 'invalid');
    if (body.password !== undefined) {
      if (typeof body.password !== 'string') return googleError(400, 'Invalid Password', 'invalid');
      const fn = body.hashFunction;
      if (fn === undefined) {
        if (!clearPasswordAllowed(body.password)) return googleError(400, 'Invalid Password', 'invalid');
        const salt = randomBytes(12).toString('base64').replace(/\+/g, '.').slice(0, 16);
        user.password = { hash: opensslCrypt(body.password, '6', salt), hashFunction: 'crypt' };
      } else if (fn === 'crypt') {
        if (!parseCrypt(body.password)) return googleError(400, 'Invalid Password', 'invalid');
        user.password = { hash: body.password, hashFunction: 'crypt' };
      } else if (fn === 'MD5' || fn === 'SHA-1') {
        if (!new RegExp(`^[0-9a-fA-F]{${fn === 'MD5' ? 32 : 40}}$`).test(body.password)) return googleError(400, 'Invalid Password', 'invalid');
        user.password = { hash: body.password.toLowerCase(), hashFunction: fn };
      } else {
        return googleError(400, `Invalid value for hashFunction: ${JSON.stringify(fn)}`, 'invalid');
      }
    }
    if (typeof body.changePasswordAtNextLogin === 'boolean') user.changePasswordAtNextLogin = body.changePasswordAtNextLogin;
    user.updates++;
    return {
      status: 200,
      json: { kind: 'admin#directory#user', id: user.id, primaryEmail: user.primaryEmail, isAdmin: user.isAdmin, changePasswordAtNextLogin: user.changePasswordAtNextLogin, hashFunction: user.password.hashFunction },
    };
  }

  const server = await startHttpsSimulator((req) => {
    if (req.method === 'POST' && req.path === '/token') return token(req);
    const m = USERS_PATH.exec(req.path);
    if (m && (req.method === 'PUT' || req.method === 'PATCH')) return update(req, m[1]!);
    if (m && req.method === 'GET') return get(req, m[1]!);
    return googleError(404, 'Not Found', 'notFound');
  }, options);

  function newKey(clientEmail: string, clientId: string): { account: ServiceAccount; publicKey: KeyObject } {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = JSON.stringify({
      type: 'service_account',
      project_id: 'rpr-test',
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: clientEmail,
      client_id: clientId,
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: GOOGLE_TOKEN_URL,
    });
    return { account: { clientEmail, clientId, keyFile }, publicKey: createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })) };
  }

  return {
    server,
    origin: server.origin,
    host: '127.0.0.1',
    port: server.port,
    addServiceAccount(opts = {}) {
      const n = clients.size + 1;
      const { account, publicKey } = newKey(`rpr-reset-${n}@rpr-test.iam.gserviceaccount.com`, String(nextId++));
      clients.set(account.clientEmail, { account, publicKey, delegated: new Set(opts.delegated ?? [USER_SCOPE]) });
      return account;
    },
    delegate(clientEmail, scopes) {
      clients.get(clientEmail)!.delegated = new Set(scopes);
    },
    rotateKey(clientEmail) {
      const c = clients.get(clientEmail)!;
      const { account, publicKey } = newKey(clientEmail, c.account.clientId);
      c.publicKey = publicKey;
      return account;
    },
    addUser(email, password, opts = {}) {
      const salt = randomBytes(12).toString('base64').replace(/\+/g, '.').slice(0, 16);
      users.set(email.toLowerCase(), { id: String(nextId++), primaryEmail: email, isAdmin: opts.admin === true, password: { hash: opensslCrypt(password, '6', salt), hashFunction: 'crypt' }, changePasswordAtNextLogin: false, updates: 0 });
    },
    removeUser(email) {
      users.delete(email.toLowerCase());
    },
    passwordWorks(email, password) {
      const u = findUser(email);
      if (!u || u.password.hashFunction !== 'crypt') return false;
      const parsed = parseCrypt(u.password.hash);
      return parsed !== undefined && opensslCrypt(password, parsed.id, parsed.salt) === u.password.hash;
    },
    user: (email) => findUser(email),
    exhaustQuota(count) {
      quotaLeft = count;
    },
    expireTokens() {
      for (const [k, t] of tokens) tokens.set(k, { ...t, expiresAt: 0 });
    },
    tokensIssued: () => issued,
    stop: () => server.stop(),
  };
}

/**
 * Test-only bridge: google-auth-library 10.5 (gtoken 8) posts the JWT grant to the hard-coded
 * GOOGLE_TOKEN_URL, with no option for another token endpoint (the key file's `token_uri` is
 * ignored). Each JWT client the adapter makes gets a request interceptor on its own transporter
 * that sends that one URL to the simulator; the assertion keeps Google's `aud`, which the
 * simulator checks. Returns the undo.
 */
export function bridgeTokenUrl(hook: { onCreate?: (jwt: import('google-auth-library').JWT) => void }, origin: string): () => void {
  const before = hook.onCreate;
  hook.onCreate = (jwt) => {
    jwt.transporter.interceptors.request.add({
      resolved: (config) => {
        if (String(config.url) === GOOGLE_TOKEN_URL) config.url = new URL('/token', origin);
        return Promise.resolve(config);
      },
    });
  };
  return () => {
    hook.onCreate = before;
  };
}
