/**
 * Reset throughput on the real test servers (`npm run bench`, or
 * `npx tsx bench/reset.ts [--accounts N] [--repeat R] [--targets postgresql,mariadb,ssh,ldap,ad] [--no-per-account]`).
 *
 * For PostgreSQL, MariaDB, an SSH host (sudo), OpenLDAP and Samba AD, with N accounts each (default 200):
 * - the full protocol: the whole engine on the embedded store, one resource holding the N accounts,
 *   so one admin connection serves them all;
 * - the floor: the same adapter work with the same reuse, and nothing else — one instance of the
 *   type's adapter (one admin session), for each account a change and a fresh login, no store,
 *   no protocol;
 * - the full protocol with one connection per account (each account in a resource of its own), to
 *   show what reuse saves.
 * The protocol and the floor are run R times (default 3), alternating which goes first; the table
 * gives their medians, and the median and range of protocol / floor over the R pairs (each pair
 * run back to back, so a drift of the machine's load weighs on both alike). One resource at a time in
 * every mode (within a resource, the engine overlaps its accounts' store work as it always does).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Configurator } from '../layers/engine/configure.js';
import { ResetEngine } from '../layers/engine/engine.js';
import { Log } from '../layers/engine/log.js';
import { generatePassword } from '../layers/engine/policy.js';
import { Secret } from '../layers/engine/secret.js';
import { openEmbeddedStores, type EmbeddedStores } from '../layers/engine/stores/embedded.js';
import type { Account } from '../layers/engine/types.js';
import { REGISTRY } from '../layers/resources/registry.js';
import { repoRoot } from '../harness/servers/index.js';
import { adapterContext } from '../harness/support/adapter-context.js';
import { median } from './options.js';
import { targets, type Prepared, type Target } from './reset-targets.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
};
const N = Number(arg('accounts', '200'));
const REPEAT = Number(arg('repeat', '3'));
const ONLY = arg('targets', '').split(',').filter(Boolean);
const WARM_UP = 10;
const PER_ACCOUNT = !process.argv.includes('--no-per-account');
const log = new Log({ level: 'SILENT' });

/** Wall time and this process's CPU time of one pass over the accounts. */
interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

async function timed(work: () => Promise<void>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

/** A secret id the stores take for any user name (LDAP DNs hold "=" and ","). */
const secretIdOf = (resourceId: string, username: string) => `bench/${resourceId}/${username.replace(/[^A-Za-z0-9._-]/g, '_')}`;

/**
 * The floor: one instance of the type's adapter, built as the engine builds it but without the
 * engine's wrapper; for each account a generated password, a change, a fresh login. Nothing is stored.
 */
async function floor(target: Target, prepared: Prepared, users = prepared.users): Promise<Timing> {
  const adminAccountId = `floor/${prepared.admin.username}`;
  const resource = REGISTRY.parseResource(prepared.resource('floor', adminAccountId));
  const type = REGISTRY.typeOf(resource.type);
  const factory = await type.adapter();
  // The admin login under the role the type's configuration gives it, with its realm, as the engine resolves it.
  const realm = type.realm?.(resource as never);
  const credentials = Object.fromEntries(
    type.references(resource as never).map((ref) => [ref.role, { accountId: ref.accountId, username: prepared.admin.username, password: new Secret(prepared.admin.password), ...(realm ? { domain: realm } : {}) }]),
  );
  const ctx = adapterContext(resource, credentials, { timeoutMs: 30_000 });
  return timed(async () => {
    const adapter = factory(ctx as never);
    try {
      for (const u of users) {
        const account: Account = { id: `floor/${u.username}`, resourceId: 'floor', username: u.username, secretId: 'unused', tags: [] };
        const password = generatePassword(ctx.policy);
        await adapter.change({ account, newPassword: password });
        if (!(await adapter.verify({ account, password })).valid) throw new Error(`${target.name}: floor: the new password of ${u.username} did not log in`);
      }
    } finally {
      await adapter.close();
    }
  });
}

/** The stores, engine and configuration of one target's protocol runs. */
class Harness {
  readonly #dir = mkdtempSync(join(tmpdir(), 'rpr-bench-'));
  #stores: EmbeddedStores | undefined;
  #engine: ResetEngine | undefined;
  #config: Configurator | undefined;
  #perIds: string[] = [];

  constructor(
    private readonly target: Target,
    private readonly prepared: Prepared,
  ) {}

  async open(): Promise<void> {
    this.#stores = await openEmbeddedStores({ dir: this.#dir, vaultKey: randomBytes(32) });
    this.#config = new Configurator(this.#stores.state, this.#stores.credentials, REGISTRY);
    this.#engine = new ResetEngine({ registry: REGISTRY, state: this.#stores.state, credentials: this.#stores.credentials, log, concurrency: 1 });
    const { admin, users } = this.prepared;
    const put = (resourceId: string, username: string, password?: string, secretId = secretIdOf(resourceId, username)) =>
      this.#config!.putAccount({ resourceId, username, secretId }, password === undefined ? {} : { password: new Secret(password) });
    // Reuse: one resource holds every account; one admin connection serves them all.
    await this.#config.putResource(this.prepared.resource('reuse', `reuse/${admin.username}`));
    await put('reuse', admin.username, admin.password);
    for (const u of users) await put('reuse', u.username, u.password);
    // One connection per account: each account alone in its own resource (same host; the admin's
    // secret shared through an account of each resource, as a resource's admin must be its own).
    if (PER_ACCOUNT) {
      for (const [i, u] of users.entries()) {
        const id = `per-${i}`;
        await this.#config.putResource(this.prepared.resource(id, `${id}/${admin.username}`));
        await put(id, admin.username, undefined, secretIdOf('reuse', admin.username));
        this.#perIds.push((await put(id, u.username, undefined, secretIdOf('reuse', u.username))).id);
      }
    }
  }

  /** The whole engine over the reuse resource's accounts (or the first `count` of them). */
  reuse(count = this.prepared.users.length): Promise<Timing> {
    return this.#run(this.prepared.users.slice(0, count).map((u) => `reuse/${u.username}`));
  }

  perAccount(): Promise<Timing> {
    return this.#run(this.#perIds);
  }

  async #run(accountIds: string[]): Promise<Timing> {
    let status = '';
    const t = await timed(async () => {
      const r = await this.#engine!.run({ accountIds });
      if (r.status !== 'succeeded') status = `run ${r.runId} ${r.status} ${JSON.stringify(r.counts)}`;
    });
    if (status) throw new Error(`${this.target.name}: ${status}`);
    return t;
  }

  async close(): Promise<void> {
    await this.#stores?.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

interface Row {
  target: string;
  protocol: Timing[];
  floor: Timing[];
  perAccount?: Timing;
}

async function measure(target: Target): Promise<Row> {
  const prepared = await target.prepare(N);
  const harness = new Harness(target, prepared);
  try {
    await harness.open();
    const row: Row = { target: target.name, protocol: [], floor: [] };
    // Untimed warm-up of both (compiled code, TLS contexts, the stores' files), so pass 1 is not the cold one.
    const warm = Math.min(WARM_UP, N);
    await floor(target, prepared, prepared.users.slice(0, warm));
    await harness.reuse(warm);
    for (let i = 0; i < REPEAT; i++) {
      // Alternate which goes first, so a drift of the machine's load does not favour one of them.
      const pair = i % 2 === 0 ? [() => floor(target, prepared), () => harness.reuse()] : [() => harness.reuse(), () => floor(target, prepared)];
      const [a, b] = [await pair[0]!(), await pair[1]!()];
      const [f, p] = i % 2 === 0 ? [a, b] : [b, a];
      row.floor.push(f);
      row.protocol.push(p);
      process.stderr.write(`  pass ${i + 1}: protocol ${(p.ms / N).toFixed(2)} ms/account, floor ${(f.ms / N).toFixed(2)} ms/account, ${(p.ms / f.ms).toFixed(2)}×\n`);
    }
    if (PER_ACCOUNT) row.perAccount = await harness.perAccount();
    return row;
  } finally {
    await harness.close();
    await prepared.cleanup();
  }
}

async function main() {
  if (!process.argv.includes('--no-start')) execFileSync('bash', [join(repoRoot, 'test/servers/setup.sh'), 'start'], { stdio: 'inherit' });
  const list = targets().filter((t) => ONLY.length === 0 || ONLY.includes(t.key));
  if (list.length === 0) throw new Error('no test server is running; see test/servers/README.md');
  const rows: Row[] = [];
  for (const t of list) {
    process.stderr.write(`${t.name}: ${N} accounts, ${REPEAT} pass(es) ...\n`);
    rows.push(await measure(t));
  }
  const f = (n: number) => n.toFixed(1);
  process.stdout.write(
    `\nReset throughput, ${N} accounts per target, one resource at a time, embedded store, median of ${REPEAT} (${new Date().toISOString().slice(0, 10)}, Node ${process.version})\n\n`,
  );
  process.stdout.write(
    '| target | accounts/s, connection reused | accounts/s, connection per account | reuse speed-up | full protocol ms/account | floor ms/account | protocol / floor (range) | rpr CPU ms/account, protocol / floor |\n|---|---|---|---|---|---|---|---|\n',
  );
  for (const r of rows) {
    const p = median(r.protocol.map((t) => t.ms)) / N;
    const fl = median(r.floor.map((t) => t.ms)) / N;
    const ratios = r.protocol.map((t, i) => t.ms / r.floor[i]!.ms);
    const per = r.perAccount ? (N / r.perAccount.ms) * 1000 : undefined;
    const cpuP = median(r.protocol.map((t) => t.cpuMs)) / N;
    const cpuF = median(r.floor.map((t) => t.cpuMs)) / N;
    process.stdout.write(
      `| ${r.target} | ${f(1000 / p)} | ${per === undefined ? '–' : f(per)} | ${per === undefined ? '–' : `${(1000 / p / per).toFixed(2)}×`} | ${p.toFixed(2)} | ${fl.toFixed(2)} | ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${cpuP.toFixed(2)} / ${cpuF.toFixed(2)} |\n`,
    );
  }
}

await main();
