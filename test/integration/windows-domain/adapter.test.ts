import { inspect } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createWindowsDomainAdapter } from '../../../layers/resources/windows-domain/adapter.js';
import { describeServer } from '../../../harness/servers/index.js';
import { unrelatedCa } from '../postgresql/support.js';
import {
  account,
  bindWorks,
  context,
  createPso,
  createUser,
  credential,
  deletePso,
  deleteUser,
  freshPassword,
  makeDomainAdmin,
  readUser,
  resource,
  type TestUser,
} from './support.js';

describeServer('samba', 'windows-domain adapter on a real Samba AD DC', (info) => {
  const created: TestUser[] = [];
  let admin: TestUser;
  let adminPassword: string;

  async function user(password: string, options: Parameters<typeof createUser>[2] = {}): Promise<TestUser> {
    const u = await createUser(info, password, options);
    created.push(u);
    return u;
  }

  beforeAll(async () => {
    adminPassword = freshPassword();
    admin = await user(adminPassword);
    await makeDomainAdmin(info, admin);
  });

  afterAll(async () => {
    for (const u of created.reverse()) await deleteUser(info, u.dn);
  });

  function adminAdapter(over: Record<string, unknown> = {}) {
    return createWindowsDomainAdapter(context(resource(info, over), credential(admin.sam, adminPassword)));
  }

  it.each([
    ['LDAPS', {}],
    ['StartTLS', { mode: 'starttls', port: info.port }],
  ])('admin reset over %s: the new password binds, the old one is refused', async (_mode, over) => {
    const old = freshPassword();
    const u = await user(old);
    const next = freshPassword();
    const adapter = adminAdapter(over);
    try {
      const result = await adapter.change({ account: account(u.sam), newPassword: new Secret(next) });

      expect(result.method).toBe('admin reset');
      expect(await bindWorks(info, u.upn, next)).toBe(true);
      expect(await bindWorks(info, u.dn, old)).toBe(false);
      expect(await adapter.verify({ account: account(u.sam), password: new Secret(next) })).toEqual({ valid: true });
    } finally {
      await adapter.close();
    }
  });

  it.each([
    ['sAMAccountName', (u: TestUser) => u.sam],
    ['UPN', (u: TestUser) => u.upn],
    ['DN', (u: TestUser) => u.dn],
  ])('self change with the account named by its %s: delete-old/add-new as the account; the new password binds, the old one is refused', async (_form, name) => {
    const old = freshPassword();
    const u = await user(old);
    const next = freshPassword();
    const adapter = createWindowsDomainAdapter(context(resource(info, { mode: 'starttls', port: info.port })));
    try {
      const result = await adapter.change({ account: account(name(u)), newPassword: new Secret(next), currentPassword: new Secret(old) });

      expect(result.method).toBe('self change');
      expect(await bindWorks(info, u.dn, next)).toBe(true);
      expect(await bindWorks(info, u.upn, old)).toBe(false);
    } finally {
      await adapter.close();
    }
  });

  it('self change with a wrong current password is an AuthenticationError, and nothing changes', async () => {
    const old = freshPassword();
    const u = await user(old);
    const adapter = createWindowsDomainAdapter(context(resource(info)));

    const error = await adapter.change({ account: account(u.sam), newPassword: new Secret(freshPassword()), currentPassword: new Secret(freshPassword()) }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toMatch(/52e|bad credentials/);
    expect(await bindWorks(info, u.upn, old)).toBe(true);
  });

  it('the admin account (configured by sAMAccountName, the account given by DN) resets itself; the group keeps working with its new password', async () => {
    const selfAdminPassword = freshPassword();
    const selfAdmin = await user(selfAdminPassword);
    await makeDomainAdmin(info, selfAdmin);
    const other = await user(freshPassword());
    const adapter = createWindowsDomainAdapter(context(resource(info), credential(selfAdmin.sam, selfAdminPassword)));
    const next = freshPassword();
    try {
      expect(await adapter.change({ account: { ...account(selfAdmin.dn), id: 'ad-test/admin-by-dn' }, newPassword: new Secret(next) })).toEqual({
        method: 'admin reset (the admin account itself)',
      });
      await adapter.close(); // the next operation logs in again, with the new password
      expect((await adapter.change({ account: account(other.sam), newPassword: new Secret(freshPassword()) })).method).toBe('admin reset');
    } finally {
      await adapter.close();
    }
    expect(await bindWorks(info, selfAdmin.dn, next)).toBe(true);
  });

  it('a wrong admin password is an AuthenticationError naming the admin account, and the account is unchanged', async () => {
    const old = freshPassword();
    const u = await user(old);
    const wrongAdmin = freshPassword();
    const next = freshPassword();
    const adapter = createWindowsDomainAdapter(context(resource(info), credential(admin.sam, wrongAdmin)));

    const error = await adapter.change({ account: account(u.sam), newPassword: new Secret(next) }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(AuthenticationError);
    const text = inspect(error, { depth: 8, showHidden: true });
    for (const pw of [wrongAdmin, next, old]) expect(text).not.toContain(pw);
    expect((error as Error).message).toContain(`adminAccount ad-test/${admin.sam}`);
    expect(await bindWorks(info, u.upn, old)).toBe(true);
  });

  it('an account that does not exist is refused naming account.username; nothing is sent', async () => {
    const adapter = adminAdapter();
    const error = await adapter.change({ account: account('nobody_here_1'), newPassword: new Secret(freshPassword()) }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe('account.username');
  });

  it('passwordLastSet reads pwdLastSet with the admin login, and moves when the password is reset', async () => {
    const u = await user(freshPassword());
    const adapter = adminAdapter();
    try {
      const before = await adapter.passwordLastSet!(account(u.sam));
      await new Promise((r) => setTimeout(r, 1100));
      await adapter.change({ account: account(u.sam), newPassword: new Secret(freshPassword()) });
      const after = await adapter.passwordLastSet!(account(u.sam));

      expect(before).toBeInstanceOf(Date);
      expect(after!.getTime()).toBeGreaterThan(before!.getTime());
      expect(Math.abs(after!.getTime() - Date.now())).toBeLessThan(60_000);
      const raw = await readUser(info, u.sam, ['pwdLastSet']);
      expect(BigInt(raw.pwdLastSet!) / 10_000n - 11_644_473_600_000n).toBe(BigInt(after!.getTime()));
    } finally {
      await adapter.close();
    }
  });

  it('a domain policy rejection (a password reused from history) is a TargetUnchangedError that says 0000052D means policy', async () => {
    const first = freshPassword();
    const u = await user(first);
    const second = freshPassword();
    const adapter = createWindowsDomainAdapter(context(resource(info)));
    try {
      await adapter.change({ account: account(u.sam), newPassword: new Secret(second), currentPassword: new Secret(first) });
      // Back to the first password: complex and long enough, so only the domain's history can refuse it.
      const error = await adapter.change({ account: account(u.sam), newPassword: new Secret(first), currentPassword: new Secret(second) }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(TargetUnchangedError);
      expect((error as Error).message).toMatch(/0000052D/);
      expect((error as Error).message).toMatch(/password policy/);
      expect((error as Error).message).not.toContain(first);
      expect(await bindWorks(info, u.upn, second)).toBe(true);
    } finally {
      await adapter.close();
    }
  });

  it("a self change within a minimum password age the account cannot read (its PSO's: one day) is refused by the domain; the error says what 0000052D means and nothing changes", async () => {
    const first = freshPassword();
    const u = await user(first);
    const pso = await createPso(info, u, { minAgeDays: 1 });
    const adapter = createWindowsDomainAdapter(context(resource(info)));
    try {
      // pwdLastSet is the creation time: the age counts from any setting, an admin's included.
      const error = await adapter.change({ account: account(u.sam), newPassword: new Secret(freshPassword()), currentPassword: new Secret(first) }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(TargetUnchangedError);
      expect((error as Error).message).toMatch(/password policy \(0000052D: .*changed again before the minimum password age\); nothing was changed/);
      expect((error as Error).message).toMatch(/too young/);
      expect(await bindWorks(info, u.upn, first)).toBe(true);
    } finally {
      await adapter.close();
      await deletePso(info, pso);
    }
  });

  it("a CA that did not sign the domain controller's certificate is refused before any login, naming caCertificate", async () => {
    const old = freshPassword();
    const u = await user(old);
    const adapter = createWindowsDomainAdapter(context(resource(info, { caCertificate: unrelatedCa() }), credential(admin.sam, adminPassword)));
    const error = await adapter.change({ account: account(u.sam), newPassword: new Secret(freshPassword()) }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toMatchObject({ field: 'caCertificate' });
    expect(await bindWorks(info, u.upn, old)).toBe(true);
  });
});
