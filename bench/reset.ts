/**
 * Reset throughput on the real test servers (`npm run bench`, or `npx tsx bench/reset.ts [--accounts N]`).
 *
 * For one PostgreSQL, one MariaDB and one SSH host (sudo), with N accounts each (default 200):
 * - accounts/s through the whole engine on the embedded store, with the connection reused for
 *   the resource's accounts, and with one connection per account (one resource per account);
 * - the raw floor per account: connect, change, fresh login, close — the adapter alone, no store;
 * - the full protocol's time per account over the raw floor.
 * One resource at a time in every mode (within a resource, the engine overlaps its accounts' store
 * work as it always does), so the figures compare like with like.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Configurator } from '../layers/engine/configure.js';
import { ResetEngine } from '../layers/engine/engine.js';
import { Log } from '../layers/engine/log.js';
import { Secret } from '../layers/engine/secret.js';
import { generatePassword } from '../layers/engine/policy.js';
import { openEmbeddedStores } from '../layers/engine/stores/embedded.js';
import type { Account } from '../layers/resources/common.js';
import { parseResource } from '../layers/resources/registry.js';
import {
  createUnixUser,
  deleteUnixUser,
  mariadbAdminQuery,
  mariadbCreateUser,
  mariadbDropUser,
  pgCreateRole,
  pgDropRole,
  uniqueName,
} from '../test/servers/fixtures.js';
import { repoRoot, serverInfo } from '../test/servers/index.js';
import { adapterContext } from '../test/support/adapter-context.js';
import { REGISTRY } from '../layers/resources/registry.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg('accounts', 200);
const log = new Log({ level: 'SILENT' });

interface Target {
  name: string;
  /** Creates the admin login and N accounts on the server; returns their names and a cleanup. */
  prepare(): Promise<{ admin: string; users: string[]; cleanup(): Promise<void> }>;
  resource(id: string, adminAccount: string): Record<string, unknown>;
}

const START = (u: string) => `${u}-Start-0`;

function targets(): Target[] {
  const out: Target[] = [];
  const pg = serverInfo('postgresql');
  const db = serverInfo('mariadb');
  const ssh = serverInfo('ssh');
  if (pg) {
    out.push({
      name: 'PostgreSQL 15 (TLS)',
      async prepare() {
        const admin = uniqueName('bpadm');
        await pgCreateRole(admin, START(admin), 'CREATEROLE');
        const users = Array.from({ length: N }, () => uniqueName('bp'));
        for (const u of users) await pgCreateRole(u, START(u));
        return { admin, users, cleanup: async () => { for (const u of [...users, admin]) await pgDropRole(u); } };
      },
      resource: (id, adminAccount) => ({ id, type: 'postgresql', host: pg.host, port: pg.port, ssl: true, caCertificate: readFileSync(pg.caFile, 'utf8'), adminAccount }),
    });
  }
  if (db) {
    out.push({
      name: 'MariaDB 10.11 (TLS)',
      async prepare() {
        const admin = uniqueName('bmadm');
        await mariadbCreateUser(admin, START(admin));
        await mariadbAdminQuery('GRANT CREATE USER ON *.* TO ?@?', [admin, '%']);
        await mariadbAdminQuery('GRANT SELECT ON mysql.user TO ?@?', [admin, '%']);
        const users = Array.from({ length: N }, () => uniqueName('bm'));
        for (const u of users) await mariadbCreateUser(u, START(u));
        return { admin, users, cleanup: async () => { for (const u of [...users, admin]) await mariadbDropUser(u); } };
      },
      resource: (id, adminAccount) => ({ id, type: 'mysql', host: db.host, port: db.port, ssl: true, caCertificate: readFileSync(db.caFile, 'utf8'), adminAccount }),
    });
  }
  if (ssh) {
    out.push({
      name: 'Linux over SSH (sudo chpasswd)',
      async prepare() {
        const admin = uniqueName('bsadm');
        await createUnixUser(admin, START(admin), { sudo: true });
        const users = Array.from({ length: N }, () => uniqueName('bs'));
        for (const u of users) await createUnixUser(u, START(u));
        return { admin, users, cleanup: async () => { for (const u of [...users, admin]) await deleteUnixUser(u); } };
      },
      resource: (id, adminAccount) => ({ id, type: 'linux', host: ssh.host, port: ssh.port, login: { account: adminAccount }, privilege: { mode: 'sudo' } }),
    });
  }
  return out;
}

async function measure(target: Target) {
  const { admin, users, cleanup } = await target.prepare();
  const dir = mkdtempSync(join(tmpdir(), 'rpr-bench-'));
  const stores = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });
  try {
    const config = new Configurator(stores.state, stores.credentials, REGISTRY);
    const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, log, concurrency: 1 });
    const addAccount = (resourceId: string, u: string) => config.putAccount({ resourceId, username: u, secretId: `${resourceId}/${u}` }, { password: new Secret(START(u)) });

    // Reuse: one resource holds every account; one admin connection serves them all.
    await config.putResource(target.resource('reuse', `reuse/${admin}`));
    await addAccount('reuse', admin);
    for (const u of users) await addAccount('reuse', u);
    const t1 = performance.now();
    const reuse = await engine.run({ accountIds: users.map((u) => `reuse/${u}`) });
    const reuseMs = performance.now() - t1;

    // One connection per account: each account alone in its own resource (same host; the admin's
    // secret shared through an account of each resource, as a resource's admin must be its own).
    const perIds: string[] = [];
    for (const [i, u] of users.entries()) {
      const id = `per-${i}`;
      await config.putResource(target.resource(id, `${id}/${admin}`));
      await config.putAccount({ resourceId: id, username: admin, secretId: `reuse/${admin}` });
      perIds.push((await config.putAccount({ resourceId: id, username: u, secretId: `reuse/${u}` })).id);
    }
    const t2 = performance.now();
    const per = await engine.run({ accountIds: perIds });
    const perMs = performance.now() - t2;

    // Raw floor: the adapter alone — connect, change, fresh login, close — no store, no protocol.
    const resource = parseResource(target.resource('raw', `reuse/${admin}`));
    const adminPassword = (await stores.credentials.getValue(`reuse/${admin}`)).value;
    const loader = REGISTRY.typeOf(resource.type).adapter;
    if (loader === 'not yet') throw new Error(`${resource.type} has no adapter`);
    const factory = await loader();
    const role = resource.type === 'linux' ? 'login' : 'admin';
    const credentials = { [role]: { accountId: `reuse/${admin}`, username: admin, password: adminPassword } };
    const t3 = performance.now();
    for (const u of users) {
      const ctx = adapterContext(resource, credentials, { timeoutMs: 30_000 });
      const adapter = factory(ctx as never);
      const account: Account = { id: `raw/${u}`, resourceId: 'raw', username: u, secretId: 'unused', tags: [] };
      const pw = generatePassword(ctx.policy);
      await adapter.change({ account, newPassword: pw });
      if (!(await adapter.verify({ account, password: pw })).valid) throw new Error('raw floor: the new password did not log in');
      await adapter.close();
    }
    const rawMs = performance.now() - t3;

    for (const r of [reuse, per]) if (r.status !== 'succeeded') throw new Error(`${target.name}: run ${r.runId} ${r.status} ${JSON.stringify(r.counts)}`);
    return {
      target: target.name,
      accounts: N,
      reusePerSecond: (N / reuseMs) * 1000,
      perAccountPerSecond: (N / perMs) * 1000,
      protocolMsPerAccount: reuseMs / N,
      rawMsPerAccount: rawMs / N,
    };
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
    await cleanup();
  }
}

async function main() {
  execFileSync('bash', [join(repoRoot, 'test/servers/setup.sh'), 'start'], { stdio: 'inherit' });
  const list = targets();
  if (list.length === 0) throw new Error('no test server is running; see test/servers/README.md');
  const rows = [];
  for (const t of list) {
    process.stderr.write(`${t.name}: ${N} accounts ...\n`);
    rows.push(await measure(t));
  }
  const f = (n: number) => n.toFixed(1);
  process.stdout.write(`\nReset throughput, ${N} accounts per target, one resource at a time, embedded store (${new Date().toISOString().slice(0, 10)}, Node ${process.version})\n\n`);
  process.stdout.write('| target | accounts/s, connection reused | accounts/s, connection per account | reuse speed-up | full protocol ms/account | raw floor ms/account | protocol / floor |\n|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.target} | ${f(r.reusePerSecond)} | ${f(r.perAccountPerSecond)} | ${(r.reusePerSecond / r.perAccountPerSecond).toFixed(2)}× | ${f(r.protocolMsPerAccount)} | ${f(r.rawMsPerAccount)} | ${(r.protocolMsPerAccount / r.rawMsPerAccount).toFixed(2)}× |\n`);
  }
}

await main();
