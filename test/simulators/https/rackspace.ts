/**
 * Rackspace Cloud Identity v2.0, simulated over HTTPS (server.ts) from Rackspace's own API reference,
 * the reStructuredText sources of https://docs.rackspace.com/docs/cloud-identity/v2/ in
 * github.com/rackerlabs/docs-cloud-identity (read at commit 1ca4c58):
 *
 * - api-docs/api-reference/methods/token/post-authenticate-as-user-with-password-or-api-key-v2.0-tokens.rst
 *   `POST /v2.0/tokens` with `auth.passwordCredentials {username, password}` or
 *   `auth["RAX-KSKEY:apiKeyCredentials"] {username, apiKey}`; 200 with `access.token {id, expires, tenant}`,
 *   `access.user {id, name, roles, RAX-AUTH:defaultRegion, RAX-AUTH:domainId}` and `serviceCatalog`;
 *   400 for missing parameters or both tenantName and tenantId; 401 for wrong credentials, and for a
 *   multi-factor account ("Additional authentication credentials required." with
 *   `WWW-Authenticate: OS-MF sessionId='…', factor='PASSCODE'`, getting-started/mfa-content/proc-mfa-auth.rst);
 *   403 "User disabled".
 * - api-docs/api-reference/methods/users/get-list-users-v2.0.rst: `GET /v2.0/users?name=` answers one
 *   `{"user": …}` (a list `{"users": […]}` without `name`); a user-admin sees its domain's users, a
 *   user-manage the domain's `identity:default` users, a default user only itself.
 * - api-docs/api-reference/methods/users/post-user-information-and-password-v2.0.rst:
 *   `POST /v2.0/users/{userId}` with `X-Auth-Token` and `{"user": {"username"?, "OS-KSADM:password"?, …}}`
 *   ("Only include those user data elements that you wish to modify"); 200 with the user; a
 *   user-admin or user-manage updates the `identity:default` users of its domain, anyone itself.
 *   The password "must be at least 8 characters in length, must contain at least one uppercase
 *   letter, one lowercase letter, and one numeric character".
 * - api-docs/api-reference/methods/users/post-add-user-v2.0.rst (`OS-KSADM:password`): no maximum
 *   length; letters, digits and the special characters ~ ! @ # % & * _ - | \ ( ) { } [ ] : ; " ' < > , . ? /;
 *   a space but not first. This simulator refuses any other character (the documentation lists no other).
 * - api-docs/api-reference/methods/domains/set-password-policy-on-domain-v2.0.rst: "a user's password
 *   cannot be updated to its current password".
 * - api-docs/general-api-info/http-status-codes.rst: error bodies `{"<fault name>": {"code", "message"}}`
 *   (badRequest, unauthorized, forbidden, itemNotFound, badMethod, badMediaType).
 * - api-docs/general-api-info/limits.rst: a requester over the rate limit "is rejected with a 413
 *   overLimit error. Typically, the request can be resubmitted in a few seconds." The limits are
 *   Repose's; the Retry-After header sent here is Repose's rate-limiting filter's habit, not in
 *   Rackspace's text, so the adapter must not depend on it.
 *
 * The exact messages of 400/401/403/404 are not all quoted in the reference; where it gives none the
 * wording here is the simulator's, the shapes and status codes are the reference's. Tokens expire
 * at their `expires` (24 hours by default); `expireTokens()` ends every issued one, as a token
 * cached past its life would be. `log` records what the service did, never a password or a key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { startHttpsSimulator, type HttpsSimulator, type SimRequest, type SimResponse } from './server.js';

export type RackspaceRole = 'identity:user-admin' | 'identity:user-manage' | 'identity:default';

export interface RackspaceUser {
  readonly id: string;
  username: string;
  password: string;
  apiKey: string | undefined;
  enabled: boolean;
  readonly role: RackspaceRole;
  readonly domainId: string;
  /** Multi-factor authentication on: a password alone gets the OS-MF challenge (an API key does not, as Rackspace documents). */
  multiFactor: boolean;
  passwordChanges: number;
}

interface Token {
  readonly userId: string;
  expires: number;
}

export interface RackspaceSimulatorOptions {
  /** Repose's limit: at most `requests` in any `windowMs` (every route); beyond it 413 overLimit. */
  readonly rateLimit?: { readonly requests: number; readonly windowMs: number };
  /** How long a token lives; 24 hours by default. */
  readonly tokenTtlMs?: number;
}

export interface RackspaceSimulator extends HttpsSimulator {
  /** Adds a user to the account's domain (`role` identity:default unless given). */
  addUser(user: { username: string; password: string; apiKey?: string; role?: RackspaceRole; enabled?: boolean; multiFactor?: boolean }): RackspaceUser;
  removeUser(username: string): void;
  user(username: string): RackspaceUser | undefined;
  /** Ends every token issued so far (the next use of one is 401). */
  expireTokens(): void;
  /** Tokens issued, by user name. */
  tokensIssued(username?: string): number;
  /** Requests answered 413 overLimit by the rate limit, or by `overLimitNext`. */
  overLimited(): number;
  /** The next `count` requests matching are answered 413 overLimit (with `retryAfterSeconds` as Retry-After, if given) and not acted on. */
  overLimitNext(count: number, options?: { match?: (r: SimRequest) => boolean; retryAfterSeconds?: number }): void;
  /** What the service did, one line each; never a password, a key or a token. */
  readonly log: readonly string[];
}

const DOMAIN = '5830280';
const SYMBOLS = '~!@#%&*_-|\\(){}[]:;"\'<>,.?/ ';
const PASSWORD_RULE = 'Password must be at least 8 characters in length, must contain at least one uppercase letter, one lowercase letter, and one numeric character.';

const fault = (status: number, name: string, message: string, headers?: Record<string, string>): SimResponse => ({ status, json: { [name]: { code: status, message } }, ...(headers ? { headers } : {}) });
const badRequest = (message: string) => fault(400, 'badRequest', message);
const unauthorized = (message: string, headers?: Record<string, string>) => fault(401, 'unauthorized', message, headers);
const forbidden = (message: string) => fault(403, 'forbidden', message);
const notFound = (message: string) => fault(404, 'itemNotFound', message);

/** Why a new password breaks the documented rules, or undefined. */
export function rackspacePasswordProblem(password: string): string | undefined {
  if (password.length < 8 || !/[A-Z]/.test(password) || !/[a-z]/.test(password) || !/[0-9]/.test(password)) return PASSWORD_RULE;
  if (password.startsWith(' ')) return 'Password cannot begin with a space.';
  for (const c of password) {
    if (!/[A-Za-z0-9]/.test(c) && !SYMBOLS.includes(c)) return `Password contains a character that is not allowed: only letters, numbers and ${SYMBOLS.trim()} and space may be used.`;
  }
  return undefined;
}

function userJson(u: RackspaceUser): Record<string, unknown> {
  return {
    id: u.id,
    username: u.username,
    email: `${u.username.replace(/@.*/, '')}@example.org`,
    enabled: u.enabled,
    'RAX-AUTH:defaultRegion': 'DFW',
    'RAX-AUTH:domainId': u.domainId,
    'RAX-AUTH:multiFactorEnabled': u.multiFactor,
  };
}

export async function startRackspaceSimulator(options: RackspaceSimulatorOptions = {}): Promise<RackspaceSimulator> {
  const users = new Map<string, RackspaceUser>(); // by id
  const tokens = new Map<string, Token>();
  const issued = new Map<string, number>();
  const log: string[] = [];
  const recent: number[] = [];
  const ttl = options.tokenTtlMs ?? 24 * 3_600_000;
  let overLimited = 0;
  let forced: { left: number; match?: (r: SimRequest) => boolean; retryAfterSeconds?: number } = { left: 0 };

  const byName = (name: string) => [...users.values()].find((u) => u.username.toLowerCase() === name.toLowerCase());

  function overLimit(req: SimRequest): SimResponse | undefined {
    if (forced.left > 0 && (forced.match?.(req) ?? true)) {
      forced.left--;
      overLimited++;
      const headers: Record<string, string> = forced.retryAfterSeconds === undefined ? {} : { 'retry-after': String(forced.retryAfterSeconds) };
      return fault(413, 'overLimit', 'OverLimit Retry...', headers);
    }
    const limit = options.rateLimit;
    if (!limit) return undefined;
    const now = Date.now();
    while (recent.length && recent[0]! <= now - limit.windowMs) recent.shift();
    if (recent.length >= limit.requests) {
      overLimited++;
      const wait = Math.max(1, Math.ceil((recent[0]! + limit.windowMs - now) / 1000));
      return fault(413, 'overLimit', 'OverLimit Retry...', { 'retry-after': String(wait) });
    }
    recent.push(now);
    return undefined;
  }

  /** The caller of a request that needs a token, or the 401 to answer. */
  function caller(req: SimRequest): RackspaceUser | SimResponse {
    const id = req.headers['x-auth-token'];
    const token = id === undefined ? undefined : tokens.get(id);
    const user = token && users.get(token.userId);
    if (!token || !user || token.expires <= Date.now() || !user.enabled) {
      return unauthorized("No valid token provided. Please use the 'X-Auth-Token' header with a valid token.");
    }
    return user;
  }

  /** Whether `who` may see `target` (get-list-users: a user-admin its domain, a user-manage the domain's default users, anyone itself). */
  function sees(who: RackspaceUser, target: RackspaceUser): boolean {
    if (who.id === target.id) return true;
    if (who.domainId !== target.domainId) return false;
    if (who.role === 'identity:user-admin') return true;
    if (who.role === 'identity:user-manage') return target.role === 'identity:default';
    return false;
  }

  /** Whether `who` may update `target` (update-user: user-admin and user-manage the domain's default users, anyone itself). */
  function updates(who: RackspaceUser, target: RackspaceUser): boolean {
    if (who.id === target.id) return true;
    return who.domainId === target.domainId && who.role !== 'identity:default' && target.role === 'identity:default';
  }

  function authenticate(req: SimRequest): SimResponse {
    const body = req.json<{ auth?: Record<string, unknown> }>();
    const auth = body?.auth;
    if (!auth || typeof auth !== 'object') return badRequest('Invalid json request body');
    if (auth.tenantId !== undefined && auth.tenantName !== undefined) return badRequest('Invalid request. Specify tenantId OR tenantName, not both.');
    const pw = auth.passwordCredentials as { username?: unknown; password?: unknown } | undefined;
    const key = auth['RAX-KSKEY:apiKeyCredentials'] as { username?: unknown; apiKey?: unknown } | undefined;
    let user: RackspaceUser | undefined;
    let by: 'PASSWORD' | 'APIKEY';
    if (pw && typeof pw === 'object') {
      if (typeof pw.username !== 'string' || pw.username === '' || typeof pw.password !== 'string' || pw.password === '') return badRequest('Expecting username and password');
      by = 'PASSWORD';
      const u = byName(pw.username);
      user = u && u.password === pw.password ? u : undefined;
      if (!user) {
        log.push(`token refused: wrong password for ${JSON.stringify(pw.username)}`);
        return unauthorized('Unable to authenticate user with credentials provided.');
      }
    } else if (key && typeof key === 'object') {
      if (typeof key.username !== 'string' || key.username === '' || typeof key.apiKey !== 'string' || key.apiKey === '') return badRequest('Expecting username and apiKey');
      by = 'APIKEY';
      const u = byName(key.username);
      user = u && u.apiKey !== undefined && u.apiKey === key.apiKey ? u : undefined;
      if (!user) {
        log.push(`token refused: wrong API key for ${JSON.stringify(key.username)}`);
        return unauthorized('Username or api key is invalid.');
      }
    } else {
      return badRequest('Invalid json request body');
    }
    if (!user.enabled) return forbidden('User disabled');
    if (by === 'PASSWORD' && user.multiFactor) {
      log.push(`token: multi-factor challenge for ${JSON.stringify(user.username)}`);
      return unauthorized('Additional authentication credentials required.', { 'www-authenticate': `OS-MF sessionId='${randomBytes(24).toString('base64url')}', factor='PASSCODE'` });
    }
    const id = randomBytes(16).toString('hex');
    const expires = Date.now() + ttl;
    tokens.set(id, { userId: user.id, expires });
    issued.set(user.username, (issued.get(user.username) ?? 0) + 1);
    log.push(`token issued to ${JSON.stringify(user.username)} by ${by}`);
    return {
      status: 200,
      json: {
        access: {
          token: { id, expires: new Date(expires).toISOString(), tenant: { id: '123456', name: '123456' }, 'RAX-AUTH:authenticatedBy': [by] },
          user: { id: user.id, name: user.username, roles: [{ id: '3', name: user.role, description: 'role' }], 'RAX-AUTH:defaultRegion': 'DFW', 'RAX-AUTH:domainId': user.domainId },
          serviceCatalog: [],
        },
      },
    };
  }

  function listUsers(req: SimRequest, who: RackspaceUser): SimResponse {
    const name = req.query.get('name');
    if (name !== null) {
      const u = byName(name);
      if (!u || !sees(who, u)) return notFound(`User not found: '${name}'`);
      return { status: 200, json: { user: userJson(u) } };
    }
    return { status: 200, json: { users: [...users.values()].filter((u) => sees(who, u)).map(userJson) } };
  }

  function updateUser(req: SimRequest, who: RackspaceUser, id: string): SimResponse {
    const target = users.get(id);
    if (!target) return notFound(`User with id: '${id}' was not found.`);
    if (!sees(who, target)) return notFound(`User with id: '${id}' was not found.`);
    if (!updates(who, target)) return forbidden('Not Authorized');
    const body = req.json<{ user?: Record<string, unknown> }>();
    const fields = body?.user;
    if (!fields || typeof fields !== 'object') return badRequest('Invalid json request body');
    if (fields.enabled !== undefined && who.id === target.id) return forbidden('User cannot enable/disable his/her own account.');
    const username = fields.username;
    if (username !== undefined && (typeof username !== 'string' || !/^[A-Za-z][A-Za-z0-9._@-]*$/.test(username))) return badRequest('Username must begin with an alphabetic character.');
    if (typeof username === 'string' && username !== target.username && byName(username)) return fault(409, 'conflict', `Username ${username} already exists`);
    const password = fields['OS-KSADM:password'];
    if (password !== undefined) {
      if (typeof password !== 'string') return badRequest(PASSWORD_RULE);
      const problem = rackspacePasswordProblem(password);
      if (problem) {
        log.push(`update of ${JSON.stringify(target.username)} refused: the password breaks the rules`);
        return badRequest(problem);
      }
      if (password === target.password) {
        log.push(`update of ${JSON.stringify(target.username)} refused: the password is the current one`);
        return badRequest('The password cannot be updated to the current password.');
      }
    }
    if (typeof username === 'string') target.username = username;
    if (typeof password === 'string') {
      target.password = password;
      target.passwordChanges++;
      log.push(`password of ${JSON.stringify(target.username)} updated by ${JSON.stringify(who.username)}`);
    }
    if (typeof fields.enabled === 'boolean') target.enabled = fields.enabled;
    return { status: 200, json: { user: userJson(target) } };
  }

  async function handle(req: SimRequest): Promise<SimResponse> {
    const limited = overLimit(req);
    if (limited) return limited;
    if (req.body !== '' && !(req.headers['content-type'] ?? '').startsWith('application/json')) return fault(415, 'badMediaType', 'Unsupported media type');
    const path = req.path.replace(/\/+$/, '');
    if (path === '/v2.0/tokens') {
      return req.method === 'POST' ? authenticate(req) : fault(405, 'badMethod', 'Method not allowed');
    }
    if (path === '/v2.0/users' || path.startsWith('/v2.0/users/')) {
      const who = caller(req);
      if (!('id' in who)) return who;
      if (path === '/v2.0/users') return req.method === 'GET' ? listUsers(req, who) : fault(405, 'badMethod', 'Method not allowed');
      const id = decodeURIComponent(path.slice('/v2.0/users/'.length));
      if (id.includes('/')) return notFound('Resource not found');
      if (req.method === 'GET') {
        const u = users.get(id);
        return u && sees(who, u) ? { status: 200, json: { user: userJson(u) } } : notFound(`User with id: '${id}' was not found.`);
      }
      if (req.method === 'POST') return updateUser(req, who, id);
      return fault(405, 'badMethod', 'Method not allowed');
    }
    return notFound('Resource not found');
  }

  const sim = await startHttpsSimulator(handle);
  return Object.assign(sim, {
    log,
    addUser(u: { username: string; password: string; apiKey?: string; role?: RackspaceRole; enabled?: boolean; multiFactor?: boolean }): RackspaceUser {
      if (byName(u.username)) throw new Error(`user ${u.username} exists`);
      const user: RackspaceUser = {
        id: randomUUID().replace(/-/g, ''),
        username: u.username,
        password: u.password,
        apiKey: u.apiKey,
        enabled: u.enabled ?? true,
        role: u.role ?? 'identity:default',
        domainId: DOMAIN,
        multiFactor: u.multiFactor ?? false,
        passwordChanges: 0,
      };
      users.set(user.id, user);
      return user;
    },
    removeUser(username: string): void {
      const u = byName(username);
      if (u) users.delete(u.id);
    },
    user: (username: string) => byName(username),
    expireTokens(): void {
      for (const t of tokens.values()) t.expires = Date.now() - 1;
    },
    tokensIssued: (username?: string) => (username === undefined ? [...issued.values()].reduce((a, b) => a + b, 0) : (issued.get(username) ?? 0)),
    overLimited: () => overLimited,
    overLimitNext(count: number, o: { match?: (r: SimRequest) => boolean; retryAfterSeconds?: number } = {}): void {
      forced = { left: count, ...o };
    },
  });
}
