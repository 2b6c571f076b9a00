// A 1,000-account run through the engine against the simulator enforcing Graph's throttling
// budget (resource units per window per app and tenant; Graph's 10-second window scaled to one
// second so the run is short; at most 30 resets a second): Graph throttles, the adapter waits out its Retry-After, and the
// run ends with every account reset and no failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../layers/engine/secret.js';
import type { EntraSimulator } from '../../simulators/https/entra.js';
import { DOMAIN, openEngine, startTestTenant } from './support.js';

const ACCOUNTS = 1_000;
const RESOURCES = 10;
let sim: EntraSimulator;
beforeAll(async () => {
  // Each reset costs 5 units (a read, the write at 3, the read-back): 5,000 in all, 30 a second at most.
  sim = await startTestTenant({ rateLimit: { resourceUnits: 150, windowMs: 1_000 } });
});
afterAll(() => sim?.stop());

describe('entra-id in bulk under Graph’s throttling', () => {
  it(`${ACCOUNTS} accounts on ${RESOURCES} resources of one application: Graph throttles, and the run ends with all of them reset and none failed`, async () => {
    const h = await openEngine({ concurrency: RESOURCES });
    const users: { upn: string; secretId: string }[] = [];
    const resourceIds: string[] = [];
    for (let r = 0; r < RESOURCES; r++) {
      // One adapter serves its resource's accounts one at a time: several resources of the same
      // application share Graph's per-app budget, as an organisation's resources for one tenant do.
      const resourceId = await h.resource(sim, { tags: ['bulk'] });
      resourceIds.push(resourceId);
      for (let i = 0; i < ACCOUNTS / RESOURCES; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, async (_, j) => {
            const upn = `bulk${r}-${i + j}@${DOMAIN}`;
            const password = `Bulk-start-${r}-${i + j}-Aa1!`;
            sim.addUser(upn, password);
            const account = await h.config.putAccount({ resourceId, username: upn, secretId: `entra/bulk/${upn}` }, { password: new Secret(password) });
            users.push({ upn, secretId: account.secretId });
          }),
        );
      }
    }
    // However fast this machine is, Graph throttles at the start too (a burst of 429s, as after another app's burst).
    sim.https.setFaults({ throttle: { count: 30, retryAfterSeconds: 1, match: (r) => r.url.startsWith('/v1.0/') } });
    const started = Date.now();
    const record = await h.engine.run({ tags: ['bulk'] });
    const results = await h.stores.state.listAccountResults(record.runId);
    const seconds = (Date.now() - started) / 1000;

    expect(record.counts.total).toBe(ACCOUNTS);
    expect(results.filter((r) => r.outcome !== 'succeeded').map((r) => `${r.accountId}: ${r.errorClass ?? ''} ${r.message ?? ''}`)).toEqual([]);
    expect(sim.https.throttled() + sim.graphThrottled()).toBeGreaterThan(30);
    for (const { upn, secretId } of users) expect(sim.find(upn)!.password, upn).toBe(await h.current(secretId));
    console.info(`entra-id bulk: ${ACCOUNTS} accounts in ${seconds.toFixed(1)} s (${(ACCOUNTS / seconds).toFixed(0)}/s), ${sim.graphThrottled()} Graph answers throttled by the budget, ${sim.https.throttled()} by the burst`);
  }, 240_000);
});
