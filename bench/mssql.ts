/**
 * SQL Server logins reset on the TDS 7.4 simulator (test/simulators/tds), with TLS and the test CA:
 * `npx tsx bench/mssql.ts [--accounts 200] [--repeat 3]`. Three ways do the same work per account,
 * an ALTER LOGIN by the admin and a fresh login as the account that proves the new password:
 *  - the engine (ResetEngine on in-memory stores, the mssql adapter): one admin connection for the group;
 *  - the raw floor with a reused connection: tedious alone, one admin connection for every change;
 *  - the raw floor with one connection per account: an admin login for each change.
 * The simulator runs in this process (its work is the same for the three ways). Each way runs R
 * times, alternating which goes first; the table gives medians, and engine / floor as the median
 * of the R passes. Failures must be 0 (every account's new password logs in): the bench exits 1
 * otherwise.
 */
import { randomBytes } from 'node:crypto';
import tedious from 'tedious';
import { testCertificates } from '../harness/support/https-certificates.js';
import { Configurator } from '../layers/engine/configure.js';
import { ResetEngine } from '../layers/engine/engine.js';
import { Log } from '../layers/engine/log.js';
import { Secret } from '../layers/engine/secret.js';
import { openMemoryStores } from '../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../layers/engine/stores/types.js';
import { createMssqlAdapter } from '../layers/resources/mssql/adapter.js';
import { REGISTRY } from '../layers/resources/registry.js';
import { MSSQL } from '../layers/resources/sql-dialects.js';
import { startTdsSimulator } from '../test/simulators/tds/server.js';
import { median, numberOption } from './options.js';

const N = numberOption('accounts', 200);
const REPEAT = Math.max(1, numberOption('repeat', 3));
const ADMIN = { name: 'bench_admin', password: 'Bench-Adm1n-0' };
const password = (label: string) => `${label}-${randomBytes(9).toString('base64url')}-Aa1!`;
const ca = testCertificates().ca;

const sim = await startTdsSimulator({ logins: [{ ...ADMIN, alterAnyLogin: true }] });
const stores = await openMemoryStores();

function open(user: string, pw: string): Promise<InstanceType<typeof tedious.Connection>> {
  const c = new tedious.Connection({
    server: sim.host,
    authentication: { type: 'default', options: { userName: user, password: pw } },
    options: { port: sim.port, database: 'master', encrypt: true, trustServerCertificate: false, cryptoCredentialsDetails: { ca } },
  });
  return new Promise((resolve, reject) => c.connect((e) => (e ? reject(e) : resolve(c))));
}
function close(c: InstanceType<typeof tedious.Connection>): Promise<void> {
  return new Promise((resolve) => {
    c.once('end', () => resolve());
    c.close();
  });
}
function alter(c: InstanceType<typeof tedious.Connection>, login: string, pw: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = new tedious.Request(MSSQL.statements.alterLogin, (e) => (e ? reject(e) : resolve()));
    r.addParameter('login', tedious.TYPES.NVarChar, login, { length: 128 });
    r.addParameter('password', tedious.TYPES.NVarChar, pw, { length: 128 });
    c.execSql(r);
  });
}
/** The proof: a fresh login as the account. */
async function proves(login: string, pw: string): Promise<boolean> {
  try {
    await close(await open(login, pw));
    return true;
  } catch {
    return false;
  }
}

try {
  const config = new Configurator(stores.state, stores.credentials, REGISTRY);
  await config.putResource({ id: 'sql', type: 'mssql', host: sim.host, port: sim.port, caCertificate: ca, authentication: { mode: 'sql', adminAccount: 'sql/bench_admin' } });
  await config.putAccount({ resourceId: 'sql', username: ADMIN.name, secretId: 'bench/mssql/admin' }, { password: new Secret(ADMIN.password) });
  const logins = Array.from({ length: N }, (_, i) => `bench_login_${i}`);
  for (const name of logins) {
    const start = password('Start');
    sim.store.add({ name, password: start });
    await config.putAccount({ resourceId: 'sql', username: name, secretId: `bench/mssql/${name}` }, { password: new Secret(start) });
  }
  const accountIds = logins.map((name) => `sql/${name}`);
  const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { mssql: createMssqlAdapter }, log: new Log({ level: 'SILENT' }) });

  const viaEngine = async () => {
    const t = performance.now();
    const run = await engine.run({ accountIds });
    const ms = performance.now() - t;
    let failures = N - (run.counts.succeeded ?? 0);
    for (const name of [logins[0]!, logins.at(-1)!]) {
      const current = (await stores.credentials.getValue(`bench/mssql/${name}`, { stage: AWSCURRENT })).value.reveal();
      if (!sim.store.verify(name, current)) failures++;
    }
    return { ms, failures };
  };
  const floor = (reuse: boolean) => async () => {
    let failures = 0;
    const t = performance.now();
    const shared = reuse ? await open(ADMIN.name, ADMIN.password) : undefined;
    for (const name of logins) {
      const pw = password('Floor');
      const c = shared ?? (await open(ADMIN.name, ADMIN.password));
      await alter(c, name, pw);
      if (!shared) await close(c);
      if (!(await proves(name, pw))) failures++;
    }
    if (shared) await close(shared);
    return { ms: performance.now() - t, failures };
  };

  const ways = { engine: viaEngine, reused: floor(true), perAccount: floor(false) };
  const times: Record<keyof typeof ways, number[]> = { engine: [], reused: [], perAccount: [] };
  let failures = 0;
  for (let pass = 0; pass < REPEAT; pass++) {
    const order = (['engine', 'reused', 'perAccount'] as const).map((_, i, all) => all[(i + pass) % all.length]!);
    for (const way of order) {
      const { ms, failures: failed } = await ways[way]();
      times[way].push(ms);
      failures += failed;
      process.stderr.write(`pass ${pass + 1}/${REPEAT}: ${way} ${(ms / 1000).toFixed(2)} s\n`);
    }
  }
  const rate = (ms: number) => ((N / ms) * 1000).toFixed(0);
  const ratio = (floorTimes: number[]) => median(times.engine.map((ms, i) => ms / floorTimes[i]!)).toFixed(2);
  process.stdout.write(`\nmssql on the TDS simulator with TLS, median of ${REPEAT} (${new Date().toISOString().slice(0, 10)}, Node ${process.version}): ${N} logins, each changed by the admin and proven by a fresh login\n\n`);
  process.stdout.write('| logins | engine: s (logins/s) | floor, one admin connection: s (logins/s) | engine / floor | floor, an admin login per account: s (logins/s) | engine / floor | failures |\n|---|---|---|---|---|---|---|\n');
  const cell = (xs: number[]) => `${(median(xs) / 1000).toFixed(2)} (${rate(median(xs))})`;
  process.stdout.write(`| ${N} | ${cell(times.engine)} | ${cell(times.reused)} | ${ratio(times.reused)}× | ${cell(times.perAccount)} | ${ratio(times.perAccount)}× | ${failures} |\n`);
  if (failures) process.exitCode = 1;
} finally {
  await stores.close();
  await sim.stop();
}
