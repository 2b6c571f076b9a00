/**
 * Salesforce: a connected app's OAuth 2.0 client-credentials flow, then the REST API's sObject User
 * Password resource (`POST /services/data/vNN.0/sobjects/User/{id}/password` with `{"NewPassword"}`,
 * 204). A user name is turned into its Id by a SOQL query whose literal is escaped as SOQL defines.
 *
 * Libraries: jsforce's `OAuth2` (its own module, `jsforce/lib/oauth2`) takes the token, pointed at the
 * org by its supported `loginUrl`; the two REST calls go through the shared HTTPS core (fetch, TLS
 * verified, timeouts, one classification). The whole of jsforce bundles to 1.35 MB minified and loads
 * in 110-170 ms, past the function budget with the engine beside it; its `Connection` alone is 0.77 MB,
 * `OAuth2` alone 0.52 MB and ~60 ms, and the REST calls need nothing jsforce adds (its retries would
 * even resend a GET we would rather classify ourselves).
 *
 * Verification is `none`: the only read-back the API offers, `GET …/password`, says whether the
 * password is expired, which proves nothing about which password the user holds. It serves the dry
 * run instead (the app may read the user's password status: the right the change needs).
 *
 * Classification, Salesforce's way: 401 `INVALID_SESSION_ID` is an ended session (the token is taken
 * again once, then it is the app's credentials); 403 `REQUEST_LIMIT_EXCEEDED` is the org's API limit,
 * which Salesforce signals with 403, not 429: a ThrottledError here, so the workflow backs off; other
 * 403s (`INSUFFICIENT_ACCESS`) are the run-as user's permission; 400 `INVALID_NEW_PASSWORD` (length,
 * complexity, history) is "unchanged" with Salesforce's reason.
 *
 * A change whose answer was lost is settled at once by sending the same password again, never
 * another: 204 means it is set now; the history refusal ("cannot reuse") means the first one landed,
 * since the password was generated for this change and nobody else knew it. Anything else stays
 * "outcome unknown" for the engine.
 */
import { OAuth2 } from 'jsforce/lib/oauth2.js';
import type { AdapterContext, ChangeRequest, ChangeResult, PreflightFinding, PreflightRequest, TargetAdapter, VerifyResult } from '../../engine/adapter.js';
import type { Account } from '../../engine/account.js';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, ResetError, TargetTimeoutError, TargetUnchangedError, ThrottledError } from '../../engine/errors.js';
import { assertPasswordAcceptable } from '../../engine/policy.js';
import { call, jsonOf, networkFailure, providerSaid, readWithin, type ApiAnswer, type ApiEffect } from '../cloud/https.js';
import { SALESFORCE_USER_ID, type SalesforceResource } from './schema.js';

/** A SOQL string literal's content: backslash and quote escaped, control characters by their escapes (SOQL's documented sequences). */
export function soqlLiteral(value: string): string {
  return value.replace(/[\\'"\n\r\t\b\f]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' })[c]!);
}

interface SalesforceError {
  readonly errorCode?: string;
  readonly message?: string;
}

function errorsOf(answer: ApiAnswer): SalesforceError[] {
  const body = jsonOf<unknown>(answer);
  return Array.isArray(body) ? (body as SalesforceError[]) : body && typeof body === 'object' ? [body as SalesforceError] : [];
}

const hasCode = (answer: ApiAnswer, code: string) => errorsOf(answer).some((e) => e.errorCode === code);

/**
 * Salesforce's refusal of a new password, in its words; and any other 400 with its errors (a request
 * it could not take: "the request couldn't be understood", so it did nothing).
 */
function passwordRefusal(answer: ApiAnswer): string | undefined {
  const all = errorsOf(answer).filter((e) => typeof e.errorCode === 'string');
  const refused = all.filter((e) => e.errorCode === 'INVALID_NEW_PASSWORD');
  if (refused.length) return `INVALID_NEW_PASSWORD: ${providerSaid(refused.map((e) => e.message ?? '').join(' '))}; the password was not changed`;
  if (answer.status === 400 && all.length) return `${all.map((e) => e.errorCode).join(', ')}: ${providerSaid(all.map((e) => e.message ?? '').join(' '))}; the password was not changed`;
  return undefined;
}

/** The refusal of a password the user held before (the org's password history). */
const isHistoryRefusal = (message: string) => /INVALID_NEW_PASSWORD/.test(message) && /reuse|history|previous password/i.test(message);

interface Session {
  readonly accessToken: string;
  readonly instanceUrl: string;
}

/** OAuth errors of the token endpoint that mean the app's credentials or setup. */
const CREDENTIAL_ERRORS = new Set(['invalid_client_id', 'invalid_client', 'invalid_client_credentials', 'invalid_grant', 'unauthorized_client', 'inactive_user', 'inactive_org']);

export function createSalesforceAdapter(ctx: AdapterContext<SalesforceResource>): TargetAdapter {
  const r = ctx.resource;
  const secret = ctx.secrets.clientSecret;
  if (!secret) throw new InvalidConfigurationError('clientSecretSecretId', 'the connected app\'s consumer secret was not resolved');
  // The client, once per adapter (per function instance's resource group); its token is kept for
  // the adapter's life and taken again only when Salesforce ends the session.
  const oauth2 = new OAuth2({ loginUrl: r.instanceUrl, clientId: r.clientId, clientSecret: secret.reveal() });
  let session: Promise<Session> | undefined;
  const ids = new Map<string, string>();

  async function requestToken(): Promise<Session> {
    const what = 'Salesforce token request (client credentials)';
    let res: { access_token?: unknown; instance_url?: unknown };
    try {
      res = (await readWithin(what, ctx.timeoutMs, oauth2.requestToken({ grant_type: 'client_credentials' }))) as typeof res;
    } catch (e) {
      throw tokenFailure(e, what);
    }
    if (typeof res?.access_token !== 'string' || typeof res.instance_url !== 'string' || !/^https:\/\/[^/?#@]+\/?$/.test(res.instance_url)) {
      throw new TargetUnchangedError(`${what}: the answer holds no access token and HTTPS instance_url; nothing was changed`);
    }
    return { accessToken: res.access_token, instanceUrl: res.instance_url.replace(/\/$/, '') };
  }

  function tokenFailure(e: unknown, what: string): ResetError {
    if (e instanceof ResetError) return e;
    const name = e instanceof Error ? e.name : '';
    const said = providerSaid(e instanceof Error ? e.message : String(e));
    if (CREDENTIAL_ERRORS.has(name)) {
      const field = name === 'invalid_client_id' ? 'clientId' : 'clientSecretSecretId';
      const hint = name === 'invalid_grant' ? " (is the Client Credentials Flow enabled with a run-as user, and is `instance` the org's My Domain URL?)" : '';
      return new AuthenticationError(`${what}: Salesforce refused the connected app's credentials (${field}): ${name}: ${said}${hint}`);
    }
    if (name === 'rate_limit_exceeded' || name === 'ERROR_HTTP_429' || name === 'ERROR_HTTP_503') {
      return new ThrottledError(`${what}: Salesforce is limiting token requests (${name}); nothing was changed`);
    }
    if (name === 'unsupported_grant_type') {
      return new InvalidConfigurationError('instance', `${what}: ${said}: the client-credentials flow needs the org's My Domain URL (https://NAME.my.salesforce.com), not ${r.instanceUrl}`);
    }
    if (name === 'ERROR_HTTP_401' || name === 'ERROR_HTTP_403') {
      return new AuthenticationError(`${what}: Salesforce refused the connected app (${name}): ${said}`);
    }
    // Another OAuth error code (jsforce names the error by it), or an HTTP status without one.
    if (/^[a-z_]+$/.test(name) || /^ERROR_HTTP_\d+$/.test(name)) {
      return new TargetUnchangedError(`${what}: ${name}: ${said}; nothing was changed`);
    }
    return networkFailure(e, what, 'read');
  }

  const sessionNow = () => (session ??= requestToken().catch((e: unknown) => {
    session = undefined;
    throw e;
  }));

  /** One REST call on the session; a session Salesforce ended (401 INVALID_SESSION_ID) is renewed once. */
  async function rest(method: 'GET' | 'POST', path: string, what: string, effect: ApiEffect, options: { json?: unknown; secrets?: readonly string[]; refusal?: (a: ApiAnswer) => string | undefined } = {}): Promise<ApiAnswer> {
    for (let attempt = 0; ; attempt++) {
      const s = await sessionNow();
      try {
        return await call({
          method,
          url: `${s.instanceUrl}/services/data/v${r.apiVersion}${path}`,
          what,
          effect,
          timeoutMs: ctx.timeoutMs,
          headers: { authorization: `Bearer ${s.accessToken}` },
          ...(options.json === undefined ? {} : { json: options.json }),
          ...(options.secrets ? { secrets: options.secrets } : {}),
          credentialsField: 'clientSecretSecretId',
          // The org's limit is a rolling 24-hour count: waiting seconds within the account's time
          // does not help, so a limited answer goes straight to the workflow, which backs off.
          waitOutThrottles: false,
          throttled: (a) => a.status === 403 && hasCode(a, 'REQUEST_LIMIT_EXCEEDED'),
          ...(options.refusal ? { refusal: options.refusal } : {}),
        });
      } catch (e) {
        // 401 (Salesforce: INVALID_SESSION_ID): the session ended; Salesforce did nothing with the
        // request, so it is sent once more on a new token. The core names the status in its message.
        if (e instanceof AuthenticationError && /\(HTTP 401\)/.test(e.message) && attempt === 0) {
          if (session !== undefined && (await session.catch(() => undefined)) === s) session = undefined;
          continue;
        }
        throw e;
      }
    }
  }

  async function userId(account: Account): Promise<string> {
    const name = account.username;
    if (SALESFORCE_USER_ID.test(name)) return name;
    const known = ids.get(name);
    if (known) return known;
    const q = `SELECT Id FROM User WHERE Username = '${soqlLiteral(name)}'`;
    const answer = await rest('GET', `/query?q=${encodeURIComponent(q)}`, 'Salesforce query of the User by Username', 'read');
    const records = jsonOf<{ records?: { Id?: unknown }[] }>(answer)?.records ?? [];
    const id = records[0]?.Id;
    if (records.length !== 1 || typeof id !== 'string') {
      throw new TargetUnchangedError(`Salesforce has ${records.length === 0 ? 'no' : records.length} User with Username ${JSON.stringify(name)}; nothing was changed`);
    }
    ids.set(name, id);
    return id;
  }

  async function setPassword(id: string, password: string): Promise<void> {
    await rest('POST', `/sobjects/User/${id}/password`, 'Salesforce POST /sobjects/User/{id}/password', 'change', {
      json: { NewPassword: password },
      secrets: [password],
      refusal: passwordRefusal,
    });
  }

  return {
    type: 'salesforce',
    verification: 'none',
    async change(req: ChangeRequest): Promise<ChangeResult> {
      assertPasswordAcceptable(ctx.policy, req.newPassword, 'newPassword');
      const id = await userId(req.account);
      const password = req.newPassword.reveal();
      const method = 'admin reset (REST sObject User Password, connected app)';
      /** Sets it; true when Salesforce refuses it as one the user held (history): see the header. */
      const send = async (): Promise<boolean> => {
        try {
          await setPassword(id, password);
          return false;
        } catch (e) {
          if (e instanceof TargetUnchangedError && isHistoryRefusal(e.message)) return true;
          throw e;
        }
      };
      let held: boolean;
      try {
        held = await send();
      } catch (e) {
        if (!(e instanceof OutcomeUnknownError)) throw e;
        // The answer was lost: the same password again (never another) settles it.
        held = await send().catch(() => {
          throw e;
        });
      }
      // The engine's retry of a change sends the same pending password: Salesforce's history refusal
      // of a password generated for this change means it was set by it (the change is idempotent).
      return { method: held ? `${method}; already set: Salesforce refuses it as a password the user holds or held` : method };
    },
    verify(): Promise<VerifyResult> {
      // Never called for `none`: Salesforce offers no read-back of which password a user holds.
      return Promise.reject(new TargetUnchangedError('Salesforce cannot prove a password without a sign-in as the user, which this type does not attempt'));
    },
    async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
      await sessionNow();
      const findings: PreflightFinding[] = [];
      for (const account of req.accounts) {
        try {
          const id = await userId(account);
          const status = jsonOf<{ isExpired?: unknown }>(await rest('GET', `/sobjects/User/${id}/password`, 'Salesforce GET /sobjects/User/{id}/password', 'read'));
          findings.push({ accountId: account.id, check: 'right to set the password', ok: true, detail: `the app may read the password status of User ${id} (isExpired: ${String(status?.isExpired)})` });
        } catch (e) {
          if (e instanceof ThrottledError || e instanceof TargetTimeoutError) throw e;
          findings.push({ accountId: account.id, check: 'right to set the password', ok: false, detail: e instanceof Error ? e.message : String(e) });
        }
      }
      return findings;
    },
    close: () => Promise.resolve(),
  };
}
