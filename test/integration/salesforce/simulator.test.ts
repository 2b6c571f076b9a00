// The org simulator itself, through a second, independent client (curl, verifying TLS with the test
// CA): the shapes Salesforce documents, so the adapter's tests stand on something faithful.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import { parseUserQuery, startSalesforceSimulator, type SalesforceSimulator } from '../../simulators/https/salesforce.js';

interface Reply {
  status: number;
  headers: string;
  body: unknown;
}

describe('Salesforce org simulator, as curl sees it', () => {
  let sim: SalesforceSimulator;
  let token = '';
  let id = '';

  async function curl(args: string[]): Promise<Reply> {
    const { stdout } = await promisify(execFile)('curl', ['-sS', '--cacert', testCertificates().caFile, '-D', '-', '-o', '-', ...args], { timeout: 10_000 });
    const [head, ...rest] = stdout.split('\r\n\r\n');
    const text = rest.join('\r\n\r\n');
    let body: unknown = text;
    try {
      body = text === '' ? '' : JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(head!)![1]), headers: head!.toLowerCase(), body };
  }
  const api = (path: string, extra: string[] = [], bearer = token) => curl([...extra, '-H', `Authorization: Bearer ${bearer}`, `${sim.origin}/services/data/v62.0${path}`]);

  beforeAll(async () => {
    sim = await startSalesforceSimulator({ apiRequestLimit: 8 });
    sim.addApp({ clientId: 'cid', clientSecret: 'csecret' });
    id = sim.addUser("o'brien@acme.test", 'Old-password-1');
  });
  afterAll(() => sim.stop());

  it('the client-credentials grant: a token and the instance, or the documented OAuth errors', async () => {
    const grant = (form: string) => curl(['--data', form, `${sim.origin}/services/oauth2/token`]);
    const ok = await grant('grant_type=client_credentials&client_id=cid&client_secret=csecret');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', instance_url: sim.origin, access_token: expect.any(String) });
    token = (ok.body as { access_token: string }).access_token;
    expect(await grant('grant_type=client_credentials&client_id=cid&client_secret=wrong')).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
    expect(await grant('grant_type=client_credentials&client_id=nope&client_secret=csecret')).toMatchObject({ status: 400, body: { error: 'invalid_client_id' } });
    expect(await grant('grant_type=password&client_id=cid&client_secret=csecret')).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
  });

  it('REST: a bad Bearer token is 401 INVALID_SESSION_ID in the array-of-errors shape', async () => {
    expect(await api(`/sobjects/User/${id}/password`, [], 'bogus')).toMatchObject({ status: 401, body: [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }] });
  });

  it('SOQL: the User by Username, its literal read by SOQL\'s escapes; anything else is MALFORMED_QUERY', async () => {
    const q = (soql: string) => api(`/query?q=${encodeURIComponent(soql)}`);
    const found = await q("select Id from User where Username = 'o\\'brien@acme.test'");
    expect(found).toMatchObject({ status: 200, body: { totalSize: 1, done: true, records: [{ attributes: { type: 'User' }, Id: id }] } });
    expect(found.headers).toMatch(/sforce-limit-info: api-usage=\d+\/8/);
    expect(await q("SELECT Id FROM User WHERE Username = 'o\\'brien@acme.test' OR Username != ''")).toMatchObject({ status: 400, body: [{ errorCode: 'MALFORMED_QUERY' }] });
    expect(parseUserQuery("SELECT Id FROM User WHERE Username = 'a\\u0041\\n\\\\'")).toEqual({ username: 'aA\n\\' });
    expect(parseUserQuery("SELECT Id FROM User WHERE Username = 'a\\x'")).toMatchObject({ error: expect.stringContaining('escape') });
    expect(parseUserQuery("SELECT Id FROM User WHERE Username = 'a' LIMIT 1")).toEqual({ username: 'a' });
  });

  it('the password resource: 204 on a set, INVALID_NEW_PASSWORD for complexity and history, {isExpired} on GET', async () => {
    const set = (password: string) => api(`/sobjects/User/${id}/password`, ['-H', 'Content-Type: application/json', '--data', JSON.stringify({ NewPassword: password })]);
    expect((await set('New-password-2')).status).toBe(204);
    expect(await set('no-digits-here')).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_NEW_PASSWORD', message: 'Your password must have a mix of letters and numbers.' }] });
    expect(await set('Old-password-1')).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_NEW_PASSWORD', message: expect.stringContaining('reuse') }] });
    expect(await api(`/sobjects/User/${id}/password`)).toMatchObject({ status: 200, body: { isExpired: false } });
    expect(sim.users.get(id)!.history[0]).toBe('New-password-2');
  });

  it('the API request limit: 403 REQUEST_LIMIT_EXCEEDED once spent, and the request is not acted on', async () => {
    while (sim.apiUsage() < 8) await api(`/sobjects/User/${id}/password`);
    const over = await api(`/sobjects/User/${id}/password`, ['-H', 'Content-Type: application/json', '--data', JSON.stringify({ NewPassword: 'Limited-password-3' })]);
    expect(over).toMatchObject({ status: 403, body: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    expect(sim.users.get(id)!.history[0]).toBe('New-password-2');
  });
});
