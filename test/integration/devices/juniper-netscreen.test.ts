/**
 * The juniper-netscreen driver through the device adapter against the ScreenOS simulator
 * (test/simulators/device/juniper-netscreen.ts) over its real SSH and Telnet servers: admin users
 * reset keeping their privilege, the root admin by `set admin password`, each proven by a fresh
 * login the simulator checks; `save` only with copyToStartup and `exit` never saving; a wrong
 * admin password and a refusal "unchanged"; a cut after the change reconciled; the factory
 * license prompt refused clearly; paging answered; a custom command set; legacy SSH algorithms.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import type { Credential, TargetAdapter } from '../../../layers/engine/adapter.js';
import { AuthenticationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { Account } from '../../../layers/resources/common.js';
import { privilegeOf, screenosDriver } from '../../../layers/resources/juniper-netscreen/driver.js';
import { juniperNetscreenSchema, type JuniperNetscreenResource } from '../../../layers/resources/juniper-netscreen/schema.js';
import { createDeviceAdapter } from '../../../layers/resources/network-device/adapter.js';
import { startDeviceSimulator, type DeviceSimulator } from '../../simulators/device/index.js';
import { juniperNetscreen, type JuniperNetscreen, type JuniperNetscreenOptions } from '../../simulators/device/juniper-netscreen.js';
import { checkPassword, renderUsers } from '../../simulators/device/juniper-netscreen-config.js';

const running: { sim: DeviceSimulator; adapter?: TargetAdapter }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.adapter?.close();
    await r.sim.stop();
  }
});

const ROOT = { name: 'netscreen', password: 'Root-Old-1' };
const ADMINS = [
  { name: 'ops', password: 'Ops-Old-1', privilege: 'all' as const },
  { name: 'audit', password: 'Aud-Old-1', privilege: 'read-only' as const },
];

async function device(options: JuniperNetscreenOptions = {}, legacySsh = false) {
  const ns = juniperNetscreen({ rootName: ROOT.name, rootPassword: ROOT.password, admins: ADMINS, ...options });
  const sim = await startDeviceSimulator(ns, { legacySsh });
  const entry: { sim: DeviceSimulator; adapter?: TargetAdapter } = { sim };
  running.push(entry);
  return { ns, sim, entry };
}

const account = (username: string): Account => ({ id: `fw/${username}`, resourceId: 'fw', username, secretId: `s/${username}`, tags: [] });
const credential = (username: string, password: string): Credential => ({ accountId: `fw/${username}`, username, password: new Secret(password) });

function resource(sim: DeviceSimulator, over: Record<string, unknown> = {}): JuniperNetscreenResource {
  const telnet = over['protocol'] === 'telnet';
  return juniperNetscreenSchema.parse({ id: 'fw', type: 'juniper-netscreen', host: sim.host, port: telnet ? sim.telnetPort : sim.sshPort, adminAccount: 'fw/netscreen', rootAdminAccount: 'fw/netscreen', ...over });
}

function adapterFor(entry: { adapter?: TargetAdapter }, r: JuniperNetscreenResource, login = { name: ROOT.name, password: ROOT.password }): TargetAdapter {
  const adapter = createDeviceAdapter(screenosDriver)(adapterContext(r, { admin: credential(login.name, login.password) }, { timeoutMs: 5_000 }));
  entry.adapter = adapter;
  return adapter;
}

const works = (ns: JuniperNetscreen, name: string, password: string) => ns.login.authenticate(name, password, 'ssh') !== undefined;

describe('juniper-netscreen over SSH', () => {
  it('resets admin users keeping their privilege, then the root admin, each proven by a fresh login; save writes them', async () => {
    const { ns, sim, entry } = await device();
    const adapter = adapterFor(entry, resource(sim));
    await adapter.change({ account: account('ops'), newPassword: new Secret('Ops-New-22') });
    await adapter.change({ account: account('audit'), newPassword: new Secret('Aud-New-22') });
    await adapter.change({ account: account('netscreen'), newPassword: new Secret('Root-New-22') });
    expect(ns.running().users.get('ops')?.privilege).toBe('all');
    expect(ns.running().users.get('audit')?.privilege).toBe('read-only');
    expect(works(ns, 'ops', 'Ops-New-22') && works(ns, 'audit', 'Aud-New-22') && works(ns, 'netscreen', 'Root-New-22')).toBe(true);
    expect(works(ns, 'netscreen', ROOT.password)).toBe(false);
    for (const [name, pw] of [['ops', 'Ops-New-22'], ['audit', 'Aud-New-22'], ['netscreen', 'Root-New-22']] as const) {
      expect(await adapter.verify({ account: account(name), password: new Secret(pw) })).toEqual({ valid: true });
    }
    expect((await adapter.verify({ account: account('ops'), password: new Secret('Ops-Old-1') })).valid).toBe(false);
    const saved = ns.startup();
    expect(checkPassword(saved.users.get('ops')!, 'Ops-New-22') && checkPassword(saved.root, 'Root-New-22')).toBe(true);
    await adapter.close();
    expect(sim.openSessions()).toBe(0);
    expect(ns.unexpected).toEqual([]);
  });

  it('with copyToStartup off saves nothing: exit answers "n" to its save question', async () => {
    const { ns, sim, entry } = await device();
    const adapter = adapterFor(entry, resource(sim, { copyToStartup: false }));
    await adapter.change({ account: account('ops'), newPassword: new Secret('Ops-New-33') });
    await adapter.close();
    expect(checkPassword(ns.running().users.get('ops')!, 'Ops-New-33')).toBe(true);
    expect(checkPassword(ns.startup().users.get('ops')!, 'Ops-Old-1')).toBe(true);
    expect(ns.unexpected).toEqual([]);
  });

  it('a wrong admin password is "unchanged" and nothing is changed or saved', async () => {
    const { ns, sim, entry } = await device();
    const before = [ns.runningText(), ns.startupText()];
    const adapter = adapterFor(entry, resource(sim), { name: ROOT.name, password: 'Not-The-One' });
    const e = await adapter.change({ account: account('ops'), newPassword: new Secret('Ops-New-44') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as AuthenticationError).targetMayHaveChanged).toBe(false);
    expect([ns.runningText(), ns.startupText()]).toEqual(before);
  });

  it('a read-write admin changing another admin is refused by ScreenOS: "unchanged" with its words, nothing saved', async () => {
    const { ns, sim, entry } = await device();
    const adapter = adapterFor(entry, resource(sim, { adminAccount: 'fw/ops', rootAdminAccount: undefined }), { name: 'ops', password: 'Ops-Old-1' });
    const e = await adapter.change({ account: account('audit'), newPassword: new Secret('Aud-New-55') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toContain('Permission denied');
    expect(checkPassword(ns.running().users.get('audit')!, 'Aud-Old-1')).toBe(true);
    // Its own password it may change.
    await adapter.change({ account: account('ops'), newPassword: new Secret('Ops-Own-55') });
    expect(works(ns, 'ops', 'Ops-Own-55')).toBe(true);
  });

  it('an admin the device does not have is "unchanged": rpr does not create admins', async () => {
    const { ns, sim, entry } = await device();
    const adapter = adapterFor(entry, resource(sim));
    await expect(adapter.change({ account: account('ghost'), newPassword: new Secret('Gho-New-66') })).rejects.toBeInstanceOf(TargetUnchangedError);
    expect(ns.running().users.has('ghost')).toBe(false);
  });

  it('a cut right after the change is "outcome unknown", not saved, and a fresh login proves the new password', async () => {
    const { ns, sim, entry } = await device();
    sim.setFaults({ cut: { cut: 'applied' } });
    const adapter = adapterFor(entry, resource(sim));
    await expect(adapter.change({ account: account('ops'), newPassword: new Secret('Ops-New-77') })).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(checkPassword(ns.startup().users.get('ops')!, 'Ops-Old-1')).toBe(true);
    expect(await adapter.verify({ account: account('ops'), password: new Secret('Ops-New-77') })).toEqual({ valid: true });
  });

  it('an unknown answer to the change is "outcome unknown", and nothing is saved', async () => {
    const { ns, sim, entry } = await device();
    sim.setFaults({ refuse: 'Admin table is full' });
    const adapter = adapterFor(entry, resource(sim));
    const e = await adapter.change({ account: account('ops'), newPassword: new Secret('Ops-New-88') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    // The device's words, and no part of the password the device echoed on its command line.
    expect((e as Error).message).toContain('Admin table is full');
    expect((e as Error).message).not.toMatch(/Ops-New|New-88/);
    expect(ns.startupText()).toBe(ns.runningText());
  });

  it('stops at a factory device\'s license prompt with a clear error, accepting nothing', async () => {
    const { ns, sim, entry } = await device({ licensePending: true });
    const adapter = adapterFor(entry, resource(sim));
    const e = await adapter.change({ account: account('ops'), newPassword: new Secret('Ops-New-99') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toMatch(/license agreement.*Accept this agreement/);
    expect(ns.licenseAccepted).toBe(false);
    expect(checkPassword(ns.running().users.get('ops')!, 'Ops-Old-1')).toBe(true);
  });

  it('answers "--- more ---" while reading a long admin table, and keeps the privilege it shows', async () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ name: `adm${String(i).padStart(2, '0')}`, password: `Pw-${i}-old`, privilege: i % 2 ? ('all' as const) : ('read-only' as const) }));
    const { ns, sim, entry } = await device({ admins: many });
    expect(privilegeOf(renderUsers(ns.running()), 'adm38')).toBe('read-only');
    const adapter = adapterFor(entry, resource(sim));
    await adapter.change({ account: account('adm38'), newPassword: new Secret('Pw-38-New') });
    expect(ns.running().users.get('adm38')?.privilege).toBe('read-only');
    expect(works(ns, 'adm38', 'Pw-38-New')).toBe(true);
    expect(ns.unexpected).toEqual([]);
  });

  it('runs a custom command set with the password on the command line where the resource allows it', async () => {
    const { ns, sim, entry } = await device();
    const r = resource(sim, { commandSet: { change: ['set admin user {username} password "{password}" privilege all'], passwordOnCommandLine: true, refusals: ['Permission denied'] } });
    const adapter = adapterFor(entry, r);
    await adapter.change({ account: account('ops'), newPassword: new Secret('Ops-Cmd-10') });
    expect(works(ns, 'ops', 'Ops-Cmd-10')).toBe(true);
    expect(checkPassword(ns.startup().users.get('ops')!, 'Ops-Cmd-10')).toBe(true);
  });

  it('connects with the legacy-algorithm option to a device that offers only old algorithms', async () => {
    const { ns, sim, entry } = await device({}, true);
    const legacy = { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] };
    await expect(adapterFor(entry, resource(sim)).change({ account: account('ops'), newPassword: new Secret('Ops-Leg-11') })).rejects.toThrow();
    await entry.adapter?.close();
    await adapterFor(entry, resource(sim, { sshAlgorithms: legacy })).change({ account: account('ops'), newPassword: new Secret('Ops-Leg-11') });
    expect(works(ns, 'ops', 'Ops-Leg-11')).toBe(true);
  });
});

describe('juniper-netscreen over Telnet', () => {
  it('logs in at "login:" / "password:" and resets the root admin, proven by a fresh Telnet login', async () => {
    const { ns, sim, entry } = await device();
    const adapter = adapterFor(entry, resource(sim, { protocol: 'telnet' }));
    await adapter.change({ account: account('netscreen'), newPassword: new Secret('Root-Tel-12') });
    expect(ns.login.authenticate('netscreen', 'Root-Tel-12', 'telnet')).toEqual({ name: 'netscreen' });
    expect(await adapter.verify({ account: account('netscreen'), password: new Secret('Root-Tel-12') })).toEqual({ valid: true });
    expect((await adapter.verify({ account: account('netscreen'), password: new Secret(ROOT.password) })).valid).toBe(false);
    expect(ns.unexpected).toEqual([]);
  });
});
