/**
 * A bulk run at Secrets Manager's write quota: 2,000 accounts (200 resources of 10; `--large`
 * for 10,000) through the synthesized workflow run locally, with the real handlers and the
 * in-process target, the stores on moto behind a proxy that throttles as AWS documents (50
 * writes a second, and the other quotas), at Map MaxConcurrency 10 and 50. It prints what
 * succeeded, failed and went out of sync, whether every account's AWSCURRENT is what the target
 * holds, the throttled responses, the writes per reset, and resets per second as a share of the
 * ceiling (50 ÷ writes per reset), over the time the reset tasks ran (the plan and the summary,
 * which moto serves slowly — about 30 ms a query — are timed on their own).
 *
 * It starts two moto servers of its own (`moto_server`, from `bash test/servers/setup.sh install`):
 * one for Secrets Manager and one for DynamoDB, since one Python process serves about one core and
 * this run needs more than one moto can answer. moto then answers a bench's requests about as fast
 * as the engine makes them; AWS would answer them faster.
 * `npm run bench:quota [-- --large] [-- --resources 200 --per-resource 10] [-- --rate 45] [-- --concurrency 50]`.
 */
import { prepareBulk, runBulk } from '../harness/support/bulk-run.js';
import { startMoto } from '../harness/support/moto-process.js';
import { SECRETS_MANAGER_QUOTAS, ThrottlingProxy } from '../harness/support/throttling-proxy.js';
import { DEFAULT_SECRETS_WRITE_RATE, SECRETS_MANAGER_WRITE_QUOTA } from '../layers/engine/stores/write-budget.js';
import { numberOption } from './options.js';

const large = process.argv.includes('--large');
const RESOURCES = numberOption('resources', large ? 1000 : 200);
const PER = numberOption('per-resource', 10);
const RATE = numberOption('rate', DEFAULT_SECRETS_WRITE_RATE);
// `--concurrency N` runs one MaxConcurrency only.
const CONCURRENCIES = process.argv.includes('--concurrency') ? [numberOption('concurrency', 50)] : [10, 50];

const [dynamo, secrets] = await Promise.all([startMoto(), startMoto()]);
const upstreams = { upstream: dynamo.endpoint, secretsManagerUpstream: secrets.endpoint };
const proxy = await ThrottlingProxy.start({ ...upstreams, quotas: SECRETS_MANAGER_QUOTAS });
// The same two motos unthrottled, for the setup and for reading every account back.
const direct = await ThrottlingProxy.start({ ...upstreams, quotas: [] });
const N = RESOURCES * PER;
const rows: string[] = [];
try {
  for (const maxConcurrency of CONCURRENCIES) {
    // Each run on a deployment of its own (table and secrets), as alike as two runs can be.
    const t0 = performance.now();
    const fixture = await prepareBulk({ endpoint: direct.endpoint, resources: RESOURCES, perResource: PER });
    process.stderr.write(`configured ${N} accounts on moto in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    const o = await runBulk(fixture, { direct: direct.endpoint, proxy, maxConcurrency, secretsWriteRate: RATE });
    const counts = o.run.counts as Record<string, number>;
    const succeeded = counts.succeeded ?? 0;
    const perReset = o.writes / Math.max(1, succeeded);
    const ceiling = SECRETS_MANAGER_WRITE_QUOTA / perReset;
    const perSecond = succeeded / o.resetSeconds;
    rows.push(
      `| ${maxConcurrency} | ${succeeded} | ${counts.failed ?? 0} | ${counts['out-of-sync'] ?? 0} | ${o.mismatched.length} | ${o.throttled} | ${perReset.toFixed(2)} | ${o.seconds.toFixed(0)} s | ${o.resetSeconds.toFixed(0)} s | ${perSecond.toFixed(1)} | ${((100 * perSecond) / ceiling).toFixed(0)} % of ${ceiling.toFixed(1)} |`,
    );
    process.stderr.write(`MaxConcurrency ${maxConcurrency}: ${JSON.stringify(counts)} in ${o.seconds.toFixed(0)} s (resetting ${o.resetSeconds.toFixed(0)} s), ${o.invocations} invocations\n`);
  }
} finally {
  await Promise.all([proxy.close(), direct.close()]);
  await Promise.all([dynamo.stop(), secrets.stop()]);
}
process.stdout.write(
  `\nA bulk run at Secrets Manager's write quota (${new Date().toISOString().slice(0, 10)}, Node ${process.version}): ${N} accounts (${RESOURCES} resources × ${PER}), ` +
    `local workflow, moto behind the throttling proxy (${SECRETS_MANAGER_WRITE_QUOTA} writes/s), write budget ${RATE}/s\n\n` +
    '| Map MaxConcurrency | succeeded | failed | out of sync | AWSCURRENT ≠ target | throttled responses | writes per reset | run (plan to summary) | resetting (first task to last) | resets/s while resetting | share of the ceiling (resets/s) |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|\n' +
    rows.join('\n') +
    '\n',
);
