/**
 * Device reset throughput on one simulated Cisco IOS device over SSH (`npm run bench:device`, or
 * `npx tsx bench/device.ts [--accounts N] [--repeat R]`), N local users (default 100):
 * - the full protocol: the whole engine on the embedded store, one resource holding the N
 *   accounts, so one admin session (logged in, enabled, in configuration mode per change) serves
 *   them all;
 * - one session per account: each account in a resource of its own (same device), so each pays
 *   for the SSH handshake, the login and `terminal length 0`;
 * - the floor: the device adapter alone (createDeviceAdapter with the IOS driver), the same session
 *   reuse, for each account a change (`show running-config | include`, `username … secret`,
 *   `copy running-config startup-config`) and a fresh login; no store, no protocol.
 * The protocol and the floor are run R times (default 3), alternating which goes first, as
 * bench/reset.ts does; the table gives medians and protocol / floor with its range. The simulator
 * (test/simulators/device) runs in this process, so its CPU is in every figure alike.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Configurator } from '../layers/engine/configure.js';
import { ResetEngine } from '../layers/engine/engine.js';
import { Log } from '../layers/engine/log.js';
import { generatePassword } from '../layers/engine/policy.js';
import { Secret } from '../layers/engine/secret.js';
import { openEmbeddedStores } from '../layers/engine/stores/embedded.js';
import type { Account } from '../layers/engine/types.js';
import { ciscoIosDriver } from '../layers/resources/cisco/cisco-ios-driver.js';
import { createDeviceAdapter } from '../layers/resources/network-device/adapter.js';
import { REGISTRY } from '../layers/resources/registry.js';
import { adapterContext } from '../harness/support/adapter-context.js';
import { ciscoIos } from '../test/simulators/device/cisco-ios.js';
import { startDeviceSimulator } from '../test/simulators/device/index.js';
import { median } from './options.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
};
const N = Number(arg('accounts', '100'));
const REPEAT = Number(arg('repeat', '3'));
const WARM_UP = Math.min(10, N);
const log = new Log({ level: 'SILENT' });
const ADMIN = { username: 'admin', password: 'Adm1n-bench-pw' };

async function timed(work: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const ios = ciscoIos({ hostname: 'R1' });
  const users = Array.from({ length: N }, (_, i) => ({ username: `u${String(i).padStart(3, '0')}`, password: `Start-${i}-pw` }));
  ios.configure([`username ${ADMIN.username} privilege 15 secret ${ADMIN.password}`, ...users.map((u) => `username ${u.username} secret ${u.password}`)].join('\n'));
  const sim = await startDeviceSimulator(ios);
  const resource = (id: string) => ({ id, type: 'cisco-ios', host: sim.host, port: sim.sshPort, protocol: 'ssh', loginAccount: `${id}/${ADMIN.username}` });

  const dir = mkdtempSync(join(tmpdir(), 'rpr-bench-device-'));
  const stores = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });
  try {
    const config = new Configurator(stores.state, stores.credentials, REGISTRY);
    const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, log, concurrency: 1 });
    const secretId = (u: string) => `bench-device/${u}`;
    await config.putResource(resource('reuse'));
    await config.putAccount({ resourceId: 'reuse', username: ADMIN.username, secretId: secretId(ADMIN.username) }, { password: new Secret(ADMIN.password) });
    for (const u of users) await config.putAccount({ resourceId: 'reuse', username: u.username, secretId: secretId(u.username) }, { password: new Secret(u.password) });
    const perIds: string[] = [];
    for (const [i, u] of users.entries()) {
      await config.putResource(resource(`per-${i}`));
      await config.putAccount({ resourceId: `per-${i}`, username: ADMIN.username, secretId: secretId(ADMIN.username) }, {});
      perIds.push((await config.putAccount({ resourceId: `per-${i}`, username: u.username, secretId: secretId(u.username) }, {})).id);
    }
    const run = async (accountIds: string[]) => {
      const r = await engine.run({ accountIds });
      if (r.status !== 'succeeded') throw new Error(`run ${r.runId} ${r.status} ${JSON.stringify(r.counts)}`);
    };
    const protocol = (count = N) => timed(() => run(users.slice(0, count).map((u) => `reuse/${u.username}`)));

    const floorResource = REGISTRY.parseResource(resource('floor')) as Parameters<ReturnType<typeof createDeviceAdapter<never>>>[0]['resource'];
    const ctx = adapterContext(floorResource, { login: { accountId: `floor/${ADMIN.username}`, username: ADMIN.username, password: new Secret(ADMIN.password) } }, { timeoutMs: 30_000 });
    const floor = (count = N) =>
      timed(async () => {
        const adapter = createDeviceAdapter(ciscoIosDriver)(ctx as never);
        try {
          for (const u of users.slice(0, count)) {
            const account: Account = { id: `floor/${u.username}`, resourceId: 'floor', username: u.username, secretId: 'unused', tags: [] };
            const password = generatePassword(ctx.policy);
            await adapter.change({ account, newPassword: password });
            if (!(await adapter.verify({ account, password })).valid) throw new Error(`floor: the new password of ${u.username} did not log in`);
          }
        } finally {
          await adapter.close();
        }
      });

    process.stderr.write(`cisco-ios simulator over SSH: ${N} accounts, ${REPEAT} pass(es) ...\n`);
    await floor(WARM_UP);
    await protocol(WARM_UP);
    const p: number[] = [];
    const f: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const [a, b] = i % 2 === 0 ? [await floor(), await protocol()] : [await protocol(), await floor()];
      const [fl, pr] = i % 2 === 0 ? [a, b] : [b, a];
      f.push(fl);
      p.push(pr);
      process.stderr.write(`  pass ${i + 1}: protocol ${(pr / N).toFixed(1)} ms/account, floor ${(fl / N).toFixed(1)} ms/account, ${(pr / fl).toFixed(2)}×\n`);
    }
    const per = await timed(() => run(perIds));
    if (ios.unexpected.length > 0) throw new Error(`the IOS simulator met what it does not know: ${ios.unexpected.join('; ')}`);

    const rate = (ms: number) => ((N / ms) * 1000).toFixed(1);
    const ratios = p.map((x, i) => x / f[i]!);
    process.stdout.write(`\nDevice reset throughput, ${N} accounts on one simulated Cisco IOS device over SSH, embedded store, median of ${REPEAT} (${new Date().toISOString().slice(0, 10)}, Node ${process.version})\n\n`);
    process.stdout.write('| accounts/s, session reused | accounts/s, session per account | accounts/s, floor | protocol ms/account | floor ms/account | protocol / floor (range) |\n|---|---|---|---|---|---|\n');
    process.stdout.write(
      `| ${rate(median(p))} | ${rate(per)} | ${rate(median(f))} | ${(median(p) / N).toFixed(1)} | ${(median(f) / N).toFixed(1)} | ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |\n`,
    );
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
    await sim.stop();
  }
}

await main();
