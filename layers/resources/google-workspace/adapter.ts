import { createHash } from 'node:crypto';
// The Directory API's own file and the JWT client's, not the packages' indexes: the indexes load
// the Reports and Data Transfer APIs and every other credential type (bench/bundles.ts measures it).
import { admin_directory_v1 } from '@googleapis/admin/build/directory_v1.js';
import { JWT } from 'google-auth-library/build/src/auth/jwtclient.js';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, TargetAdapter, VerifyResult } from '../../engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, NotSupportedError, OutcomeUnknownError, ResetError, ThrottledError } from '../../engine/errors.js';
import { waitingOutThrottles } from '../../engine/patience.js';
import { assertPasswordAcceptable } from '../../engine/policy.js';
import { assertOk, networkFailure, providerSaid, retryAfterMs, type ApiAnswer, type ApiEffect } from '../cloud/https.js';
import { sha512Crypt } from './crypt.js';
import type { GoogleWorkspaceResource } from './schema.js';

/** The one scope asked for, and the one the Workspace admin delegates to the service account's client id. */
export const DIRECTORY_USER_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user';

/**
 * Called with each JWT client as it is made. The library posts its grant to a hard-coded
 * https://oauth2.googleapis.com/token (gtoken 8, google-auth-library 10.5: no option, and the key
 * file's `token_uri` is ignored), so a test points that one request at its simulator here with a
 * request interceptor. The product never sets it.
 */
export const jwtClientHook: { onCreate?: (jwt: JWT) => void } = {};

interface ServiceAccountKey {
  readonly client_email: string;
  readonly private_key: string;
}

const KEY_FIELD = 'serviceAccountKeySecretId';

/** The key file's two fields the grant needs, or a configuration error naming the secret (never quoting it). */
function readKey(text: string): ServiceAccountKey {
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new InvalidConfigurationError(KEY_FIELD, "the secret is not a service account's JSON key file");
  }
  if (typeof key !== 'object' || key === null || key.type !== 'service_account') throw new InvalidConfigurationError(KEY_FIELD, 'the key file\'s "type" must be "service_account"');
  if (typeof key.client_email !== 'string' || key.client_email === '') throw new InvalidConfigurationError(KEY_FIELD, 'the key file has no "client_email"');
  if (typeof key.private_key !== 'string' || !key.private_key.includes('PRIVATE KEY')) throw new InvalidConfigurationError(KEY_FIELD, 'the key file has no PEM "private_key"');
  return { client_email: key.client_email, private_key: key.private_key };
}

interface GoogleClients {
  readonly jwt: JWT;
  readonly directory: admin_directory_v1.Admin;
}

/**
 * Clients per key, admin and endpoint, for the function instance's life: the JWT client keeps
 * its access token until it expires, so a warm function asks Google for one token an hour.
 */
const CLIENTS = new Map<string, GoogleClients>();

function clientsFor(key: ServiceAccountKey, subject: string, rootUrl: string, timeoutMs: number): GoogleClients {
  const id = createHash('sha256').update(JSON.stringify([key.client_email, key.private_key, subject, rootUrl, timeoutMs])).digest('hex');
  let clients = CLIENTS.get(id);
  if (!clients) {
    // Retries are ours (waitingOutThrottles, and the one resend of an unanswered update), not gaxios's.
    const jwt = new JWT({ email: key.client_email, key: key.private_key, subject, scopes: [DIRECTORY_USER_SCOPE], transporterOptions: { timeout: timeoutMs } });
    jwtClientHook.onCreate?.(jwt);
    const directory = new admin_directory_v1.Admin({ auth: jwt, rootUrl, timeout: timeoutMs, retry: false });
    clients = { jwt, directory };
    CLIENTS.set(id, clients);
  }
  return clients;
}

interface GaxiosLikeError {
  readonly message?: string;
  readonly cause?: unknown;
  readonly response?: { readonly status: number; readonly data?: unknown; readonly headers?: unknown };
}

/** A gaxios failure's HTTP answer, when there was one, in the shape https.ts reads. */
function answerOf(e: unknown): ApiAnswer | undefined {
  const res = (e as GaxiosLikeError | undefined)?.response;
  if (!res || typeof res.status !== 'number') return undefined;
  const h = res.headers;
  const get = (name: string): string | null => {
    if (h instanceof Headers) return h.get(name);
    const v = (h as Record<string, unknown> | undefined)?.[name];
    return typeof v === 'string' ? v : null;
  };
  const text = typeof res.data === 'string' ? res.data : res.data === undefined ? '' : JSON.stringify(res.data);
  return { status: res.status, headers: { get }, text };
}

/** Google's JSON error (`{"error": {"code", "message", "errors": [{"reason"}]}}`): its message and reasons. */
function googleError(answer: ApiAnswer): { message: string; reasons: string[] } | undefined {
  try {
    const body = JSON.parse(answer.text) as { error?: { message?: unknown; errors?: { reason?: unknown }[] } };
    if (typeof body.error !== 'object' || body.error === null) return undefined;
    const reasons = (body.error.errors ?? []).map((x) => x.reason).filter((r): r is string => typeof r === 'string');
    return { message: typeof body.error.message === 'string' ? body.error.message : '', reasons };
  } catch {
    return undefined;
  }
}

/** Google answers an exceeded Directory API quota with 403 (rateLimitExceeded, userRateLimitExceeded, quotaExceeded) as well as 429. */
const QUOTA_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

/**
 * A failure with nothing of the library's request in it: gaxios errors carry their request
 * (headers with the bearer token, the body with the hash), which no record of ours keeps.
 */
function withoutRequest(e: unknown): Error {
  const g = e as GaxiosLikeError;
  return new Error(g.message ?? String(e), { cause: g.cause instanceof Error ? new Error(g.cause.message, { cause: (g.cause as { cause?: unknown }).cause }) : undefined });
}

function networkCause(e: unknown): Error {
  // networkFailure reads codes (ECONNREFUSED, ...) and timeouts from the cause chain; keep those, nothing else.
  const chain: Error[] = [];
  for (let c: unknown = e; c instanceof Error && chain.length < 8; c = c.cause) chain.push(c);
  let out: Error | undefined;
  for (const c of chain.reverse()) {
    const copy = new Error(c.message, out ? { cause: out } : undefined);
    copy.name = c.name;
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') Object.assign(copy, { code });
    out = copy;
  }
  return out ?? withoutRequest(e);
}

/** The token endpoint's refusals (RFC 6749 §5.2, as Google words them), with what to set up. */
function tokenFailure(e: unknown, subject: string): ResetError {
  const answer = answerOf(e);
  if (!answer) return networkFailure(networkCause(e), 'Google OAuth token', 'read');
  const wait = retryAfterMs(answer.headers.get('retry-after'));
  if (answer.status === 429 || (answer.status >= 500 && wait !== undefined)) {
    return new ThrottledError(`Google OAuth token: throttled (HTTP ${answer.status}); nothing was changed`, { retryAfterMs: wait });
  }
  let error: string;
  try {
    const body = JSON.parse(answer.text) as { error?: unknown; error_description?: unknown };
    error = `${String(body.error ?? '')}${body.error_description ? `: ${String(body.error_description)}` : ''}`;
  } catch {
    error = answer.text;
  }
  const hint = /^unauthorized_client/.test(error)
    ? `; in the Admin console (Security > API controls > Domain-wide delegation) the service account's client id needs the scope ${DIRECTORY_USER_SCOPE}`
    : /^invalid_grant/.test(error)
      ? `; check the key in ${KEY_FIELD} (revoked or wrong), the clock, and that adminEmail ${JSON.stringify(subject)} is a user of the domain`
      : '';
  if (answer.status >= 400 && answer.status < 500) return new AuthenticationError(`Google OAuth token: the grant was refused (HTTP ${answer.status}): ${providerSaid(error)}${hint}; nothing was changed`);
  return networkFailure(new Error(`HTTP ${answer.status}: ${providerSaid(error)}`), 'Google OAuth token', 'read');
}

/** A Directory API failure classified as https.ts does, with Google's quota 403s and refusals read. */
function directoryFailure(e: unknown, what: string, effect: ApiEffect): ResetError {
  if (e instanceof ResetError) return e;
  const answer = answerOf(e);
  if (!answer) return networkFailure(networkCause(e), what, effect);
  const said = googleError(answer);
  if (answer.status === 403 && said?.reasons.some((r) => QUOTA_REASONS.has(r))) {
    return new ThrottledError(`${what}: the Directory API quota is exhausted (HTTP 403 ${said.reasons.join(', ')}); nothing was changed`, { retryAfterMs: retryAfterMs(answer.headers.get('retry-after')) });
  }
  try {
    assertOk(answer, what, effect, {
      credentialsField: KEY_FIELD,
      // 400 is Google's refusal of the request as a whole ("Invalid Password", "Invalid Input"): nothing was done.
      refusal: (a) => (a.status === 400 ? providerSaid(said?.message || a.text) : undefined),
    });
  } catch (classified) {
    if (classified instanceof ResetError) return classified;
    throw classified;
  }
  return new OutcomeUnknownError(`${what}: unexpected failure after the request was sent: ${providerSaid(withoutRequest(e).message)}`);
}

/** A 401 from the Directory API, carried until the adapter has tried a new token. */
class TokenRefusedError extends Error {
  constructor(readonly classified: ResetError) {
    super(classified.message);
  }
}

class GoogleWorkspaceAdapter implements TargetAdapter {
  readonly type = 'google-workspace';
  /** The Directory API cannot test a password and never returns one: its answer to the update is all there is. */
  readonly verification = 'none' as const;
  readonly #ctx: AdapterContext<GoogleWorkspaceResource>;
  readonly #clients: GoogleClients;

  constructor(ctx: AdapterContext<GoogleWorkspaceResource>) {
    this.#ctx = ctx;
    const secret = ctx.secrets.serviceAccountKey;
    if (!secret) throw new InvalidConfigurationError(KEY_FIELD, 'the service account key secret was not given');
    const r = ctx.resource;
    const rootUrl = `https://${r.host.includes(':') && !r.host.startsWith('[') ? `[${r.host}]` : r.host}${r.port !== 443 ? `:${r.port}` : ''}/`;
    this.#clients = clientsFor(readKey(secret.reveal()), r.adminEmail, rootUrl, ctx.timeoutMs);
  }

  /** The access token for the admin: asked for once, then the JWT client's cached one until it expires (or `fresh`). */
  async #authorize(options: { fresh?: boolean } = {}): Promise<void> {
    const jwt = this.#clients.jwt;
    // Marked expired, the cached token is replaced by a new grant (gtoken's own cache included:
    // the JWT client forces it when its token is expiring).
    if (options.fresh) jwt.credentials = { ...jwt.credentials, expiry_date: 1 };
    await waitingOutThrottles(() =>
      jwt.getAccessToken().then(
        () => undefined,
        (e: unknown) => {
          throw tokenFailure(e, this.#ctx.resource.adminEmail);
        },
      ),
    );
  }

  /**
   * One Directory API call, throttled answers waited out. A 401 means Google no longer takes the
   * cached access token (it expired early, or was revoked) and did nothing: the token is dropped,
   * a new grant asked for, and the call made once more. The JWT client itself would keep
   * offering the old token until its expiry time.
   */
  async #directory(what: string, effect: ApiEffect, call: () => Promise<unknown>): Promise<void> {
    const failed = (e: unknown): never => {
      throw answerOf(e)?.status === 401 ? new TokenRefusedError(directoryFailure(e, what, effect)) : directoryFailure(e, what, effect);
    };
    const once = () =>
      waitingOutThrottles(() =>
        call().then(
          () => undefined,
          // A read that met no answer at all (a kept-alive connection the server had just closed)
          // is safe to make again, once, on a new connection.
          (e: unknown) => (effect === 'read' && answerOf(e) === undefined && !(e instanceof ResetError) ? call().then(() => undefined, failed) : failed(e)),
        ),
      );
    try {
      await once();
    } catch (e) {
      if (!(e instanceof TokenRefusedError)) throw e;
      this.#ctx.log.info('google-workspace: the access token was refused; asking for a new one', { call: what });
      await this.#authorize({ fresh: true });
      await once().catch((again: unknown) => {
        throw again instanceof TokenRefusedError ? again.classified : again;
      });
    }
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    assertPasswordAcceptable(this.#ctx.policy, req.newPassword, 'newPassword');
    const userKey = req.account.username;
    const requestBody: admin_directory_v1.Schema$User = {
      password: sha512Crypt(req.newPassword),
      hashFunction: 'crypt',
      changePasswordAtNextLogin: this.#ctx.resource.changePasswordAtNextLogin,
    };
    await this.#authorize();
    // A read first, on the connection the update then reuses: a user Google does not know, a
    // missing role, or a provider that does not answer are found with nothing sent that changes
    // anything (a hung TLS handshake and a lost answer to the update look alike from here).
    await this.#directory('Directory API users.get', 'read', () => this.#clients.directory.users.get({ userKey, fields: 'id' }));
    const what = 'Directory API users.update';
    const update = () => this.#directory(what, 'change', () => this.#clients.directory.users.update({ userKey, requestBody }));
    try {
      await update();
    } catch (e) {
      if (!(e instanceof OutcomeUnknownError)) throw e;
      // users.update sets the fields it is given and nothing else: sending the same body again
      // (the same hash, the same flag) leaves the user as one delivery would, so an update whose
      // answer was lost is sent once more and that answer decides.
      this.#ctx.log.info('google-workspace: the update had no answer; sending the identical update once more', { errorClass: e.name });
      await update().catch((again: unknown) => {
        // Whatever the second answer says, the first update may have landed.
        if (again instanceof OutcomeUnknownError) throw again;
        throw new OutcomeUnknownError(`${e.message}; sending it again failed too (${again instanceof Error ? again.message : String(again)})`);
      });
    }
    return { method: this.#ctx.resource.changePasswordAtNextLogin ? 'admin reset (SHA-512 crypt hash; change required at next sign-in)' : 'admin reset (SHA-512 crypt hash)' };
  }

  verify(): Promise<VerifyResult> {
    return Promise.reject(new NotSupportedError('verification', 'the Directory API cannot test a password; the update\'s answer is the only confirmation'));
  }

  async close(): Promise<void> {
    // The clients live for the function instance (CLIENTS); nothing is held per group.
  }
}

export const createGoogleWorkspaceAdapter: AdapterFactory<GoogleWorkspaceResource> = (ctx) => new GoogleWorkspaceAdapter(ctx);
