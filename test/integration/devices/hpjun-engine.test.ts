/**
 * hp-procurve and juniper-netscreen through the engine (in-memory stores, the registry's adapter)
 * against their simulators: a run over every account of a resource changes the login the session
 * uses last (the ProCurve manager, the ScreenOS admin: each type's `references`), proves every
 * new password by a fresh login, and leaves nothing saved beyond what copyToStartup asks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AdapterFactory, TargetAdapter } from '../../../layers/engine/adapter.js';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../../../layers/engine/stores/types.js';
import { REGISTRY } from '../../../layers/resources/registry.js';
import { hpProcurve } from '../../simulators/device/hp-procurve.js';
import { startDeviceSimulator, type Dialect, type DeviceSimulator } from '../../simulators/device/index.js';
import { juniperNetscreen } from '../../simulators/device/juniper-netscreen.js';
import { checkPassword } from '../../simulators/device/juniper-netscreen-config.js';

const sims: DeviceSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

/** The engine with the type's own adapter, each change's user name recorded in order. */
async function engineFor(type: 'hp-procurve' | 'juniper-netscreen', dialect: Dialect, resource: Record<string, unknown>, accounts: { username: string; password: string }[]) {
  const sim = await startDeviceSimulator(dialect);
  sims.push(sim);
  const stores = await openMemoryStores();
  const loader = REGISTRY.typeOf(type).adapter;
  const real = (await loader()) as AdapterFactory<{ id: string }>;
  const order: string[] = [];
  const recording: AdapterFactory<{ id: string }> = (ctx) => {
    const a = real(ctx);
    return {
      type: a.type,
      verification: a.verification,
      change: (req) => {
        order.push(req.account.username);
        return a.change(req);
      },
      verify: (req) => a.verify(req),
      close: () => a.close(),
    } satisfies TargetAdapter;
  };
  const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { [type]: recording as AdapterFactory<never> }, log: new Log({ level: 'SILENT' }), timeoutMs: 5_000 });
  const config = new Configurator(stores.state, stores.credentials, REGISTRY);
  await config.putResource({ ...resource, host: sim.host, port: sim.sshPort });
  for (const a of accounts) await config.putAccount({ resourceId: resource['id'], username: a.username, secretId: `s/${a.username}` }, { password: new Secret(a.password) });
  return {
    sim,
    order,
    run: async () => {
      const record = await engine.run({ resourceIds: [resource['id'] as string] });
      return stores.state.listAccountResults(record.runId);
    },
    current: async (username: string) => (await stores.credentials.getValue(`s/${username}`, { stage: AWSCURRENT })).value.reveal(),
    close: () => stores.close(),
  };
}

describe('the session login is changed last and proven', () => {
  it('hp-procurve: the operator, then the manager the session logs in as', async () => {
    const sw = hpProcurve({ manager: { username: 'admin', password: 'Mgr-Old-1' }, operator: { username: 'ops', password: 'Op-Old-1' } });
    const e = await engineFor('hp-procurve', sw, { id: 'sw', type: 'hp-procurve', managerAccount: 'sw/admin', operatorAccount: 'sw/ops' }, [
      { username: 'admin', password: 'Mgr-Old-1' },
      { username: 'ops', password: 'Op-Old-1' },
    ]);
    try {
      const results = await e.run();
      expect(results.map((r) => r.outcome), JSON.stringify(results)).toEqual(['succeeded', 'succeeded']);
      expect(e.order).toEqual(['ops', 'admin']);
      for (const name of ['admin', 'ops']) expect(sw.login.authenticate(name, await e.current(name), 'ssh')).toBeDefined();
      expect(sw.startup()).toEqual(sw.running());
      expect(e.sim.openSessions()).toBe(0);
      expect(sw.unexpected).toEqual([]);
    } finally {
      await e.close();
    }
  });

  it('juniper-netscreen: an admin user, then the root admin the session logs in as (`set admin password`)', async () => {
    const ns = juniperNetscreen({ rootName: 'root', rootPassword: 'Root-Old-1', admins: [{ name: 'zops', password: 'Ops-Old-1', privilege: 'all' }] });
    const e = await engineFor('juniper-netscreen', ns, { id: 'fw', type: 'juniper-netscreen', adminAccount: 'fw/root', rootAdminAccount: 'fw/root', copyToStartup: false }, [
      { username: 'root', password: 'Root-Old-1' },
      { username: 'zops', password: 'Ops-Old-1' },
    ]);
    try {
      // 'zops' sorts after 'root': the order below is the engine's references rule, not the names'.
      const results = await e.run();
      expect(results.map((r) => r.outcome), JSON.stringify(results)).toEqual(['succeeded', 'succeeded']);
      expect(e.order).toEqual(['zops', 'root']);
      for (const name of ['root', 'zops']) expect(ns.login.authenticate(name, await e.current(name), 'ssh')).toBeDefined();
      // copyToStartup off: exit was answered "n", nothing reached the flash.
      expect(checkPassword(ns.startup().root, 'Root-Old-1')).toBe(true);
      expect(ns.startupText()).not.toBe(ns.runningText());
      expect(e.sim.openSessions()).toBe(0);
      expect(ns.unexpected).toEqual([]);
    } finally {
      await e.close();
    }
  });
});
