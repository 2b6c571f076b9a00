// The mssql adapter on the TDS 7.4 simulator (test/simulators/tds): what the contract suite does not
// show on its own. TLS with the CA (and a wrong CA refused before any LOGIN7), a server that forces
// encryption against ssl off, CHECK_POLICY refusals and a missing ALTER ANY LOGIN with their
// meaning, OLD_PASSWORD self changes, a wrong admin password, the statement text that reaches the
// server, and the preflight's findings. Each password is checked with the `mssql` package.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import type { Credential } from '../../../layers/engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { parseResource } from '../../../layers/resources/registry.js';
import { createMssqlAdapter } from '../../../layers/resources/mssql/adapter.js';
import type { MssqlResource } from '../../../layers/resources/mssql/schema.js';
import { mssqlPasswordWorks } from '../../contracts/fixtures/mssql.js';
import { PacketType } from '../../simulators/tds/packets.js';
import { startTdsSimulator, type TdsSimulator } from '../../simulators/tds/server.js';

const ADMIN = { name: 'rpr_admin', password: 'Adm1n-Pass!' };

describe('mssql adapter on the TDS simulator', () => {
  let sim: TdsSimulator;
  let wrongCa: string;
  let dir: string;
  let n = 0;

  const resource = (over: Record<string, unknown> = {}) =>
    parseResource({ id: 'sql1', type: 'mssql', host: sim.host, port: sim.port, caCertificate: testCertificates().ca, ...over }) as MssqlResource;
  const admin = (password = ADMIN.password): Credential => ({ accountId: 'sql1/rpr_admin', username: ADMIN.name, password: new Secret(password) });
  const account = (username: string) => ({ id: `sql1/${username}`, resourceId: 'sql1', username, secretId: `rpr/sql1/${username}`, tags: [] });
  const login = (password: string, extra: { alterAnyLogin?: boolean; checkPolicy?: boolean } = {}) => {
    const name = `mssql_t${++n}`;
    sim.store.add({ name, password, ...extra });
    return name;
  };
  const works = (name: string, password: string) => mssqlPasswordWorks(sim, name, password);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rpr-mssql-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=another CA', '-addext', 'basicConstraints=critical,CA:TRUE'], { cwd: dir, stdio: 'ignore' });
    wrongCa = readFileSync(join(dir, 'ca.pem'), 'utf8');
    sim = await startTdsSimulator({ logins: [{ ...ADMIN, alterAnyLogin: true }] });
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('admin reset over verified TLS: one admin login serves the group, LOGIN7 and the change travel under TLS, and neither password is in the statement text', async () => {
    const a = login('Old-Pass-a1'), b = login('Old-Pass-b1');
    const before = sim.connections.length;
    const adapter = createMssqlAdapter(adapterContext(resource(), { admin: admin() }));
    try {
      expect(await adapter.change({ account: account(a), newPassword: new Secret("N'New]]Pass-a1'") })).toEqual({ method: 'admin reset' });
      expect(await adapter.change({ account: account(b), newPassword: new Secret('New-Pass-b1 ünï') })).toEqual({ method: 'admin reset' });
    } finally {
      await adapter.close();
    }
    const opened = sim.connections.slice(before);
    expect(opened).toHaveLength(1);
    expect(opened[0]!.encryption).toBe('full');
    expect(opened[0]!.messages.filter((m) => m.type !== PacketType.PRELOGIN).every((m) => m.tls)).toBe(true);
    expect(opened[0]!.logins).toMatchObject([{ userName: ADMIN.name, tls: true, accepted: true }]);
    const texts = JSON.stringify(opened[0]!.requests);
    expect(texts).toContain('QUOTENAME(@password');
    expect(texts).not.toContain('New]]Pass');
    expect(texts).not.toContain('New-Pass-b1');
    expect(await works(a, "N'New]]Pass-a1'")).toBe(true);
    expect(await works(a, 'Old-Pass-a1')).toBe(false);
    expect(await works(b, 'New-Pass-b1 ünï')).toBe(true);
  });

  it('a CA that did not sign the server is refused before any LOGIN7: the admin password never leaves', async () => {
    const a = login('Old-Pass-c1');
    const before = sim.connections.length;
    const adapter = createMssqlAdapter(adapterContext(resource({ caCertificate: wrongCa }), { admin: admin() }));
    const error = await adapter.change({ account: account(a), newPassword: new Secret('New-Pass-c1') }).catch((e: unknown) => e);
    await adapter.close();
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe('caCertificate');
    const c = sim.connections[before]!;
    expect(c.messages.some((m) => m.type === PacketType.LOGIN7)).toBe(false);
    expect(await works(a, 'Old-Pass-c1')).toBe(true);
  });

  it('ssl off against a server that forces encryption: refused naming ssl, before any LOGIN7', async () => {
    const forced = await startTdsSimulator({ encryption: 'on', logins: [{ ...ADMIN, alterAnyLogin: true }, { name: 'forced_user', password: 'Old-Pass-f1' }] });
    try {
      const adapter = createMssqlAdapter(adapterContext(resource({ port: forced.port, ssl: false }), { admin: admin() }));
      const error = await adapter.change({ account: account('forced_user'), newPassword: new Secret('New-Pass-f1') }).catch((e: unknown) => e);
      await adapter.close();
      expect(error).toBeInstanceOf(InvalidConfigurationError);
      expect((error as InvalidConfigurationError).field).toBe('ssl');
      expect(forced.connections[0]!.messages.some((m) => m.type === PacketType.LOGIN7)).toBe(false);
      expect(forced.store.verify('forced_user', 'Old-Pass-f1')).toBe(true);
    } finally {
      await forced.stop();
    }
  });

  it('a CHECK_POLICY refusal (15118) says what the Windows policy wants, and nothing changed', async () => {
    const a = login('Old-Pass-p1');
    const adapter = createMssqlAdapter(adapterContext(resource(), { admin: admin() }));
    // Only lower-case letters: one class of the four, where the policy wants three.
    const error = await adapter.change({ account: account(a), newPassword: new Secret('onlylowercaseletters') }).catch((e: unknown) => e);
    await adapter.close();
    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as Error).message).toMatch(/error 15118: not complex enough for the Windows password policy \(CHECK_POLICY\)/);
    expect(await works(a, 'Old-Pass-p1')).toBe(true);
  });

  it('an admin without ALTER ANY LOGIN: the preflight says so, and a reset is refused (15151) with what that means', async () => {
    const weak = login('Weak-Adm1n!');
    const a = login('Old-Pass-w1');
    const ctx = adapterContext(resource(), { admin: { accountId: `sql1/${weak}`, username: weak, password: new Secret('Weak-Adm1n!') } });
    const adapter = createMssqlAdapter(ctx);
    try {
      const findings = await adapter.preflight!({ accounts: [account(a), account('nobody')] });
      expect(findings).toEqual(expect.arrayContaining([
        expect.objectContaining({ check: 'admin login', ok: true }),
        expect.objectContaining({ check: 'ALTER ANY LOGIN', ok: false, detail: expect.stringContaining(`GRANT ALTER ANY LOGIN TO [${weak}]`) }),
        expect.objectContaining({ accountId: `sql1/${a}`, check: 'login exists', ok: true }),
        expect.objectContaining({ accountId: 'sql1/nobody', check: 'login exists', ok: false }),
      ]));
      const error = await adapter.change({ account: account(a), newPassword: new Secret('New-Pass-w1') }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TargetUnchangedError);
      expect((error as Error).message).toMatch(/error 15151: no such SQL login, or the admin lacks ALTER ANY LOGIN/);
    } finally {
      await adapter.close();
    }
    expect(await works(a, 'Old-Pass-w1')).toBe(true);
  });

  it("self change with OLD_PASSWORD; a wrong current password is refused at login; the admin's own change is used by its next login", async () => {
    const a = login('Old-Pass-s1');
    const selfAdapter = createMssqlAdapter(adapterContext(resource(), {}));
    expect(await selfAdapter.change({ account: account(a), newPassword: new Secret('New-Pass-s1'), currentPassword: new Secret('Old-Pass-s1') })).toEqual({ method: 'self change (OLD_PASSWORD)' });
    const wrong = await selfAdapter.change({ account: account(a), newPassword: new Secret('New-Pass-s2'), currentPassword: new Secret('Not-The-Pass-1') }).catch((e: unknown) => e);
    await selfAdapter.close();
    expect(await works(a, 'New-Pass-s1')).toBe(true);
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect((wrong as Error).message).toMatch(/Login failed for user .*error 18456/);
    const requests = sim.connections.flatMap((c) => c.requests).map((r) => r.sql).join('\n');
    expect(requests).toContain('OLD_PASSWORD');

    const own = login('Own-Adm1n-1', { alterAnyLogin: true });
    const b = login('Old-Pass-s3');
    const cred = { accountId: `sql1/${own}`, username: own, password: new Secret('Own-Adm1n-1') };
    const adapter = createMssqlAdapter(adapterContext(resource(), { admin: cred }));
    try {
      expect(await adapter.change({ account: account(own), newPassword: new Secret('Own-Adm1n-2') })).toEqual({ method: 'self change (admin login)' });
      expect(await adapter.verify({ account: account(own), password: new Secret('Own-Adm1n-2') })).toEqual({ valid: true });
      expect(await adapter.change({ account: account(b), newPassword: new Secret('New-Pass-s3') })).toEqual({ method: 'admin reset' });
    } finally {
      await adapter.close();
    }
    expect(await works(own, 'Own-Adm1n-2')).toBe(true);
    expect(await works(b, 'New-Pass-s3')).toBe(true);
  });

  it("a wrong admin password is an AuthenticationError with the server's 18456; verify says a wrong password is invalid rather than throwing", async () => {
    const a = login('Old-Pass-x1');
    const adapter = createMssqlAdapter(adapterContext(resource(), { admin: admin('Not-The-Adm1n') }));
    const error = await adapter.change({ account: account(a), newPassword: new Secret('New-Pass-x1') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toMatch(/error 18456/);
    expect(await adapter.verify({ account: account(a), password: new Secret('Old-Pass-x1') })).toEqual({ valid: true });
    expect(await adapter.verify({ account: account(a), password: new Secret('Wrong-Pass-x1') })).toMatchObject({ valid: false, detail: expect.stringMatching(/18456/) });
    await adapter.close();
    expect(await works(a, 'Old-Pass-x1')).toBe(true);
  });

  it('a password of more than 128 UTF-16 code units (which QUOTENAME would turn into NULL) is refused naming newPassword, before anything is sent', async () => {
    const a = login('Old-Pass-l1');
    const adapter = createMssqlAdapter(adapterContext(resource(), { admin: admin() }));
    const before = sim.connections.length;
    // 100 characters, 200 code units: within the policy's 128 characters.
    const error = await adapter.change({ account: account(a), newPassword: new Secret('🔑'.repeat(97) + 'Aa1') }).catch((e: unknown) => e);
    await adapter.close();
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe('newPassword');
    expect(sim.connections.length).toBe(before);
    expect(await works(a, 'Old-Pass-l1')).toBe(true);
  });
});
