/**
 * 1,000 IAM users' console passwords reset through the engine on in-memory stores, on a moto of the
 * bench's own with request authentication on (harness/support/iam-moto.ts: access keys,
 * SigV4 signatures and the admin's least-privilege policy checked), against two raw floors made
 * straight with the SDK and the same admin key, at the same concurrency, no store:
 * `UpdateLoginProfile` alone, and the adapter's calls (one `GetAccountPasswordPolicy` per worker,
 * per account `GetLoginProfile` and `UpdateLoginProfile`):
 * `npx tsx bench/iam.ts [--accounts 1000] [--resources 10] [--concurrency N] [--repeat 3]`. The three
 * run R times, alternating which goes first (moto's speed drifts); the table gives medians, and
 * engine / floor as the median (and range) of the R passes. Failures (every way, every pass, and a
 * sample of users whose console password moto holds is not AWSCURRENT's) must be 0: the bench
 * exits 1 otherwise.
 * The concurrency defaults to the type's `sharedTarget.groupsAtOnce` (the groups of a run the
 * workflow lets work on one AWS account at once); the accounts are dealt over the resources, all
 * of one AWS account and one admin key.
 */
import { randomBytes } from 'node:crypto';
import { GetAccountPasswordPolicyCommand, GetLoginProfileCommand, IAMClient, UpdateLoginProfileCommand } from '@aws-sdk/client-iam';
import { Configurator } from '../layers/engine/configure.js';
import { ResetEngine } from '../layers/engine/engine.js';
import { Log } from '../layers/engine/log.js';
import { Secret } from '../layers/engine/secret.js';
import { openMemoryStores } from '../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../layers/engine/stores/types.js';
import { awsIamAdapterFactory } from '../layers/resources/aws-iam/adapter.js';
import { definitionOf, REGISTRY } from '../layers/resources/registry.js';
import { REGION, startIamMoto } from '../harness/support/iam-moto.js';
import { median, numberOption } from './options.js';

const N = numberOption('accounts', 1_000);
const RESOURCES = Math.max(1, numberOption('resources', 10));
const REPEAT = Math.max(1, numberOption('repeat', 3));
const CONCURRENCY = Math.max(1, numberOption('concurrency', definitionOf('aws-iam').sharedTarget!.groupsAtOnce));
const password = (label: string) => `${label}-${randomBytes(9).toString('base64url')}-Aa1!`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rate = (ms: number) => ((N / ms) * 1000).toFixed(1);

const moto = await startIamMoto();
const stores = await openMemoryStores();
try {
  const config = new Configurator(stores.state, stores.credentials, REGISTRY);
  await config.putSecret('bench/iam/admin', new Secret(JSON.stringify(moto.admin.key)));
  const users: string[] = [];
  const t0 = performance.now();
  const per = Math.ceil(N / RESOURCES);
  for (let r = 0; r < RESOURCES && r * per < N; r++) {
    const resourceId = `iam${r}`;
    await config.putResource({ id: resourceId, type: 'aws-iam', region: REGION, endpoint: moto.endpoint, credentialsSecretId: 'bench/iam/admin', tags: ['bench'] });
    const names = Array.from({ length: Math.min(per, N - r * per) }, (_, i) => `bench${r}-${i}`);
    // Created 10 at a time: moto (one Python process) serves about one request at a time anyway.
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(
        names.slice(i, i + 10).map(async (name) => {
          const start = password('Start');
          await moto.createUser(start, name);
          await config.putAccount({ resourceId, username: name, secretId: `bench/iam/${name}` }, { password: new Secret(start) });
        }),
      );
    }
    users.push(...names);
  }
  const setupMs = performance.now() - t0;

  const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { 'aws-iam': awsIamAdapterFactory() }, log: new Log({ level: 'SILENT' }), concurrency: CONCURRENCY });
  const viaEngine = async () => {
    const t = performance.now();
    const run = await engine.run({ tags: ['bench'] });
    const ms = performance.now() - t;
    let failures = run.counts.total === N ? N - (run.counts.succeeded ?? 0) : N;
    // What a user would see (untimed): a sample of the console passwords moto holds is AWSCURRENT's.
    for (const name of [users[0]!, users[Math.floor(users.length / 2)]!, users.at(-1)!]) {
      const current = (await stores.credentials.getValue(`bench/iam/${name}`, { stage: AWSCURRENT })).value.reveal();
      if ((await moto.storedPassword(name)) !== current) failures++;
    }
    return { ms, failures };
  };

  // The floors: the same admin key straight through the SDK (its default retries), no store, no engine.
  const iam = new IAMClient({ endpoint: moto.endpoint, region: REGION, credentials: moto.admin.key });
  const floor = (adapterCalls: boolean) => async () => {
    let next = 0;
    let failures = 0;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        // NoSuchEntity when no policy is set (IAM's default then): an answer like any other.
        if (adapterCalls) await iam.send(new GetAccountPasswordPolicyCommand({})).catch(() => undefined);
        while (next < users.length) {
          const UserName = users[next++]!;
          try {
            if (adapterCalls) await iam.send(new GetLoginProfileCommand({ UserName }));
            await iam.send(new UpdateLoginProfileCommand({ UserName, Password: password('Floor'), PasswordResetRequired: false }));
          } catch {
            failures++;
          }
        }
      }),
    );
    return { ms: performance.now() - t, failures };
  };

  // moto's speed drifts within a run: the three alternate which goes first, as bench/reset.ts's do.
  const ways = { engine: viaEngine, bare: floor(false), same: floor(true) };
  const times: Record<keyof typeof ways, number[]> = { engine: [], bare: [], same: [] };
  let failures = 0;
  for (let pass = 0; pass < REPEAT; pass++) {
    const order = (['engine', 'bare', 'same'] as const).map((_, i, all) => all[(i + pass) % all.length]!);
    for (const way of order) {
      const { ms, failures: failed } = await ways[way]();
      times[way].push(ms);
      failures += failed;
      process.stderr.write(`pass ${pass + 1}/${REPEAT}: ${way} ${seconds(ms)}\n`);
    }
  }
  iam.destroy();

  const ratios = (floorTimes: number[]) => {
    const r = times.engine.map((ms, i) => ms / floorTimes[i]!);
    return `${median(r).toFixed(2)}× (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`;
  };
  process.stdout.write(`\naws-iam on moto with authentication on, median of ${REPEAT} (${new Date().toISOString().slice(0, 10)}, Node ${process.version}): ${RESOURCES} resources of one AWS account and admin key, ${CONCURRENCY} at once; setup (users, login profiles, configuration) ${seconds(setupMs)}\n\n`);
  process.stdout.write("| accounts | engine accounts/s | floor, UpdateLoginProfile alone: accounts/s | engine / floor (range) | floor, the adapter's calls: accounts/s | engine / floor (range) | failures |\n|---|---|---|---|---|---|---|\n");
  process.stdout.write(`| ${N} | ${rate(median(times.engine))} | ${rate(median(times.bare))} | ${ratios(times.bare)} | ${rate(median(times.same))} | ${ratios(times.same)} | ${failures} |\n`);
  if (failures) process.exitCode = 1;
} finally {
  await stores.close();
  await moto.stop();
}
