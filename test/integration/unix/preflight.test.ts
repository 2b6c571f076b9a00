import { rm, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import type { PreflightFinding, TargetAdapter } from '../../../layers/engine/adapter.js';
import { AuthenticationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { unixPasswordWorks, withRootPassword } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { account, credential, resource, shadowEntry, unixAdapter, Users } from './support.js';

/** The findings as a user reads them: check, ok, and for which account. */
const summary = (findings: readonly PreflightFinding[]) => findings.map((f) => ({ ...(f.accountId ? { accountId: f.accountId } : {}), check: f.check, ok: f.ok }));
const finding = (findings: readonly PreflightFinding[], check: string, accountId?: string) => findings.find((f) => f.check === check && f.accountId === accountId);

async function preflight(adapter: TargetAdapter, names: string[]): Promise<readonly PreflightFinding[]> {
  try {
    return await adapter.preflight!({ accounts: names.map(account) });
  } finally {
    await adapter.close();
  }
}

for (const protocol of ['ssh', 'telnet'] as const) {
  describeServer(protocol, `Unix dry run over ${protocol} (rpr reset --dry-run)`, (info) => {
    const users = new Users();
    afterAll(() => users.deleteAll());
    const res = (over: Record<string, unknown>) => resource({ protocol, port: info.port, login: { account: 'unix-test/admin' }, ...over });

    /** Runs `fn`, then shows that nothing changed: the same shadow lines (for `names` and `others`), and the passwords still log in. */
    async function unchanged<T>(names: Record<string, string>, fn: () => Promise<T>, others: string[] = []): Promise<T> {
      const all = [...Object.keys(names), ...others];
      const before = await Promise.all(all.map(shadowEntry));
      const result = await fn();
      expect(await Promise.all(all.map(shadowEntry))).toEqual(before);
      for (const [name, password] of Object.entries(names)) {
        expect(await unixPasswordWorks(name, password), name).toBe(true);
        expect(JSON.stringify(result)).not.toContain(password);
      }
      return result;
    }

    it('sudo: a login in the sudoers may run chpasswd as root, and the accounts exist; nothing changes', async () => {
      const admin = await users.create('pf_sudo', 'Pf-sudo-1', { sudo: true });
      const target = await users.create('pf_target', 'Pf-target-1');
      const findings = await unchanged({ [admin]: 'Pf-sudo-1', [target]: 'Pf-target-1' }, () =>
        preflight(unixAdapter(res({ privilege: { mode: 'sudo' } }), { login: credential(admin, 'Pf-sudo-1') }), [target, 'pf_nosuch_x']),
      );
      expect(summary(findings)).toEqual([
        { check: 'login', ok: true },
        { check: 'sudo rights', ok: true },
        { check: 'change command', ok: true },
        { accountId: account(target).id, check: 'account exists', ok: true },
        { accountId: account('pf_nosuch_x').id, check: 'account exists', ok: false },
      ]);
      expect(finding(findings, 'change command')?.detail).toContain('/usr/sbin/chpasswd');
      expect(finding(findings, 'account exists', account('pf_nosuch_x').id)?.detail).toContain('no user "pf_nosuch_x"');
    });

    it("sudo: a login outside the sudoers is not ok, with sudo's own message; nothing changes", async () => {
      const admin = await users.create('pf_nosudo', 'Pf-nosudo-1');
      const target = await users.create('pf_target', 'Pf-target-2');
      const findings = await unchanged({ [admin]: 'Pf-nosudo-1', [target]: 'Pf-target-2' }, () =>
        preflight(unixAdapter(res({ privilege: { mode: 'sudo' } }), { login: credential(admin, 'Pf-nosudo-1') }), [target]),
      );
      const sudo = finding(findings, 'sudo rights');
      expect(sudo?.ok).toBe(false);
      expect(sudo?.detail).toMatch(new RegExp(`Sorry, user ${admin} may not run sudo`));
      expect(sudo?.detail).toContain('privilege');
      expect(finding(findings, 'account exists', account(target).id)?.ok).toBe(true);
    });

    it('sudo: a login that may run other commands only is not ok for chpasswd', async () => {
      const admin = await users.create('pf_narrow', 'Pf-narrow-1');
      const rule = `/etc/sudoers.d/rpr-preflight-${admin}`;
      await writeFile(rule, `${admin} ALL=(ALL) /usr/bin/true\n`, { mode: 0o440 });
      try {
        const findings = await unchanged({ [admin]: 'Pf-narrow-1' }, () => preflight(unixAdapter(res({ privilege: { mode: 'sudo' } }), { login: credential(admin, 'Pf-narrow-1') }), []));
        expect(finding(findings, 'sudo rights')).toMatchObject({ ok: false, detail: expect.stringContaining('"/usr/sbin/chpasswd"') as unknown });
      } finally {
        await rm(rule, { force: true });
      }
    });

    it('sudo: a custom command set that does not exist is found missing', async () => {
      const admin = await users.create('pf_sudo', 'Pf-sudo-3', { sudo: true });
      const findings = await preflight(
        unixAdapter(res({ privilege: { mode: 'sudo' }, commandSet: { adminChange: '/usr/local/sbin/no-such-chpasswd', input: 'chpasswd' } }), { login: credential(admin, 'Pf-sudo-3') }),
        [],
      );
      expect(finding(findings, 'change command')).toMatchObject({ ok: false, detail: expect.stringContaining('no-such-chpasswd') as unknown });
    });

    it('su: the root password works and chpasswd is there; a wrong root password throws AuthenticationError', async () => {
      const login = await users.create('pf_su', 'Pf-su-1');
      const target = await users.create('pf_target', 'Pf-target-3');
      const rootAccount = { privilege: { mode: 'su', rootAccount: 'unix-test/root' } };
      await withRootPassword('Pf-root-1', async () => {
        // root logs in over neither transport: its shadow line shows it unchanged.
        const findings = await unchanged(
          { [login]: 'Pf-su-1', [target]: 'Pf-target-3' },
          () => preflight(unixAdapter(res(rootAccount), { login: credential(login, 'Pf-su-1'), root: credential('root', 'Pf-root-1') }), [target]),
          ['root'],
        );
        expect(summary(findings)).toEqual([
          { check: 'login', ok: true },
          { check: 'su to root', ok: true },
          { check: 'change command', ok: true },
          { accountId: account(target).id, check: 'account exists', ok: true },
        ]);
        const adapter = unixAdapter(res(rootAccount), { login: credential(login, 'Pf-su-1'), root: credential('root', 'Pf-root-wrong') });
        await expect(preflight(adapter, [target])).rejects.toBeInstanceOf(AuthenticationError);
      });
    });

    it("none: the login changes its own password with passwd; another account cannot be changed this way", async () => {
      const login = await users.create('pf_self', 'Pf-self-1');
      const findings = await unchanged({ [login]: 'Pf-self-1' }, () => preflight(unixAdapter(res({}), { login: credential(login, 'Pf-self-1') }), [login, 'pf_other_x']));
      expect(summary(findings)).toEqual([
        { check: 'login', ok: true },
        { accountId: account('pf_other_x').id, check: 'self change', ok: false },
        { check: 'change command', ok: true },
      ]);
    });
  });
}

describeServer('ssh', 'Unix dry run: what throws', (info) => {
  const users = new Users();
  let proxy: FaultProxy;
  beforeEach(async () => {
    proxy = await FaultProxy.start(info);
  });
  afterEach(() => proxy.close());
  afterAll(() => users.deleteAll());

  it('a refused login throws AuthenticationError, an unreachable target TargetUnchangedError', async () => {
    const admin = await users.create('pf_sudo', 'Pf-sudo-4', { sudo: true });
    const res = resource({ host: proxy.host, port: proxy.port, login: { account: 'unix-test/admin' }, privilege: { mode: 'sudo' } });
    await expect(preflight(unixAdapter(res, { login: credential(admin, 'Pf-wrong-4') }), [admin])).rejects.toBeInstanceOf(AuthenticationError);
    proxy.refuseNew(true);
    await expect(preflight(unixAdapter(res, { login: credential(admin, 'Pf-sudo-4') }), [admin])).rejects.toBeInstanceOf(TargetUnchangedError);
    expect(await unixPasswordWorks(admin, 'Pf-sudo-4')).toBe(true);
  });
});
