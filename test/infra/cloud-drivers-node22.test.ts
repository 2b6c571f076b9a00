// The cloud drivers whose imports the deployment's build cuts (infra/substitutes.ts: jsforce's URL
// and form-data fallbacks, gaxios's stream polyfill, googleapis-common's index), bundled with those
// options and run under Node 22 against the providers' simulators: each takes its token and sets the
// password, and nothing warns on load (jsforce's whatwg-url brought Node's deprecated punycode).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESBUILD_OPTIONS } from '../../infra/build.js';
import { node22ForTests } from '../../harness/support/bundles.js';
import { startGoogleSimulator, type GoogleSimulator } from '../simulators/https/google.js';
import { startSalesforceSimulator, type SalesforceSimulator } from '../simulators/https/salesforce.js';
import type { DriverCase } from './fixtures/cloud-drivers.js';

const { node, unavailable } = node22ForTests();

const MARK = 'RPR-DRIVER ';
const CHILD = `
const { change } = await import(process.env.RPR_BUNDLE);
try {
  console.log(${JSON.stringify(MARK)} + JSON.stringify({ result: await change(JSON.parse(process.env.RPR_CASE)) }));
} catch (e) {
  console.log(${JSON.stringify(MARK)} + JSON.stringify({ error: { name: e?.name, message: e?.message } }));
}
`;
const password = (label: string) => `${label}-${randomBytes(6).toString('base64url')}-Aa1!`;

describe.skipIf(!node)(`the cloud drivers as the deployment bundles them, under Node 22${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const out = mkdtempSync(join(tmpdir(), 'rpr-cloud-drivers-'));
  const file = join(out, 'index.mjs');
  let salesforce: SalesforceSimulator;
  let google: GoogleSimulator;

  beforeAll(async () => {
    await build({ ...ESBUILD_OPTIONS, entryPoints: ['test/infra/fixtures/cloud-drivers.ts'], outfile: file });
    [salesforce, google] = await Promise.all([startSalesforceSimulator(), startGoogleSimulator()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([salesforce?.stop(), google?.stop()]);
    rmSync(out, { recursive: true, force: true });
  });

  async function run(c: DriverCase): Promise<{ outcome: { result?: { method?: string }; error?: { name: string; message: string } }; stderr: string }> {
    const { stdout, stderr } = await promisify(execFile)(node!, ['--input-type=module', '-e', CHILD], {
      cwd: out,
      timeout: 30_000,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', RPR_BUNDLE: file, RPR_CASE: JSON.stringify(c) },
    });
    const line = stdout.split('\n').find((l) => l.startsWith(MARK));
    expect(line, `the Node 22 process said:\n${stdout}${stderr}`).toBeDefined();
    return { outcome: JSON.parse(line!.slice(MARK.length)) as never, stderr };
  }

  it("salesforce: jsforce's OAuth2 takes the client-credentials token, the password is set, and nothing warns", async () => {
    const secret = `app-${randomBytes(8).toString('hex')}`;
    salesforce.addApp({ clientId: '3MVG9.rpr_bundle_test', clientSecret: secret });
    const username = `bundle-${randomBytes(4).toString('hex')}@acme.test`;
    const id = salesforce.addUser(username, password('old'));
    const next = password('new');

    const { outcome, stderr } = await run({ type: 'salesforce', origin: salesforce.origin, clientId: '3MVG9.rpr_bundle_test', secret, username, newPassword: next });

    expect(outcome.error).toBeUndefined();
    expect(salesforce.users.get(id)!.history[0]).toBe(next);
    expect(stderr).not.toMatch(/DeprecationWarning|DEP0040/);
  });

  it('google-workspace: the JWT grant is taken, the Directory API sets the hash, the new password signs in and the old one does not', async () => {
    const sa = google.addServiceAccount();
    const admin = `admin-${randomBytes(4).toString('hex')}@rpr.example.com`;
    google.addUser(admin, password('admin'), { admin: true });
    const email = `bundle-${randomBytes(4).toString('hex')}@rpr.example.com`;
    const old = password('old');
    google.addUser(email, old);
    const next = password('new');

    const { outcome, stderr } = await run({ type: 'google-workspace', origin: google.origin, secret: sa.keyFile, adminEmail: admin, username: email, newPassword: next });

    expect(outcome.error).toBeUndefined();
    expect(outcome.result?.method).toMatch(/SHA-512 crypt/);
    expect(google.passwordWorks(email, next)).toBe(true);
    expect(google.passwordWorks(email, old)).toBe(false);
    expect(stderr).not.toMatch(/DeprecationWarning/);
  });
});
