import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '../../../layers/engine/account.js';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { DIRECTORY_USER_SCOPE } from '../../../layers/resources/google-workspace/adapter.js';
import { parseResource } from '../../../layers/resources/registry.js';
import { GOOGLE_TOKEN_URL, type GoogleSimulator, type ServiceAccount } from '../../simulators/https/google.js';
import { requestsContaining, type RecordedRequest } from '../../simulators/https/server.js';
import { adapterFor, googleSimulator, jwtClientHook, password, uniqueEmail } from './support.js';

const account = (username: string): Account => ({ id: `gws/${username}`, resourceId: 'gws', username, secretId: `rpr/${username}`, tags: [] });
const isUpdate = (r: RecordedRequest) => r.method === 'PUT' && r.url.startsWith('/admin/directory/v1/users/');
const isToken = (r: RecordedRequest) => r.method === 'POST' && r.url === '/token';

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

describe('google-workspace adapter on the Google simulator', () => {
  let sim: GoogleSimulator & { unbridge: () => void };
  let sa: ServiceAccount;
  let admin: string;
  /** Every password a test set or tried: none may reach Google in clear. */
  const passwords = new Set<string>();
  const fresh = (label: string) => {
    const p = password(label);
    passwords.add(p);
    return p;
  };
  const newUser = (label = 'user') => {
    const email = uniqueEmail(label);
    sim.addUser(email, fresh(`${label}-old`));
    return email;
  };

  beforeAll(async () => {
    sim = await googleSimulator();
    sa = sim.addServiceAccount();
    admin = uniqueEmail('admin');
    sim.addUser(admin, fresh('admin'), { admin: true });
  });
  afterAll(async () => {
    sim?.unbridge();
    await sim?.stop();
  });

  it('sets the password as a SHA-512 crypt hash: the new password signs in, the old one does not, and Google got only the hash', async () => {
    const email = uniqueEmail('alice');
    const old = fresh('alice-old');
    sim.addUser(email, old);
    const next = fresh('alice-new');
    const before = sim.server.requests.length;

    const result = await adapterFor(sim, admin, sa).change({ account: account(email), newPassword: new Secret(next) });

    expect(result.method).toMatch(/SHA-512 crypt/);
    expect(sim.passwordWorks(email, next)).toBe(true);
    expect(sim.passwordWorks(email, old)).toBe(false);
    const sent = sim.server.requests.slice(before);
    const update = sent.filter(isUpdate);
    expect(update).toHaveLength(1);
    expect(update[0]!.url).toBe(`/admin/directory/v1/users/${encodeURIComponent(email)}`);
    const body = JSON.parse(update[0]!.body) as Record<string, unknown>;
    expect(body).toEqual({ password: expect.stringMatching(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/), hashFunction: 'crypt', changePasswordAtNextLogin: false });
    expect(sim.user(email)!.password.hash).toBe(body.password);
    expect(requestsContaining(sent, next)).toEqual([]);
  });

  it("asks for one token with an RS256 grant naming the service account, the admin and the Directory user scope only, and keeps it for the client's life", async () => {
    const own = sim.addServiceAccount();
    const before = sim.server.requests.length;
    const first = adapterFor(sim, admin, own);
    const second = adapterFor(sim, admin, own);
    for (const adapter of [first, second, first]) await adapter.change({ account: account(newUser()), newPassword: new Secret(fresh('token')) });

    const tokens = sim.server.requests.slice(before).filter(isToken);
    expect(tokens).toHaveLength(1);
    const form = new URLSearchParams(tokens[0]!.body);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const [header, claims] = form.get('assertion')!.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>);
    expect(header).toMatchObject({ alg: 'RS256' });
    expect(claims).toMatchObject({ iss: own.clientEmail, sub: admin, scope: DIRECTORY_USER_SCOPE, aud: GOOGLE_TOKEN_URL });
    expect(Number(claims!.exp) - Number(claims!.iat)).toBeLessThanOrEqual(3600);
  });

  it('an access token Google no longer accepts (expired early) is replaced by a new grant, and the reset ends well', async () => {
    const own = sim.addServiceAccount();
    const adapter = adapterFor(sim, admin, own);
    await adapter.change({ account: account(newUser()), newPassword: new Secret(fresh('before-expiry')) });
    const issued = sim.tokensIssued();
    sim.expireTokens();
    const email = newUser();
    const next = fresh('after-expiry');

    await adapter.change({ account: account(email), newPassword: new Secret(next) });

    expect(sim.tokensIssued()).toBe(issued + 1);
    expect(sim.passwordWorks(email, next)).toBe(true);
  });

  it("a run at the Directory API's rate limit slows down and every reset ends well", async () => {
    const limited = await googleSimulator({ rateLimit: { requests: 10, windowMs: 1_000 } });
    try {
      const own = limited.addServiceAccount();
      const boss = uniqueEmail('admin');
      limited.addUser(boss, fresh('boss'), { admin: true });
      const adapter = adapterFor(limited, boss, own);
      const users = Array.from({ length: 15 }, () => {
        const email = uniqueEmail('bulk');
        limited.addUser(email, fresh('bulk-old'));
        return { email, next: fresh('bulk-new') };
      });

      await Promise.all(users.map((u) => adapter.change({ account: account(u.email), newPassword: new Secret(u.next) })));

      expect(limited.server.throttled()).toBeGreaterThan(0);
      expect(users.filter((u) => !limited.passwordWorks(u.email, u.next))).toEqual([]);
    } finally {
      limited.unbridge();
      await limited.stop();
    }
  }, 60_000);

  it('sends changePasswordAtNextLogin as configured', async () => {
    const email = newUser();
    await adapterFor(sim, admin, sa, { changePasswordAtNextLogin: true }).change({ account: account(email), newPassword: new Secret(fresh('must-change')) });
    expect(sim.user(email)!.changePasswordAtNextLogin).toBe(true);
  });

  describe('wrong or expired admin credentials: an authentication error, and nothing changed', () => {
    const refusedWith = async (adapter: ReturnType<typeof adapterFor>, pattern: RegExp) => {
      const email = uniqueEmail('victim');
      const old = fresh('victim-old');
      sim.addUser(email, old);
      const before = sim.server.requests.length;
      const e = await rejection(adapter.change({ account: account(email), newPassword: new Secret(fresh('never')) }));
      expect(e, e.message).toBeInstanceOf(AuthenticationError);
      expect(e.message).toMatch(pattern);
      expect(sim.passwordWorks(email, old)).toBe(true);
      expect(sim.user(email)!.updates).toBe(0);
      return sim.server.requests.slice(before);
    };

    it('a key Google no longer holds (rotated away): invalid_grant, and no update is sent', async () => {
      const own = sim.addServiceAccount();
      sim.rotateKey(own.clientEmail);
      const sent = await refusedWith(adapterFor(sim, admin, own), /invalid_grant: Invalid JWT Signature.*serviceAccountKeySecretId/);
      expect(sent.filter(isUpdate)).toEqual([]);
    });

    it('the scope not delegated to the client id: unauthorized_client, with where to delegate it', async () => {
      const own = sim.addServiceAccount({ delegated: ['https://www.googleapis.com/auth/admin.directory.group'] });
      const sent = await refusedWith(adapterFor(sim, admin, own), /unauthorized_client.*Domain-wide delegation.*admin\.directory\.user/);
      expect(sent.filter(isUpdate)).toEqual([]);
    });

    it('an admin e-mail that is not a user of the domain: invalid_grant "Invalid email or User ID"', async () => {
      await refusedWith(adapterFor(sim, uniqueEmail('nobody'), sa), /Invalid email or User ID/);
    });

    it('an admin e-mail of a user without an admin role: 403 "Not Authorized to access this resource/api"', async () => {
      const plain = newUser('not-admin');
      await refusedWith(adapterFor(sim, plain, sa), /HTTP 403.*Not Authorized to access this resource\/api/);
    });
  });

  it('a password the policy refuses (7 characters, 101, non-ASCII) never leaves the function, naming newPassword', async () => {
    const email = newUser();
    const before = sim.server.requests.length;
    for (const bad of ['Short7!', 'x'.repeat(101), 'pässwörd-long']) {
      passwords.add(bad);
      const e = await rejection(adapterFor(sim, admin, sa).change({ account: account(email), newPassword: new Secret(bad) }));
      expect(e).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe('newPassword');
    }
    expect(sim.server.requests.length).toBe(before);
  });

  it("a password Google refuses is unchanged with Google's reason (a hash it cannot read: 400 Invalid Password)", async () => {
    // Google cannot apply its length rule to a hash: its only refusal of one is a hash it cannot
    // read. An interceptor spoils the hash on its way, to show how that answer reaches the user.
    const email = newUser();
    const old = sim.user(email)!.password.hash;
    const adapter = adapterFor(sim, admin, sim.addServiceAccount());
    const spoil = jwtClientHook.onCreate;
    expect(spoil).toBeDefined();
    const e = await (async () => {
      const own = sim.addServiceAccount();
      const before = jwtClientHook.onCreate;
      jwtClientHook.onCreate = (jwt) => {
        before?.(jwt);
        jwt.transporter.interceptors.request.add({
          resolved: (config) => {
            if (config.method === 'PUT' && typeof config.body === 'string') config.body = config.body.replace(/"password":"\$6\$/, '"password":"$6$!');
            return Promise.resolve(config);
          },
        });
      };
      try {
        return await rejection(adapterFor(sim, admin, own).change({ account: account(email), newPassword: new Secret(fresh('spoiled')) }));
      } finally {
        jwtClientHook.onCreate = before;
      }
    })();
    expect(e, e.message).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toMatch(/refused it: "Invalid Password"/);
    expect(sim.user(email)!.password.hash).toBe(old);
    // The same adapter without the spoiler still works: the refusal was the request's, not the session's.
    await adapter.change({ account: account(email), newPassword: new Secret(fresh('fine')) });
  });

  it('a user Google does not know is unchanged: 404 "Resource Not Found: userKey"', async () => {
    const e = await rejection(adapterFor(sim, admin, sa).change({ account: account(uniqueEmail('ghost')), newPassword: new Secret(fresh('ghost')) }));
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toMatch(/Resource Not Found: userKey/);
  });

  it("throttling (429 with Retry-After, and the Directory API's 403 rateLimitExceeded) is waited out and the reset ends well", async () => {
    const email = newUser();
    const next = fresh('throttled');
    sim.server.setFaults({ throttle: { count: 2, retryAfterSeconds: 1, match: isUpdate } });
    sim.exhaustQuota(1);
    const throttledBefore = sim.server.throttled();
    const before = sim.server.requests.length;

    await adapterFor(sim, admin, sa).change({ account: account(email), newPassword: new Secret(next) });

    sim.server.setFaults({});
    expect(sim.server.throttled() - throttledBefore).toBe(2);
    const sent = sim.server.requests.slice(before);
    // Two updates throttled, then the one that lands; the quota answer met the read before them.
    expect(sent.filter(isUpdate)).toHaveLength(3);
    expect(sent.filter((r) => r.method === 'GET')).toHaveLength(2);
    expect(sim.passwordWorks(email, next)).toBe(true);
  }, 30_000);

  it('an update whose answer is lost (cut after Google applied it) is sent once more, identically, and the new password works', async () => {
    const email = newUser();
    const next = fresh('cut');
    const before = sim.server.requests.length;
    sim.server.setFaults({ cut: { when: 'after', match: isUpdate } });

    await adapterFor(sim, admin, sa).change({ account: account(email), newPassword: new Secret(next) });

    sim.server.setFaults({});
    const updates = sim.server.requests.slice(before).filter(isUpdate);
    expect(updates).toHaveLength(2);
    expect(updates[1]!.body).toBe(updates[0]!.body);
    expect(sim.passwordWorks(email, next)).toBe(true);
  });

  it('an update whose answer is lost twice is an unknown outcome, with no third attempt', async () => {
    const email = newUser();
    const before = sim.server.requests.length;
    sim.server.setFaults({ cut: { when: 'after', match: isUpdate, count: 2 } });
    const e = await rejection(adapterFor(sim, admin, sa).change({ account: account(email), newPassword: new Secret(fresh('cut-twice')) }));
    sim.server.setFaults({});
    expect(e, e.message).toBeInstanceOf(OutcomeUnknownError);
    expect(sim.server.requests.slice(before).filter(isUpdate)).toHaveLength(2);
  });

  it('an update whose answer is lost and whose resend is refused is still an unknown outcome (the first may have landed)', async () => {
    const email = newUser();
    const before = sim.server.requests.length;
    sim.server.setFaults({ cut: { when: 'after', match: isUpdate } });
    let updates = 0;
    const remove = (() => {
      const prior = jwtClientHook.onCreate;
      return { prior };
    })();
    const own = sim.addServiceAccount();
    jwtClientHook.onCreate = (jwt) => {
      remove.prior?.(jwt);
      jwt.transporter.interceptors.request.add({
        resolved: (config) => {
          // The resend's hash spoiled: Google refuses it with 400.
          if (config.method === 'PUT' && ++updates === 2 && typeof config.body === 'string') config.body = config.body.replace(/"password":"\$6\$/, '"password":"$6$!');
          return Promise.resolve(config);
        },
      });
    };
    try {
      const e = await rejection(adapterFor(sim, admin, own).change({ account: account(email), newPassword: new Secret(fresh('resend-refused')) }));
      expect(e, e.message).toBeInstanceOf(OutcomeUnknownError);
      expect(e.message).toMatch(/Invalid Password/);
    } finally {
      jwtClientHook.onCreate = remove.prior;
      sim.server.setFaults({});
    }
    expect(sim.server.requests.slice(before).filter(isUpdate)).toHaveLength(2);
  });

  it('a token endpoint that drops every connection: unchanged, no update sent', async () => {
    const email = newUser();
    const old = sim.user(email)!.password.hash;
    const before = sim.server.requests.length;
    sim.server.setFaults({ cut: { when: 'before', match: isToken, count: 50 } });
    const e = await rejection(adapterFor(sim, admin, sim.addServiceAccount()).change({ account: account(email), newPassword: new Secret(fresh('no-token')) }));
    sim.server.setFaults({});
    expect(e, e.message).toBeInstanceOf(TargetUnchangedError);
    expect(sim.server.requests.slice(before).filter(isUpdate)).toEqual([]);
    expect(sim.user(email)!.password.hash).toBe(old);
  }, 30_000);

  describe('bad configuration: a typed error naming the field', () => {
    it.each([
      ['not JSON', 'not json at all'],
      ['another kind of key', JSON.stringify({ type: 'authorized_user', client_id: 'x' })],
      ['no private key', JSON.stringify({ type: 'service_account', client_email: 'a@b.iam.gserviceaccount.com' })],
    ])('a key secret that is %s: serviceAccountKeySecretId', (_label, text) => {
      let e: unknown;
      try {
        adapterFor(sim, admin, text);
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe('serviceAccountKeySecretId');
      expect((e as Error).message).not.toContain(text);
    });

    it.each([
      ['adminEmail', { adminEmail: 'admin' }],
      ['changePasswordAtNextLogin', { changePasswordAtNextLogin: 'yes' }],
      ['port', { port: 0 }],
    ])('%s', (field, extra) => {
      let e: unknown;
      try {
        parseResource({ id: 'gws', type: 'google-workspace', adminEmail: 'admin@example.com', serviceAccountKeySecretId: 'rpr/google/sa-key', ...extra });
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe(field);
    });
  });

  it('(last) no password, nor the key, was in any URL, header or body Google received: only hashes', () => {
    expect(passwords.size).toBeGreaterThan(20);
    expect(sim.server.requests.filter(isUpdate).length).toBeGreaterThan(10);
    const leaks = [...passwords].flatMap((p) => requestsContaining(sim.server.requests, p).map((r) => `${r.method} ${r.url}`));
    expect(leaks).toEqual([]);
    const keyLine = JSON.parse(sa.keyFile).private_key.split('\n')[1] as string;
    expect(requestsContaining(sim.server.requests, keyLine)).toEqual([]);
    for (const r of sim.server.requests.filter(isUpdate)) expect(r.body).toMatch(/"hashFunction":"crypt"/);
  });
});
