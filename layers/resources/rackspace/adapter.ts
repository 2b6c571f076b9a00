import { createHash } from 'node:crypto';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, PreflightFinding, PreflightRequest, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { call, jsonOf, providerSaid, type ApiAnswer, type CallOptions } from '../cloud/https.js';
import { assertChangeInput } from '../sql-common.js';
import { rackspaceDefinition, type RackspaceResource } from './schema.js';

/**
 * Rackspace Cloud Identity v2.0 through Node's fetch (cloud/https.ts `call`), from Rackspace's API
 * reference (docs.rackspace.com/docs/cloud-identity/v2, sources in github.com/rackerlabs/docs-cloud-identity):
 *
 * - The admin's token: `POST /v2.0/tokens` with `RAX-KSKEY:apiKeyCredentials {username, apiKey}`
 *   (Rackspace's advice for automation, and it is not challenged for a second factor) or
 *   `passwordCredentials {username, password}`. It is cached for the function instance's life, per
 *   endpoint and admin, until its `expires` is near; a 401 on a call that carried it (a token the
 *   service ended early) fetches one new token and repeats the call once. Repeating is safe for the
 *   user update as well: a 401 means Identity refused the token and did nothing.
 * - The user's id: `GET /v2.0/users?name=` (the user-admin sees its domain's users), once per adapter.
 * - The change: `POST /v2.0/users/{userId}` with `{"user": {"OS-KSADM:password": …}}` only ("Only
 *   include those user data elements that you wish to modify"). Identity refuses to set a user's
 *   current password again, so a lost answer is OutcomeUnknownError (call's reading of a failure
 *   after the request left) and the engine reconciles with a fresh token request as the user; a
 *   refused change whose password already signs in is reported done (the change is idempotent).
 * - Verification: a fresh `POST /v2.0/tokens` as the user with `passwordCredentials`: 200 is the
 *   password accepted, 401 refused, except the multi-factor answer (401 with `WWW-Authenticate: OS-MF`,
 *   "Additional authentication credentials required."), which Identity gives only once the password
 *   was right: accepted, and said so.
 * - Errors: 400 `badRequest` on a change is Identity's refusal (its password rules: 8 characters,
 *   upper and lower case, a digit; not the current password), "unchanged" with its message; 413
 *   `overLimit` is its rate limit ("the request can be resubmitted in a few seconds"): throttled,
 *   waited out by `call`, with or without Retry-After.
 *
 * Passwords and the API key travel only in JSON bodies; the token in `X-Auth-Token`. The token is
 * added to the redactor like the secrets.
 */

interface Token {
  readonly id: string;
  /** Epoch ms. */
  readonly expires: number;
}

/** A token is renewed this long before its `expires`. */
const EXPIRY_MARGIN_MS = 60_000;

/** Admin tokens for the function instance's life, by endpoint, admin and a hash of its secret. */
const TOKENS = new Map<string, Promise<Token>>();

/** Identity's own message from a fault body (`{"badRequest": {"code": 400, "message": "…"}}`). */
export function rackspaceFault(answer: ApiAnswer): string | undefined {
  const body = jsonOf<Record<string, { message?: unknown }>>(answer);
  if (!body || typeof body !== 'object') return undefined;
  for (const [name, value] of Object.entries(body)) {
    if (value && typeof value === 'object' && typeof value.message === 'string') return `${name}: ${value.message}`;
  }
  return undefined;
}

const overLimit = (answer: ApiAnswer) => answer.status === 413;
const badRequest = (answer: ApiAnswer) => (answer.status === 400 ? (rackspaceFault(answer) ?? providerSaid(answer.text)) : undefined);

class RackspaceAdapter implements TargetAdapter {
  readonly type = 'rackspace' as const;
  readonly verification = 'login' as const;
  readonly #base: string;
  readonly #secret: Secret;
  readonly #tokenKey: string;
  /** User ids by user name (lower case), looked up once. */
  readonly #ids = new Map<string, Promise<string>>();

  constructor(private readonly ctx: AdapterContext<RackspaceResource>) {
    const secret = ctx.secrets.admin;
    if (!secret) throw new InvalidConfigurationError('adminSecretId', 'names no secret the adapter was given');
    if (secret.length === 0) throw new InvalidConfigurationError('adminSecretId', `holds an empty ${ctx.resource.adminCredential === 'apiKey' ? 'API key' : 'password'}; nothing was sent`);
    this.#secret = secret;
    this.#base = ctx.resource.identityUrl;
    const digest = createHash('sha256').update(secret.reveal()).digest('base64url');
    this.#tokenKey = [this.#base, ctx.resource.adminCredential, ctx.resource.adminUsername.toLowerCase(), digest].join('\n');
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    assertChangeInput(this.ctx, rackspaceDefinition.username, req);
    const r = this.ctx.resource;
    const self = req.account.username.toLowerCase() === r.adminUsername.toLowerCase();
    if (self && r.adminCredential === 'password') {
      throw new InvalidConfigurationError('account.username', `is the admin (${r.adminUsername}), whose password is the standalone secret adminSecretId this resource signs in with; change it there, or sign in with the admin's API key (adminCredential: apiKey); nothing was sent`);
    }
    const id = await this.#userId(req.account.username);
    const password = req.newPassword.reveal();
    try {
      await this.#update(id, password);
    } catch (e) {
      // Identity refuses to set a user's current password again. Where the password it refused
      // already signs in, the change is made (an earlier attempt whose answer was lost): done.
      if (!(e instanceof TargetUnchangedError) || !/refused it: /.test(e.message)) throw e;
      if (!(await this.verify({ account: req.account, password: req.newPassword }).catch(() => ({ valid: false }))).valid) throw e;
      return { method: `${self ? 'self change (admin account)' : 'admin reset'}: Cloud Identity v2.0 update user (OS-KSADM:password), already set (Identity refused to set the current password again)` };
    }
    return { method: `${self ? 'self change (admin account)' : 'admin reset'}: Cloud Identity v2.0 update user (OS-KSADM:password)` };
  }

  async #update(id: string, password: string): Promise<void> {
    await this.#withToken((token) =>
      this.#call({
        method: 'POST',
        url: `${this.#base}/users/${encodeURIComponent(id)}`,
        what: 'Rackspace Identity POST /v2.0/users/{userId}',
        effect: 'change',
        headers: { 'x-auth-token': token },
        json: { user: { 'OS-KSADM:password': password } },
        secrets: [password],
        refusal: badRequest,
        answered: [401],
      }),
    );
  }

  async verify(req: VerifyRequest): Promise<VerifyResult> {
    const name = rackspaceDefinition.username.safeParse(req.account.username);
    if (!name.success) throw new InvalidConfigurationError('account.username', name.error.issues[0]?.message ?? 'is not a Rackspace user name');
    if (req.password.length === 0) return { valid: false, detail: 'an empty password never authenticates' };
    const password = req.password.reveal();
    const answer = await this.#call({
      method: 'POST',
      url: `${this.#base}/tokens`,
      what: 'Rackspace Identity POST /v2.0/tokens (as the user)',
      effect: 'read',
      json: { auth: { passwordCredentials: { username: req.account.username, password } } },
      secrets: [password],
      answered: [401, 403],
    });
    if (answer.status === 403) {
      // "User disabled" (or a multi-factor setup Identity requires first): the password is neither proved nor refused.
      throw new TargetUnchangedError(`Rackspace Identity refused ${req.account.username} a token (HTTP 403: ${rackspaceFault(answer) ?? providerSaid(answer.text)}): the account cannot sign in, so its password can be neither proved nor refused`);
    }
    if (answer.status === 401) {
      if (/\bOS-MF\b/.test(answer.headers.get('www-authenticate') ?? '')) {
        return { valid: true, detail: 'Identity accepted the password and asked for the second factor of the multi-factor account (none was sent)' };
      }
      return { valid: false, detail: `Identity refused the password (HTTP 401${rackspaceFault(answer) ? `, ${rackspaceFault(answer)}` : ''})` };
    }
    const token = jsonOf<{ access?: { token?: { id?: unknown } } }>(answer)?.access?.token?.id;
    if (typeof token === 'string') this.ctx.redactor.add(token);
    return { valid: true };
  }

  /**
   * The admin's token (its credentials and role), and each account's user as the admin sees it.
   * Whether the admin may update a user (user-admin or user-manage over `identity:default` users)
   * is not readable without writing; the change itself will tell.
   */
  async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    const r = this.ctx.resource;
    await this.#token();
    const findings: PreflightFinding[] = [{ check: 'admin login', ok: true, detail: `Identity issued a token to ${JSON.stringify(r.adminUsername)} (${r.adminCredential === 'apiKey' ? 'API key' : 'password'}) at ${this.#base}` }];
    for (const account of req.accounts) {
      const accountId = account.id;
      const name = rackspaceDefinition.username.safeParse(account.username);
      if (!name.success) {
        findings.push({ accountId, check: 'account name', ok: false, detail: name.error.issues[0]?.message ?? 'is not a Rackspace user name' });
        continue;
      }
      try {
        const id = await this.#userId(account.username);
        findings.push({ accountId, check: 'account exists', ok: true, detail: `the admin sees the user ${JSON.stringify(account.username)} (id ${id})` });
      } catch (e) {
        if (!(e instanceof TargetUnchangedError) || !/HTTP 404/.test(e.message)) throw e;
        findings.push({ accountId, check: 'account exists', ok: false, detail: `${e.message}; a reset of it would fail` });
      }
    }
    return findings;
  }

  async close(): Promise<void> {
    // Nothing to close: fetch's connections are pooled by undici, the token outlives the adapter.
  }

  /** One call with the resource's deadline, Identity's 413 as throttling and the admin secret as the refused credentials. */
  #call(options: Omit<CallOptions, 'timeoutMs' | 'throttled'>): Promise<ApiAnswer> {
    return call({ timeoutMs: this.ctx.timeoutMs, throttled: overLimit, ...options });
  }

  /** The user id of `username`, from `GET /v2.0/users?name=` (cached per adapter). */
  #userId(username: string): Promise<string> {
    const key = username.toLowerCase();
    let id = this.#ids.get(key);
    if (!id) {
      id = this.#lookUp(username);
      this.#ids.set(key, id);
      id.catch(() => this.#ids.delete(key));
    }
    return id;
  }

  async #lookUp(username: string): Promise<string> {
    const answer = await this.#withToken((token) =>
      this.#call({
        method: 'GET',
        url: `${this.#base}/users?name=${encodeURIComponent(username)}`,
        what: `Rackspace Identity GET /v2.0/users?name=${username}`,
        effect: 'read',
        headers: { 'x-auth-token': token },
        answered: [401],
      }),
    );
    const body = jsonOf<{ user?: { id?: unknown; username?: unknown }; users?: { id?: unknown; username?: unknown }[] }>(answer);
    const user = body?.user ?? body?.users?.find((u) => typeof u.username === 'string' && u.username.toLowerCase() === username.toLowerCase());
    if (!user || typeof user.id !== 'string' || user.id === '') {
      throw new TargetUnchangedError(`Rackspace Identity GET /v2.0/users?name=${username}: HTTP ${answer.status} without the user's id: ${providerSaid(answer.text)}; nothing was changed`);
    }
    return user.id;
  }

  /**
   * `fn` with the admin's token; a 401 (Identity ended the token before its `expires`) drops it,
   * fetches one new token and calls `fn` once more. A second 401 is the admin's authentication failing.
   */
  async #withToken(fn: (token: string) => Promise<ApiAnswer>): Promise<ApiAnswer> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.#token();
      const answer = await fn(token.id);
      if (answer.status !== 401) return answer;
      const said = rackspaceFault(answer) ?? providerSaid(answer.text);
      if (attempt > 0) throw new AuthenticationError(`Rackspace Identity refused a new token of the admin ${this.ctx.resource.adminUsername} too (HTTP 401: ${said}); nothing was changed`);
      this.ctx.log.info('rackspace: the admin token was refused before its expiry; fetching a new one', { identity: this.#base });
      const cached = await TOKENS.get(this.#tokenKey)?.catch(() => undefined);
      if (cached?.id === token.id) TOKENS.delete(this.#tokenKey);
    }
  }

  /** The cached admin token, or a new one when there is none or it is near its `expires`. */
  async #token(): Promise<Token> {
    const cached = TOKENS.get(this.#tokenKey);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expires - EXPIRY_MARGIN_MS > Date.now()) {
        this.ctx.redactor.add(token.id);
        return token;
      }
      if (TOKENS.get(this.#tokenKey) === cached) TOKENS.delete(this.#tokenKey);
    }
    let pending = TOKENS.get(this.#tokenKey);
    if (!pending) {
      pending = this.#authenticate();
      TOKENS.set(this.#tokenKey, pending);
      const mine = pending;
      pending.catch(() => {
        if (TOKENS.get(this.#tokenKey) === mine) TOKENS.delete(this.#tokenKey);
      });
    }
    const token = await pending;
    this.ctx.redactor.add(token.id);
    return token;
  }

  async #authenticate(): Promise<Token> {
    const r = this.ctx.resource;
    const secret = this.#secret.reveal();
    const credentials =
      r.adminCredential === 'apiKey'
        ? { 'RAX-KSKEY:apiKeyCredentials': { username: r.adminUsername, apiKey: secret } }
        : { passwordCredentials: { username: r.adminUsername, password: secret } };
    const answer = await this.#call({
      method: 'POST',
      url: `${this.#base}/tokens`,
      what: `Rackspace Identity POST /v2.0/tokens (as the admin ${r.adminUsername})`,
      effect: 'read',
      json: { auth: credentials },
      secrets: [secret],
      credentialsField: 'adminSecretId',
      answered: [401],
    });
    if (answer.status === 401) {
      const said = rackspaceFault(answer) ?? providerSaid(answer.text);
      if (/\bOS-MF\b/.test(answer.headers.get('www-authenticate') ?? '')) {
        throw new AuthenticationError(`Rackspace Identity: the admin ${r.adminUsername} signs in with multi-factor authentication, which an unattended reset cannot answer; give it an API key (adminCredential: apiKey) (HTTP 401: ${said})`);
      }
      throw new AuthenticationError(`Rackspace Identity refused the admin's ${r.adminCredential === 'apiKey' ? 'API key' : 'password'} (adminSecretId) for ${r.adminUsername} (HTTP 401: ${said}); nothing was changed`);
    }
    const token = jsonOf<{ access?: { token?: { id?: unknown; expires?: unknown } } }>(answer)?.access?.token;
    const expires = typeof token?.expires === 'string' ? Date.parse(token.expires) : NaN;
    if (typeof token?.id !== 'string' || token.id === '' || Number.isNaN(expires)) {
      throw new TargetUnchangedError(`Rackspace Identity POST /v2.0/tokens: HTTP ${answer.status} without a token and its expiry; nothing was changed`);
    }
    this.ctx.redactor.add(token.id);
    return { id: token.id, expires };
  }
}

export const createRackspaceAdapter: AdapterFactory<RackspaceResource> = (ctx) => new RackspaceAdapter(ctx);

/** For tests: forgets the tokens cached for the function instance's life. */
export function forgetRackspaceTokens(): void {
  TOKENS.clear();
}

