// SSH host keys trusted on first use, end to end on real Debian sshds: the suite's own and
// instances this file starts with host keys of their own (sshd.ts), whose logs show whether a
// client ever tried to authenticate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { HostKeyMismatchError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openResourceSession } from '../../../layers/engine/session.js';
import { openEmbeddedStores, openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { unixPasswordWorks } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { TcpSwitch } from '../../support/tcp-switch.js';
import { Users } from './support.js';
import { authenticationAttempts, TestSshd } from './sshd.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const VAULT_KEY = Buffer.alloc(32, 9);

describeServer('ssh', 'SSH host keys trusted on first use (real sshd)', () => {
  const users = new Users();
  const dir = mkdtempSync(join(tmpdir(), 'rpr-hostkeys-'));
  const storeDir = join(dir, 'store');
  const daemons: TestSshd[] = [];
  const savedVaultKey = process.env.RPR_VAULT_KEY;

  const rpr = async (args: string[], stdin = '') => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', storeDir, ...args], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      readStdin: async () => stdin,
    });
    return { code, stdout, stderr };
  };
  /** The embedded store between CLI commands (each command opens and closes it). */
  const inStore = async <T>(fn: (s: EmbeddedStores) => Promise<T>): Promise<T> => {
    const s = await openEmbeddedStores({ dir: storeDir, vaultKey: VAULT_KEY });
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  };
  const currentPassword = (accountId: string) => inStore(async (s) => (await s.credentials.getValue((await s.state.getAccount(accountId))!.secretId)).value.reveal());
  const recorded = (resourceId: string) => inStore((s) => s.state.getHostKey(resourceId));
  const sshd = async () => {
    const d = await TestSshd.start();
    daemons.push(d);
    return d;
  };

  /** A linux resource on `port` whose sudo admin and one other account are configured through the CLI. */
  async function configure(id: string, port: number, extra: string[] = []): Promise<{ admin: string; target: string; adminPassword: string }> {
    const adminPassword = `Hk-admin-${id}-1`;
    const admin = await users.create('hk_admin', adminPassword, { sudo: true });
    const target = await users.create('hk_user', 'Old-hk-user-1');
    const add = await rpr(['resource', 'add', '--type', 'linux', '--id', id, '--host', '127.0.0.1', '--set', `port=${port}`, '--set', `login.account=${id}/${admin}`, '--set', 'privilege.mode=sudo', ...extra]);
    expect(add.code, add.stderr).toBe(EXIT.ok);
    expect((await rpr(['account', 'add', '--resource', id, '--username', admin, '--password-stdin'], `${adminPassword}\n`)).code).toBe(EXIT.ok);
    expect((await rpr(['account', 'add', '--resource', id, '--username', target, '--password-stdin'], 'Old-hk-user-1\n')).code).toBe(EXIT.ok);
    return { admin, target, adminPassword };
  }
  const reset = async (accountId: string) => {
    const r = await rpr(['--json', 'reset', '--account', accountId]);
    return { code: r.code, stderr: r.stderr, results: (JSON.parse(r.stdout) as { results: { accountId: string; outcome: string; errorClass?: string; message?: string }[] }).results };
  };

  beforeAll(() => {
    process.env.RPR_VAULT_KEY = VAULT_KEY.toString('base64');
  });
  afterAll(async () => {
    for (const d of daemons) await d.close();
    await users.deleteAll();
    if (savedVaultKey === undefined) delete process.env.RPR_VAULT_KEY;
    else process.env.RPR_VAULT_KEY = savedVaultKey;
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the first key on the first reset; a swapped key refuses the next reset before any password is sent; trust-host-key lets the one after through', async () => {
    const first = await sshd();
    const { admin, target } = await configure('hk1', first.port);

    const one = await reset(`hk1/${target}`);
    expect(one.results, one.stderr).toMatchObject([{ outcome: 'succeeded' }]);
    const afterFirst = await currentPassword(`hk1/${target}`);
    expect(await unixPasswordWorks(target, afterFirst)).toBe(true);
    expect(await recorded('hk1')).toMatchObject({ resourceId: 'hk1', sha256: first.hostKeySha256, keyType: 'ssh-ed25519', source: 'first-use', seenAt: `127.0.0.1:${first.port}` });
    expect(JSON.parse((await rpr(['--json', 'resource', 'show', 'hk1'])).stdout)).toMatchObject({ hostKey: { sha256: first.hostKeySha256 } });
    // The control: on this host, a reset shows in sshd's log as authentication.
    expect((await first.log())).toContain(`Accepted password for ${admin}`);

    const swapped = await first.swapHostKey();
    daemons.push(swapped);
    const two = await reset(`hk1/${target}`);

    expect(two.code).toBe(EXIT.failed);
    expect(two.results).toMatchObject([{ outcome: 'failed', errorClass: 'HostKeyMismatchError' }]);
    const message = two.results[0]!.message!;
    expect(message).toContain('hostKeySha256');
    expect(message).toContain(`SHA256:${first.hostKeySha256}`);
    expect(message).toContain(`SHA256:${swapped.hostKeySha256}`);
    expect(message).toContain('rpr resource trust-host-key hk1');
    // The swapped host was reached, yet no client asked it to authenticate anyone: no password went to it.
    const swappedLog = await swapped.log();
    expect(swappedLog).toMatch(/Connection from 127\.0\.0\.1/);
    // Disconnect reason 3, SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE (RFC 4253 11.1), during the key exchange.
    expect(swappedLog).toMatch(/Received disconnect from 127\.0\.0\.1 port \d+:3:/);
    expect(authenticationAttempts(swappedLog)).toEqual([]);
    expect(await unixPasswordWorks(target, afterFirst)).toBe(true);
    expect(await currentPassword(`hk1/${target}`)).toBe(afterFirst);
    expect((await recorded('hk1'))?.sha256).toBe(first.hostKeySha256);

    const human = await rpr(['resource', 'trust-host-key', 'hk1']);
    expect(human.code, human.stderr).toBe(EXIT.ok);
    expect(human.stdout).toContain(`recorded:  SHA256:${first.hostKeySha256}`);
    expect(human.stdout).toContain(`presented: SHA256:${swapped.hostKeySha256} (ssh-ed25519)`);
    expect(await recorded('hk1')).toMatchObject({ sha256: swapped.hostKeySha256, source: 'operator', replaced: first.hostKeySha256 });
    // Reading the key made no login either.
    expect(authenticationAttempts(await swapped.log())).toEqual([]);
    const again = JSON.parse((await rpr(['--json', 'resource', 'trust-host-key', 'hk1'])).stdout) as { changed: boolean };
    expect(again.changed).toBe(false);

    const three = await reset(`hk1/${target}`);
    expect(three.results, three.stderr).toMatchObject([{ outcome: 'succeeded' }]);
    const afterThird = await currentPassword(`hk1/${target}`);
    expect(afterThird).not.toBe(afterFirst);
    expect(await unixPasswordWorks(target, afterThird)).toBe(true);
    expect(await unixPasswordWorks(target, afterFirst)).toBe(false);
    expect(await swapped.log()).toContain(`Accepted password for ${admin}`);
  });

  it('refuses a key pinned in hostKeySha256 that the server does not present, sends nothing and records nothing; the right pin logs in', async () => {
    const host = await sshd();
    const wrongPin = Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '');
    const { target } = await configure('hk2', host.port, ['--set', `hostKeySha256=${wrongPin}`]);

    const refused = await reset(`hk2/${target}`);

    expect(refused.results).toMatchObject([{ outcome: 'failed', errorClass: 'HostKeyMismatchError' }]);
    expect(refused.results[0]!.message).toContain(`not the pinned SHA256:${wrongPin}`);
    expect(refused.results[0]!.message).toContain(`SHA256:${host.hostKeySha256}`);
    expect(authenticationAttempts(await host.log())).toEqual([]);
    expect(await unixPasswordWorks(target, 'Old-hk-user-1')).toBe(true);
    expect(await recorded('hk2')).toBeUndefined();
    // An operator cannot accept a key over a pin: the configuration says which key it is.
    const trust = await rpr(['resource', 'trust-host-key', 'hk2']);
    expect(trust.code).toBe(EXIT.badInput);
    expect(trust.stderr).toMatch(/hostKeySha256: .* pins SHA256:/);

    expect((await rpr(['resource', 'update', 'hk2', '--set', `hostKeySha256=${host.hostKeySha256}`])).code).toBe(EXIT.ok);
    const pinned = await reset(`hk2/${target}`);
    expect(pinned.results, pinned.stderr).toMatchObject([{ outcome: 'succeeded' }]);
    expect(await unixPasswordWorks(target, await currentPassword(`hk2/${target}`))).toBe(true);
    expect(await recorded('hk2')).toBeUndefined();
  });

  it('two groups that first see a resource at once, answered by hosts with different keys, record one key; the other group sends no password', async () => {
    const [b, c] = [await sshd(), await sshd()];
    // The resource's address leads the first connection to one host and every other to the second:
    // both groups reach "their" host before either has recorded anything.
    const router = await TcpSwitch.start((i) => (i === 0 ? b.port : c.port));
    const stores = await openMemoryStores();
    try {
      const config = new Configurator(stores.state, stores.credentials, REGISTRY);
      const names = [await users.create('hk_race', 'Race-pw-1'), await users.create('hk_race', 'Race-pw-2')];
      await config.putResource({ id: 'hk3', type: 'linux', host: '127.0.0.1', port: router.port, login: { account: `hk3/${names[0]}` } });
      for (const [i, n] of names.entries()) await config.putAccount({ resourceId: 'hk3', username: n, secretId: `rpr/hk3/${n}` }, { password: new Secret(`Race-pw-${i + 1}`) });
      const deps = { registry: REGISTRY, state: stores.state, credentials: stores.credentials, log: new Log({ level: 'SILENT' }), timeoutMs: 10_000 };
      const sessions = await Promise.all([openResourceSession(deps, 'hk3'), openResourceSession(deps, 'hk3')]);

      const outcomes = await Promise.allSettled(
        sessions.map((s, i) => s.adapter.verify({ account: { id: `hk3/${names[i]!}`, resourceId: 'hk3', username: names[i]!, secretId: '', tags: [] }, password: new Secret(`Race-pw-${i + 1}`) })),
      );
      await Promise.all(sessions.map((s) => s.close()));

      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toBeInstanceOf(HostKeyMismatchError);
      const key = (await stores.state.getHostKey('hk3'))?.sha256;
      const logs = { [b.hostKeySha256]: await b.log(), [c.hostKeySha256]: await c.log() };
      const loser = key === b.hostKeySha256 ? c : b;
      expect([b.hostKeySha256, c.hostKeySha256]).toContain(key);
      expect(authenticationAttempts(logs[key!]!).length).toBeGreaterThan(0);
      expect(authenticationAttempts(logs[loser.hostKeySha256]!)).toEqual([]);
      expect(logs[loser.hostKeySha256]).toMatch(/Connection from 127\.0\.0\.1/);
    } finally {
      await router.close();
      await stores.close();
    }
  });

  it('two runs that first see a resource at once on one host both reset their accounts and record its key once', async () => {
    const host = await sshd();
    const stores = await openMemoryStores();
    try {
      const config = new Configurator(stores.state, stores.credentials, REGISTRY);
      const adminPassword = 'Hk-race-admin-1';
      const admin = await users.create('hk_admin', adminPassword, { sudo: true });
      const names = [await users.create('hk_both', 'Both-old-1'), await users.create('hk_both', 'Both-old-2')];
      await config.putResource({ id: 'hk4', type: 'linux', host: '127.0.0.1', port: host.port, login: { account: `hk4/${admin}` }, privilege: { mode: 'sudo' } });
      await config.putAccount({ resourceId: 'hk4', username: admin, secretId: `rpr/hk4/${admin}` }, { password: new Secret(adminPassword) });
      for (const [i, n] of names.entries()) await config.putAccount({ resourceId: 'hk4', username: n, secretId: `rpr/hk4/${n}` }, { password: new Secret(`Both-old-${i + 1}`) });
      const engine = () => new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, log: new Log({ level: 'SILENT' }), timeoutMs: 10_000 });

      const runs = await Promise.all(names.map((n) => engine().run({ accountIds: [`hk4/${n}`] })));

      expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
      expect(await stores.state.getHostKey('hk4')).toMatchObject({ sha256: host.hostKeySha256, source: 'first-use' });
      for (const n of names) expect(await unixPasswordWorks(n, (await stores.credentials.getValue(`rpr/hk4/${n}`)).value.reveal())).toBe(true);
    } finally {
      await stores.close();
    }
  });
});
