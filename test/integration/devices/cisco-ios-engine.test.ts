/**
 * The cisco-ios type through the whole engine (the registry's descriptor loads the device adapter
 * and the IOS driver): a resource whose login lacks privilege 15 and enables with the enable
 * secret. The login and the enable secret, which the session itself uses, are changed after every
 * other account, and the new enable secret is proven by a fresh login and `enable` with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openEmbeddedStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../../../layers/engine/stores/types.js';
import { REGISTRY } from '../../../layers/resources/registry.js';
import { captureOutput } from '../../support/leaks.js';
import { iosDevice, type IosDevice } from './cisco-ios-support.js';

describe('reset engine on a simulated Cisco IOS device', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-ios-'));
  let stores: EmbeddedStores;
  let d: IosDevice;
  beforeAll(async () => {
    stores = await openEmbeddedStores({ dir, vaultKey: randomBytes(32) });
    d = await iosDevice('username ops secret Ops-start-1\nusername alice secret Alice-start-1\nusername bob password Bob-start-1\nenable algorithm-type sha256 secret En-start-1\n');
  });
  afterAll(async () => {
    await d?.sim.stop();
    await stores?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('changes the users first, then the login and the enable secret; every new password proven, the enable secret by login + enable', async () => {
    const config = new Configurator(stores.state, stores.credentials, REGISTRY);
    const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, log: new Log({ level: 'DEBUG' }), timeoutMs: 10_000 });
    await config.putResource({ id: 'r1', type: 'cisco-ios', host: d.sim.host, port: d.sim.sshPort, protocol: 'ssh', loginAccount: 'r1/ops', enableSecretAccount: 'r1/enable' });
    const start: Record<string, string> = { ops: 'Ops-start-1', alice: 'Alice-start-1', bob: 'Bob-start-1', enable: 'En-start-1' };
    for (const [u, p] of Object.entries(start)) await config.putAccount({ resourceId: 'r1', username: u, secretId: `ios/${u}` }, { password: new Secret(p) });

    const out = captureOutput();
    let record;
    try {
      record = await engine.run({ resourceIds: ['r1'] });
    } finally {
      out.restore();
    }
    const results = await stores.state.listAccountResults(record.runId);
    expect(record.status, JSON.stringify(results)).toBe('succeeded');
    const now = async (u: string) => (await stores.credentials.getValue(`ios/${u}`, { stage: AWSCURRENT })).value.reveal();
    for (const u of ['ops', 'alice']) expect(d.ios.checkUser(u, await now(u))).toBe(true);
    expect(d.ios.checkUser('bob', await now('bob'))).toBe(true);
    expect(d.ios.running()).toMatch(/^username bob password 0 /m);
    expect(d.ios.checkEnable(await now('enable'))).toBe(true);
    expect(d.ios.checkEnable('En-start-1')).toBe(false);
    expect(d.ios.running()).toMatch(/^enable secret 8 /m);
    // The order the device took the changes in (its hidekeys log): users first, the session's own logins last.
    const order = d.ios.log.map((l) => /logged command:(?:username (\S+)|(enable)) .*(?:secret|password) \*\*\*\*\*/.exec(l)).filter((m) => m !== null).map((m) => m[1] ?? m[2]!);
    expect(order).toHaveLength(4);
    expect(new Set(order.slice(0, 2))).toEqual(new Set(['alice', 'bob']));
    expect(new Set(order.slice(2))).toEqual(new Set(['ops', 'enable']));
    // The enable secret's proof: a fresh login, `enable`, the new secret typed at its prompt.
    expect(results.find((r) => r.accountId === 'r1/enable')).toMatchObject({ outcome: 'succeeded' });
    for (const p of [...Object.values(start), await now('enable'), await now('ops')]) expect(out.text().includes(p)).toBe(false);
    expect(d.ios.unexpected).toEqual([]);
  });
});
