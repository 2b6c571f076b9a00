import {
  AuthenticationError,
  InvalidConfigurationError,
  OutcomeUnknownError,
  ResetError,
  TargetTimeoutError,
  TargetUnchangedError,
  ThrottledError,
} from '../../engine/errors.js';
import { request as httpsRequest, type Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { waitingOutThrottles } from '../../engine/patience.js';
import { DeadlineExceeded, isTlsTrustFailure, withDeadline } from '../sql-common.js';

/**
 * What the cloud-identity adapters share when they call a provider's HTTPS API, whether through
 * Node's `fetch` (Graph, Rackspace) or a provider's library (msal, gaxios, jsforce): one reading of
 * an HTTP answer and of a network failure, by what the engine may do next.
 *
 * - `effect: 'read'` (a token, a lookup): any failure is "unchanged" (or a timeout, or throttled).
 * - `effect: 'change'` (the password set): a failure before the request can have left (no
 *   connection, TLS refused) is "unchanged"; after it, "outcome unknown" unless the provider
 *   answered with a status that says it did not act (throttling, authentication, a refusal the
 *   adapter lists). Whether a change may simply be sent again is the adapter's to say (an
 *   idempotent set of the same password is safe, and the engine's reconcile relies on it).
 *
 * TLS always verifies the provider (Node's trust store, plus NODE_EXTRA_CA_CERTS where the
 * function's environment sets one). Passwords go only in request bodies: never in a URL, which
 * `call` refuses when it sees one, and never in a message (the provider's words are kept, and the
 * engine's redactor runs over every error).
 */

export type ApiEffect = 'read' | 'change';

/** Codes of failures that happen before a request is written: nothing reached the provider. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_INVALID_URL']);

function causes(e: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let c: unknown = e; c !== undefined && c !== null && chain.length < 8; c = (c as { cause?: unknown }).cause) chain.push(c);
  return chain;
}

function codeIn(e: unknown): string | undefined {
  for (const c of causes(e)) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function describe(e: unknown): string {
  const chain = causes(e).map((c) => (c instanceof Error ? c.message : String(c)));
  return [...new Set(chain)].join(': ');
}

function isTimeout(e: unknown): boolean {
  return causes(e).some((c) => c instanceof Error && (c.name === 'TimeoutError' || c.name === 'AbortError'));
}

/**
 * A failure with no HTTP answer (the library threw), classified by `effect`. `what` names the call
 * ("Graph PATCH /users/{id}"), without identifiers that could be secret.
 */
export function networkFailure(e: unknown, what: string, effect: ApiEffect): ResetError {
  if (e instanceof ResetError) return e;
  if (causes(e).some(isTlsTrustFailure)) {
    return new TargetUnchangedError(`${what}: the provider's TLS certificate is not trusted (${describe(e)}); nothing was sent`, { cause: e });
  }
  const code = codeIn(e);
  if (code !== undefined && NOT_SENT_CODES.has(code)) {
    return code === 'UND_ERR_CONNECT_TIMEOUT'
      ? new TargetTimeoutError(`${what}: the provider did not accept a connection in time; nothing was sent`, { cause: e })
      : new TargetUnchangedError(`${what}: could not connect (${describe(e)}); nothing was sent`, { cause: e });
  }
  if (effect === 'read') {
    return isTimeout(e)
      ? new TargetTimeoutError(`${what}: no answer in time; nothing was changed`, { cause: e })
      : new TargetUnchangedError(`${what}: failed (${describe(e)}); nothing was changed`, { cause: e });
  }
  return new OutcomeUnknownError(`${what}: ${isTimeout(e) ? 'no answer in time' : `the connection failed (${describe(e)})`} after the request may have reached the provider`, { cause: e });
}

/**
 * A provider library's read (a token request) bounded by `ms`: past it, TargetTimeoutError (nothing
 * was changed), and the late answer or failure is dropped, never an unhandled rejection.
 */
export async function readWithin<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  try {
    return await withDeadline(what, ms, work, () => undefined);
  } catch (e) {
    if (e instanceof DeadlineExceeded) throw new TargetTimeoutError(`${what}: no answer within ${ms} ms; nothing was changed`, { cause: e });
    throw e;
  }
}

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface ApiAnswer {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  /** The body as text (bounded by the caller's library); parsed with `json()`. */
  readonly text: string;
}

/** The body as JSON, or undefined when it is not JSON. */
export function jsonOf<T = unknown>(answer: ApiAnswer): T | undefined {
  try {
    return answer.text === '' ? undefined : (JSON.parse(answer.text) as T);
  } catch {
    return undefined;
  }
}

/** The provider's words for a message: one line, bounded. */
export function providerSaid(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(t.length > 300 ? `${t.slice(0, 300)}...` : t);
}

export interface StatusReading {
  /** The provider's own refusal of the request (a password it will not take): "unchanged" with its reason. */
  readonly refusal?: (answer: ApiAnswer) => string | undefined;
  /** The field whose credentials a 401 refuses (the admin's secret). */
  readonly credentialsField?: string;
  /**
   * A provider's own throttling signal beyond 429/503 (Salesforce: 403 `REQUEST_LIMIT_EXCEEDED`;
   * Rackspace: 413 `overLimit`):
   * ThrottledError, nothing was done. Checked before 401/403 are read as authentication.
   */
  readonly throttled?: (answer: ApiAnswer) => boolean;
}

/**
 * Throws for an answer that is not a 2xx, classified as the module header says: 429, and 503 with
 * `Retry-After`, are ThrottledError (nothing was done: the workflow backs off); 401 and 403 are
 * AuthenticationError (the application's credentials or its permission); a refusal the adapter
 * recognises is TargetUnchangedError; anything else is unchanged for a read and unknown for a change.
 */
export function assertOk(answer: ApiAnswer, what: string, effect: ApiEffect, reading: StatusReading = {}): void {
  const { status } = answer;
  if (status >= 200 && status < 300) return;
  const body = providerSaid(answer.text);
  const wait = retryAfterMs(answer.headers.get('retry-after'));
  if (status === 429 || (status === 503 && wait !== undefined) || reading.throttled?.(answer) === true) {
    throw new ThrottledError(`${what}: the provider is throttling (HTTP ${status}${wait === undefined ? '' : `, retry after ${Math.ceil(wait / 1000)} s`}); nothing was changed`, { retryAfterMs: wait });
  }
  if (status === 401) throw new AuthenticationError(`${what}: the provider refused the credentials${reading.credentialsField ? ` of ${reading.credentialsField}` : ''} (HTTP 401): ${body}`);
  if (status === 403) throw new AuthenticationError(`${what}: the provider denied the permission the change needs (HTTP 403): ${body}`);
  const refused = reading.refusal?.(answer);
  if (refused !== undefined) throw new TargetUnchangedError(`${what}: the provider refused it: ${refused}`);
  if (effect === 'read' || status === 404) {
    throw new TargetUnchangedError(`${what}: HTTP ${status}: ${body}; nothing was changed`);
  }
  throw new OutcomeUnknownError(`${what}: HTTP ${status} after the request reached the provider: ${body}`);
}

export interface CallOptions extends StatusReading {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly what: string;
  readonly effect: ApiEffect;
  readonly timeoutMs: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON. */
  readonly json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  readonly form?: Readonly<Record<string, string>>;
  /** Values that must not appear in the URL (the passwords of the call): refused before sending if they do. */
  readonly secrets?: readonly string[];
  /** false: a throttled answer is thrown at once. Default: waited out (waitingOutThrottles) within the account's time. */
  readonly waitOutThrottles?: boolean;
  /** Statuses the caller reads itself, returned instead of thrown (a sign-in's 401 is the answer of a verify, not a failure). */
  readonly answered?: readonly number[];
  /**
   * Sent through node:https with this agent instead of fetch: Node's fetch takes no CA of its own,
   * and an on-premises target's certificate is checked against the resource's CA alone (the
   * agent's `ca`), not the trust store. The agent's keep-alive pool is the adapter's connection.
   */
  readonly agent?: Agent;
  /** With `agent`: the field holding the CA; a certificate it does not verify is InvalidConfigurationError naming it. */
  readonly caField?: string;
}

/** The most of an answer's body kept (a management API's error is a few hundred bytes). */
const MAX_BODY_BYTES = 1 << 20;

/**
 * One request through `agent`. A failure before the TLS handshake finished (nothing of the
 * request can have left) is classified as a read: unchanged, or a timeout, whatever `effect` says.
 */
function viaAgent(url: URL, options: CallOptions, headers: Record<string, string>, body: string | undefined): Promise<ApiAnswer> {
  return new Promise<ApiAnswer>((resolve, reject) => {
    let connected = false;
    const req = httpsRequest(url, { method: options.method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: options.agent, signal: AbortSignal.timeout(options.timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) chunks.push(c);
      });
      res.on('end', () => {
        const flat = new Map<string, string>();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat.set(k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode ?? 0, headers: { get: (name) => flat.get(name.toLowerCase()) ?? null }, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (e) => reject(networkFailure(e, options.what, options.effect)));
    });
    req.on('socket', (socket) => {
      // A pooled socket is connected already; a new one once its handshake is done.
      if (!(socket as TLSSocket).connecting && (socket as TLSSocket).encrypted && !(socket as TLSSocket).pending) connected = true;
      else socket.once('secureConnect', () => (connected = true));
    });
    req.on('error', (e) => {
      if (options.caField && causes(e).some(isTlsTrustFailure)) {
        reject(new InvalidConfigurationError(options.caField, `${options.what}: the server's TLS certificate is not verified by it (${describe(e)}); nothing was sent`, { cause: e }));
        return;
      }
      reject(networkFailure(e, options.what, connected ? options.effect : 'read'));
    });
    req.end(body);
  });
}

/**
 * One HTTPS call through Node's fetch (undici: keep-alive, TLS verified), bounded by `timeoutMs`,
 * classified by `assertOk` and `networkFailure`. Returns the 2xx answer. A throttled answer (the
 * provider did nothing) is sent again after the provider's Retry-After while the account's time
 * allows (waitingOutThrottles), so a bulk run at a provider's rate limit slows down instead of failing.
 */
export function call(options: CallOptions): Promise<ApiAnswer> {
  return options.waitOutThrottles === false ? callOnce(options) : waitingOutThrottles(() => callOnce(options));
}

async function callOnce(options: CallOptions): Promise<ApiAnswer> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new InvalidConfigurationError('host', `${options.what}: ${JSON.stringify(options.url)} is not a URL`);
  }
  if (url.protocol !== 'https:') throw new InvalidConfigurationError('host', `${options.what}: only HTTPS is used, not ${url.protocol}`);
  const full = decodeURIComponent(url.href);
  if (options.secrets?.some((s) => s.length > 0 && (url.href.includes(s) || full.includes(s)))) {
    throw new InvalidConfigurationError('account.username', `${options.what}: the request URL would contain a password; nothing was sent`);
  }
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  let answer: ApiAnswer;
  if (options.agent) {
    answer = await viaAgent(url, options, headers, body);
    if (!options.answered?.includes(answer.status)) assertOk(answer, options.what, options.effect, options);
    return answer;
  }
  try {
    const res = await fetch(url, { method: options.method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(options.timeoutMs), redirect: 'error' });
    answer = { status: res.status, headers: res.headers, text: await res.text() };
  } catch (e) {
    throw networkFailure(e, options.what, options.effect);
  }
  if (!options.answered?.includes(answer.status)) assertOk(answer, options.what, options.effect, options);
  return answer;
}
