import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../layers/engine/secret.js';
import { TargetUnchangedError } from '../../../layers/engine/errors.js';
import { requestsContaining } from '../../simulators/https/server.js';
import { signsIn, type EntraSimulator } from '../../simulators/https/entra.js';
import { APP, CERT_APP, DOMAIN, EXPIRED_APP, makeCertificate, NO_ROLE_APP, openEngine, startPassword, startTestTenant, TENANT } from './support.js';

let sim: EntraSimulator;
let h: Awaited<ReturnType<typeof openEngine>>;
let certificate: { key: string; cert: string };

beforeAll(async () => {
  certificate = makeCertificate();
  sim = await startTestTenant({ certificate: certificate.cert });
  h = await openEngine();
});
afterAll(() => sim?.stop());

const works = (upn: string, password: string) => signsIn(sim.origin, TENANT, APP.clientId, upn, password);

describe('entra-id against the Entra and Graph simulator', () => {
  it('resets through Graph on the app’s client-secret token: the new password signs in, the old does not, AWSCURRENT holds it, confirmed by the provider', async () => {
    const resourceId = await h.resource(sim);
    const old = startPassword();
    const { user, account } = await h.account(sim, resourceId, old);
    const before = user.lastPasswordChangeDateTime;
    const { results } = await h.run(resourceId);
    expect(results.map((r) => r.outcome), JSON.stringify(results)).toEqual(['succeeded']);
    expect(results[0]!.method).toMatch(/confirmed by the provider: lastPasswordChangeDateTime/);
    expect(results[0]!.proof).not.toMatch(/logged in/);
    const current = await h.current(account.secretId);
    expect(current).not.toBe(old);
    // The password went only in the PATCH body (before the test's own sign-ins below): never in a URL or a header.
    expect(requestsContaining(sim.https.requests, current, { bodies: false })).toEqual([]);
    expect(requestsContaining(sim.https.requests, current).map((r) => `${r.method} ${r.url}`)).toEqual([`PATCH /v1.0/users/${encodeURIComponent(user.userPrincipalName)}`]);
    expect(requestsContaining(sim.https.requests, APP.secret, { bodies: false })).toEqual([]);
    expect(await works(user.userPrincipalName, current)).toBe(true);
    expect(await works(user.userPrincipalName, old)).toBe(false);
    expect(user.lastPasswordChangeDateTime > before).toBe(true);
    expect(user.forceChangePasswordNextSignIn).toBe(false);
  });

  it('msal discovers the simulator through authority and knownAuthorities only, and one token serves the function’s life', async () => {
    const resourceId = await h.resource(sim);
    const tokens = sim.tokensIssued(APP.clientId);
    const accounts = [];
    for (let i = 0; i < 3; i++) accounts.push(await h.account(sim, resourceId, startPassword()));
    await h.run(resourceId);
    await h.run(resourceId);
    // The first case's token still serves: the msal client lives as long as the function instance.
    expect(tokens).toBeGreaterThan(0);
    expect(sim.tokensIssued(APP.clientId)).toBe(tokens);
    expect(sim.https.requests.filter((r) => r.url.includes('discovery/instance'))).toEqual([]);
    for (const { user, account } of accounts) expect(await works(user.userPrincipalName, await h.current(account.secretId))).toBe(true);
  });

  it('with a certificate credential (PEM key and certificate in the secret) and forceChangePasswordNextSignIn as configured', async () => {
    const resourceId = await h.resource(sim, { clientId: CERT_APP.clientId, forceChangePasswordNextSignIn: true }, { certificate: `${certificate.key}\n${certificate.cert}` });
    const { user, account } = await h.account(sim, resourceId, startPassword());
    const { results } = await h.run(resourceId);
    expect(results.map((r) => r.outcome), JSON.stringify(results)).toEqual(['succeeded']);
    expect(await works(user.userPrincipalName, await h.current(account.secretId))).toBe(true);
    expect(user.forceChangePasswordNextSignIn).toBe(true);
    const assertion = sim.https.requests.find((r) => r.body.includes('client_assertion='));
    expect(assertion?.body).toContain('client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer');
  });

  it('wrong, expired or unknown application credentials, and a wrong tenant: a clear error, nothing changed', async () => {
    const cases: { name: string; over: Record<string, unknown>; secret?: string; errorClass: string; message: RegExp }[] = [
      { name: 'wrong secret', over: {}, secret: 'not-the-secret', errorClass: 'AuthenticationError', message: /AADSTS7000215.*clientSecretSecretId|clientSecretSecretId.*AADSTS7000215/ },
      { name: 'expired secret', over: { clientId: EXPIRED_APP.clientId }, secret: EXPIRED_APP.secret, errorClass: 'AuthenticationError', message: /AADSTS7000222/ },
      { name: 'unknown client', over: { clientId: 'ffffffff-0000-4000-8000-00000000dead' }, errorClass: 'InvalidConfigurationError', message: /clientId.*AADSTS700016/ },
      { name: 'wrong tenant', over: { tenantId: 'other.onmicrosoft.com' }, errorClass: 'InvalidConfigurationError', message: /tenantId.*AADSTS90002: Tenant 'other.onmicrosoft.com' not found/ },
    ];
    for (const c of cases) {
      const resourceId = await h.resource(sim, c.over, { secret: c.secret ?? APP.secret });
      const old = startPassword();
      const { user, account } = await h.account(sim, resourceId, old);
      const { results } = await h.run(resourceId);
      expect(results.map((r) => r.errorClass), `${c.name}: ${JSON.stringify(results)}`).toEqual([c.errorClass]);
      expect(results[0]!.message, c.name).toMatch(c.message);
      expect(await works(user.userPrincipalName, old), c.name).toBe(true);
      expect(await h.current(account.secretId), c.name).toBe(old);
    }
  });

  it('an application without the directory role, or resetting an admin with only User Administrator: 403 Insufficient privileges as a clear message, nothing changed', async () => {
    const noRole = await h.resource(sim, { clientId: NO_ROLE_APP.clientId }, { secret: NO_ROLE_APP.secret });
    const a = await h.account(sim, noRole, startPassword());
    const plain = await h.resource(sim);
    const admin = await h.account(sim, plain, startPassword(), { isAdmin: true });
    for (const [resourceId, { user, account }] of [[noRole, a], [plain, admin]] as const) {
      const old = await h.current(account.secretId);
      const { results } = await h.run(resourceId, [account.id]);
      expect(results.map((r) => r.errorClass), JSON.stringify(results)).toEqual(['AuthenticationError']);
      expect(results[0]!.message).toMatch(/Authorization_RequestDenied.*Insufficient privileges/);
      expect(results[0]!.message).toMatch(/Privileged Authentication Administrator/);
      expect(await works(user.userPrincipalName, old)).toBe(true);
    }
  });

  it('a password Graph refuses (complexity, banned list) is unchanged with Graph’s reason, and the account keeps its password', async () => {
    const resourceId = await h.resource(sim);
    const { user, account } = await h.account(sim, resourceId, startPassword());
    const old = await h.current(account.secretId);
    // Within the product's policy (8 to 256 ASCII characters), refused by Entra's own rules.
    const refused = [
      ['two classes of four', 'abcdefgh12345'],
      ['banned terms: "contoso" and "password" with two characters left score 4 of 5', 'C0ntoso-Passw0rd1'],
    ] as const;
    await h.withSession(resourceId, async (session) => {
      for (const [label, password] of refused) {
        const e = await session.adapter.change({ account, newPassword: new Secret(password) }).catch((x: unknown) => x);
        expect(e, label).toBeInstanceOf(TargetUnchangedError);
        expect(String((e as Error).message), label).toMatch(/Request_BadRequest.*password complexity requirements.*banned password list/);
        expect(String((e as Error).message), label).not.toContain(password);
      }
    });
    expect(await works(user.userPrincipalName, old)).toBe(true);
    expect(sim.find(user.userPrincipalName)!.password).toBe(old);
  });

  it('Graph’s throttling (429 with Retry-After) is waited out and the reset ends well', async () => {
    const resourceId = await h.resource(sim);
    const { user, account } = await h.account(sim, resourceId, startPassword());
    sim.https.setFaults({ throttle: { count: 2, retryAfterSeconds: 1, match: (r) => r.url.startsWith('/v1.0/') } });
    const { results } = await h.run(resourceId);
    sim.https.setFaults({});
    expect(results.map((r) => r.outcome), JSON.stringify(results)).toEqual(['succeeded']);
    expect(await works(user.userPrincipalName, await h.current(account.secretId))).toBe(true);
  });

  it('a cut after the PATCH reached Graph: settled by the read-back, with no second, different password', async () => {
    const resourceId = await h.resource(sim);
    const { user, account } = await h.account(sim, resourceId, startPassword());
    const patches = () => sim.https.requests.filter((r) => r.method === 'PATCH' && r.url.includes(encodeURIComponent(user.userPrincipalName))).map((r) => r.body);
    sim.https.setFaults({ cut: { when: 'after', match: (r) => r.method === 'PATCH' } });
    const { results } = await h.run(resourceId);
    sim.https.setFaults({});
    expect(results.map((r) => r.outcome), JSON.stringify(results)).toEqual(['succeeded']);
    const current = await h.current(account.secretId);
    expect(await works(user.userPrincipalName, current)).toBe(true);
    expect(new Set(patches()).size).toBe(1);
    expect(patches()).toHaveLength(1);
  });

  it('a cut before Graph acted: the same PATCH is sent again (an admin reset of the same password is harmless), and it ends well', async () => {
    const resourceId = await h.resource(sim);
    const { user, account } = await h.account(sim, resourceId, startPassword());
    const patches = () => sim.https.requests.filter((r) => r.method === 'PATCH' && r.url.includes(encodeURIComponent(user.userPrincipalName))).map((r) => r.body);
    sim.https.setFaults({ cut: { when: 'before', match: (r) => r.method === 'PATCH' } });
    const { results } = await h.run(resourceId);
    sim.https.setFaults({});
    expect(results.map((r) => r.outcome), JSON.stringify(results)).toEqual(['succeeded']);
    expect(await works(user.userPrincipalName, await h.current(account.secretId))).toBe(true);
    expect(patches()).toHaveLength(2);
    expect(new Set(patches()).size).toBe(1);
  });

  it('a user Graph does not know: unchanged, nothing sent but the lookup', async () => {
    const resourceId = await h.resource(sim);
    const account = await h.config.putAccount({ resourceId, username: `nobody@${DOMAIN}`, secretId: `entra/${resourceId}/nobody` }, { password: new Secret(startPassword()) });
    const { results } = await h.run(resourceId, [account.id]);
    expect(results.map((r) => r.errorClass)).toEqual(['TargetUnchangedError']);
    expect(results[0]!.message).toMatch(/Request_ResourceNotFound/);
    expect(sim.https.requests.filter((r) => r.method === 'PATCH' && r.url.includes('nobody'))).toEqual([]);
  });

  it('bad configuration is a typed error naming the field, and nothing is stored', async () => {
    const base = { id: 'bad', type: 'entra-id', tenantId: TENANT, clientId: APP.clientId, clientSecretSecretId: 'x' };
    const bad: [Record<string, unknown>, string][] = [
      [{ ...base, clientId: 'not-a-guid' }, 'clientId'],
      [{ ...base, tenantId: 'not a tenant' }, 'tenantId'],
      [{ ...base, authority: 'http://login.microsoftonline.com' }, 'authority'],
      [{ ...base, authority: 'https://login.microsoftonline.com/tenant' }, 'authority'],
      [{ ...base, clientCertificateSecretId: 'y' }, 'clientSecretSecretId'],
      [{ ...base, clientSecretSecretId: undefined }, 'clientSecretSecretId'],
      [{ ...base, forceChangePasswordNextSignIn: 'yes' }, 'forceChangePasswordNextSignIn'],
      [{ ...base, scope: 'User.ReadWrite.All' }, 'scope'],
    ];
    for (const [input, field] of bad) await expect(h.config.putResource(input), field).rejects.toMatchObject({ name: 'InvalidConfigurationError', field });
    expect(await h.stores.state.getResource('bad')).toBeUndefined();
    const resourceId = await h.resource(sim);
    await expect(h.config.putAccount({ resourceId, username: 'x)(cn=*', secretId: 'entra/bad/x' })).rejects.toMatchObject({ field: 'username' });
  });
});
