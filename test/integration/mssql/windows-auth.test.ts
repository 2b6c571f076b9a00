// Windows authentication (NTLM inside TDS) on the SQL Server simulator: the mssql adapter's admin
// as a domain account of a windows-domain resource, through tedious's NTLM; and FreeTDS tsql's
// NTLMv2 as the second client, so the simulator's NTLM check ([MS-NLMP] 3.3.2) is not proven only
// against the client the adapter uses. The simulator plays the domain controller's part with the
// account's NT hash; no domain controller is in the loop.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import { AuthenticationError, InvalidConfigurationError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createMssqlAdapter } from '../../../layers/resources/mssql/adapter.js';
import type { MssqlResource } from '../../../layers/resources/mssql/schema.js';
import { parseResource } from '../../../layers/resources/registry.js';
import { mssqlPasswordWorks } from '../../contracts/fixtures/mssql.js';
import { PacketType } from '../../simulators/tds/packets.js';
import { startTdsSimulator, type TdsSimulator } from '../../simulators/tds/server.js';

const TSQL = '/usr/bin/tsql';
const DOMAIN_PASSWORD = 'Domain-Adm1n-Pass';

describe('mssql Windows authentication (NTLM) on the TDS simulator', () => {
  let sim: TdsSimulator;
  let dir: string;
  const resource = () =>
    parseResource({ id: 'sql1', type: 'mssql', host: sim.host, port: sim.port, caCertificate: testCertificates().ca, authentication: { mode: 'windows', adminAccount: 'corp/sqladmin' } }) as MssqlResource;
  const admin = (password: string, domain = 'corp.example.com') => ({ accountId: 'corp/sqladmin', username: 'sqladmin', password: new Secret(password), domain });
  const account = (username: string) => ({ id: `sql1/${username}`, resourceId: 'sql1', username, secretId: `rpr/sql1/${username}`, tags: [] });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rpr-ntlm-'));
    sim = await startTdsSimulator({
      domain: { netbios: 'CORP', dns: 'corp.example.com' },
      logins: [
        { name: 'CORP\\sqladmin', password: DOMAIN_PASSWORD, alterAnyLogin: true, windows: { dnsDomain: 'corp.example.com' } },
        { name: 'app_login', password: 'Old-App-Pass-1' },
      ],
    });
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the admin logs in as CORP\\sqladmin over NTLM (its password never sent, only the challenge response) and resets a SQL login', async () => {
    const before = sim.connections.length;
    const adapter = createMssqlAdapter(adapterContext(resource(), { admin: admin(DOMAIN_PASSWORD) }));
    try {
      expect(await adapter.change({ account: account('app_login'), newPassword: new Secret('New-App-Pass-1') })).toEqual({ method: 'admin reset' });
    } finally {
      await adapter.close();
    }
    const c = sim.connections[before]!;
    expect(c.logins).toMatchObject([{ userName: 'CORP\\sqladmin', tls: true, accepted: true }]);
    expect(c.messages.map((m) => m.type)).toContain(PacketType.SSPI);
    expect(await mssqlPasswordWorks(sim, 'app_login', 'New-App-Pass-1')).toBe(true);
  });

  it("a wrong domain password is refused (18452) as an AuthenticationError, and so is the account's domain password once the domain changed it", async () => {
    const wrong = createMssqlAdapter(adapterContext(resource(), { admin: admin('Not-The-Domain-Pass') }));
    const error = await wrong.change({ account: account('app_login'), newPassword: new Secret('New-App-Pass-2') }).catch((e: unknown) => e);
    await wrong.close();
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toMatch(/error 18452/);

    sim.store.setDomainPassword('CORP\\sqladmin', 'Changed-In-Domain-1');
    try {
      const stale = createMssqlAdapter(adapterContext(resource(), { admin: admin(DOMAIN_PASSWORD) }));
      await expect(stale.change({ account: account('app_login'), newPassword: new Secret('New-App-Pass-2') })).rejects.toBeInstanceOf(AuthenticationError);
      await stale.close();
      // The NetBIOS name works as the domain as well as the DNS name.
      const fresh = createMssqlAdapter(adapterContext(resource(), { admin: admin('Changed-In-Domain-1', 'CORP') }));
      expect(await fresh.change({ account: account('app_login'), newPassword: new Secret('New-App-Pass-3') })).toEqual({ method: 'admin reset' });
      await fresh.close();
    } finally {
      sim.store.setDomainPassword('CORP\\sqladmin', DOMAIN_PASSWORD);
    }
    expect(await mssqlPasswordWorks(sim, 'app_login', 'New-App-Pass-3')).toBe(true);
  });

  it('Windows authentication without a domain on the admin credential is refused naming the field, before anything is sent', () => {
    expect(() => createMssqlAdapter(adapterContext(resource(), { admin: { accountId: 'sql1/sqladmin', username: 'sqladmin', password: new Secret(DOMAIN_PASSWORD) } }))).toThrow(InvalidConfigurationError);
  });

  // FreeTDS's NTLMv2 (NtChallengeResponse = NTProofStr ‖ blob), where tedious sends an LMv2 response.
  it.skipIf(!existsSync(TSQL))('FreeTDS tsql logs in as CORP\\sqladmin with NTLMv2, and is refused with a wrong password', async () => {
    const conf = join(dir, 'freetds.conf');
    writeFileSync(conf, '[global]\n\tuse ntlmv2 = yes\n');
    const tsql = (password: string) =>
      new Promise<string>((resolve) => {
        const child = spawn(TSQL, ['-H', sim.host, '-p', String(sim.port), '-U', 'CORP\\sqladmin'], { env: { ...process.env, TDSVER: '7.4', FREETDSCONF: conf, TDSDUMP: '' } });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', () => resolve(out));
        child.stdin.end(`${password}\nSELECT SUSER_SNAME()\ngo\nexit\n`);
      });
    expect(await tsql(DOMAIN_PASSWORD)).toContain('CORP\\sqladmin');
    expect(await tsql('Not-The-Domain-Pass')).toMatch(/Msg 18452/);
  });
});
