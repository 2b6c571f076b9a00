import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { AuthenticationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openEmbeddedStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../../../layers/engine/stores/types.js';
import { REGISTRY } from '../../../layers/resources/registry.js';
import { createUnixAdapter } from '../../../layers/resources/unix/adapter.js';
import { unixPasswordWorks } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { captureOutput, findLeaks, recordingStore } from '../../support/leaks.js';
import { account, credential, resource, unixAdapter, Users } from './support.js';

/**
 * Once a change has been sent, the Unix adapter may call the outcome "unchanged" only for a
 * refusal on the documented list (layers/resources/unix/commands.ts); anything else is "outcome
 * unknown" and the engine reconciles. Here the real OpenSSH server (Debian 12) prints what real
 * hosts print around a change — a login profile's "error", a PAM module's notice, a site's
 * change wrapper that fails after applying, output cut mid-line by a dropped connection — and
 * each ends as the class the engine must act on; through the engine, a cut after the change is
 * reconciled to what the target holds, and nothing is changed twice.
 */

/** A site's change command in place of chpasswd: reads "user:password", maybe applies it, prints, exits. */
function wrapper(dir: string, script: string): string {
  const path = join(dir, `chpw-${randomBytes(3).toString('hex')}`);
  // The line is read by the shell's builtin and piped by printf (a builtin): it is on no argv.
  writeFileSync(path, `#!/bin/sh\necho run >> ${dir}/runs\nIFS= read -r line || exit 3\n${script}\n`, { mode: 0o755 });
  return path;
}
const APPLY = `printf '%s\\n' "$line" | /usr/sbin/chpasswd || exit $?`;

function runsOf(dir: string): number {
  try {
    return readFileSync(join(dir, 'runs'), 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

/** A login profile that complains, as a half-removed site profile does: bash reads ~/.bashrc for commands run by sshd. */
function complainingProfile(user: string): void {
  const home = `/home/${user}`;
  const { uid, gid } = statSync(home);
  const profile = `${home}/.bashrc`;
  writeFileSync(profile, `echo "bash: /opt/site/env.sh: No such file or directory" >&2\necho "error: site profile failed; try again later" >&2\n`, { mode: 0o644 });
  chownSync(profile, uid, gid);
}

describeServer('ssh', 'Unix outcomes after the change was sent, on the real OpenSSH server', (info) => {
  const users = new Users();
  const adminPassword = 'Outcome-admin-1';
  let admin: string;
  let dir: string;
  let proxy: FaultProxy;
  beforeAll(async () => {
    admin = await users.create('uxo_adm', adminPassword, { sudo: true });
    complainingProfile(admin);
    dir = mkdtempSync(join(tmpdir(), 'rpr-outcomes-'));
    chmodSync(dir, 0o755);
  });
  afterAll(async () => {
    await users.deleteAll();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    proxy = await FaultProxy.start(info);
  });
  afterEach(async () => {
    await proxy.close();
  });
  const sudo = (over: Record<string, unknown> = {}) =>
    unixAdapter(resource({ host: proxy.host, port: proxy.port, login: { account: 'unix-test/admin' }, privilege: { mode: 'sudo' }, ...over }), { login: credential(admin, adminPassword) });

  it('a login profile that prints "error" and "try again" does not spoil a reset: chpasswd exits 0, the new password logs in', async () => {
    const name = await users.create('uxo_p1', 'Old-uxo-1');
    const adapter = sudo();
    await adapter.change({ account: account(name), newPassword: new Secret('New-uxo-1') });
    await adapter.close();
    expect(await unixPasswordWorks(name, 'New-uxo-1')).toBe(true);
    expect(await unixPasswordWorks(name, 'Old-uxo-1')).toBe(false);
  });

  it("among a profile's \"error\" lines, chpasswd's own \"password not changed\" is still recognised: TargetUnchangedError", async () => {
    const adapter = sudo();
    const e = await adapter.change({ account: account('uxo_no_such_user'), newPassword: new Secret('Never-uxo-2') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toMatch(/password not changed/);
  });

  it('a change command that applied the change, then printed "error … try again" and exited 1: OutcomeUnknownError, and the new password works', async () => {
    const name = await users.create('uxo_w1', 'Old-uxo-3');
    const cmd = wrapper(dir, `${APPLY}\necho "error: could not push the change to the NIS master; try again" >&2\nexit 1`);
    const adapter = sudo({ commandSet: { adminChange: cmd, input: 'chpasswd' } });
    const e = await adapter.change({ account: account(name), newPassword: new Secret('New-uxo-3') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(await unixPasswordWorks(name, 'New-uxo-3')).toBe(true);
  });

  it("a change command that failed with words not on the list (\"Authentication token manipulation error\" without chpasswd's own line): OutcomeUnknownError", async () => {
    const name = await users.create('uxo_w2', 'Old-uxo-4');
    const cmd = wrapper(dir, `echo "Authentication token manipulation error" >&2\nexit 1`);
    const adapter = sudo({ commandSet: { adminChange: cmd, input: 'chpasswd' } });
    const e = await adapter.change({ account: account(name), newPassword: new Secret('New-uxo-4') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(await unixPasswordWorks(name, 'Old-uxo-4')).toBe(true);
  });

  it('pam_unix\'s "You must wait longer to change your password" (minimum age) on a self change: TargetUnchangedError, not a wrong current password', async () => {
    const name = await users.create('uxo_age', 'Old-uxo-5');
    expect(spawnSync('/usr/bin/chage', ['-m', '5', name]).status).toBe(0);
    const adapter = unixAdapter(resource({ host: proxy.host, port: proxy.port, login: { account: 'unix-test/self' } }), { login: credential(name, 'Old-uxo-5') });
    const e = await adapter.change({ account: account(name), newPassword: new Secret('New-uxo-5'), currentPassword: new Secret('Old-uxo-5') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e).not.toBeInstanceOf(AuthenticationError);
    expect((e as Error).message).toMatch(/wait longer/);
    expect(await unixPasswordWorks(name, 'Old-uxo-5')).toBe(true);
  });

  it('a prompting change command that asks for the new password a third time after words not on the list: OutcomeUnknownError', async () => {
    const name = await users.create('uxo_ask', 'Old-uxo-7');
    const ask = join(dir, `ask-${randomBytes(3).toString('hex')}`);
    writeFileSync(ask, `#!/bin/bash\nfor i in 1 2 3; do IFS= read -rsp 'New password: ' a || exit 1; echo; echo 'NOTICE: synchronising with the directory'; done\n`, { mode: 0o755 });
    const adapter = sudo({ commandSet: { adminChange: `${ask} {user}`, input: 'password-twice' } });
    const e = await adapter.change({ account: account(name), newPassword: new Secret('New-uxo-7') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect((e as Error).message).toMatch(/without a documented refusal/);
  });

  it('output cut mid-line by a dropped connection after the line was sent ("… password not chan"): OutcomeUnknownError', async () => {
    const name = await users.create('uxo_cut', 'Old-uxo-6');
    const signal = join(dir, `printed-${randomBytes(3).toString('hex')}`);
    const cmd = wrapper(dir, `printf 'chpasswd: (line 1, user %s) password not chan' "${name}" >&2\ntouch ${signal}\nsleep 5\nexit 1`);
    const adapter = sudo({ commandSet: { adminChange: cmd, input: 'chpasswd' } });
    const stop = cutWhenSignalled(proxy, signal);
    const e = await adapter.change({ account: account(name), newPassword: new Secret('New-uxo-6') }).catch((x: unknown) => x);
    stop();
    await adapter.close();
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(await unixPasswordWorks(name, 'Old-uxo-6')).toBe(true);
  });
});

describeServer('telnet', 'Unix outcomes over Telnet, with a login profile that complains', (info) => {
  const users = new Users();
  const adminPassword = 'Outcome-telnet-admin-1';
  let admin: string;
  beforeAll(async () => {
    admin = await users.create('uxo_tadm', adminPassword, { sudo: true });
    complainingProfile(admin);
  });
  afterAll(() => users.deleteAll());
  const sudo = () => unixAdapter(resource({ protocol: 'telnet', host: info.host, port: info.port, login: { account: 'unix-test/admin' }, privilege: { mode: 'sudo' } }), { login: credential(admin, adminPassword) });

  it('the profile\'s "error … try again" at login spoils neither a reset nor the classification of a refusal', async () => {
    const name = await users.create('uxo_t1', 'Old-uxo-t1');
    const adapter = sudo();
    await adapter.change({ account: account(name), newPassword: new Secret('New-uxo-t1') });
    const e = await adapter.change({ account: account('uxo_no_such_user'), newPassword: new Secret('Never-uxo-t2') }).catch((x: unknown) => x);
    await adapter.close();
    expect(await unixPasswordWorks(name, 'New-uxo-t1')).toBe(true);
    expect(await unixPasswordWorks(name, 'Old-uxo-t1')).toBe(false);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toMatch(/password not changed/);
    expect((e as Error).message).not.toContain('Never-uxo-t2');
  });
});

/**
 * SSH is encrypted, so the proxy cannot see the partial line go by: the change command touches
 * `signal` once it has printed it, and every connection is cut then.
 */
function cutWhenSignalled(proxy: FaultProxy, signal: string): () => void {
  const timer = setInterval(() => {
    if (existsSync(signal)) {
      clearInterval(timer);
      proxy.cutAll();
    }
  }, 10);
  return () => clearInterval(timer);
}

describeServer('ssh', 'reset engine on the real OpenSSH server: a change with an unknown outcome is reconciled, never made twice', (info) => {
  const users = new Users();
  const tmp = mkdtempSync(join(tmpdir(), 'rpr-outcomes-engine-'));
  chmodSync(tmp, 0o755);
  const adminPassword = 'Engine-outcome-admin-1';
  let admin: string;
  let stores: EmbeddedStores;
  let credentials: EmbeddedStores['credentials'];
  let written: Set<string>;
  let engine: ResetEngine;
  let config: Configurator;
  const logs: string[] = [];
  const proxies: FaultProxy[] = [];

  beforeAll(async () => {
    admin = await users.create('uxe_adm', adminPassword, { sudo: true });
    stores = await openEmbeddedStores({ dir: join(tmp, 'store'), vaultKey: randomBytes(32) });
    ({ store: credentials, written } = recordingStore(stores.credentials));
    engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials, adapters: { linux: createUnixAdapter }, log: new Log({ level: 'DEBUG' }), timeoutMs: 10_000 });
    config = new Configurator(stores.state, credentials, REGISTRY);
  });
  afterAll(async () => {
    expect(findLeaks(written, { logs: logs.join('\n') })).toEqual([]);
    for (const p of proxies) await p.close();
    await stores?.close();
    await users.deleteAll();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function setUp(id: string, script: (signal: string) => string) {
    const proxy = await FaultProxy.start(info);
    proxies.push(proxy);
    const wdir = mkdtempSync(join(tmp, 'w-'));
    chmodSync(wdir, 0o755);
    const name = await users.create('uxe_t', `Start-${id}-1`);
    const signal = join(wdir, 'printed');
    await config.putResource({
      id,
      type: 'linux',
      host: proxy.host,
      port: proxy.port,
      login: { account: `${id}/${admin}` },
      privilege: { mode: 'sudo' },
      commandSet: { adminChange: wrapper(wdir, script(signal)), input: 'chpasswd' },
    });
    await config.putAccount({ resourceId: id, username: admin, secretId: `uxe/${id}/${admin}` }, { password: new Secret(adminPassword) });
    await config.putAccount({ resourceId: id, username: name, secretId: `uxe/${id}/${name}` }, { password: new Secret(`Start-${id}-1`) });
    return { proxy, wdir, signal, name, accountId: `${id}/${name}`, secretId: `uxe/${id}/${name}` };
  }

  async function run(accountId: string) {
    const out = captureOutput();
    try {
      const record = await engine.run({ accountIds: [accountId] });
      return (await stores.state.listAccountResults(record.runId))[0]!;
    } finally {
      out.restore();
      logs.push(out.text());
    }
  }
  const current = async (secretId: string) => (await credentials.getValue(secretId, { stage: AWSCURRENT })).value.reveal();

  it('applied, then the command printed "error … try again" and exited 1: reconciled, the new password promoted, changed once', async () => {
    const t = await setUp('uxe-applied', () => `${APPLY}\necho "error: could not push the change to the NIS master; try again" >&2\nexit 1`);

    const result = await run(t.accountId);

    expect(result).toMatchObject({ outcome: 'succeeded', step: 'reconcile', errorClass: 'OutcomeUnknownError', workingVersion: 'pending' });
    const now = await current(t.secretId);
    expect(now).not.toBe('Start-uxe-applied-1');
    expect(await unixPasswordWorks(t.name, now)).toBe(true);
    expect(await unixPasswordWorks(t.name, 'Start-uxe-applied-1')).toBe(false);
    expect(runsOf(t.wdir)).toBe(1);
  });

  it('applied, then the connection was cut mid-line: reconciled, the new password promoted, changed once', async () => {
    const t = await setUp('uxe-cut-applied', (signal) => `${APPLY}\nprintf 'chpasswd: updating /etc/sha' >&2\ntouch ${signal}\nsleep 5`);
    const stop = cutWhenSignalled(t.proxy, t.signal);

    const result = await run(t.accountId);
    stop();

    expect(result).toMatchObject({ outcome: 'succeeded', step: 'reconcile', errorClass: 'OutcomeUnknownError', workingVersion: 'pending' });
    expect(await unixPasswordWorks(t.name, await current(t.secretId))).toBe(true);
    expect(await unixPasswordWorks(t.name, 'Start-uxe-cut-applied-1')).toBe(false);
    expect(runsOf(t.wdir)).toBe(1);
  });

  it('not applied when the connection was cut mid-line: reconciled, rolled back, the old password still the current one, changed once', async () => {
    const t = await setUp('uxe-cut-lost', (signal) => `printf 'chpasswd: (line 1, user %s) password not chan' root >&2\ntouch ${signal}\nsleep 5\nexit 1`);
    const stop = cutWhenSignalled(t.proxy, t.signal);

    const result = await run(t.accountId);
    stop();

    expect(result).toMatchObject({ outcome: 'rolled-back', step: 'reconcile', errorClass: 'OutcomeUnknownError', workingVersion: 'current' });
    expect(await current(t.secretId)).toBe('Start-uxe-cut-lost-1');
    expect(await unixPasswordWorks(t.name, 'Start-uxe-cut-lost-1')).toBe(true);
    expect(runsOf(t.wdir)).toBe(1);
  });
});
