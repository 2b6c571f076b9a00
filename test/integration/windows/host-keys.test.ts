import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { createWindowsAdapter } from '../../../layers/resources/windows/adapter.js';
import { WindowsOpenSshSimulator } from '../../simulators/windows-openssh/server.js';
import { TcpSwitch } from '../../support/tcp-switch.js';
import { loginWorks } from './support.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const ADMIN_PASSWORD = 'Adm1n-tofu-pw';

/**
 * The windows adapter's SSH logins trust the host key on first use, through the engine and its
 * state store: one address answered first by one simulated Windows host, then by another with a
 * different host key (its own SAM, holding the same accounts).
 */
describe('windows: SSH host key trusted on first use (simulated Windows OpenSSH hosts)', () => {
  let stores: EmbeddedStores;
  let engine: ResetEngine;
  let first: WindowsOpenSshSimulator;
  let second: WindowsOpenSshSimulator;
  let address: TcpSwitch;

  beforeAll(async () => {
    stores = await openMemoryStores();
    engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { windows: createWindowsAdapter }, log: new Log({ level: 'SILENT' }), timeoutMs: 10_000 });
    [first, second] = [await WindowsOpenSshSimulator.start(), await WindowsOpenSshSimulator.start()];
    for (const sim of [first, second]) {
      sim.sam.add('Administrator', ADMIN_PASSWORD, { admin: true });
      sim.sam.add('alice', 'Old-alice-1');
    }
    address = await TcpSwitch.start(() => first.port);
    const config = new Configurator(stores.state, stores.credentials, REGISTRY);
    await config.putResource({ id: 'win-tofu', type: 'windows', host: address.host, port: address.port, adminAccount: 'win-tofu/Administrator' });
    await config.putAccount({ resourceId: 'win-tofu', username: 'Administrator', secretId: 'rpr/win-tofu/Administrator' }, { password: new Secret(ADMIN_PASSWORD) });
    await config.putAccount({ resourceId: 'win-tofu', username: 'alice', secretId: 'rpr/win-tofu/alice' }, { password: new Secret('Old-alice-1') });
  });
  afterAll(async () => {
    await address?.close();
    for (const sim of [first, second]) await sim?.close();
    await stores?.close();
  });

  const reset = async () => {
    const run = await engine.run({ accountIds: ['win-tofu/alice'] });
    return (await stores.state.listAccountResults(run.runId))[0]!;
  };
  const current = async () => (await stores.credentials.getValue('rpr/win-tofu/alice')).value.reveal();

  it('records the first host key, refuses another before any login, and accepts it once an operator has', async () => {
    expect(await reset()).toMatchObject({ outcome: 'succeeded' });
    expect(await stores.state.getHostKey('win-tofu')).toMatchObject({ sha256: first.hostKeySha256, keyType: 'ssh-ed25519', source: 'first-use' });
    const afterFirst = await current();
    expect(await loginWorks(first, 'alice', afterFirst)).toBe(true);

    address.to(second.port);
    const refused = await reset();

    expect(refused).toMatchObject({ outcome: 'failed', errorClass: 'HostKeyMismatchError' });
    expect(refused.message).toContain(`SHA256:${first.hostKeySha256}`);
    expect(refused.message).toContain(`SHA256:${second.hostKeySha256}`);
    expect(second.logins).toEqual([]);
    expect(second.execs).toEqual([]);
    expect(second.passwordOf('alice')).toBe('Old-alice-1');
    expect(await current()).toBe(afterFirst);

    await stores.state.recordHostKey({ resourceId: 'win-tofu', sha256: second.hostKeySha256, source: 'operator', recordedAt: new Date().toISOString() }, first.hostKeySha256);
    expect(await reset()).toMatchObject({ outcome: 'succeeded' });
    expect(await loginWorks(second, 'alice', await current())).toBe(true);
    expect(await loginWorks(second, 'alice', 'Old-alice-1')).toBe(false);
  });
});
