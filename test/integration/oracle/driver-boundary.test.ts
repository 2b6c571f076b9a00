// The oracle adapter at node-oracledb's boundary: a recording fake of the driver
// (test/support/oracledb-fake.ts) checks every call and its arguments and answers as Oracle
// documents it, including what the Oracle Net simulator (adapter.test.ts) does not do: a cut armed
// at an exact call, TCPS descriptors. Below, the real driver against listeners that refuse, stay
// silent or present a certificate the system does not trust: what it does before any login.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import type { Credential } from '../../../layers/engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, TargetTimeoutError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { connectDescriptor, createOracleAdapter, oracleAdapterFactory } from '../../../layers/resources/oracle/adapter.js';
import type { OracleResource } from '../../../layers/resources/oracle/schema.js';
import { parseResource } from '../../../layers/resources/registry.js';
import { OracledbFake } from '../../support/oracledb-fake.js';

const resource = (over: Record<string, unknown> = {}) => parseResource({ id: 'ora1', type: 'oracle', host: 'db.example.com', ...over }) as OracleResource;
const account = (username: string) => ({ id: `ora1/${username}`, resourceId: 'ora1', username, secretId: `rpr/ora1/${username}`, tags: [] });
const ADMIN: Credential = { accountId: 'ora1/rpr_admin', username: 'rpr_admin', password: new Secret('Adm1n-Pass-0') };

function setup(over: Record<string, unknown> = {}) {
  const r = resource(over);
  const fake = new OracledbFake(connectDescriptor(r));
  fake.addUser('rpr_admin', { password: 'Adm1n-Pass-0', alterUser: true });
  fake.addUser('app_user', { password: 'Old-App-Pass-1' });
  const adapter = (credentials: Record<string, Credential> = { admin: ADMIN }) => oracleAdapterFactory(fake)(adapterContext(r, credentials));
  return { r, fake, adapter };
}

describe('oracle adapter at the node-oracledb boundary', () => {
  it('names the service, the SID or TCPS with the certificate name checked, in a connect descriptor', () => {
    expect(connectDescriptor(resource())).toBe('(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=db.example.com)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=ORCL)))');
    expect(connectDescriptor(resource({ sid: 'PROD1' }))).toBe('(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=db.example.com)(PORT=1521))(CONNECT_DATA=(SID=PROD1)))');
    expect(connectDescriptor(resource({ ssl: true, serviceName: 'pdb1.example.com' }))).toBe(
      '(DESCRIPTION=(ADDRESS=(PROTOCOL=TCPS)(HOST=db.example.com)(PORT=2484))(CONNECT_DATA=(SERVICE_NAME=pdb1.example.com))(SECURITY=(SSL_SERVER_DN_MATCH=TRUE)))',
    );
  });

  it('admin reset: one admin login for the group, ALTER USER with the user quoted and upper-cased; the new password logs in, the old does not', async () => {
    const { fake, adapter } = setup();
    fake.addUser('second_user', { password: 'Old-Second-1' });
    const a = adapter();
    expect(await a.change({ account: account('app_user'), newPassword: new Secret("N'x' ]] \\ 'q' ünï") })).toEqual({ method: 'admin reset (ALTER USER)' });
    expect(await a.change({ account: account('second_user'), newPassword: new Secret('New-Second-1') })).toEqual({ method: 'admin reset (ALTER USER)' });
    expect(await a.verify({ account: account('app_user'), password: new Secret("N'x' ]] \\ 'q' ünï") })).toEqual({ valid: true });
    expect(await a.verify({ account: account('app_user'), password: new Secret('Old-App-Pass-1') })).toMatchObject({ valid: false, detail: expect.stringContaining('ORA-01017') });
    await a.close();
    expect(fake.calls.filter((c) => c.method === 'getConnection' && c.attributes.user === 'rpr_admin')).toHaveLength(1);
    expect(fake.calls.filter((c) => c.method === 'execute').map((c) => (c as { sql: string }).sql)).toEqual([
      `ALTER USER "APP_USER" IDENTIFIED BY "N'x' ]] \\ 'q' ünï"`,
      'ALTER USER "SECOND_USER" IDENTIFIED BY "New-Second-1"',
    ]);
    expect(fake.passwordWorks('second_user', 'New-Second-1')).toBe(true);
  });

  it("self change through the driver's own password change (never SQL), with the current password; a wrong one is refused at login", async () => {
    const { fake, adapter } = setup();
    const a = adapter({});
    expect(await a.change({ account: account('app_user'), newPassword: new Secret('New-Self-1'), currentPassword: new Secret('Old-App-Pass-1') })).toEqual({ method: 'self change (driver password change)' });
    const wrong = await a.change({ account: account('app_user'), newPassword: new Secret('New-Self-2'), currentPassword: new Secret('Not-It-1') }).catch((e: unknown) => e);
    await a.close();
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect((wrong as Error).message).toMatch(/ORA-01017/);
    expect(fake.calls.some((c) => c.method === 'execute')).toBe(false);
    expect(fake.calls.filter((c) => c.method === 'changePassword')).toEqual([{ method: 'changePassword', as: 'APP_USER', user: 'app_user', oldPassword: 'Old-App-Pass-1', newPassword: 'New-Self-1' }]);
    expect(fake.passwordWorks('app_user', 'New-Self-1')).toBe(true);
  });

  it("the admin's own password: the driver's password change on its session, and its next login uses the new one", async () => {
    const { fake, adapter } = setup();
    const a = adapter();
    expect(await a.change({ account: account('rpr_admin'), newPassword: new Secret('Adm1n-Pass-1') })).toEqual({ method: 'self change (admin, driver password change)' });
    fake.cut = 'before';
    await expect(a.change({ account: account('app_user'), newPassword: new Secret('New-App-Pass-9') })).rejects.toBeInstanceOf(OutcomeUnknownError);
    // The session broke: the next change logs the admin in again, with its new password.
    expect(await a.change({ account: account('app_user'), newPassword: new Secret('New-App-Pass-2') })).toEqual({ method: 'admin reset (ALTER USER)' });
    await a.close();
    const adminLogins = fake.calls.flatMap((c) => (c.method === 'getConnection' && c.attributes.user === 'rpr_admin' ? [c.attributes.password] : []));
    expect(adminLogins).toEqual(['Adm1n-Pass-0', 'Adm1n-Pass-1']);
    expect(fake.passwordWorks('app_user', 'New-App-Pass-2')).toBe(true);
  });

  it('a password with a double quote or NUL, and a user name that is no plain identifier, are refused naming the field before any call', async () => {
    const { fake, adapter } = setup();
    const a = adapter();
    for (const [username, password, field] of [['app_user', 'Has"Quote-1', 'newPassword'], ['app_user', 'Nul\0Inside-1', 'newPassword'], ['app"; DROP USER x; --', 'Fine-Pass-1', 'account.username'], ['a b', 'Fine-Pass-1', 'account.username']] as const) {
      const e = await a.change({ account: account(username), newPassword: new Secret(password) }).catch((x: unknown) => x);
      expect(e, `${username} / ${field}`).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe(field);
    }
    await a.close();
    expect(fake.calls).toEqual([]);
  });

  it("refusals say what Oracle meant, and change nothing: the profile's verify function, reuse, a missing user, an admin without ALTER USER", async () => {
    const { fake, adapter } = setup();
    fake.addUser('strict_user', { password: 'Old-Strict-1', verify: (p) => (p.length < 12 ? 'Password length less than 12' : undefined), reuseMax: 2 });
    fake.addUser('weak_admin', { password: 'Weak-Adm1n-0' });
    const a = adapter();
    const refused = async (username: string, password: string, by = a) => {
      const e = await by.change({ account: account(username), newPassword: new Secret(password) }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TargetUnchangedError);
      return (e as Error).message;
    };
    expect(await refused('strict_user', 'Short-1')).toMatch(/verify function refused it \(ORA-28003\)/);
    expect(await refused('strict_user', 'Old-Strict-1')).toMatch(/PASSWORD_REUSE_MAX forbids it again \(ORA-28007\)/);
    expect(await refused('nobody_here', 'Whatever-Pass-1')).toMatch(/no such user \(ORA-01918\)/);
    await a.close();
    const weak = adapter({ admin: { accountId: 'ora1/weak_admin', username: 'weak_admin', password: new Secret('Weak-Adm1n-0') } });
    expect(await refused('app_user', 'New-App-Pass-3', weak)).toMatch(/lacks the ALTER USER system privilege \(ORA-01031\)/);
    await weak.close();
    expect(fake.passwordWorks('strict_user', 'Old-Strict-1')).toBe(true);
    expect(fake.passwordWorks('app_user', 'Old-App-Pass-1')).toBe(true);
  });

  it('a connection lost after ALTER USER was sent is an unknown outcome (the change may have landed, and here it did)', async () => {
    const { fake, adapter } = setup();
    const a = adapter();
    fake.cut = 'after';
    await expect(a.change({ account: account('app_user'), newPassword: new Secret('New-App-Pass-4') })).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(await a.verify({ account: account('app_user'), password: new Secret('New-App-Pass-4') })).toEqual({ valid: true });
    await a.close();
  });

  it('a wrong admin password and a locked account are AuthenticationErrors with their ORA- meaning', async () => {
    const { fake, adapter } = setup();
    const e = await adapter({ admin: { ...ADMIN, password: new Secret('Not-The-Adm1n') } }).change({ account: account('app_user'), newPassword: new Secret('New-App-Pass-5') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthenticationError);
    fake.addUser('locked_user', { password: 'Locked-Pass-1', locked: true });
    const v = await adapter().verify({ account: account('locked_user'), password: new Secret('Locked-Pass-1') }).catch((x: unknown) => x);
    expect(v).toBeInstanceOf(AuthenticationError);
    expect((v as Error).message).toMatch(/the account is locked \(ORA-28000\)/);
  });
});

describe('oracle adapter with the real node-oracledb, before any login', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });
  const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
  const change = (over: Record<string, unknown>) =>
    createOracleAdapter(adapterContext(resource({ host: '127.0.0.1', ...over }), { admin: ADMIN }, { timeoutMs: 1_500 })).change({ account: account('app_user'), newPassword: new Secret('New-App-Pass-6') }).catch((e: unknown) => e);

  it('a listener that refuses the connection: nothing changed, safe to retry', async () => {
    server = createTcpServer();
    const port = await listen(server);
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    const e = await change({ port });
    expect(e).toBeInstanceOf(TargetUnchangedError);
  });

  it('a listener that never answers: a timeout, nothing changed', async () => {
    const sockets: import('node:net').Socket[] = [];
    server = createTcpServer((s) => sockets.push(s));
    const port = await listen(server);
    const e = await change({ port });
    for (const s of sockets) s.destroy();
    expect(e).toBeInstanceOf(TargetTimeoutError);
  });

  it('TCPS to a listener whose certificate the system does not trust: refused naming ssl, and no byte of Oracle Net reaches it', async () => {
    // Not the test CA: the workers trust that one (NODE_EXTRA_CA_CERTS).
    const dir = mkdtempSync(join(tmpdir(), 'rpr-tcps-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' });
    const [key, cert] = [readFileSync(join(dir, 'k.pem')), readFileSync(join(dir, 'c.pem'))];
    rmSync(dir, { recursive: true, force: true });
    let received = 0;
    server = createTlsServer({ key, cert }, (s) => s.on('data', (d: Buffer) => (received += d.length)));
    server.on('tlsClientError', () => undefined);
    const port = await listen(server);
    const e = await change({ port, ssl: true });
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('ssl');
    expect(received).toBe(0);
  });
});
