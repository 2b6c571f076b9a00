/**
 * A bulk run of many accounts against the embedded store (on disk), with a fast in-process
 * adapter, so the figures are the engine's and the store's alone:
 * `npx tsx bench/bulk.ts [--accounts 10000] [--per-resource 100]`.
 * Prints setup time, run time, accounts per second and the process's peak memory (max RSS).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Configurator } from '../layers/engine/configure.js';
import { ResetEngine } from '../layers/engine/engine.js';
import { Log } from '../layers/engine/log.js';
import { Secret } from '../layers/engine/secret.js';
import { openEmbeddedStores } from '../layers/engine/stores/embedded.js';
import { MemoryTarget } from '../harness/support/memory-target.js';
import { REGISTRY } from '../layers/resources/registry.js';
import { numberOption } from './options.js';

const N = numberOption('accounts', 10_000);
const PER = numberOption('per-resource', 100);
const mb = (kb: number) => (kb / 1024).toFixed(0);

const dir = mkdtempSync(join(tmpdir(), 'rpr-bulk-'));
const stores = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });
try {
  const target = new MemoryTarget();
  const config = new Configurator(stores.state, stores.credentials, REGISTRY);
  const t0 = performance.now();
  const resources = Math.ceil(N / PER);
  // Configuration is written a resource at a time, its accounts 25 at a time.
  for (let r = 0; r < resources; r++) {
    const id = `db${r}`;
    // The in-process target keys its passwords by user name alone, so each resource's names are its own.
    await config.putResource({ id, type: 'postgresql', host: `${id}.example`, adminAccount: `${id}/${id}admin`, tags: ['bulk'] });
    await config.putAccount({ resourceId: id, username: `${id}admin`, secretId: `bulk/${id}/admin` }, { password: new Secret(`admin-${r}-start`) });
    const users = Array.from({ length: Math.min(PER, N - r * PER) - 1 }, (_, i) => `${id}u${i}`);
    for (let i = 0; i < users.length; i += 25) {
      await Promise.all(
        users.slice(i, i + 25).map((u) => {
          target.passwords.set(u, `${u}-start`);
          return config.putAccount({ resourceId: id, username: u, secretId: `bulk/${id}/${u}` }, { password: new Secret(`${u}-start`) });
        }),
      );
    }
  }
  const setupMs = performance.now() - t0;
  const rssAfterSetup = process.resourceUsage().maxRSS;

  const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { postgresql: target.adapter('postgresql') }, log: new Log({ level: 'SILENT' }) });
  const t1 = performance.now();
  let done = 0;
  const run = await engine.run({ tags: ['bulk'] }, { onAccountDone: () => void (++done % 1000 === 0 && process.stderr.write(`${done}/${N}\r`)) });
  const runMs = performance.now() - t1;
  if (run.counts.total !== N || run.status !== 'succeeded') throw new Error(`run ${run.status}: ${JSON.stringify(run.counts)}`);

  process.stdout.write(`\nBulk run on the embedded store (${new Date().toISOString().slice(0, 10)}, Node ${process.version}), in-process adapter\n\n`);
  process.stdout.write('| accounts | resources | configure | reset run | accounts/s | peak RSS after configuring | peak RSS (whole process) |\n|---|---|---|---|---|---|---|\n');
  process.stdout.write(`| ${N} | ${resources} | ${(setupMs / 1000).toFixed(1)} s | ${(runMs / 1000).toFixed(1)} s | ${((N / runMs) * 1000).toFixed(0)} | ${mb(rssAfterSetup)} MB | ${mb(process.resourceUsage().maxRSS)} MB |\n`);
} finally {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
}
