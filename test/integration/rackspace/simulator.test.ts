// The Rackspace Cloud Identity simulator checked with a second, independent client (curl verifying
// the test CA), against what Rackspace's reference says its service does (see the simulator's header).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import { startRackspaceSimulator, type RackspaceSimulator } from '../../simulators/https/rackspace.js';

let sim: RackspaceSimulator;

beforeAll(async () => {
  sim = await startRackspaceSimulator({ rateLimit: { requests: 1_000, windowMs: 60_000 } });
  sim.addUser({ username: 'useradmin1', password: 'Admin-Passw0rd', apiKey: 'a4bbc55a951242c48b03e88e32123456', role: 'identity:user-admin' });
  sim.addUser({ username: 'jqsmith', password: 'Old-Passw0rd' });
  sim.addUser({ username: 'otheradmin', password: 'Other-Passw0rd', role: 'identity:user-admin' });
  sim.addUser({ username: 'mfauser', password: 'Mfa-Passw0rd', multiFactor: true });
});
afterAll(() => sim?.stop());

/** curl, as a user of the documentation would call the service: status and JSON body. */
async function curl(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; headers: string; json: Record<string, Record<string, unknown>> }> {
  const args = ['-sS', '--cacert', testCertificates().caFile, '-X', method, '-D', '-', '-H', 'Accept: application/json'];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
  if (token) args.push('-H', `X-Auth-Token: ${token}`);
  const { stdout } = await promisify(execFile)('curl', [...args, `${sim.origin}${path}`]);
  const [head, ...rest] = stdout.split('\r\n\r\n');
  const status = Number(/^HTTP\/[\d.]+ (\d+)/.exec(head ?? '')?.[1]);
  const text = rest.join('\r\n\r\n');
  return { status, headers: head ?? '', json: text === '' ? {} : (JSON.parse(text) as Record<string, Record<string, unknown>>) };
}

const apiKeyAuth = { auth: { 'RAX-KSKEY:apiKeyCredentials': { username: 'useradmin1', apiKey: 'a4bbc55a951242c48b03e88e32123456' } } };
const passwordAuth = (username: string, password: string) => ({ auth: { passwordCredentials: { username, password } } });

describe('Rackspace Cloud Identity v2.0 simulator, through curl', () => {
  it('issues a token for an API key or a password, with the documented access object; refuses wrong ones with 401 unauthorized', async () => {
    const byKey = await curl('POST', '/v2.0/tokens', apiKeyAuth);
    expect(byKey.status).toBe(200);
    expect(byKey.json.access).toMatchObject({ token: { id: expect.any(String), expires: expect.any(String) }, user: { name: 'useradmin1', roles: [{ name: 'identity:user-admin' }] }, serviceCatalog: [] });
    expect((await curl('POST', '/v2.0/tokens', passwordAuth('jqsmith', 'Old-Passw0rd'))).status).toBe(200);
    const wrong = await curl('POST', '/v2.0/tokens', passwordAuth('jqsmith', 'Wrong-Passw0rd'));
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ unauthorized: { code: 401, message: expect.any(String) } });
    expect((await curl('POST', '/v2.0/tokens', { auth: { 'RAX-KSKEY:apiKeyCredentials': { username: 'useradmin1', apiKey: 'nope' } } })).status).toBe(401);
    expect((await curl('POST', '/v2.0/tokens', { auth: {} })).json).toHaveProperty('badRequest.code', 400);
  });

  it('challenges a multi-factor account after its right password (401 with WWW-Authenticate OS-MF), and only then', async () => {
    const right = await curl('POST', '/v2.0/tokens', passwordAuth('mfauser', 'Mfa-Passw0rd'));
    expect(right.status).toBe(401);
    expect(right.headers).toMatch(/www-authenticate: OS-MF sessionId='[^']+', factor='PASSCODE'/i);
    expect(right.json.unauthorized?.message).toBe('Additional authentication credentials required.');
    const wrong = await curl('POST', '/v2.0/tokens', passwordAuth('mfauser', 'Wrong-Passw0rd'));
    expect(wrong.status).toBe(401);
    expect(wrong.headers).not.toMatch(/OS-MF/);
  });

  it('finds a user by name for a user-admin, updates its password by id under the documented rules, and the old password stops working', async () => {
    const token = (await curl('POST', '/v2.0/tokens', apiKeyAuth)).json.access!.token as { id: string };
    expect((await curl('GET', '/v2.0/users?name=jqsmith')).status).toBe(401);
    const found = await curl('GET', '/v2.0/users?name=jqsmith', undefined, token.id);
    expect(found.status).toBe(200);
    const id = (found.json.user as { id: string }).id;
    expect(found.json.user).toMatchObject({ username: 'jqsmith', enabled: true });
    expect((await curl('GET', '/v2.0/users?name=nobody', undefined, token.id)).json).toHaveProperty('itemNotFound.code', 404);

    for (const weak of ['Short1a', 'alllowercase1', 'ALLUPPERCASE1', 'NoDigitsHere', ' Leading-space1', 'Dollar$ign1']) {
      const refused = await curl('POST', `/v2.0/users/${id}`, { user: { 'OS-KSADM:password': weak } }, token.id);
      expect(refused.status, weak).toBe(400);
      expect(refused.json, weak).toEqual({ badRequest: { code: 400, message: expect.any(String) } });
    }
    const same = await curl('POST', `/v2.0/users/${id}`, { user: { 'OS-KSADM:password': 'Old-Passw0rd' } }, token.id);
    expect(same.status).toBe(400);
    const set = await curl('POST', `/v2.0/users/${id}`, { user: { 'OS-KSADM:password': 'New Passw0rd~!@#%&*' } }, token.id);
    expect(set.status).toBe(200);
    expect(set.json.user).toMatchObject({ id, username: 'jqsmith' });
    expect(set.json.user).not.toHaveProperty('OS-KSADM:password');
    expect((await curl('POST', '/v2.0/tokens', passwordAuth('jqsmith', 'New Passw0rd~!@#%&*'))).status).toBe(200);
    expect((await curl('POST', '/v2.0/tokens', passwordAuth('jqsmith', 'Old-Passw0rd'))).status).toBe(401);
  });

  it('lets a user-admin update only default users (403 for another user-admin), refuses an ended token, and answers 413 overLimit when told to', async () => {
    const token = ((await curl('POST', '/v2.0/tokens', apiKeyAuth)).json.access!.token as { id: string }).id;
    const other = sim.user('otheradmin')!;
    expect((await curl('POST', `/v2.0/users/${other.id}`, { user: { 'OS-KSADM:password': 'Taken-Passw0rd' } }, token)).json).toHaveProperty('forbidden.code', 403);
    expect(other.password).toBe('Other-Passw0rd');
    sim.overLimitNext(1, { retryAfterSeconds: 2 });
    const limited = await curl('GET', '/v2.0/users?name=jqsmith', undefined, token);
    expect(limited.status).toBe(413);
    expect(limited.json).toHaveProperty('overLimit.code', 413);
    expect(limited.headers).toMatch(/retry-after: 2/i);
    sim.expireTokens();
    expect((await curl('GET', '/v2.0/users?name=jqsmith', undefined, token)).json).toHaveProperty('unauthorized.code', 401);
  });

  it('keeps no password or key in its log', () => {
    const text = sim.log.join('\n');
    expect(text).toMatch(/password of "jqsmith" updated/);
    for (const s of ['Old-Passw0rd', 'New Passw0rd', 'Admin-Passw0rd', 'a4bbc55a951242c48b03e88e32123456', 'Mfa-Passw0rd']) expect(text).not.toContain(s);
  });
});
