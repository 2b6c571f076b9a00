import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOGLE_TOKEN_URL, startGoogleSimulator, type GoogleSimulator, type ServiceAccount } from '../../simulators/https/google.js';
import { uniqueEmail } from './support.js';

/**
 * The simulator checked with clients that are not the adapter's: curl for HTTP (verifying TLS
 * with the test CA), the grant's JWT signed here with node:crypto rather than gtoken, and hashes
 * made by `openssl passwd`, so it answers as Google's reference says and not as our library expects.
 */
const SCOPE = 'https://www.googleapis.com/auth/admin.directory.user';

async function curl(sim: GoogleSimulator, method: string, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const args = ['-sS', '--cacert', process.env.NODE_EXTRA_CA_CERTS!, '-X', method, '-w', '\n%{http_code}', '--data-binary', '@-'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(`${sim.origin}${path}`);
  const child = promisify(execFile)('curl', args, { encoding: 'utf8' });
  child.child.stdin!.end(body);
  const { stdout } = await child;
  const at = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(at + 1)), json: JSON.parse(stdout.slice(0, at)) as Record<string, unknown> };
}

function assertion(claims: Record<string, unknown>, privateKeyPem: string): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const data = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc(claims)}`;
  return `${data}.${sign('RSA-SHA256', Buffer.from(data), createPrivateKey(privateKeyPem)).toString('base64url')}`;
}

describe('the Google simulator, seen by independent clients', () => {
  let sim: GoogleSimulator;
  let sa: ServiceAccount;
  let admin: string;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({ iss: sa.clientEmail, sub: admin, scope: SCOPE, aud: GOOGLE_TOKEN_URL, iat: now(), exp: now() + 3600, ...over });
  const key = () => (JSON.parse(sa.keyFile) as { private_key: string }).private_key;
  const grant = (jwt: string) => curl(sim, 'POST', '/token', new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
  const bearer = async () => `Bearer ${(await grant(assertion(claims(), key()))).json.access_token as string}`;
  const put = async (email: string, user: Record<string, unknown>, auth?: string) =>
    curl(sim, 'PUT', `/admin/directory/v1/users/${encodeURIComponent(email)}`, JSON.stringify(user), { 'content-type': 'application/json', ...(auth === undefined ? {} : { authorization: auth }) });

  beforeAll(async () => {
    sim = await startGoogleSimulator();
    sa = sim.addServiceAccount();
    admin = uniqueEmail('admin');
    sim.addUser(admin, 'admin-password-1', { admin: true });
  });
  afterAll(() => sim?.stop());

  it('grants a Bearer token for a JWT signed with the key, and refuses what Google refuses', async () => {
    const ok = await grant(assertion(claims(), key()));
    expect(ok).toMatchObject({ status: 200, json: { token_type: 'Bearer', expires_in: 3599, access_token: expect.stringMatching(/^ya29\./) } });

    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await grant(assertion(claims(), other))).toEqual({ status: 400, json: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } });
    expect((await grant(assertion(claims({ aud: 'https://www.googleapis.com/oauth2/v4/tokenx' }), key()))).json).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/audience/) });
    expect((await grant(assertion(claims({ exp: now() + 7200 }), key()))).json).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/short-lived token/) });
    expect((await grant(assertion(claims({ iat: now() - 7200, exp: now() - 3600 }), key()))).json).toMatchObject({ error: 'invalid_grant' });
    expect((await grant(assertion(claims({ sub: uniqueEmail('nobody') }), key()))).json).toEqual({ error: 'invalid_grant', error_description: 'Invalid email or User ID' });
    expect(await grant(assertion(claims({ scope: `${SCOPE} https://www.googleapis.com/auth/admin.directory.group` }), key()))).toMatchObject({ status: 401, json: { error: 'unauthorized_client' } });
  });

  it("answers users.update with Google's error JSON: 401 without a token, 403 for a user who is not an admin, 404 for an unknown user", async () => {
    const email = uniqueEmail('u');
    sim.addUser(email, 'initial-pass-1');
    expect(await put(email, { password: 'another-pass-1' })).toMatchObject({ status: 401, json: { error: { code: 401, errors: [{ reason: 'authError' }] } } });
    const plain = uniqueEmail('plain');
    sim.addUser(plain, 'plain-pass-1');
    const plainToken = `Bearer ${(await grant(assertion(claims({ sub: plain }), key()))).json.access_token as string}`;
    expect(await put(email, { password: 'another-pass-1' }, plainToken)).toMatchObject({ status: 403, json: { error: { message: 'Not Authorized to access this resource/api' } } });
    expect(await put(uniqueEmail('ghost'), { password: 'another-pass-1' }, await bearer())).toMatchObject({ status: 404, json: { error: { message: 'Resource Not Found: userKey' } } });
    expect(sim.passwordWorks(email, 'initial-pass-1')).toBe(true);
  });

  it('takes a clear password of 8 to 100 ASCII characters and nothing else', async () => {
    const email = uniqueEmail('rules');
    sim.addUser(email, 'initial-pass-1');
    const auth = await bearer();
    for (const bad of ['seven77', 'x'.repeat(101), 'pässwörd-1']) {
      expect(await put(email, { password: bad }, auth)).toMatchObject({ status: 400, json: { error: { code: 400, message: 'Invalid Password' } } });
    }
    expect(sim.passwordWorks(email, 'initial-pass-1')).toBe(true);
    for (const good of ['eight888', 'y'.repeat(100), ' spaces at both ends ']) {
      expect((await put(email, { password: good }, auth)).status).toBe(200);
      expect(sim.passwordWorks(email, good)).toBe(true);
    }
  });

  it('stores a crypt hash as given (an OpenSSL SHA-512 or MD5 crypt), refuses one it cannot read, and a sign-in checks against it', async () => {
    const email = uniqueEmail('hash');
    sim.addUser(email, 'initial-pass-1');
    const auth = await bearer();
    const openssl = (flag: string, password: string) => promisify(execFile)('openssl', ['passwd', flag, '-salt', 'abcdefgh', password], { encoding: 'utf8' }).then((r) => r.stdout.trim());
    for (const [flag, password] of [['-6', 'sha512 crypt pass'], ['-1', 'md5 crypt pass']] as const) {
      const hash = await openssl(flag, password);
      expect(await put(email, { password: hash, hashFunction: 'crypt', changePasswordAtNextLogin: true }, auth)).toMatchObject({ status: 200, json: { changePasswordAtNextLogin: true } });
      expect(sim.user(email)!.password.hash).toBe(hash);
      expect(sim.passwordWorks(email, password)).toBe(true);
      expect(sim.passwordWorks(email, `${password}x`)).toBe(false);
    }
    expect(await put(email, { password: '$6$abc$tooshort', hashFunction: 'crypt' }, auth)).toMatchObject({ status: 400, json: { error: { message: 'Invalid Password' } } });
    expect(await put(email, { password: 'whatever1', hashFunction: 'bcrypt' }, auth)).toMatchObject({ status: 400 });
    expect(sim.passwordWorks(email, 'md5 crypt pass')).toBe(true);
  });
});
