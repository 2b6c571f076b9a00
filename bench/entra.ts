/**
 * 1,000 Graph users on the Entra simulator (test/simulators/https/entra.ts), reset through the
 * engine on in-memory stores, against the raw floor of the same API calls with no store: one token,
 * then per account the adapter's `GET` (lastPasswordChangeDateTime), `PATCH` (passwordProfile) and
 * `GET` (the read-back), with the same parallelism (one worker per resource):
 * `npx tsx bench/entra.ts [--accounts 1000] [--resources 10] [--units-per-second 0]`.
 * `--units-per-second N` turns on the simulator's Graph budget (a read 1 unit, a write 3), so the
 * run shows what throttling costs. Needs NODE_EXTRA_CA_CERTS set to the test CA
 * (.test-servers/https/ca.pem, made by the test setup); the bench sets it and re-runs itself if not.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { testCertificates } from '../harness/support/https-certificates.js';
import { numberOption } from './options.js';

const N = numberOption('accounts', 1_000);
const RESOURCES = Math.max(1, numberOption('resources', 10));
const RATE = numberOption('units-per-second', 0);

const { caFile } = testCertificates();
if (process.env.NODE_EXTRA_CA_CERTS !== caFile) {
  // Node reads the extra CAs only at start: run again with them.
  execFileSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile } });
  process.exit(0);
}

const { Secret } = await import('../layers/engine/secret.js');
const { startTestTenant, openEngine, APP, TENANT, DOMAIN } = await import('../test/integration/entra-id/support.js');

const sim = await startTestTenant(RATE > 0 ? { rateLimit: { resourceUnits: RATE, windowMs: 1_000 } } : {});
try {
  const h = await openEngine({ concurrency: RESOURCES });
  const per = Math.ceil(N / RESOURCES);
  for (let r = 0; r < RESOURCES; r++) {
    const resourceId = await h.resource(sim, { tags: ['bench'] });
    for (let i = 0; i < per && r * per + i < N; i++) {
      const upn = `bench${r}-${i}@${DOMAIN}`;
      const password = `Bench-${randomBytes(6).toString('base64url')}-Aa1!`;
      sim.addUser(upn, password);
      await h.config.putAccount({ resourceId, username: upn, secretId: `bench/${upn}` }, { password: new Secret(password) });
    }
  }
  const t0 = performance.now();
  const run = await h.engine.run({ tags: ['bench'] });
  const engineMs = performance.now() - t0;
  if (run.counts.total !== N || run.status !== 'succeeded') throw new Error(`run ${run.status}: ${JSON.stringify(run.counts)}`);
  const throttledByEngineRun = sim.graphThrottled();

  // The floor: the same calls, straight through fetch, no store, no engine.
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: APP.clientId, client_secret: APP.secret, scope: 'https://graph.microsoft.com/.default' });
  const tokenRes = await fetch(`${sim.origin}/${TENANT}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  const token = ((await tokenRes.json()) as { access_token: string }).access_token;
  const auth = { authorization: `Bearer ${token}` };
  const send = async (method: string, url: string, body?: unknown): Promise<Response> => {
    for (;;) {
      const res = await fetch(url, { method, headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      if (res.status !== 429) return res;
      await res.arrayBuffer();
      await new Promise((ok) => setTimeout(ok, Number(res.headers.get('retry-after') ?? '1') * 1000));
    }
  };
  const users = [...sim.users.values()];
  const t1 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: RESOURCES }, async () => {
      while (next < users.length) {
        const u = users[next++]!;
        const url = `${sim.origin}/v1.0/users/${encodeURIComponent(u.userPrincipalName)}`;
        await (await send('GET', `${url}?$select=id,lastPasswordChangeDateTime`)).arrayBuffer();
        const patched = await send('PATCH', url, { passwordProfile: { password: `Floor-${randomBytes(6).toString('base64url')}-Aa1!`, forceChangePasswordNextSignIn: false } });
        if (patched.status !== 204) throw new Error(`floor PATCH: HTTP ${patched.status}`);
        await (await send('GET', `${url}?$select=id,lastPasswordChangeDateTime`)).arrayBuffer();
      }
    }),
  );
  const floorMs = performance.now() - t1;

  const rate = (ms: number) => ((N / ms) * 1000).toFixed(0);
  process.stdout.write(`\nentra-id on the Entra simulator (${new Date().toISOString().slice(0, 10)}, Node ${process.version}), ${RESOURCES} resources of one app, ${RATE > 0 ? `Graph budget ${RATE} units/s` : 'no Graph budget'}\n\n`);
  process.stdout.write('| accounts | engine run | engine accounts/s | raw floor (same calls, no store) | floor accounts/s | engine / floor | Graph 429s in the engine run |\n|---|---|---|---|---|---|---|\n');
  process.stdout.write(`| ${N} | ${(engineMs / 1000).toFixed(1)} s | ${rate(engineMs)} | ${(floorMs / 1000).toFixed(1)} s | ${rate(floorMs)} | ${(engineMs / floorMs).toFixed(2)}x | ${throttledByEngineRun} |\n`);
} finally {
  await sim.stop();
}
