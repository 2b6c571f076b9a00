// The weblogic adapter against the RESTful management API simulator: what a user would see (the
// new password authenticates, the old one does not), the admin's own change, TLS checked against
// the resource's CA before any password leaves, X-Requested-By on every POST, WebLogic's own
// refusals with its words, a non-admin adminAccount, the password gauntlet, and no password
// where it must not be.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterContext, TargetAdapter } from '../../../layers/engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { Account } from '../../../layers/engine/types.js';
import { parseResource } from '../../../layers/resources/registry.js';
import { createWeblogicAdapter } from '../../../layers/resources/weblogic/adapter.js';
import type { WeblogicResource } from '../../../layers/resources/weblogic/schema.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import { uniqueName } from '../../../harness/servers/fixtures.js';
import { requestsContaining } from '../../simulators/https/server.js';
import { startWeblogicSimulator, type WeblogicGroup, type WeblogicSimulator } from '../../simulators/https/weblogic.js';
import { weblogicPasswordWorks } from '../../contracts/fixtures/weblogic.js';

let sim: WeblogicSimulator;
let wrongCa: string;
const ADMIN = 'weblogic';
const adminPassword = `Admin-${randomBytes(6).toString('hex')}`;
/** Every password used, for the leak search at the end. */
const secrets = new Set<string>([adminPassword]);
const adapters: TargetAdapter[] = [];
const seen: string[] = [];

beforeAll(async () => {
  sim = await startWeblogicSimulator();
  sim.addUser({ username: ADMIN, password: adminPassword, groups: ['Administrators'] });
  const dir = mkdtempSync(join(tmpdir(), 'rpr-wls-ca-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=another CA', '-addext', 'basicConstraints=critical,CA:TRUE'], { cwd: dir, stdio: 'ignore' });
    wrongCa = readFileSync(join(dir, 'ca.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
afterAll(async () => {
  await sim?.stop();
});
afterEach(async () => {
  sim.setFaults({});
  sim.setMinimumPasswordLength(8);
  for (const a of adapters.splice(0)) await a.close();
});

function pw(label: string): string {
  const p = `${label}-${randomBytes(5).toString('hex')}`;
  secrets.add(p);
  return p;
}

function user(password: string, groups: WeblogicGroup[] = ['Monitors']): Account {
  const username = uniqueName('wls');
  sim.addUser({ username, password, groups });
  return { id: `wls/${username}`, resourceId: 'wls', username, secretId: `rpr/wls/${username}`, tags: [] };
}

function context(over: Record<string, unknown> = {}, admin: { username: string; password: string } = { username: ADMIN, password: adminPassword }): AdapterContext<WeblogicResource> {
  const resource = parseResource({ id: 'wls', type: 'weblogic', host: '127.0.0.1', port: sim.port, caCertificate: testCertificates().ca, adminAccount: `wls/${admin.username}`, ...over }) as WeblogicResource;
  return adapterContext(resource, { admin: { accountId: `wls/${admin.username}`, username: admin.username, password: new Secret(admin.password) } }, { timeoutMs: 5_000 });
}

function adapter(over: Record<string, unknown> = {}, admin?: { username: string; password: string }): TargetAdapter {
  const a = createWeblogicAdapter(context(over, admin));
  adapters.push(a);
  return a;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => new Error('expected a failure'),
    (err: unknown) => err as Error,
  );
  seen.push(`${e.name}: ${e.message}\n${e.stack ?? ''}`);
  return e;
}

const works = (a: Account, password: string) => weblogicPasswordWorks(sim.origin, a.username, password);

describe('weblogic adapter on the RESTful management API simulator', () => {
  it('resets by resetUserPassword as the admin: the new password authenticates, the old one is refused, and verify says so', async () => {
    const old = pw('old');
    const account = user(old);
    const next = pw('new');
    const a = adapter();

    expect(await a.change({ account, newPassword: new Secret(next) })).toMatchObject({ method: 'admin reset: resetUserPassword' });

    expect(await works(account, next)).toBe(true);
    expect(await works(account, old)).toBe(false);
    expect(await a.verify({ account, password: new Secret(next) })).toMatchObject({ valid: true });
    expect(await a.verify({ account, password: new Secret(old) })).toMatchObject({ valid: false });
    expect(sim.requests.some((r) => r.method === 'POST' && r.url.endsWith('/serverConfig/securityConfiguration/realms/myrealm/authenticationProviders/DefaultAuthenticator/resetUserPassword'))).toBe(true);
  });

  it("changes the admin's own password with changeUserPassword and its current one, then resets others with the new one", async () => {
    const selfAdmin = uniqueName('wlsadm');
    const old = pw('adm-old');
    sim.addUser({ username: selfAdmin, password: old, groups: ['Administrators'] });
    const account: Account = { id: `wls/${selfAdmin}`, resourceId: 'wls', username: selfAdmin, secretId: `rpr/wls/${selfAdmin}`, tags: [] };
    const next = pw('adm-new');
    const a = adapter({}, { username: selfAdmin, password: old });
    const changesBefore = sim.requests.filter((r) => r.url.endsWith('/changeUserPassword')).length;

    expect(await a.change({ account, newPassword: new Secret(next), currentPassword: new Secret(old) })).toMatchObject({ method: 'self change (admin account): changeUserPassword' });

    expect(sim.requests.filter((r) => r.url.endsWith('/changeUserPassword')).length).toBe(changesBefore + 1);
    expect(await works(account, next)).toBe(true);
    expect(await works(account, old)).toBe(false);
    const other = user(pw('other-old'));
    const otherNext = pw('other-new');
    await a.change({ account: other, newPassword: new Secret(otherNext) });
    expect(await works(other, otherNext)).toBe(true);
  });

  it("refuses a certificate the resource's CA does not verify before any request reaches WebLogic, naming caCertificate", async () => {
    const old = pw('ca-old');
    const account = user(old);
    const before = sim.requests.length;
    const next = pw('ca-new');

    const e = await failure(adapter({ caCertificate: wrongCa }).change({ account, newPassword: new Secret(next) }));

    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('caCertificate');
    expect(sim.requests.length).toBe(before);
    expect(await works(account, old)).toBe(true);
  });

  it('refuses ssl: false before anything is sent: Basic credentials must not cross the network in clear', async () => {
    const before = sim.requests.length;
    const e = await failure(Promise.resolve().then(() => createWeblogicAdapter(context({ ssl: false }))));
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('ssl');
    expect(sim.requests.length).toBe(before);
  });

  it('sends X-Requested-By on every POST, which WebLogic requires (without it: 400, nothing done)', async () => {
    const account = user(pw('xrb-old'));
    await adapter().change({ account, newPassword: new Secret(pw('xrb-new')) });
    const posts = sim.requests.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.filter((r) => !r.headers['x-requested-by'])).toEqual([]);

    const bare = pw('xrb-bare');
    const res = await fetch(`${sim.origin}/management/weblogic/latest/serverConfig/securityConfiguration/realms/myrealm/authenticationProviders/DefaultAuthenticator/resetUserPassword`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${ADMIN}:${adminPassword}`).toString('base64')}` },
      body: JSON.stringify({ userName: account.username, newPassword: bare }),
    });
    await res.text();
    expect(res.status).toBe(400);
    expect(await works(account, bare)).toBe(false);
  });

  it("surfaces WebLogic's 400 refusal with its detail, and nothing changed", async () => {
    const old = pw('short-old');
    const account = user(old);
    sim.setMinimumPasswordLength(40);
    const changes = sim.user(account.username)!.passwordChanges;

    const e = await failure(adapter().change({ account, newPassword: new Secret(pw('short-new')) }));

    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toContain('HTTP 400: The password must be at least 40 characters long.');
    expect(sim.user(account.username)!.passwordChanges).toBe(changes);
    expect(await works(account, old)).toBe(true);
  });

  it('refuses an adminAccount outside the Administrators group (403) with a message naming adminAccount and the group', async () => {
    const monitor = uniqueName('wlsmon');
    const monitorPassword = pw('mon');
    sim.addUser({ username: monitor, password: monitorPassword, groups: ['Monitors'] });
    const old = pw('mon-target');
    const account = user(old);

    const e = await failure(adapter({}, { username: monitor, password: monitorPassword }).change({ account, newPassword: new Secret(pw('mon-new')) }));

    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('adminAccount');
    expect(e.message).toMatch(/HTTP 403.*Administrators group/);
    expect(await works(account, old)).toBe(true);
  });

  it("calls a wrong admin password an AuthenticationError before any password is sent", async () => {
    const account = user(pw('auth-old'));
    const before = sim.requests.filter((r) => r.method === 'POST').length;
    const e = await failure(adapter({}, { username: ADMIN, password: pw('wrong-admin') }).change({ account, newPassword: new Secret(pw('auth-new')) }));
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(sim.requests.filter((r) => r.method === 'POST').length).toBe(before);
  });

  it('names realm or authenticationProvider when WebLogic has no such one (404), before any password is sent', async () => {
    const account = user(pw('realm-old'));
    const realm = await failure(adapter({ realm: 'otherrealm' }).change({ account, newPassword: new Secret(pw('realm-new')) }));
    expect((realm as InvalidConfigurationError).field).toBe('realm');
    const provider = await failure(adapter({ authenticationProvider: 'LDAPAuthenticator' }).change({ account, newPassword: new Secret(pw('prov-new')) }));
    expect((provider as InvalidConfigurationError).field).toBe('authenticationProvider');
  });

  it('throws for a user the management API does not admit (403) rather than calling its password right or wrong', async () => {
    const password = pw('norole');
    const account = user(password, []);
    const e = await failure(adapter().verify({ account, password: new Secret(password) }));
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toMatch(/neither proved nor refused/);
  });

  it('the simulator answers a request without credentials 401 with a Basic challenge', async () => {
    const res = await fetch(`${sim.origin}/management/weblogic/latest/serverRuntime`);
    await res.text();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="default"');
  });

  it.each([
    ['quotes and backslashes', `'"\\'\\"\\\\ q-${randomBytes(3).toString('hex')}`],
    ['JSON-special characters', `{"a":[1,"\\u0041"]}\\/\\b\\t-${randomBytes(3).toString('hex')}`],
    ['a colon, which Basic splits the user name at', `pass:word:${randomBytes(3).toString('hex')}`],
    ['Unicode', `pässwörd-日本語-🔑-${randomBytes(3).toString('hex')}`],
    ['leading and trailing spaces', `  spaced-${randomBytes(3).toString('hex')}  `],
  ])('the gauntlet: a password with %s is set as sent and authenticates', async (_label, password) => {
    secrets.add(password);
    const account = user(pw('g-old'));
    const a = adapter();
    await a.change({ account, newPassword: new Secret(password) });
    expect(await works(account, password)).toBe(true);
    expect(await a.verify({ account, password: new Secret(password) })).toMatchObject({ valid: true });
  });

  it('(last) no password appears in an error, the simulator log, or a request URL or header as sent (Basic credentials travel base64-encoded, as HTTP carries them)', () => {
    const haystack = [...seen, ...sim.log].join('\n');
    for (const s of secrets) {
      expect(haystack.includes(s), 'a password in an error or the log').toBe(false);
      expect(requestsContaining(sim.requests, s, { bodies: false }).map((r) => `${r.method} ${r.url}`)).toEqual([]);
    }
  });
});
