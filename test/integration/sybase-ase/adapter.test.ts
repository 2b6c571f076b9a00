// The sybase-ase adapter and its TDS 5.0 client against the SAP ASE simulator (test/simulators/tds5):
// what the contract suite does not show on its own. TLS from the first byte with the CA (and a wrong
// CA refused before the login record leaves), sp_password's refusals with their meaning, a self
// change of an expired password, the admin's own change and its next login, a connection dropped
// before and after the change, the preflight's findings, and a server that asks for password
// encryption. On the plain listener each password is checked with FreeTDS's tsql, not our client.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import type { Credential } from '../../../layers/engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { parseResource } from '../../../layers/resources/registry.js';
import { createSybaseAseAdapter } from '../../../layers/resources/sybase-ase/adapter.js';
import type { SybaseAseResource } from '../../../layers/resources/sybase-ase/schema.js';
import { startAseSimulator, type AseSimulator } from '../../simulators/tds5/server.js';
import { tsqlLogsIn } from '../../support/freetds-tsql.js';

const SSO = { name: 'rpr_sso', password: 'Sso-Pass-01' };

describe('sybase-ase adapter on the ASE simulator', () => {
  let plain: AseSimulator;
  let tls: AseSimulator;
  let wrongCa: string;
  let dir: string;
  let n = 0;

  const resource = (sim: AseSimulator, over: Record<string, unknown> = {}) =>
    parseResource({ id: 'ase1', type: 'sybase-ase', host: sim.host, port: sim.port, ...(sim === tls ? { caCertificate: testCertificates().ca } : { ssl: false }), ...over }) as SybaseAseResource;
  const admin = (password = SSO.password, username = SSO.name): Credential => ({ accountId: `ase1/${username}`, username, password: new Secret(password) });
  const account = (username: string) => ({ id: `ase1/${username}`, resourceId: 'ase1', username, secretId: `rpr/ase1/${username}`, tags: [] });
  const login = (sim: AseSimulator, password: string, extra: { roles?: ('sso_role' | 'sa_role')[]; passwordExpired?: boolean } = {}) => {
    const name = `ase_t${++n}`;
    sim.store.add({ name, password, ...extra });
    return name;
  };
  const works = (name: string, password: string) => tsqlLogsIn(plain, name, password);
  const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as Error);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rpr-ase-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=another CA', '-addext', 'basicConstraints=critical,CA:TRUE'], { cwd: dir, stdio: 'ignore' });
    wrongCa = readFileSync(join(dir, 'ca.pem'), 'utf8');
    plain = await startAseSimulator({ logins: [{ ...SSO, roles: ['sso_role'] }], minPasswordLength: 8 });
    tls = await startAseSimulator({ logins: [{ ...SSO, roles: ['sso_role'] }], ssl: true });
  });
  afterAll(async () => {
    await plain?.stop();
    await tls?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('admin reset over verified TLS: one admin session for the group, sp_password by RPC with bound parameters, no password in any request text', async () => {
    const a = login(tls, 'Old-Pass-a1'), b = login(tls, 'Old-Pass-b1');
    const before = tls.connections.length;
    const adapter = createSybaseAseAdapter(adapterContext(resource(tls), { admin: admin() }));
    try {
      expect(await adapter.change({ account: account(a), newPassword: new Secret("N'x' ]] \\ \"q\" ünï") })).toEqual({ method: 'admin reset (sp_password with sso_role)' });
      expect(await adapter.change({ account: account(b), newPassword: new Secret('New-Pass-b1') })).toEqual({ method: 'admin reset (sp_password with sso_role)' });
      expect(await adapter.verify({ account: account(a), password: new Secret("N'x' ]] \\ \"q\" ünï") })).toEqual({ valid: true });
      expect(await adapter.verify({ account: account(a), password: new Secret('Old-Pass-a1') })).toMatchObject({ valid: false, detail: expect.stringContaining('4002') });
    } finally {
      await adapter.close();
    }
    const adminSession = tls.connections.slice(before).filter((c) => c.logins[0]?.userName === SSO.name);
    expect(adminSession).toHaveLength(1);
    expect(adminSession[0]!.messages.every((m) => m.tls)).toBe(true);
    expect(adminSession[0]!.requests.filter((r) => r.kind === 'rpc').map((r) => r.proc)).toEqual(['sp_password', 'sp_password']);
    expect(JSON.stringify(tls.connections)).not.toMatch(/New-Pass-b1|ünï|Sso-Pass-01/);
    expect(tls.store.matches(a, "N'x' ]] \\ \"q\" ünï")).toBe(true);
    expect(tls.store.matches(b, 'New-Pass-b1')).toBe(true);
  });

  it('a CA that did not sign the server is refused before the login record leaves: the admin password never reaches it', async () => {
    const a = login(tls, 'Old-Pass-c1');
    const before = tls.connections.length;
    const adapter = createSybaseAseAdapter(adapterContext(resource(tls, { caCertificate: wrongCa }), { admin: admin() }));
    const e = await refusal(adapter.change({ account: account(a), newPassword: new Secret('New-Pass-c1') }));
    await adapter.close();
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('caCertificate');
    expect(tls.connections.slice(before).flatMap((c) => c.logins)).toEqual([]);
    expect(tls.store.matches(a, 'Old-Pass-c1')).toBe(true);
  });

  it("refusals say what ASE meant and change nothing: no sso_role, no such login, too short for the server, a wrong admin password", async () => {
    const a = login(plain, 'Old-Pass-d1');
    const weak = login(plain, 'Weak-Pass-01');
    const adapter = createSybaseAseAdapter(adapterContext(resource(plain), { admin: admin() }));
    const refused = async (username: string, password: string, by = adapter) => {
      const e = await refusal(by.change({ account: account(username), newPassword: new Secret(password) }));
      expect(e, e.message).toBeInstanceOf(TargetUnchangedError);
      return e.message;
    };
    try {
      expect(await refused('nobody_here', 'Whatever-01')).toMatch(/No login with the specified name exists\. \(Msg 17231.*\): no such login/);
      // The server's minimum is 8 here; the type's policy lets 6 through.
      expect(await refused(a, 'Short1')).toMatch(/Msg 10317.*minimum password length/);
    } finally {
      await adapter.close();
    }
    const weakAdapter = createSybaseAseAdapter(adapterContext(resource(plain), { admin: admin('Weak-Pass-01', weak) }));
    expect(await refused(a, 'New-Pass-d2', weakAdapter)).toMatch(/Msg 10353.*lacks sso_role/);
    await weakAdapter.close();
    const wrong = createSybaseAseAdapter(adapterContext(resource(plain), { admin: admin('Not-The-Pass-1') }));
    const e = await refusal(wrong.change({ account: account(a), newPassword: new Secret('New-Pass-d3') }));
    await wrong.close();
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.message).toMatch(/Login failed\. \(Msg 4002/);
    expect(await works(a, 'Old-Pass-d1')).toBe(true);
  });

  it('self change with the current password, also of an expired one (ASE lets such a login in to change it); a wrong current password is refused at login', async () => {
    const a = login(plain, 'Old-Self-01');
    const expired = login(plain, 'Old-Expired-01', { passwordExpired: true });
    const adapter = createSybaseAseAdapter(adapterContext(resource(plain), {}));
    try {
      expect(await adapter.change({ account: account(a), newPassword: new Secret('New-Self-01'), currentPassword: new Secret('Old-Self-01') })).toEqual({ method: 'self change (sp_password)' });
      expect(await adapter.change({ account: account(expired), newPassword: new Secret('New-Expired-01'), currentPassword: new Secret('Old-Expired-01') })).toEqual({ method: 'self change (sp_password)' });
      const e = await refusal(adapter.change({ account: account(a), newPassword: new Secret('New-Self-02'), currentPassword: new Secret('Not-It-0001') }));
      expect(e).toBeInstanceOf(AuthenticationError);
    } finally {
      await adapter.close();
    }
    expect(await works(a, 'New-Self-01')).toBe(true);
    expect(await works(a, 'Old-Self-01')).toBe(false);
    expect(await works(expired, 'New-Expired-01')).toBe(true);
  });

  it("the admin's own change is sp_password without a login name; after a dropped connection the admin logs in again with its new password", async () => {
    const own = login(plain, 'Own-Adm1n-01', { roles: ['sso_role'] });
    const other = login(plain, 'Old-Other-01');
    const adapter = createSybaseAseAdapter(adapterContext(resource(plain), { admin: admin('Own-Adm1n-01', own) }));
    try {
      expect(await adapter.change({ account: account(own), newPassword: new Secret('Own-Adm1n-02') })).toEqual({ method: 'self change (admin login)' });
      plain.dropNext('sp_password', 'after');
      const e = await refusal(adapter.change({ account: account(other), newPassword: new Secret('New-Other-01') }));
      expect(e).toBeInstanceOf(OutcomeUnknownError);
      expect(e.message).toMatch(/may or may not have been applied/);
      // Dropped after it applied: the outcome was open, and here the change had landed.
      expect(plain.store.matches(other, 'New-Other-01')).toBe(true);
      plain.dropNext('sp_password', 'before');
      await expect(adapter.change({ account: account(other), newPassword: new Secret('New-Other-02') })).rejects.toBeInstanceOf(OutcomeUnknownError);
      expect(plain.store.matches(other, 'New-Other-01')).toBe(true);
      expect(await adapter.change({ account: account(other), newPassword: new Secret('New-Other-03') })).toEqual({ method: 'admin reset (sp_password with sso_role)' });
    } finally {
      await adapter.close();
    }
    expect(await works(own, 'Own-Adm1n-02')).toBe(true);
    expect(await works(other, 'New-Other-03')).toBe(true);
  });

  it('preflight: the admin logs in and holds sso_role, each login exists or is named missing; without sso_role it says what to grant', async () => {
    const a = login(plain, 'Old-Pass-e1');
    const weak = login(plain, 'Weak-Pass-02');
    const adapter = createSybaseAseAdapter(adapterContext(resource(plain), { admin: admin() }));
    const findings = await adapter.preflight!({ accounts: [account(a), account('nobody_here')] });
    await adapter.close();
    expect(findings).toMatchObject([
      { check: 'admin login', ok: true },
      { check: 'sso_role', ok: true },
      { accountId: `ase1/${a}`, check: 'login exists', ok: true },
      { accountId: 'ase1/nobody_here', check: 'login exists', ok: false },
    ]);
    const weakAdapter = createSybaseAseAdapter(adapterContext(resource(plain), { admin: admin('Weak-Pass-02', weak) }));
    const weakFindings = await weakAdapter.preflight!({ accounts: [] });
    await weakAdapter.close();
    expect(weakFindings[1]).toMatchObject({ check: 'sso_role', ok: false, detail: expect.stringContaining(`grant role sso_role to ${weak}`) });
  });
});

describe('sybase-ase adapter against a server that requires password encryption', () => {
  let server: Server;
  beforeAll(async () => {
    // LOGINACK with TDS_LOG_NEGOTIATE (7), as ASE answers a clear-text password under
    // "net password encryption reqd", then DONE: the TDS 5.0 specification's negotiated login.
    const ack = Buffer.from([0xad, 10, 0, 7, 5, 0, 0, 0, 0, 16, 0, 0, 0]);
    const done = Buffer.from([0xfd, 0, 0, 0, 0, 0, 0, 0, 0]);
    server = createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        // Answer once the login message's last packet (status bit 0x01) is in.
        buf = Buffer.concat([buf, d]);
        let at = 0, last = false;
        while (at + 8 <= buf.length && at + buf.readUInt16BE(at + 2) <= buf.length) {
          last = (buf[at + 1]! & 1) === 1;
          at += buf.readUInt16BE(at + 2);
        }
        if (!last) return;
        const body = Buffer.concat([ack, done]);
        const head = Buffer.from([0x04, 0x01, 0, 0, 0, 0, 0, 0]);
        head.writeUInt16BE(8 + body.length, 2);
        s.end(Buffer.concat([head, body]));
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it('stops with that said, and changes nothing', async () => {
    const r = parseResource({ id: 'ase2', type: 'sybase-ase', host: '127.0.0.1', port: (server.address() as AddressInfo).port, ssl: false }) as SybaseAseResource;
    const adapter = createSybaseAseAdapter(adapterContext(r, {}));
    const e = await adapter.change({ account: { id: 'ase2/app', resourceId: 'ase2', username: 'app', secretId: 's', tags: [] }, newPassword: new Secret('New-Pass-01'), currentPassword: new Secret('Old-Pass-01') }).catch((x: unknown) => x as Error);
    await adapter.close();
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toMatch(/requires password encryption.*net password encryption reqd.*ssl: true.*nothing was changed/);
  });
});
