/**
 * A Salesforce org, as far as a password reset by a connected app sees it, written from Salesforce's
 * documentation (not from our adapter):
 *
 * - OAuth 2.0 Client Credentials Flow for Server-to-Server Integration: `POST /services/oauth2/token`
 *   with a form `grant_type=client_credentials&client_id=…&client_secret=…` on the org's My Domain;
 *   the answer holds `access_token`, `instance_url`, `id`, `token_type: "Bearer"`, `issued_at`,
 *   `signature`; errors are `{"error","error_description"}` with HTTP 400 (`invalid_client_id`,
 *   `invalid_client`, `invalid_grant` when the app has no run-as user / the flow is off,
 *   `unsupported_grant_type`).
 *   https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm
 *   https://developer.salesforce.com/docs/atlas.en-us.262.0.chatterapi.meta/chatterapi/quickstart_connecting.htm
 *   https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_flow_errors.htm
 * - REST API with `Authorization: Bearer <token>`; errors are a JSON array `[{"message","errorCode"}]`;
 *   401 `INVALID_SESSION_ID` for a token that is unknown, revoked or expired ("Session expired or
 *   invalid"); 403 for a refusal, and 403 `REQUEST_LIMIT_EXCEEDED` when the org's API request limit
 *   is spent (Salesforce signals limits with 403, not 429); 404 `NOT_FOUND`; each answer carries
 *   `Sforce-Limit-Info: api-usage=USED/MAX`.
 *   https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
 *   https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
 *   https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
 * - sObject User Password: `GET /services/data/vNN.0/sobjects/User/{id}/password` → `{"isExpired": false}`;
 *   `POST` with `{"NewPassword": "…"}` → 204 with no body; a password against the org's policy →
 *   400 `INVALID_NEW_PASSWORD`; no permission → 403 `INSUFFICIENT_ACCESS`.
 *   https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_user_password.htm
 *   https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_user_password.htm
 * - Query: `GET /services/data/vNN.0/query?q=SOQL` → `{"totalSize","done","records":[{"attributes":{"type","url"},"Id"}]}`;
 *   only `SELECT Id FROM User WHERE Username = '<literal>'` (what the adapter needs) is implemented, but
 *   the literal is read by SOQL's documented escapes (\n \r \t \b \f \" \' \\ \uXXXX, either case for
 *   the letters; any other backslash is an error), and anything else is `MALFORMED_QUERY`.
 *   https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
 *   https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
 * - An org's default password policy: at least 8 characters, a mix of letters and numbers, 3
 *   passwords remembered (the current one among them).
 *   https://help.salesforce.com/s/articleView?id=sf.admin_password.htm
 *
 * The exact wording of the policy messages is not in the REST reference beyond its example ("Your
 * password must have a mix of letters and numbers."); the history and length wordings are the ones
 * Salesforce's UI shows, as far as we know.
 */
import { randomBytes } from 'node:crypto';
import { startHttpsSimulator, type HttpsSimulator, type SimRequest, type SimResponse } from './server.js';

export interface SalesforceApp {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The Client Credentials Flow is enabled with a run-as user. Default true. */
  readonly runAs?: boolean;
  /** The run-as user may manage users' passwords ("Manage Users"). Default true. */
  readonly manageUsers?: boolean;
}

export interface SalesforceUser {
  readonly id: string;
  readonly username: string;
  /** Current password first, then the ones remembered. */
  history: string[];
  expired: boolean;
}

export interface SalesforceSimulatorOptions {
  /** The org's API request limit (per 24 hours in Salesforce); beyond it 403 REQUEST_LIMIT_EXCEEDED. Default unlimited. */
  readonly apiRequestLimit?: number;
  /** Passwords remembered, the current one included (Salesforce's default: 3). */
  readonly historyDepth?: number;
  readonly minLength?: number;
}

export interface SalesforceSimulator {
  readonly https: HttpsSimulator;
  /** The My Domain URL (`https://127.0.0.1:PORT`). */
  readonly origin: string;
  readonly apps: Map<string, SalesforceApp>;
  readonly users: Map<string, SalesforceUser>;
  addApp(app: SalesforceApp): void;
  /** Creates a user with this password; returns its 18-character Id. */
  addUser(username: string, password: string): string;
  userByName(username: string): SalesforceUser | undefined;
  /** Ends every session (as a session timeout or an admin's revoke does). */
  expireSessions(): void;
  /** API requests counted against the limit so far; `resetApiUsage` starts a new 24-hour window. */
  apiUsage(): number;
  resetApiUsage(): void;
  stop(): Promise<void>;
}

const API_PATH = /^\/services\/data\/v(\d+)\.0(\/.*)$/;

const errors = (status: number, errorCode: string, message: string, headers?: Record<string, string>): SimResponse => ({ status, json: [{ message, errorCode }], ...(headers ? { headers } : {}) });
const oauthError = (error: string, description: string): SimResponse => ({ status: 400, json: { error, error_description: description } });

/** A Salesforce-shaped 18-character Id of a User (key prefix 005). */
function userId(n: number): string {
  return `005${String(n).padStart(12, '0')}AAA`;
}

/**
 * Reads `SELECT Id FROM User WHERE Username = '…'` (keywords in any case, any whitespace, an optional
 * `LIMIT n`), the literal by SOQL's escapes. Returns the user name, or an error message.
 */
export function parseUserQuery(q: string): { username: string } | { error: string } {
  const head = /^\s*SELECT\s+Id\s+FROM\s+User\s+WHERE\s+Username\s*=\s*'/i.exec(q);
  if (!head) return { error: `unexpected token in: ${q.slice(0, 80)}` };
  let i = head[0].length;
  let value = '';
  for (;;) {
    const c = q[i];
    if (c === undefined) return { error: 'unterminated string literal' };
    if (c === "'") break;
    if (c === '\\') {
      const n = q[i + 1];
      const simple: Record<string, string> = { n: '\n', N: '\n', r: '\r', R: '\r', t: '\t', T: '\t', b: '\b', B: '\b', f: '\f', F: '\f', '"': '"', "'": "'", '\\': '\\' };
      if (n !== undefined && simple[n] !== undefined) {
        value += simple[n];
        i += 2;
        continue;
      }
      const hex = /^u([0-9a-fA-F]{4})/.exec(q.slice(i + 1));
      if (hex) {
        value += String.fromCharCode(parseInt(hex[1]!, 16));
        i += 6;
        continue;
      }
      return { error: `invalid escape sequence \\${n ?? ''}` };
    }
    value += c;
    i++;
  }
  const rest = q.slice(i + 1);
  if (!/^\s*(LIMIT\s+\d+\s*)?$/i.test(rest)) return { error: `unexpected token: ${rest.trim().slice(0, 40)}` };
  return { username: value };
}

export async function startSalesforceSimulator(options: SalesforceSimulatorOptions = {}): Promise<SalesforceSimulator> {
  const apps = new Map<string, SalesforceApp>();
  const users = new Map<string, SalesforceUser>();
  const sessions = new Map<string, { clientId: string }>();
  const historyDepth = options.historyDepth ?? 3;
  const minLength = options.minLength ?? 8;
  let nextId = 1;
  let used = 0;
  let origin = '';

  const limitInfo = () => ({ 'sforce-limit-info': `api-usage=${used}/${options.apiRequestLimit ?? 5_000_000}` });

  function token(req: SimRequest): SimResponse {
    if (req.method !== 'POST') return { status: 405, text: 'Method Not Allowed' };
    const form = req.form();
    const grant = form.get('grant_type');
    if (grant !== 'client_credentials') return oauthError('unsupported_grant_type', 'grant type not supported');
    const app = apps.get(form.get('client_id') ?? '');
    if (!app) return oauthError('invalid_client_id', 'client identifier invalid');
    if (form.get('client_secret') !== app.clientSecret) return oauthError('invalid_client', 'invalid client credentials');
    if (app.runAs === false) return oauthError('invalid_grant', 'no client credentials user enabled');
    // The instance is the My Domain the request reached (a proxy in front of the simulator stays in the path).
    const instance = req.headers.host ? `https://${req.headers.host}` : origin;
    const accessToken = `00D000000000001!${randomBytes(24).toString('base64url')}`;
    sessions.set(accessToken, { clientId: app.clientId });
    return {
      status: 200,
      json: {
        access_token: accessToken,
        signature: randomBytes(32).toString('base64'),
        scope: 'api',
        instance_url: instance,
        id: `${instance}/id/00D000000000001AAA/005000000000000AAA`,
        token_type: 'Bearer',
        issued_at: String(Date.now()),
      },
    };
  }

  function policyFailure(user: SalesforceUser, password: string): string | undefined {
    if ([...password].length < minLength) return `Your password must be at least ${minLength} characters long.`;
    if (!/\p{L}/u.test(password) || !/\p{N}/u.test(password)) return 'Your password must have a mix of letters and numbers.';
    if (user.history.slice(0, historyDepth).includes(password)) return 'You cannot reuse this old password.';
    return undefined;
  }

  function api(req: SimRequest, version: number, rest: string): SimResponse {
    const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const session = auth ? sessions.get(auth[1]!) : undefined;
    if (!session) return errors(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    if (options.apiRequestLimit !== undefined && used >= options.apiRequestLimit) {
      return errors(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.', limitInfo());
    }
    used++;
    const app = apps.get(session.clientId);
    const answer = (r: SimResponse): SimResponse => ({ ...r, headers: { ...r.headers, ...limitInfo() } });
    if (rest === '/query' || rest === '/query/') {
      if (req.method !== 'GET') return answer(errors(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${req.method}' not allowed. Allowed are GET`));
      const q = req.query.get('q');
      if (q === null) return answer(errors(400, 'MALFORMED_QUERY', 'A query string has to be specified'));
      const parsed = parseUserQuery(q);
      if ('error' in parsed) return answer(errors(400, 'MALFORMED_QUERY', parsed.error));
      const found = [...users.values()].filter((u) => u.username.toLowerCase() === parsed.username.toLowerCase());
      return answer({
        status: 200,
        json: { totalSize: found.length, done: true, records: found.map((u) => ({ attributes: { type: 'User', url: `/services/data/v${version}.0/sobjects/User/${u.id}` }, Id: u.id })) },
      });
    }
    const pw = /^\/sobjects\/User\/([A-Za-z0-9]{15}|[A-Za-z0-9]{18})\/password$/.exec(rest);
    if (!pw) return answer(errors(404, 'NOT_FOUND', 'The requested resource does not exist'));
    const id = pw[1]!;
    const user = users.get(id) ?? [...users.values()].find((u) => u.id.slice(0, 15) === id);
    if (!user) return answer(errors(404, 'NOT_FOUND', 'Provided external ID field does not exist or is not accessible: ' + id));
    if (app?.manageUsers === false) return answer(errors(403, 'INSUFFICIENT_ACCESS', 'You do not have permission to view this record.'));
    if (req.method === 'GET' || req.method === 'HEAD') return answer({ status: 200, json: { isExpired: user.expired } });
    if (req.method !== 'POST') return answer(errors(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${req.method}' not allowed. Allowed are GET,HEAD,POST,DELETE`));
    const body = req.json<{ NewPassword?: unknown }>();
    if (body === undefined || typeof body !== 'object' || body === null) return answer(errors(400, 'JSON_PARSER_ERROR', 'The request body is not valid JSON'));
    if (typeof body.NewPassword !== 'string') return answer(errors(400, 'INVALID_FIELD', 'NewPassword is required'));
    const refused = policyFailure(user, body.NewPassword);
    if (refused) return answer(errors(400, 'INVALID_NEW_PASSWORD', refused));
    user.history = [body.NewPassword, ...user.history].slice(0, Math.max(historyDepth, 1));
    user.expired = false;
    return answer({ status: 204 });
  }

  const https = await startHttpsSimulator((req) => {
    if (req.path === '/services/oauth2/token') return token(req);
    const m = API_PATH.exec(req.path);
    if (m) return api(req, Number(m[1]), m[2]!);
    return errors(404, 'NOT_FOUND', 'The requested resource does not exist');
  });
  origin = https.origin;

  return {
    https,
    origin,
    apps,
    users,
    addApp: (app) => void apps.set(app.clientId, app),
    addUser(username, password) {
      const id = userId(nextId++);
      users.set(id, { id, username, history: [password], expired: false });
      return id;
    },
    userByName: (username) => [...users.values()].find((u) => u.username.toLowerCase() === username.toLowerCase()),
    expireSessions: () => sessions.clear(),
    apiUsage: () => used,
    resetApiUsage: () => void (used = 0),
    stop: () => https.stop(),
  };
}
