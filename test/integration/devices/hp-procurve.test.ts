/**
 * The hp-procurve driver through the device adapter against the ProCurve simulator
 * (test/simulators/device/hp-procurve.ts) over its real SSH and Telnet servers: the manager and
 * operator passwords reset and proven by a fresh login the simulator checks, the password-only
 * Telnet login, `write memory` only with copyToStartup, logout never saving what the run did not
 * change, a wrong manager password and a refusal "unchanged", a cut after the change reconciled,
 * a custom command set, and the legacy-algorithm SSH option.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import type { Credential, TargetAdapter } from '../../../layers/engine/adapter.js';
import { AuthenticationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { Account } from '../../../layers/resources/common.js';
import { procurveDriver } from '../../../layers/resources/hp-procurve/driver.js';
import { hpProcurveSchema, type HpProcurveResource } from '../../../layers/resources/hp-procurve/schema.js';
import { createDeviceAdapter } from '../../../layers/resources/network-device/adapter.js';
import { hpProcurve, type HpProcurve, type HpProcurveOptions } from '../../simulators/device/hp-procurve.js';
import { sha1Hex } from '../../simulators/device/hp-procurve-config.js';
import { startDeviceSimulator, type DeviceSimulator } from '../../simulators/device/index.js';
import { sshShell, telnet } from './clients.js';

const running: { sim: DeviceSimulator; adapter?: TargetAdapter }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.adapter?.close();
    await r.sim.stop();
  }
});

const MANAGER = { username: 'admin', password: 'Mgr-Old-1' };
const OPERATOR = { username: 'ops', password: 'Op-Old-1' };

async function device(options: HpProcurveOptions = { manager: MANAGER, operator: OPERATOR }, legacySsh = false) {
  const sw = hpProcurve(options);
  const sim = await startDeviceSimulator(sw, { legacySsh });
  const entry: { sim: DeviceSimulator; adapter?: TargetAdapter } = { sim };
  running.push(entry);
  return { sw, sim, entry };
}

const account = (username: string): Account => ({ id: `sw/${username}`, resourceId: 'sw', username, secretId: `s/${username}`, tags: [] });
const credential = (username: string, password: string): Credential => ({ accountId: `sw/${username}`, username, password: new Secret(password) });

function resource(sim: DeviceSimulator, over: Record<string, unknown> = {}): HpProcurveResource {
  const telnet = over['protocol'] === 'telnet';
  return hpProcurveSchema.parse({ id: 'sw', type: 'hp-procurve', host: sim.host, port: telnet ? sim.telnetPort : sim.sshPort, managerAccount: 'sw/admin', operatorAccount: 'sw/ops', ...over });
}

function adapterFor(entry: { sim: DeviceSimulator; adapter?: TargetAdapter }, r: HpProcurveResource, managerPassword = MANAGER.password): TargetAdapter {
  const adapter = createDeviceAdapter(procurveDriver)(adapterContext(r, { manager: credential(r.usernameRequired ? MANAGER.username : 'admin', managerPassword) }, { timeoutMs: 5_000 }));
  entry.adapter = adapter;
  return adapter;
}

/** What the switch holds for a level, as its own check sees it. */
const holds = (config: ReturnType<HpProcurve['running']>, level: 'manager' | 'operator', password: string) => config[level]?.sha1 === sha1Hex(password);

describe('hp-procurve over SSH', () => {
  it('resets the operator then the manager on one session, each proven by a fresh login; write memory saves them', async () => {
    const { sw, sim, entry } = await device();
    const adapter = adapterFor(entry, resource(sim));
    await adapter.change({ account: account('ops'), newPassword: new Secret('Op-New-22') });
    await adapter.change({ account: account('admin'), newPassword: new Secret('Mgr-New-22') });
    expect(sw.login.authenticate('ops', 'Op-New-22', 'ssh')).toEqual({ level: 'operator' });
    expect(sw.login.authenticate('admin', 'Mgr-New-22', 'ssh')).toEqual({ level: 'manager' });
    expect(sw.login.authenticate('admin', MANAGER.password, 'ssh')).toBeUndefined();
    expect(await adapter.verify({ account: account('admin'), password: new Secret('Mgr-New-22') })).toEqual({ valid: true });
    expect(await adapter.verify({ account: account('ops'), password: new Secret('Op-New-22') })).toEqual({ valid: true });
    expect((await adapter.verify({ account: account('ops'), password: new Secret('Op-Old-1') })).valid).toBe(false);
    expect(holds(sw.startup(), 'manager', 'Mgr-New-22') && holds(sw.startup(), 'operator', 'Op-New-22')).toBe(true);
    // The user names are kept.
    expect(sw.running().manager?.username).toBe('admin');
    await adapter.close();
    expect(sim.openSessions()).toBe(0);
    expect(sw.unexpected).toEqual([]);
  });

  it('with copyToStartup off saves nothing, and its logout does not save a change someone made before the run', async () => {
    const { sw, sim, entry } = await device();
    // An unsaved change on the switch before the run: the running configuration differs already.
    const c = await sshShell(sim.sshPort, { username: 'admin', password: MANAGER.password });
    await c.expect('Press any key to continue');
    c.send(' ');
    await c.expect('HP-Switch# ');
    c.send('configure\r');
    await c.expect('(config)# ');
    c.send('hostname Edge-1\r');
    await c.expect('Edge-1(config)# ');
    c.end();
    const adapter = adapterFor(entry, resource(sim, { copyToStartup: false, prompts: { manager: '# ?$' } }));
    await adapter.change({ account: account('ops'), newPassword: new Secret('Op-New-33') });
    await adapter.close();
    expect(holds(sw.running(), 'operator', 'Op-New-33')).toBe(true);
    expect(holds(sw.startup(), 'operator', OPERATOR.password)).toBe(true);
    expect(sw.startup().hostname).toBe('HP-Switch');
    expect(sw.running().hostname).toBe('Edge-1');
    expect(sw.unexpected).toEqual([]);
  });

  it('a wrong manager password is "unchanged" and nothing is changed or saved', async () => {
    const { sw, sim, entry } = await device();
    const before = [sw.runningText(), sw.startupText()];
    const adapter = adapterFor(entry, resource(sim), 'Not-The-One');
    const e = await adapter.change({ account: account('ops'), newPassword: new Secret('Op-New-44') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as AuthenticationError).targetMayHaveChanged).toBe(false);
    expect([sw.runningText(), sw.startupText()]).toEqual(before);
  });

  it('the switch refusing the change is "unchanged" with its words, and nothing is saved', async () => {
    const { sw, sim, entry } = await device();
    sim.setFaults({ refuse: 'Password mismatch. The password was not changed.' });
    const adapter = adapterFor(entry, resource(sim));
    const e = await adapter.change({ account: account('ops'), newPassword: new Secret('Op-New-55') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toContain('Password mismatch');
    expect((e as Error).message).not.toContain('Op-New-55');
    expect(holds(sw.running(), 'operator', OPERATOR.password) && holds(sw.startup(), 'operator', OPERATOR.password)).toBe(true);
  });

  it('a cut right after the change is "outcome unknown", not saved, and the new password is what a fresh login proves', async () => {
    const { sw, sim, entry } = await device();
    sim.setFaults({ cut: { cut: 'applied' } });
    const adapter = adapterFor(entry, resource(sim));
    await expect(adapter.change({ account: account('ops'), newPassword: new Secret('Op-New-66') })).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(holds(sw.startup(), 'operator', OPERATOR.password)).toBe(true);
    expect(await adapter.verify({ account: account('ops'), password: new Secret('Op-New-66') })).toEqual({ valid: true });
    expect((await adapter.verify({ account: account('ops'), password: new Secret(OPERATOR.password) })).valid).toBe(false);
  });

  it('runs a custom command set (the manager password given with plaintext on the line is refused at configuration; prompts used)', async () => {
    const { sw, sim, entry } = await device();
    const r = resource(sim, {
      commandSet: { change: ['password operator user-name {username}', '{password}', '{password}'], configurationMode: true, refusals: ['Password mismatch'] },
    });
    const adapter = adapterFor(entry, r);
    await adapter.change({ account: account('ops'), newPassword: new Secret('Op-Cmd-77') });
    expect(holds(sw.startup(), 'operator', 'Op-Cmd-77')).toBe(true);
    expect(() => resource(sim, { commandSet: { change: ['password operator plaintext {password}'], refusals: ['x'] } })).toThrow(/passwordOnCommandLine/);
    expect(sw.unexpected).toEqual([]);
  });

  it('connects with the legacy-algorithm option to a switch that offers only old algorithms, and not without it', async () => {
    const { sw, sim, entry } = await device(undefined, true);
    const legacy = { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] };
    await expect(adapterFor(entry, resource(sim)).change({ account: account('ops'), newPassword: new Secret('Op-Leg-88') })).rejects.toThrow();
    await entry.adapter?.close();
    const adapter = adapterFor(entry, resource(sim, { sshAlgorithms: legacy }));
    await adapter.change({ account: account('ops'), newPassword: new Secret('Op-Leg-88') });
    expect(holds(sw.running(), 'operator', 'Op-Leg-88')).toBe(true);
  });
});

describe('hp-procurve over Telnet', () => {
  it('answers "Press any key" before the login, resets with user names, and reports its window (NAWS)', async () => {
    const { sw, sim, entry } = await device();
    const adapter = adapterFor(entry, resource(sim, { protocol: 'telnet' }));
    await adapter.change({ account: account('admin'), newPassword: new Secret('Mgr-Tel-11') });
    expect(sw.login.authenticate('admin', 'Mgr-Tel-11', 'telnet')).toEqual({ level: 'manager' });
    expect(await adapter.verify({ account: account('admin'), password: new Secret('Mgr-Tel-11') })).toEqual({ valid: true });
    expect(sim.sessions.filter((s) => s.transport === 'telnet').every((s) => s.window !== undefined)).toBe(true);
    expect(sw.unexpected).toEqual([]);
  });

  it('logs in with the password alone on a switch without user names, and changes it without user-name', async () => {
    const { sw, sim, entry } = await device({ manager: { password: MANAGER.password }, operator: { password: OPERATOR.password } });
    const adapter = adapterFor(entry, resource(sim, { protocol: 'telnet', usernameRequired: false }));
    await adapter.change({ account: account('ops'), newPassword: new Secret('Op-Tel-22') });
    expect(sw.running().operator).toEqual({ username: undefined, sha1: sha1Hex('Op-Tel-22') });
    expect(sw.login.authenticate(undefined, 'Op-Tel-22', 'telnet')).toEqual({ level: 'operator' });
    expect(await adapter.verify({ account: account('ops'), password: new Secret('Op-Tel-22') })).toEqual({ valid: true });
    expect(sw.unexpected).toEqual([]);
  });

  it('a switch with no password asks nothing after the key: a raw Telnet client reaches the manager prompt', async () => {
    const { sim } = await device({});
    const c = await telnet(sim.telnetPort);
    await c.expect('Press any key to continue');
    c.send(' ');
    const text = await c.expect('HP-Switch# ');
    expect(text).not.toContain('Password:');
    c.end();
  });
});
