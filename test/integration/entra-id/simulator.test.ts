// The Entra and Graph simulator checked with a second, independent client (curl, verifying the
// test CA), against what Microsoft documents: the client-credentials grant and its AADSTS errors,
// Graph's users API with its roles and password rules, and its 429 throttling.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import { bannedScore, entraPasswordProblem, type EntraSimulator } from '../../simulators/https/entra.js';
import { APP, BANNED, DOMAIN, NO_ROLE_APP, startTestTenant, TENANT } from './support.js';

let sim: EntraSimulator;
beforeAll(async () => {
  sim = await startTestTenant({ rateLimit: { resourceUnits: 10, windowMs: 2_000 } });
});
afterAll(() => sim?.stop());

/** curl's answer: status and parsed body (and the Retry-After header). */
async function curl(args: string[]): Promise<{ status: number; body: Record<string, unknown>; retryAfter?: string }> {
  const { stdout } = await promisify(execFile)('curl', ['-sS', '--max-time', '10', '--cacert', testCertificates().caFile, '-D', '-', ...args], { encoding: 'utf8' });
  const [head, ...rest] = stdout.split('\r\n\r\n');
  const status = Number(/^HTTP\/\S+ (\d+)/.exec(head!)![1]);
  const retryAfter = /^retry-after: (.+)$/im.exec(head!)?.[1]?.trim();
  const text = rest.join('\r\n\r\n');
  return { status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, ...(retryAfter ? { retryAfter } : {}) };
}

const tokenFor = async (clientId: string, secret: string) => {
  const r = await curl(['-d', `grant_type=client_credentials&client_id=${clientId}&client_secret=${encodeURIComponent(secret)}&scope=${encodeURIComponent('https://graph.microsoft.com/.default')}`, `${sim.origin}/${TENANT}/oauth2/v2.0/token`]);
  return r;
};

describe('the Entra and Graph simulator, through curl', () => {
  it('serves the tenant’s OpenID configuration by id and by domain, and AADSTS90002 for another tenant', async () => {
    const byId = await curl([`${sim.origin}/${TENANT}/v2.0/.well-known/openid-configuration`]);
    expect(byId.status).toBe(200);
    expect(byId.body.token_endpoint).toBe(`${sim.origin}/${TENANT}/oauth2/v2.0/token`);
    expect((await curl([`${sim.origin}/${DOMAIN}/v2.0/.well-known/openid-configuration`])).status).toBe(200);
    const other = await curl([`${sim.origin}/nowhere.onmicrosoft.com/v2.0/.well-known/openid-configuration`]);
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ error: 'invalid_tenant', error_codes: [90002] });
  });

  it('issues a token for the right secret and the .default scope only, with Entra’s errors otherwise', async () => {
    const good = await tokenFor(APP.clientId, APP.secret);
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    const bad = await tokenFor(APP.clientId, 'wrong');
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    const unknown = await tokenFor('99999999-0000-4000-8000-000000000000', APP.secret);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
    const scope = await curl(['-d', `grant_type=client_credentials&client_id=${APP.clientId}&client_secret=${encodeURIComponent(APP.secret)}&scope=User.ReadWrite.All`, `${sim.origin}/${TENANT}/oauth2/v2.0/token`]);
    expect(scope.body).toMatchObject({ error: 'invalid_scope' });
  });

  it('Graph: refuses a missing or forged token, reads lastPasswordChangeDateTime, refuses weak passwords and apps without a role, and throttles past its budget with 429 and Retry-After', async () => {
    const upn = `curl@${DOMAIN}`;
    sim.addUser(upn, 'Start-Passw0rd-9!');
    const token = String((await tokenFor(APP.clientId, APP.secret)).body.access_token);
    const url = `${sim.origin}/v1.0/users/${encodeURIComponent(upn)}`;
    expect((await curl([url])).body).toMatchObject({ error: { code: 'InvalidAuthenticationToken' } });
    expect((await curl(['-H', `authorization: Bearer ${token.slice(0, -4)}AAAA`, url])).status).toBe(401);
    const read = await curl(['-H', `authorization: Bearer ${token}`, `${url}?$select=id,lastPasswordChangeDateTime`]);
    expect(read.status).toBe(200);
    expect(read.body.lastPasswordChangeDateTime).toBe('2024-01-01T00:00:00Z');
    const patch = (t: string, password: string) => curl(['-X', 'PATCH', '-H', `authorization: Bearer ${t}`, '-H', 'content-type: application/json', '-d', JSON.stringify({ passwordProfile: { password, forceChangePasswordNextSignIn: false } }), url]);
    const weak = await patch(token, 'alllowercase');
    expect(weak.status).toBe(400);
    expect(weak.body).toMatchObject({ error: { code: 'Request_BadRequest', message: expect.stringMatching(/password complexity requirements/) } });
    const noRole = String((await tokenFor(NO_ROLE_APP.clientId, NO_ROLE_APP.secret)).body.access_token);
    expect((await patch(noRole, 'Fine-Passw9rd-x')).body).toMatchObject({ error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } });
    expect((await patch(token, 'Fine-Passw9rd-x')).status).toBe(204);
    expect(sim.find(upn)!.password).toBe('Fine-Passw9rd-x');
    // The budget is 10 units in 2 s: a read costs 1, a write 3; reads until it runs out.
    let throttled: Awaited<ReturnType<typeof curl>> | undefined;
    for (let i = 0; i < 12 && !throttled; i++) {
      const r = await curl(['-H', `authorization: Bearer ${token}`, url]);
      if (r.status === 429) throttled = r;
    }
    expect(throttled?.body).toMatchObject({ error: { code: 'TooManyRequests' } });
    expect(Number(throttled?.retryAfter)).toBeGreaterThanOrEqual(1);
  });
});

describe('Entra’s password rules as the simulator applies them', () => {
  it('8 to 256 characters, ASCII, three of four classes', () => {
    expect(entraPasswordProblem('Aa1-xyz', [])).toBe('length');
    expect(entraPasswordProblem(`Aa1-${'x'.repeat(253)}`, [])).toBe('length');
    expect(entraPasswordProblem('Aa1-xyzé-ok', [])).toBe('characters');
    expect(entraPasswordProblem('abcdefgh12', [])).toBe('complexity');
    expect(entraPasswordProblem('abcdefgh1!', [])).toBeUndefined();
    expect(entraPasswordProblem('  Ab 1  x ', [])).toBeUndefined();
  });

  it('the banned list: normalised, fuzzy at one edit, five points needed', () => {
    expect(bannedScore('C0ntoso!', BANNED)).toBe(2);
    expect(bannedScore('Contoso!2024', BANNED)).toBe(6);
    expect(entraPasswordProblem('C0ntos0-Pa$$word', BANNED)).toBe('banned');
    expect(entraPasswordProblem('Cantoso-Summer1', BANNED)).toBe('banned');
    expect(entraPasswordProblem('Contoso-Summer-2024-x', BANNED)).toBeUndefined();
  });
});
