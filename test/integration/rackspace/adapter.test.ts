// The rackspace adapter against the Cloud Identity v2.0 simulator: what a user would see (the new
// password gets a token, the old one does not), the admin's credentials refused, Identity's own
// refusals, its 413 rate limit, an expired cached token, a cut after the change, configuration
// errors, and no password, key or token where it must not be.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AdapterContext, TargetAdapter } from '../../../layers/engine/adapter.js';
import type { Account } from '../../../layers/engine/types.js';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { parseResource } from '../../../layers/resources/registry.js';
import { createRackspaceAdapter, forgetRackspaceTokens } from '../../../layers/resources/rackspace/adapter.js';
import type { RackspaceResource } from '../../../layers/resources/rackspace/schema.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { uniqueName } from '../../../harness/servers/fixtures.js';
import { requestsContaining } from '../../simulators/https/server.js';
import { startRackspaceSimulator, type RackspaceSimulator } from '../../simulators/https/rackspace.js';
import { rackspacePasswordWorks } from '../../contracts/fixtures/rackspace.js';

let sim: RackspaceSimulator;
const ADMIN = 'raxadmin';
const ADMIN_PASSWORD = `Admin-${randomBytes(6).toString('hex')}-Aa1`;
const API_KEY = randomBytes(16).toString('hex');
/** Every secret used, for the leak search at the end. */
const secrets = new Set<string>([ADMIN_PASSWORD, API_KEY]);
const adapters: TargetAdapter[] = [];
const seen: string[] = [];

beforeAll(async () => {
  sim = await startRackspaceSimulator();
  sim.addUser({ username: ADMIN, password: ADMIN_PASSWORD, apiKey: API_KEY, role: 'identity:user-admin' });
});
afterAll(async () => {
  await sim?.stop();
});
beforeEach(() => forgetRackspaceTokens());
afterEach(async () => {
  sim.setFaults({});
  for (const a of adapters.splice(0)) await a.close();
});

function pw(label: string): string {
  const p = `${label}-${randomBytes(5).toString('hex')}-Aa1`;
  secrets.add(p);
  return p;
}

function user(password: string, options: { multiFactor?: boolean } = {}): Account {
  const username = uniqueName('rax');
  sim.addUser({ username, password, ...options });
  return { id: `rax/${username}`, resourceId: 'rax', username, secretId: `rpr/rax/${username}`, tags: [] };
}

/** `secret` null: the context holds no admin secret at all. */
function context(over: Record<string, unknown> = {}, secret: string | null = API_KEY): AdapterContext<RackspaceResource> {
  const resource = parseResource({ id: 'rax', type: 'rackspace', host: '127.0.0.1', port: sim.port, adminUsername: ADMIN, adminSecretId: 'rpr/rax/admin', ...over }) as RackspaceResource;
  return { ...adapterContext(resource, {}, { secrets: secret === null ? [] : [secret], timeoutMs: 5_000 }), secrets: secret === null ? {} : { admin: new Secret(secret) } };
}

function adapter(over: Record<string, unknown> = {}, secret: string | null = API_KEY): TargetAdapter {
  const a = createRackspaceAdapter(context(over, secret));
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

const works = (a: Account, password: string) => rackspacePasswordWorks(sim.origin, a.username, password);
const updatesOf = (a: Account) => sim.requests.filter((r) => r.method === 'POST' && r.url === `/v2.0/users/${sim.user(a.username)!.id}`).length;

describe('rackspace adapter on the Cloud Identity v2.0 simulator', () => {
  it("resets by the admin's API key: the new password gets a token, the old one is refused, and verify says so", async () => {
    const old = pw('old');
    const fresh = pw('new');
    const acct = user(old);
    const a = adapter();
    const result = await a.change({ account: acct, newPassword: new Secret(fresh) });
    expect(result.method).toMatch(/admin reset: Cloud Identity v2.0 update user/);
    expect(await works(acct, fresh)).toBe(true);
    expect(await works(acct, old)).toBe(false);
    expect(await a.verify({ account: acct, password: new Secret(fresh) })).toMatchObject({ valid: true });
    expect(await a.verify({ account: acct, password: new Secret(old) })).toMatchObject({ valid: false, detail: expect.stringMatching(/HTTP 401/) });
    const update = sim.requests.find((r) => r.method === 'POST' && r.url.startsWith('/v2.0/users/'))!;
    expect(JSON.parse(update.body)).toEqual({ user: { 'OS-KSADM:password': fresh } });
    expect(update.headers['x-auth-token']).toMatch(/^[0-9a-f]{32}$/);
  });

  it("resets by the admin's password (passwordCredentials) as well", async () => {
    const acct = user(pw('old'));
    const fresh = pw('new');
    await adapter({ adminCredential: 'password' }, ADMIN_PASSWORD).change({ account: acct, newPassword: new Secret(fresh) });
    expect(await works(acct, fresh)).toBe(true);
    const tokenRequest = sim.requests.filter((r) => r.url === '/v2.0/tokens').map((r) => JSON.parse(r.body) as { auth: Record<string, { username?: string }> });
    expect(tokenRequest.some((b) => b.auth.passwordCredentials?.username === ADMIN)).toBe(true);
  });

  it('a wrong or empty admin API key, or a wrong admin password: AuthenticationError naming adminSecretId, and no update sent', async () => {
    const old = pw('old');
    const acct = user(old);
    const before = sim.requests.length;
    const wrongKey = await failure(adapter({}, 'f'.repeat(32)).change({ account: acct, newPassword: new Secret(pw('never')) }));
    expect(wrongKey).toBeInstanceOf(AuthenticationError);
    expect(wrongKey.message).toMatch(/refused the admin's API key \(adminSecretId\).*HTTP 401/);
    const wrongPassword = await failure(adapter({ adminCredential: 'password' }, 'Wrong-Passw0rd').change({ account: acct, newPassword: new Secret(pw('never')) }));
    expect(wrongPassword).toBeInstanceOf(AuthenticationError);
    expect(wrongPassword.message).toMatch(/admin's password \(adminSecretId\)/);
    expect(() => adapter({}, '')).toThrow(InvalidConfigurationError);
    expect(() => adapter({}, null)).toThrow(/adminSecretId/);
    expect(sim.requests.slice(before).filter((r) => r.url.startsWith('/v2.0/users')).length).toBe(0);
    expect(await works(acct, old)).toBe(true);
  });

  it('a disabled admin (403) and a multi-factor admin signing in by password: AuthenticationError saying why, nothing changed', async () => {
    const old = pw('old');
    const acct = user(old);
    const mfaAdmin = uniqueName('raxmfa');
    const mfaPassword = pw('mfa');
    sim.addUser({ username: mfaAdmin, password: mfaPassword, role: 'identity:user-admin', multiFactor: true });
    const mfa = await failure(adapter({ adminUsername: mfaAdmin, adminCredential: 'password' }, mfaPassword).change({ account: acct, newPassword: new Secret(pw('never')) }));
    expect(mfa).toBeInstanceOf(AuthenticationError);
    expect(mfa.message).toMatch(/multi-factor.*adminCredential: apiKey/);
    sim.user(mfaAdmin)!.enabled = false;
    const disabled = await failure(adapter({ adminUsername: mfaAdmin, adminCredential: 'password' }, mfaPassword).change({ account: acct, newPassword: new Secret(pw('never')) }));
    expect(disabled).toBeInstanceOf(AuthenticationError);
    expect(disabled.message).toMatch(/HTTP 403.*User disabled/);
    expect(await works(acct, old)).toBe(true);
  });

  it("a user the admin may not update (another user-admin): Identity's 403 is the permission missing, and nothing changed", async () => {
    const username = uniqueName('raxpeer');
    const old = pw('old');
    sim.addUser({ username, password: old, role: 'identity:user-admin' });
    const peer: Account = { id: `rax/${username}`, resourceId: 'rax', username, secretId: 's', tags: [] };
    const e = await failure(adapter().change({ account: peer, newPassword: new Secret(pw('never')) }));
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.message).toMatch(/denied the permission the change needs \(HTTP 403\).*Not Authorized/);
    expect(await works(peer, old)).toBe(true);
  });

  it("a password Identity refuses by its rules is unchanged with Identity's reason; its current password again is already set", async () => {
    const old = pw('old');
    const acct = user(old);
    const a = adapter();
    // Within the type's hard limits (length, characters), so only Identity can refuse it: no upper case.
    const lower = `lowercase-only-${randomBytes(4).toString('hex')}1`;
    const e = await failure(a.change({ account: acct, newPassword: new Secret(lower) }));
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toMatch(/refused it: badRequest: Password must be at least 8 characters in length, must contain at least one uppercase letter/);
    // Identity refuses the current password (400); it signs in, so the change is made.
    const before = updatesOf(acct);
    expect((await a.change({ account: acct, newPassword: new Secret(old) })).method).toMatch(/already set/);
    expect(updatesOf(acct)).toBe(before + 1);
    expect(await works(acct, old)).toBe(true);
    expect(sim.user(acct.username)!.passwordChanges).toBe(0);
  });

  it("Identity's 413 overLimit, with or without Retry-After, is waited out and the reset ends well", async () => {
    const acct = user(pw('old'));
    const fresh = pw('new');
    const before = sim.overLimited();
    sim.overLimitNext(1, { match: (r) => r.url.startsWith('/v2.0/tokens'), retryAfterSeconds: 1 });
    const a = adapter();
    await a.change({ account: acct, newPassword: new Secret(fresh) });
    sim.overLimitNext(2, { match: (r) => r.method === 'POST' && r.url.startsWith('/v2.0/users/') });
    const again = pw('again');
    await a.change({ account: acct, newPassword: new Secret(again) });
    expect(sim.overLimited() - before).toBe(3);
    expect(await works(acct, again)).toBe(true);
    expect(sim.user(acct.username)!.passwordChanges).toBe(2);
  });

  it("a run of accounts at Identity's rate limit finishes with every password set", async () => {
    const limited = await startRackspaceSimulator({ rateLimit: { requests: 8, windowMs: 1_000 } });
    try {
      limited.addUser({ username: ADMIN, password: ADMIN_PASSWORD, apiKey: API_KEY, role: 'identity:user-admin' });
      const accounts = Array.from({ length: 6 }, () => {
        const username = uniqueName('raxrl');
        limited.addUser({ username, password: pw('old') });
        return { id: `rax/${username}`, resourceId: 'rax', username, secretId: `rpr/rax/${username}`, tags: [] } as Account;
      });
      const resource = parseResource({ id: 'rax', type: 'rackspace', host: '127.0.0.1', port: limited.port, adminUsername: ADMIN, adminSecretId: 'rpr/rax/admin' }) as RackspaceResource;
      const a = createRackspaceAdapter({ ...adapterContext(resource, {}, { secrets: [API_KEY] }), secrets: { admin: new Secret(API_KEY) } });
      const set = new Map(accounts.map((acct) => [acct.username, pw('bulk')]));
      await Promise.all(accounts.map(async (acct) => {
        await a.change({ account: acct, newPassword: new Secret(set.get(acct.username)!) });
        expect((await a.verify({ account: acct, password: new Secret(set.get(acct.username)!) })).valid).toBe(true);
      }));
      expect(limited.overLimited()).toBeGreaterThan(0);
      for (const acct of accounts) expect(limited.user(acct.username)!.password).toBe(set.get(acct.username));
    } finally {
      await limited.stop();
    }
  }, 60_000);

  it('a cached admin token that Identity ended early: one new token, the read and the change go through; the token is cached across adapters', async () => {
    const acct = user(pw('old'));
    const first = adapter();
    await first.change({ account: acct, newPassword: new Secret(pw('first')) });
    const issued = sim.tokensIssued(ADMIN);
    // A second adapter in the same function instance reuses the token.
    const other = user(pw('old'));
    const second = adapter();
    await second.change({ account: other, newPassword: new Secret(pw('second')) });
    expect(sim.tokensIssued(ADMIN)).toBe(issued);
    sim.expireTokens();
    const third = user(pw('old'));
    const fresh = pw('third');
    await second.change({ account: third, newPassword: new Secret(fresh) });
    expect(sim.tokensIssued(ADMIN)).toBe(issued + 1);
    expect(await works(third, fresh)).toBe(true);
    // The refused read was repeated once with the new token.
    const lookups = sim.requests.filter((r) => r.url === `/v2.0/users?name=${third.username}`);
    expect(lookups.length).toBe(2);
    sim.expireTokens();
    const fourth = pw('fourth');
    await second.change({ account: third, newPassword: new Secret(fourth) });
    expect(await works(third, fourth)).toBe(true);
    expect(sim.tokensIssued(ADMIN)).toBe(issued + 2);
  });

  it('a cut after the update was sent is outcome unknown, and the change had landed: a fresh token with the new password proves it, with no second update', async () => {
    const old = pw('old');
    const fresh = pw('new');
    const acct = user(old);
    const a = adapter();
    await a.preflight!({ accounts: [acct] });
    sim.setFaults({ cut: { when: 'after', match: (r) => r.method === 'POST' && r.url.startsWith('/v2.0/users/') } });
    const e = await failure(a.change({ account: acct, newPassword: new Secret(fresh) }));
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    sim.setFaults({});
    // What the engine's reconcile asks: does the pending password work?
    expect((await a.verify({ account: acct, password: new Secret(fresh) })).valid).toBe(true);
    expect(updatesOf(acct)).toBe(1);
    expect(sim.user(acct.username)!.passwordChanges).toBe(1);
    // Were the change asked again, Identity refuses the current password and the adapter sees it set.
    expect((await a.change({ account: acct, newPassword: new Secret(fresh) })).method).toMatch(/already set/);
    expect(sim.user(acct.username)!.passwordChanges).toBe(1);
  });

  it('a cut before Identity acted is outcome unknown too (the client cannot tell), and nothing changed', async () => {
    const old = pw('old');
    const acct = user(old);
    const a = adapter();
    sim.setFaults({ cut: { when: 'before', match: (r) => r.method === 'POST' && r.url.startsWith('/v2.0/users/') } });
    expect(await failure(a.change({ account: acct, newPassword: new Secret(pw('never')) }))).toBeInstanceOf(OutcomeUnknownError);
    sim.setFaults({});
    expect(await works(acct, old)).toBe(true);
    expect((await a.verify({ account: acct, password: new Secret(old) })).valid).toBe(true);
  });

  it("a multi-factor user's right password is accepted (Identity's OS-MF challenge), a wrong one refused", async () => {
    const old = pw('old');
    const acct = user(old, { multiFactor: true });
    const a = adapter();
    const fresh = pw('new');
    await a.change({ account: acct, newPassword: new Secret(fresh) });
    expect(await a.verify({ account: acct, password: new Secret(fresh) })).toMatchObject({ valid: true, detail: expect.stringMatching(/second factor/) });
    expect(await a.verify({ account: acct, password: new Secret(old) })).toMatchObject({ valid: false });
  });

  it('a disabled user (403 User disabled) cannot be proved either way: verify throws, it does not call the password wrong', async () => {
    const old = pw('old');
    const acct = user(old);
    sim.user(acct.username)!.enabled = false;
    const e = await failure(adapter().verify({ account: acct, password: new Secret(old) }));
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toMatch(/HTTP 403.*User disabled.*neither proved nor refused/);
  });

  it('bad input is a typed error naming the field, with nothing sent: a user name, a password outside the policy, the admin itself by password', async () => {
    const a = adapter();
    const before = sim.requests.length;
    const name = await failure(a.change({ account: { id: 'rax/x', resourceId: 'rax', username: 'x/../1', secretId: 's', tags: [] }, newPassword: new Secret(pw('never')) }));
    expect(name).toMatchObject({ name: 'InvalidConfigurationError', field: 'account.username' });
    const acct = user(pw('old'));
    const newline = await failure(a.change({ account: acct, newPassword: new Secret('Has-a-newline1\nx') }));
    expect(newline).toMatchObject({ name: 'InvalidConfigurationError', field: 'newPassword' });
    const dollar = await failure(a.change({ account: acct, newPassword: new Secret('Has-a-dollar$1') }));
    expect(dollar).toMatchObject({ name: 'InvalidConfigurationError', field: 'newPassword' });
    const self = await failure(
      adapter({ adminCredential: 'password' }, ADMIN_PASSWORD).change({ account: { id: `rax/${ADMIN}`, resourceId: 'rax', username: ADMIN, secretId: 's', tags: [] }, newPassword: new Secret(pw('never')) }),
    );
    expect(self).toMatchObject({ name: 'InvalidConfigurationError', field: 'account.username' });
    expect(sim.requests.length).toBe(before);
    await expect(a.verify({ account: { id: 'rax/x', resourceId: 'rax', username: 'a b', secretId: 's', tags: [] }, password: new Secret('x') })).rejects.toThrow(InvalidConfigurationError);
  });

  it('an unknown user is unchanged (HTTP 404 from the lookup), and preflight reports it without changing anything', async () => {
    const a = adapter();
    const ghost: Account = { id: 'rax/ghost', resourceId: 'rax', username: uniqueName('ghost'), secretId: 's', tags: [] };
    const e = await failure(a.change({ account: ghost, newPassword: new Secret(pw('never')) }));
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toMatch(/HTTP 404.*User not found/);
    const real = user(pw('old'));
    const findings = await a.preflight!({ accounts: [real, ghost] });
    expect(findings).toEqual([
      expect.objectContaining({ check: 'admin login', ok: true }),
      expect.objectContaining({ accountId: real.id, check: 'account exists', ok: true }),
      expect.objectContaining({ accountId: ghost.id, check: 'account exists', ok: false }),
    ]);
  });

  it('(last) no password, API key or admin token in any recorded URL or header, in the simulator log, or in an error seen', () => {
    const tokens = sim.requests.map((r) => r.headers['x-auth-token']).filter((t): t is string => t !== undefined);
    expect(tokens.length).toBeGreaterThan(0);
    for (const s of secrets) {
      expect(requestsContaining(sim.requests, s, { bodies: false }), 'a secret in a URL or header').toEqual([]);
      expect(sim.log.join('\n')).not.toContain(s);
      for (const text of seen) expect(text).not.toContain(s);
    }
    for (const t of tokens) for (const text of seen) expect(text).not.toContain(t);
  });
});
