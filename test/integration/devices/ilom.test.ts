/**
 * Oracle ILOM through the device adapter and the ILOM driver
 * (layers/resources/service-processor/ilom-driver.ts), against the ILOM simulator served by the
 * device simulator core over SSH and Telnet: `set /SP/users/NAME password` and its two prompts, by
 * the admin (role u) and by the account itself, each proven by a fresh login; the refusals; a
 * wrong admin password; a cut right after the change; the admin changed last; a custom command
 * set; legacy SSH.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { ILOM_REFUSALS, ilomDriver } from '../../../layers/resources/service-processor/ilom-driver.js';
import { serviceProcessorDefinition, type ServiceProcessorResource } from '../../../layers/resources/service-processor/schema.js';
import { ilom } from '../../simulators/device/ilom.js';
import type { DeviceSimulator } from '../../simulators/device/index.js';
import type { ServiceProcessor } from '../../simulators/device/service-processor.js';
import { sshLoginWorks, sshShell, telnetLoginWorks } from './clients.js';
import { account, credential, openAfterSettling, RESOURCE_ID, Simulators, spAdapter } from './service-processor-support.js';

const sims = new Simulators();
afterEach(() => sims.stopAll());

const PROMPT = /-> $/;
const ROOT_PW = 'Root-pw-1';
const BOBBY_PW = 'Bobby-pw-2';

function device(): ServiceProcessor {
  return ilom({
    users: [
      { name: 'root', password: ROOT_PW, privileges: 'aucros' },
      { name: 'bobby', password: BOBBY_PW, privileges: 'cro' },
    ],
  });
}

const ILOM = serviceProcessorDefinition('ilom');

function resource(sim: DeviceSimulator, over: Record<string, unknown> = {}) {
  const protocol = (over['protocol'] as string | undefined) ?? 'ssh';
  return ILOM.schema.parse({ id: RESOURCE_ID, type: 'ilom', host: sim.host, port: protocol === 'telnet' ? sim.telnetPort : sim.sshPort, adminAccount: `${RESOURCE_ID}/root`, ...over });
}

const adapter = (r: ServiceProcessorResource, adminPassword: string | undefined = ROOT_PW) => spAdapter(ilomDriver, r, adminPassword === undefined ? {} : { admin: credential('root', adminPassword) });

const works = (sim: DeviceSimulator, protocol: 'ssh' | 'telnet', username: string, password: string) =>
  protocol === 'ssh' ? sshLoginWorks(sim.sshPort, username, password, PROMPT) : telnetLoginWorks(sim.telnetPort, { user: 'login: ', password: 'Password: ' }, username, password, { ready: PROMPT, refused: /Login incorrect/ });

describe('ilom through the device adapter', () => {
  for (const protocol of ['ssh', 'telnet'] as const) {
    it(`over ${protocol}: the admin (role u) resets another account at the two prompts, proven by a fresh login`, async () => {
      const sp = device();
      const sim = await sims.start(sp);
      const a = adapter(resource(sim, { protocol }));
      expect((await a.change({ account: account('bobby'), newPassword: new Secret('Bobby-new-1') })).method).toBe('admin reset');
      expect(await a.verify({ account: account('bobby'), password: new Secret('Bobby-new-1') })).toEqual({ valid: true });
      expect((await a.verify({ account: account('bobby'), password: new Secret(BOBBY_PW) })).valid).toBe(false);
      await a.close();
      expect(await works(sim, protocol, 'bobby', 'Bobby-new-1')).toBe(true);
      expect(sp.unexpected).toEqual([]);
      expect(await openAfterSettling(sim)).toBe(0);
    });

    it(`over ${protocol}: an account changes its own password, proven by a fresh login`, async () => {
      const sp = device();
      const sim = await sims.start(sp);
      const a = adapter(resource(sim, { protocol, adminAccount: undefined }), undefined);
      expect((await a.change({ account: account('bobby'), newPassword: new Secret('Bobby-own-3'), currentPassword: new Secret(BOBBY_PW) })).method).toBe('self change');
      await a.close();
      expect(await works(sim, protocol, 'bobby', 'Bobby-own-3')).toBe(true);
      expect(sp.checkPassword('bobby', BOBBY_PW)).toBe(false);
      expect(sim.sessions[0]?.username).toBe('bobby');
    });
  }

  it('"Passwords do not match", as the device prints it, is one of the refusals the driver knows', async () => {
    const sp = device();
    const sim = await sims.start(sp);
    const c = await sshShell(sim.sshPort, { username: 'root', password: ROOT_PW });
    await c.expect(PROMPT);
    c.send('set /SP/users/bobby password\r');
    await c.expect('Enter new password: ');
    c.send('First-one-1\r');
    await c.expect('Enter new password again: ');
    c.send('Second-one-2\r');
    const answer = await c.expect(PROMPT);
    c.end();
    expect(answer).toContain('Passwords do not match');
    expect(ILOM_REFUSALS.some((r) => r.test(answer))).toBe(true);
    expect(sp.checkPassword('bobby', BOBBY_PW)).toBe(true);
  });

  it("a policy refusal is unchanged with the device's words, and the session goes on", async () => {
    const sp = device();
    const sim = await sims.start(sp);
    const a = adapter(resource(sim));
    sim.setFaults({ refuse: 'Invalid password: it does not meet the password policy' });
    const e = await a.change({ account: account('bobby'), newPassword: new Secret('Qx7-kz-9') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toContain('does not meet the password policy');
    expect(sp.checkPassword('bobby', BOBBY_PW)).toBe(true);
    await a.change({ account: account('bobby'), newPassword: new Secret('Qx7-kz-10') });
    expect(sp.checkPassword('bobby', 'Qx7-kz-10')).toBe(true);
    await a.close();
  });

  it('an admin without the User Management role is refused (Permission denied): unchanged', async () => {
    const sp = device();
    const sim = await sims.start(sp);
    sp.addUser({ name: 'oper1', password: 'Oper1-pw-1', privileges: 'cro' });
    const a = spAdapter(ilomDriver, resource(sim, { adminAccount: `${RESOURCE_ID}/oper1` }), { admin: credential('oper1', 'Oper1-pw-1') });
    const e = await a.change({ account: account('bobby'), newPassword: new Secret('Never-set-1') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toContain('Permission denied');
    await a.close();
    expect(sp.checkPassword('bobby', BOBBY_PW)).toBe(true);
  });

  it('a wrong admin password is unchanged, over SSH and Telnet', async () => {
    const sp = device();
    const sim = await sims.start(sp);
    for (const protocol of ['ssh', 'telnet'] as const) {
      const a = adapter(resource(sim, { protocol }), 'Wrong-pw-9');
      const e = await a.change({ account: account('bobby'), newPassword: new Secret('Never-set-2') }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AuthenticationError);
      expect((e as AuthenticationError).targetMayHaveChanged).toBe(false);
      await a.close();
    }
    expect(sp.checkPassword('bobby', BOBBY_PW)).toBe(true);
  });

  it('a cut right after the change is applied is outcome unknown; a fresh login reconciles it', async () => {
    const sp = device();
    const sim = await sims.start(sp);
    const a = adapter(resource(sim));
    sim.setFaults({ cut: { cut: 'applied' } });
    await expect(a.change({ account: account('bobby'), newPassword: new Secret('Cut-after-1') })).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(await a.verify({ account: account('bobby'), password: new Secret('Cut-after-1') })).toEqual({ valid: true });
    expect((await a.verify({ account: account('bobby'), password: new Secret(BOBBY_PW) })).valid).toBe(false);
    await a.close();
  });

  it('the admin is a reference (changed last), changes its own on its session, proven before the adapter closes', async () => {
    const sp = device();
    const sim = await sims.start(sp);
    const r = resource(sim);
    expect(ILOM.references(r).map((x) => x.accountId)).toEqual([`${RESOURCE_ID}/root`]);
    const a = adapter(r);
    await a.change({ account: account('bobby'), newPassword: new Secret('Bobby-next-1') });
    expect((await a.change({ account: account('root'), newPassword: new Secret('Root-next-1'), currentPassword: new Secret(ROOT_PW) })).method).toBe('self change');
    expect(await a.verify({ account: account('root'), password: new Secret('Root-next-1') })).toEqual({ valid: true });
    expect(sim.sessions.filter((s) => s.username === 'root').length).toBe(2);
    await a.close();
    expect(sp.checkPassword('root', 'Root-next-1')).toBe(true);
  });

  it('a custom command set answers the prompts with the password lines; a mismatch it lists is unchanged', async () => {
    const sp = device();
    const sim = await sims.start(sp);
    const set = (lines: string[]) => ({ change: lines, passwordPrompts: ['Enter new password(?: again)?: ?$'], success: ['successfully set'], refusals: ['Passwords do not match'] });
    const good = adapter(resource(sim, { commandSet: set(['cd /SP/users', 'set {username} password', '{password}', '{password}']) }));
    expect((await good.change({ account: account('bobby'), newPassword: new Secret('Custom-set-1') })).method).toBe('admin reset (custom command set)');
    await good.close();
    expect(sp.checkPassword('bobby', 'Custom-set-1')).toBe(true);
    const mismatched = adapter(resource(sim, { adminAccount: undefined, commandSet: set(['set /SP/users/{username} password', '{password}', '{currentPassword}']) }), undefined);
    const e = await mismatched.change({ account: account('bobby'), newPassword: new Secret('Custom-set-2'), currentPassword: new Secret('Custom-set-1') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    await mismatched.close();
    expect(sp.checkPassword('bobby', 'Custom-set-1')).toBe(true);
    expect(sp.unexpected).toEqual([]);
  });

  it('logs in over SSH with the legacy algorithms the resource names', async () => {
    const sp = device();
    const sim = await sims.start(sp, { legacySsh: true });
    const modern = adapter(resource(sim));
    await expect(modern.change({ account: account('bobby'), newPassword: new Secret('Legacy-pw-1') })).rejects.toThrow();
    await modern.close();
    const legacy = adapter(resource(sim, { sshAlgorithms: { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] } }));
    await legacy.change({ account: account('bobby'), newPassword: new Secret('Legacy-pw-1') });
    await legacy.close();
    expect(sp.checkPassword('bobby', 'Legacy-pw-1')).toBe(true);
  });
});
