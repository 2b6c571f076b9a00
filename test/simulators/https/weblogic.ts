/**
 * The RESTful management API of an Oracle WebLogic Server 12.2.1+ Administration Server, simulated
 * over HTTPS (server.ts) from Oracle's documentation:
 *
 * - "Send Requests", RESTful Management Services 12.2.1.4
 *   (https://docs.oracle.com/en/middleware/fusion-middleware/weblogic-server/12.2.1.4/wlrdr/send-requests.html):
 *   URLs `/management/weblogic/{version}/{resource path}`, `latest` or a version such as `12.2.1.4`;
 *   JSON bodies; `Content-Type: application/json` required on POST; `X-Requested-By: MyClient`
 *   "used to protect against Cross-Site Request Forgery (CSRF) attacks".
 * - "Status Codes", same book (https://docs.oracle.com/en/middleware/fusion-middleware/weblogic-server/12.2.1.4/wlrem/status-codes.html):
 *   200 for a successful GET or POST; 400 "missing or invalid information (such as a validation
 *   error on a parameter)"; 401 "authentication credentials ... missing or invalid"; 403 "does not
 *   have authorization"; 404 "a resource URI that does not exist"; 405; 415 a wrong Content-Type.
 * - "Add Users" (https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/wlrsc/add-user.html):
 *   a security provider's MBean operation is invoked as `POST .../serverConfig/securityConfiguration/
 *   realms/myrealm/authenticationProviders/DefaultAuthenticator/<operation>` with HTTP Basic
 *   (`curl --user`), `X-Requested-By`, and the operation's parameters by name in a JSON object; the
 *   answer is `200 OK` with `{}`. Operations that change a provider's data are invoked on the
 *   serverConfig tree, not edit (WLST: "you cannot invoke the createUser operation ... from the
 *   edit hierarchy"); the reference lists the Admin, Deployer, Operator and Monitor roles as the
 *   callers of these resources (".../14.1.2/wlrsc/op-management-weblogic-version-serverconfig-securityconfiguration-realms-name-get.html").
 * - UserPasswordEditorMBean, MBean Reference (https://docs.oracle.com/cd/E13222_01/wls/docs91/wlsmbeanref/mbeans/UserPasswordEditorMBean.html,
 *   the same in 12.2.1's Java API Reference, https://docs.oracle.com/cd/E72987_01/wls/WLAPI/weblogic/management/security/authentication/UserPasswordEditorMBean.html):
 *   `changeUserPassword(userName, oldPassword, newPassword)` "used by a user to change his or her
 *   password"; `resetUserPassword(userName, newPassword)` "used by an administrator"; both throw
 *   NotFoundException (no such user) and InvalidParameterException ("The Authentication provider
 *   determines the syntax requirements for passwords").
 * - DefaultAuthenticatorMBean (https://docs.oracle.com/cd/E12839_01/apirefs.1111/e13951/mbeans/DefaultAuthenticatorMBean.html):
 *   `MinimumPasswordLength`, default 8.
 *
 * What the documents leave open, and what this simulator does instead:
 * - A POST without X-Requested-By: WebLogic's REST layer is Jersey, whose CsrfProtectionFilter
 *   answers 400 Bad Request, with no body, to a request other than GET, HEAD or OPTIONS that lacks
 *   the header (Oracle's own account of that filter:
 *   https://docs.oracle.com/cd/E66311_01/books/eBillingWeb/eBillingWeb_Custom9.html). The request
 *   is authenticated first (the servlet container's Basic login runs before Jersey's filters).
 * - Error bodies: `{"type", "title": "FAILURE", "detail": "...", "status"}`, the shape Oracle's
 *   WebLogic Remote Console reads from WebLogic's REST answers (title as severity, detail as text,
 *   optionally a list under `wls:errorsDetails`; github.com/oracle/weblogic-remote-console,
 *   WebLogicRestClientHelper.java). The `type` URI and the detail wording are the simulator's.
 * - A 401 carries `WWW-Authenticate: Basic realm="default"`.
 * - `GET .../serverRuntime` (the server's own runtime bean) answers 200 to a caller in any of the
 *   four management roles and 403 to an authenticated user in none: the management web
 *   application admits those roles only.
 * - A NotFoundException (no such user) is 404 with the error body; an InvalidParameterException
 *   (a password too short, a wrong old password) is 400.
 * - User names are matched without regard to case, as the embedded LDAP server compares `uid`.
 *
 * Passwords are kept as salted SHA-256 digests, never in clear; `log` records what the server did,
 * never a password. Every request is recorded by the core (the leak search reads them) and the
 * core's faults (cuts, throttling, delays) apply.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { startHttpsSimulator, type HttpsSimulator, type SimRequest, type SimResponse } from './server.js';

/** The groups the default security roles are granted to (Securing Resources Using Roles and Policies: "Default Global Roles"). */
export type WeblogicGroup = 'Administrators' | 'Deployers' | 'Operators' | 'Monitors';
const MANAGEMENT_GROUPS: readonly WeblogicGroup[] = ['Administrators', 'Deployers', 'Operators', 'Monitors'];

export interface WeblogicUser {
  readonly username: string;
  groups: WeblogicGroup[];
  readonly salt: Buffer;
  digest: Buffer;
  passwordChanges: number;
}

export interface WeblogicSimulatorOptions {
  /** The security realm's name; `myrealm` by default. */
  readonly realm?: string;
  /** The authentication provider's name; `DefaultAuthenticator` by default. */
  readonly provider?: string;
  /** The provider's MinimumPasswordLength; 8 (its documented default) unless given. */
  readonly minimumPasswordLength?: number;
}

export interface WeblogicSimulator extends HttpsSimulator {
  addUser(user: { username: string; password: string; groups?: WeblogicGroup[] }): WeblogicUser;
  removeUser(username: string): void;
  user(username: string): WeblogicUser | undefined;
  /** Whether `password` is the user's (checked against its digest, not through HTTP). */
  passwordIs(username: string, password: string): boolean;
  /** The provider's MinimumPasswordLength from now on (an administrator's stricter setting). */
  setMinimumPasswordLength(length: number): void;
  /** What the server did, one line each; never a password. */
  readonly log: readonly string[];
}

const VERSION = /^(latest|12\.2\.1(\.\d+){0,2}|14\.1\.\d+(\.\d+){0,2})$/;
const ERROR_TYPE = 'http://oracle/TBD/WlsRestMessageSchema';

const failure = (status: number, detail: string): SimResponse => ({ status, json: { type: ERROR_TYPE, title: 'FAILURE', detail, status } });

function digestOf(salt: Buffer, password: string): Buffer {
  return createHash('sha256').update(salt).update(password, 'utf8').digest();
}

/** The user name and password of a Basic Authorization header (RFC 7617: the user-id ends at the first colon), or undefined. */
function basic(header: string | undefined): { username: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export async function startWeblogicSimulator(options: WeblogicSimulatorOptions = {}): Promise<WeblogicSimulator> {
  const realm = options.realm ?? 'myrealm';
  const provider = options.provider ?? 'DefaultAuthenticator';
  let minimumLength = options.minimumPasswordLength ?? 8;
  const users = new Map<string, WeblogicUser>(); // by lower-case name
  const log: string[] = [];

  const find = (name: string) => users.get(name.toLowerCase());
  const matches = (u: WeblogicUser, password: string) => timingSafeEqual(u.digest, digestOf(u.salt, password));
  const inRole = (u: WeblogicUser) => u.groups.some((g) => MANAGEMENT_GROUPS.includes(g));

  /** The caller, or the 401 to answer. */
  function authenticate(req: SimRequest): WeblogicUser | SimResponse {
    const creds = basic(req.headers['authorization']);
    const u = creds && find(creds.username);
    if (!creds || !u || !matches(u, creds.password)) {
      log.push(`authentication refused${creds ? ` for ${JSON.stringify(creds.username)}` : ': no Basic credentials'}`);
      return { status: 401, headers: { 'www-authenticate': 'Basic realm="default"' }, text: '' };
    }
    return u;
  }

  function setPassword(target: WeblogicUser, password: string, by: WeblogicUser, how: string): SimResponse {
    target.digest = digestOf(target.salt, password);
    target.passwordChanges++;
    log.push(`${how}: password of ${JSON.stringify(target.username)} changed by ${JSON.stringify(by.username)}`);
    return { status: 200, json: {} };
  }

  /** InvalidParameterException of the DefaultAuthenticator's password syntax check, or undefined. */
  function passwordProblem(password: string): string | undefined {
    if ([...password].length < minimumLength) return `The password must be at least ${minimumLength} characters long.`;
    return undefined;
  }

  function operation(req: SimRequest, caller: WeblogicUser, name: string): SimResponse {
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) return failure(415, 'Unsupported Media Type: the request must be application/json.');
    const body = req.json<Record<string, unknown>>();
    if (!body || typeof body !== 'object' || Array.isArray(body)) return failure(400, 'The request body is not a JSON object.');
    const params = name === 'resetUserPassword' ? ['userName', 'newPassword'] : ['userName', 'oldPassword', 'newPassword'];
    for (const p of params) if (typeof body[p] !== 'string') return failure(400, `Missing or invalid argument: ${p}.`);
    const userName = body.userName as string;
    const newPassword = body.newPassword as string;
    if (!inRole(caller)) return failure(403, `User ${caller.username} is not authorized to invoke ${name}.`);
    if (name === 'resetUserPassword') {
      if (!caller.groups.includes('Administrators')) {
        log.push(`resetUserPassword of ${JSON.stringify(userName)} refused: ${JSON.stringify(caller.username)} is not in the Admin role`);
        return failure(403, `User ${caller.username} is not authorized to invoke resetUserPassword on ${provider}: the Admin role is required.`);
      }
      const target = find(userName);
      if (!target) return failure(404, `User ${userName} does not exist.`);
      const problem = passwordProblem(newPassword);
      if (problem) {
        log.push(`resetUserPassword of ${JSON.stringify(target.username)} refused: too short`);
        return failure(400, problem);
      }
      return setPassword(target, newPassword, caller, 'resetUserPassword');
    }
    // changeUserPassword: "used by a user to change his or her password"; an administrator may too.
    const target = find(userName);
    if (target !== caller && !caller.groups.includes('Administrators')) return failure(403, `User ${caller.username} is not authorized to change the password of another user.`);
    if (!target) return failure(404, `User ${userName} does not exist.`);
    if (!matches(target, body.oldPassword as string)) {
      log.push(`changeUserPassword of ${JSON.stringify(target.username)} refused: wrong old password`);
      return failure(400, 'The old password is not correct.');
    }
    const problem = passwordProblem(newPassword);
    if (problem) {
      log.push(`changeUserPassword of ${JSON.stringify(target.username)} refused: too short`);
      return failure(400, problem);
    }
    return setPassword(target, newPassword, caller, 'changeUserPassword');
  }

  function handle(req: SimRequest): SimResponse {
    const m = /^\/management\/weblogic\/([^/]+)(\/.*)?$/.exec(req.path.replace(/\/+$/, ''));
    // The management application authenticates every request under it, even one for a path it lacks.
    const caller = authenticate(req);
    if (!('salt' in caller)) return caller;
    if (!m || !VERSION.test(m[1]!)) return failure(404, 'Not Found');
    if (req.method === 'POST' && req.headers['x-requested-by'] === undefined) {
      log.push(`POST refused: no X-Requested-By (${JSON.stringify(caller.username)})`);
      return { status: 400, text: '' };
    }
    const rest = (m[2] ?? '').split('/').slice(1).map(decodeURIComponent);
    if (rest.length === 1 && rest[0] === 'serverRuntime') {
      if (req.method !== 'GET') return failure(405, 'Method Not Allowed');
      if (!inRole(caller)) return failure(403, `User ${caller.username} is not authorized to view this resource.`);
      return { status: 200, json: { name: 'AdminServer', state: 'RUNNING', weblogicVersion: '12.2.1.4.0' } };
    }
    // serverConfig/securityConfiguration/realms/{realm}[/authenticationProviders/{provider}[/{operation}]]
    if (rest[0] !== 'serverConfig' || rest[1] !== 'securityConfiguration' || rest[2] !== 'realms' || rest.length < 4) return failure(404, 'Not Found');
    if (!inRole(caller)) return failure(403, `User ${caller.username} is not authorized to view this resource.`);
    if (rest[3] !== realm) return failure(404, `Not Found: no realm ${rest[3]}`);
    if (rest.length === 4) return req.method === 'GET' ? { status: 200, json: { name: realm, identity: ['securityConfiguration', 'realms', realm] } } : failure(405, 'Method Not Allowed');
    if (rest[4] !== 'authenticationProviders' || rest.length < 6) return failure(404, 'Not Found');
    if (rest[5] !== provider) return failure(404, `Not Found: no authentication provider ${rest[5]}`);
    if (rest.length === 6) {
      return req.method === 'GET'
        ? { status: 200, json: { name: provider, type: 'DefaultAuthenticator', minimumPasswordLength: minimumLength, controlFlag: 'SUFFICIENT' } }
        : failure(405, 'Method Not Allowed');
    }
    if (rest.length === 7 && (rest[6] === 'resetUserPassword' || rest[6] === 'changeUserPassword')) {
      return req.method === 'POST' ? operation(req, caller, rest[6]) : failure(405, 'Method Not Allowed');
    }
    return failure(404, 'Not Found');
  }

  const sim = await startHttpsSimulator(handle);
  return Object.assign(sim, {
    log,
    addUser(u: { username: string; password: string; groups?: WeblogicGroup[] }): WeblogicUser {
      if (find(u.username)) throw new Error(`user ${u.username} exists`);
      const salt = randomBytes(16);
      const user: WeblogicUser = { username: u.username, groups: [...(u.groups ?? [])], salt, digest: digestOf(salt, u.password), passwordChanges: 0 };
      users.set(u.username.toLowerCase(), user);
      return user;
    },
    removeUser(username: string): void {
      users.delete(username.toLowerCase());
    },
    user: (username: string) => find(username),
    passwordIs(username: string, password: string): boolean {
      const u = find(username);
      return u !== undefined && matches(u, password);
    },
    setMinimumPasswordLength(length: number): void {
      minimumLength = length;
    },
  });
}
