// The Salesforce adapter against the org simulator (test/simulators/https/salesforce.ts): what a user
// sees, as the simulator's stored passwords show it, for the app's credentials, Salesforce's
// refusals, its API request limit, lost answers and sessions that end.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetAdapter } from '../../../layers/engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError, ThrottledError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createSalesforceAdapter, soqlLiteral } from '../../../layers/resources/salesforce/adapter.js';
import { parseResource } from '../../../layers/resources/registry.js';
import type { SalesforceResource } from '../../../layers/resources/salesforce/schema.js';
import type { Account } from '../../../layers/resources/common.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { requestsContaining } from '../../simulators/https/server.js';
import { startSalesforceSimulator, type SalesforceSimulator } from '../../simulators/https/salesforce.js';

const CLIENT_ID = '3MVG9.rpr_adapter_test';
const SECRET = 'app-secret-0123456789abcdef';
let n = 0;
const pw = (label: string) => `${label}-${++n}-${Math.random().toString(36).slice(2, 10)}-Aa1`;

describe('salesforce adapter on the org simulator', () => {
  let sim: SalesforceSimulator;
  const adapters: TargetAdapter[] = [];
  const passwords = new Set<string>([SECRET]);

  beforeAll(async () => {
    sim = await startSalesforceSimulator({ apiRequestLimit: 1_000_000 });
  });
  afterAll(async () => {
    // No password in any URL or header the simulator received (bodies carry the new ones, as they must).
    for (const p of passwords) expect(requestsContaining(sim.https.requests, p, { bodies: false }), 'a password in a URL or header').toEqual([]);
    await sim.stop();
  });
  beforeEach(() => {
    sim.apps.clear();
    sim.addApp({ clientId: CLIENT_ID, clientSecret: SECRET });
    sim.https.setFaults({});
    sim.resetApiUsage();
  });
  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.close();
  });

  function adapter(over: Record<string, unknown> = {}, secret = SECRET, timeoutMs = 5_000): TargetAdapter {
    const r = parseResource({ id: 'sf', type: 'salesforce', clientId: CLIENT_ID, clientSecretSecretId: 'rpr/sf/app', instance: sim.origin, ...over }) as SalesforceResource;
    const ctx = adapterContext(r, {}, { secrets: [secret], timeoutMs });
    const a = createSalesforceAdapter({ ...ctx, secrets: { clientSecret: new Secret(secret) } });
    adapters.push(a);
    return a;
  }
  function user(label: string, username = `${label}-${++n}@acme.test`): { account: Account; old: string; id: string } {
    const old = pw(`${label}-old`);
    passwords.add(old);
    const id = sim.addUser(username, old);
    return { account: { id: `sf/${username}`, resourceId: 'sf', username, secretId: `s/${username}` } as Account, old, id };
  }
  const current = (id: string) => sim.users.get(id)!.history[0];
  async function failure(p: Promise<unknown>): Promise<Error> {
    return p.then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    );
  }
  const change = (a: TargetAdapter, account: Account, password: string) => {
    passwords.add(password);
    return a.change({ account, newPassword: new Secret(password) });
  };

  it('resets by user name (one SOQL lookup) and by User Id (none), on one token for the adapter\'s life', async () => {
    const a = adapter();
    const byName = user('byname');
    const byId = user('byid');
    const before = sim.https.requests.length;
    const p1 = pw('new');
    const p2 = pw('new');
    await change(a, byName.account, p1);
    await change(a, { ...byId.account, username: byId.id }, p2);
    expect(current(byName.id)).toBe(p1);
    expect(current(byId.id)).toBe(p2);
    const sent = sim.https.requests.slice(before);
    expect(sent.filter((r) => r.url === '/services/oauth2/token')).toHaveLength(1);
    expect(sent.filter((r) => r.url.includes('/query?'))).toHaveLength(1);
    expect(sent.filter((r) => r.method === 'POST' && r.url.endsWith('/password')).map((r) => r.url)).toEqual([
      `/services/data/v62.0/sobjects/User/${byName.id}/password`,
      `/services/data/v62.0/sobjects/User/${byId.id}/password`,
    ]);
  });

  it('escapes the user name as a SOQL literal: a name with quotes finds only its own user', async () => {
    expect(soqlLiteral("o'brien\\x\n\"")).toBe("o\\'brien\\\\x\\n\\\"");
    const bystander = user('bystander', 'victim@acme.test');
    const quoted = user('quoted', "o'brien@acme.test");
    const p = pw('quoted');
    await change(adapter(), quoted.account, p);
    expect(current(quoted.id)).toBe(p);
    expect(current(bystander.id)).toBe(bystander.old);
    // Past the user name rule (the adapter escapes whatever it is given): a literal that tries to
    // close the quote finds no user, and nothing changes.
    const e = await failure(change(adapter(), { ...bystander.account, username: "x' OR Username = 'victim@acme.test" }, pw('inject')));
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toContain('no User with Username');
    expect(current(bystander.id)).toBe(bystander.old);
  });

  it('wrong or unknown app credentials, or an app without the flow: AuthenticationError naming the field, nothing changed', async () => {
    const u = user('auth');
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{}, 'wrong-secret', /clientSecretSecretId.*invalid_client/],
      [{ clientId: '3MVG9.unknown' }, SECRET, /clientId.*invalid_client_id/],
    ];
    for (const [over, secret, message] of cases) {
      const e = await failure(change(adapter(over, secret), u.account, pw('never')));
      expect(e, e.message).toBeInstanceOf(AuthenticationError);
      expect(e.message).toMatch(message);
    }
    sim.addApp({ clientId: CLIENT_ID, clientSecret: SECRET, runAs: false });
    const e = await failure(change(adapter(), u.account, pw('never')));
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.message).toMatch(/invalid_grant.*run-as user/);
    expect(sim.users.get(u.id)!.history).toEqual([u.old]);
  });

  it('a session Salesforce ended is taken again once; a secret revoked meanwhile is an AuthenticationError, nothing changed', async () => {
    const a = adapter();
    const u = user('session');
    await change(a, u.account, pw('first'));
    sim.expireSessions();
    const second = pw('second');
    await change(a, u.account, second);
    expect(current(u.id)).toBe(second);

    sim.expireSessions();
    sim.addApp({ clientId: CLIENT_ID, clientSecret: 'rotated-at-the-app' });
    const e = await failure(change(a, u.account, pw('never')));
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(current(u.id)).toBe(second);
  });

  it('the run-as user without the right to manage users: AuthenticationError with INSUFFICIENT_ACCESS, nothing changed', async () => {
    sim.addApp({ clientId: CLIENT_ID, clientSecret: SECRET, manageUsers: false });
    const u = user('access');
    const e = await failure(change(adapter(), u.account, pw('never')));
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.message).toContain('INSUFFICIENT_ACCESS');
    expect(current(u.id)).toBe(u.old);
  });

  it('a password the org refuses (INVALID_NEW_PASSWORD) is unchanged with Salesforce\'s reason', async () => {
    const u = user('refused');
    const e = await failure(change(adapter(), u.account, 'only-letters-and-dashes'));
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toContain('INVALID_NEW_PASSWORD');
    expect(e.message).toContain('mix of letters and numbers');
    expect(current(u.id)).toBe(u.old);
    // Below the type's policy: refused before anything is sent.
    const before = sim.https.requests.length;
    const short = await failure(change(adapter(), u.account, 'Ab1'));
    expect(short).toBeInstanceOf(InvalidConfigurationError);
    expect((short as InvalidConfigurationError).field).toBe('newPassword');
    expect(sim.https.requests.length).toBe(before);
  });

  it('the org\'s API request limit (403 REQUEST_LIMIT_EXCEEDED, not 429) is a ThrottledError, nothing changed; once the window passes the same change ends well', async () => {
    // An org with one API request left in its 24-hour window: the lookup takes it, the POST is over the limit.
    const org = await startSalesforceSimulator({ apiRequestLimit: 1 });
    try {
      org.addApp({ clientId: CLIENT_ID, clientSecret: SECRET });
      const username = `limit-${++n}@acme.test`;
      const old = pw('limit-old');
      const id = org.addUser(username, old);
      const account = { id: `sf/${username}`, resourceId: 'sf', username, secretId: `s/${username}` } as Account;
      const a = adapter({ instance: org.origin });
      const p = pw('limited');
      const e = await failure(change(a, account, p));
      expect(e, e.message).toBeInstanceOf(ThrottledError);
      expect(e.message).toContain('nothing was changed');
      const last = org.https.requests.at(-1)!;
      expect(last.method).toBe('POST');
      expect(org.users.get(id)!.history).toEqual([old]);
      org.resetApiUsage(); // the window passed; the workflow's retry sends the same change
      await change(a, account, p);
      expect(org.users.get(id)!.history).toEqual([p, old]);
    } finally {
      await org.stop();
    }
  });

  it('an answer lost after Salesforce set the password: the same password is sent again (never another) and the change is settled', async () => {
    const u = user('cut');
    const a = adapter();
    const p = pw('cut');
    sim.https.setFaults({ cut: { when: 'after', match: (r) => r.method === 'POST' && r.url.endsWith('/password') } });
    const before = sim.https.requests.length;
    const result = await change(a, u.account, p);
    expect(result.method).toContain('already set');
    const posts = sim.https.requests.slice(before).filter((r) => r.method === 'POST' && r.url.endsWith('/password'));
    expect(posts.map((r) => JSON.parse(r.body) as unknown)).toEqual([{ NewPassword: p }, { NewPassword: p }]);
    expect(sim.users.get(u.id)!.history).toEqual([p, u.old]);
  });

  it('an answer lost before Salesforce acted: the same password sent again sets it', async () => {
    const u = user('cutbefore');
    const p = pw('cutbefore');
    sim.https.setFaults({ cut: { when: 'before', match: (r) => r.method === 'POST' && r.url.endsWith('/password') } });
    const result = await change(adapter(), u.account, p);
    expect(result.method).not.toContain('already set');
    expect(sim.users.get(u.id)!.history).toEqual([p, u.old]);
  });

  it('a dry run checks the right to set each account\'s password by its read-back, changing nothing', async () => {
    const u = user('dry');
    const findings = await adapter().preflight!({ accounts: [u.account, { ...u.account, id: 'sf/ghost', username: 'ghost@acme.test' }] });
    expect(findings).toMatchObject([
      { accountId: u.account.id, ok: true, detail: expect.stringContaining('isExpired: false') },
      { accountId: 'sf/ghost', ok: false, detail: expect.stringContaining('no User') },
    ]);
    expect(current(u.id)).toBe(u.old);
  });

  it('bad configuration: a missing client secret and a plain-HTTP instance name their fields', () => {
    const r = parseResource({ id: 'sf', type: 'salesforce', clientId: CLIENT_ID, clientSecretSecretId: 'rpr/sf/app', instance: sim.origin }) as SalesforceResource;
    let e: unknown;
    try {
      createSalesforceAdapter(adapterContext(r, {}));
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('clientSecretSecretId');
    expect(() => parseResource({ id: 'sf', type: 'salesforce', clientId: CLIENT_ID, clientSecretSecretId: 'rpr/sf/app', instance: sim.origin.replace('https', 'http') })).toThrow(InvalidConfigurationError);
  });
});
