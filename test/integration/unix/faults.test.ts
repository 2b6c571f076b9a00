import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { TargetAdapter } from '../../../layers/engine/adapter.js';
import { OutcomeUnknownError, TargetTimeoutError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { unixPasswordWorks, withRootPassword } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { BIG_CHUNK, cutSsh } from '../../contracts/fixtures/ssh-cut.js';
import { account, credential, resource, unixAdapter, Users } from './support.js';

/**
 * The Unix adapter's faults that the adapter contract (test/contracts/adapter.ts, with the
 * fixtures of test/contracts/fixtures/unix.ts) does not cover. Its cuts before and after an admin
 * (sudo) or self change over SSH and Telnet, and a target refusing or not answering before the
 * login, are there. Here, over SSH: a reused login cut while idle, a change through su cut after
 * it was sent, and a logged-in target that stops answering.
 */

/**
 * After an outcome-unknown failure, the target must hold exactly one of the two passwords.
 * The target may still be finishing the change the adapter gave up on (passwd ignores the
 * hangup while it writes /etc/shadow), so first wait for those programs to end.
 */
async function exactlyOneWorks(name: string, oldPassword: string, newPassword: string): Promise<void> {
  await changeProgramsEnded();
  const [oldWorks, newWorks] = [await unixPasswordWorks(name, oldPassword), await unixPasswordWorks(name, newPassword)];
  expect(oldWorks !== newWorks, `old works: ${oldWorks}, new works: ${newWorks}`).toBe(true);
}

async function changeProgramsEnded(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const running = spawnSync('/usr/bin/pgrep', ['-x', '(ch)?passwd|sudo|su']).status === 0;
    if (!running) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function unchanged(name: string, oldPassword: string): Promise<void> {
  expect(await unixPasswordWorks(name, oldPassword)).toBe(true);
}

/** A new password long enough that the SSH packet carrying it stands out by its size (see ssh-cut.ts). */
const LONG = (tag: string) => `${tag}-${'x'.repeat(BIG_CHUNK)}`;

// SSH is encrypted, so the proxy cannot see commands. Between changes an established SSH
// connection is silent (keepalives come every 15 s), so the first client bytes after a change
// has finished belong to the next command: cutting there is a cut before anything of the next
// change was sent. A cut after the change is sent: ssh-cut.ts.
describeServer('ssh', 'Unix adapter over SSH when the connection breaks', (info) => {
  const users = new Users();
  const adminPassword = 'Fault-ssh-admin-1';
  const rootPassword = 'Fault-ssh-root-1';
  let admin: string;
  let proxy: FaultProxy;
  beforeAll(async () => {
    admin = await users.create('uxf_sadm', adminPassword, { sudo: true });
  });
  afterAll(() => users.deleteAll());
  beforeEach(async () => {
    proxy = await FaultProxy.start(info);
  });
  afterEach(async () => {
    await proxy.close();
  });
  const adapterFor = (privilege: Record<string, unknown>, timeoutMs = 10_000) =>
    unixAdapter(
      resource({ protocol: 'ssh', host: proxy.host, port: proxy.port, login: { account: 'unix-test/admin' }, privilege }),
      { login: credential(admin, adminPassword), root: credential('root', rootPassword) },
      timeoutMs,
    );

  /** Changes a throwaway account, so the adapter holds an established, idle login. */
  async function warmUp(adapter: TargetAdapter): Promise<void> {
    const name = await users.create('uxf_warm', 'Warm-old-1');
    await adapter.change({ account: account(name), newPassword: new Secret('Warm-new-1') });
  }

  function cutAtNextClientBytes(thenRefuse: boolean): void {
    let armed = true;
    proxy.onClientData((_chunk, conn) => {
      if (!armed) return;
      armed = false;
      proxy.refuseNew(thenRefuse);
      conn.cut();
    });
  }

  it('cut before the next command is sent, target unreachable after: TargetUnchangedError, nothing changed', async () => {
    const adapter = adapterFor({ mode: 'sudo' });
    await warmUp(adapter);
    const name = await users.create('uxf_s1', 'Old-sf-1');
    cutAtNextClientBytes(true);
    const e = await adapter.change({ account: account(name), newPassword: new Secret('New-sf-1') }).catch((x: unknown) => x);
    await adapter.close();
    expect(e).toBeInstanceOf(TargetUnchangedError);
    await unchanged(name, 'Old-sf-1');
  });

  it('cut before the next command is sent, target reachable: the adapter logs in again and changes once', async () => {
    const adapter = adapterFor({ mode: 'sudo' });
    await warmUp(adapter);
    const name = await users.create('uxf_s2', 'Old-sf-2');
    cutAtNextClientBytes(false);
    await adapter.change({ account: account(name), newPassword: new Secret('New-sf-2') });
    await adapter.close();
    expect(proxy.connections).toBe(2);
    expect(await unixPasswordWorks(name, 'New-sf-2')).toBe(true);
  });

  it('su: cut after the "user:password" line was typed, before the result: OutcomeUnknownError, exactly one works', async () => {
    const adapter = adapterFor({ mode: 'su', rootAccount: 'unix-test/root' });
    const name = await users.create('uxf_s4', 'Old-sf-4');
    // Armed before the login: the cut skips the key exchange and waits for the long password.
    cutSsh(proxy, 'after', 1);
    await withRootPassword(rootPassword, async () => {
      await warmUp(adapter);
      const e = await adapter.change({ account: account(name), newPassword: new Secret(LONG('New-sf-4')) }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OutcomeUnknownError);
    });
    await adapter.close();
    await exactlyOneWorks(name, 'Old-sf-4', LONG('New-sf-4'));
  });

  it('a logged-in target that stops answering before the command: TargetTimeoutError; after the change was sent: OutcomeUnknownError', async () => {
    const adapter = adapterFor({ mode: 'sudo' }, 2_000);
    await warmUp(adapter);
    const before = await users.create('uxf_s7', 'Old-sf-7');
    proxy.blackhole(true);
    const e1 = await adapter.change({ account: account(before), newPassword: new Secret('New-sf-7') }).catch((x: unknown) => x);
    expect(e1).toBeInstanceOf(TargetTimeoutError);
    proxy.blackhole(false);
    await unchanged(before, 'Old-sf-7');

    // The timed-out login was dropped; the next change logs in again; the one after hangs after sending.
    await warmUp(adapter);
    expect(proxy.connections).toBe(2);
    const after = await users.create('uxf_s8', 'Old-sf-8');
    proxy.onClientData((chunk) => {
      if (chunk.length >= BIG_CHUNK) proxy.blackhole(true);
    });
    const e2 = await adapter.change({ account: account(after), newPassword: new Secret(LONG('New-sf-8')) }).catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(OutcomeUnknownError);
    await adapter.close();
    proxy.blackhole(false);
    await exactlyOneWorks(after, 'Old-sf-8', LONG('New-sf-8'));
  });
});
