import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import { TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createMssqlAdapter } from '../../../layers/resources/mssql/adapter.js';
import type { MssqlResource } from '../../../layers/resources/mssql/schema.js';
import { parseResource } from '../../../layers/resources/registry.js';
import { mssqlPasswordWorks } from '../../contracts/fixtures/mssql.js';
import { answer, startSqlBrowser, type SqlBrowser } from '../../simulators/sql-browser/server.js';
import { startTdsSimulator } from '../../simulators/tds/server.js';

/**
 * The SQL Server Browser simulator ([MC-SQLR]) against two clients that are not ours: tedious's
 * own instance lookup (what the mssql adapter's driver runs for `instanceName`) and FreeTDS's
 * `tsql -L` (which lists a host's instances the same way).
 */
const { instanceLookup } = createRequire(import.meta.url)('tedious/lib/instance-lookup.js') as {
  instanceLookup(o: { server: string; instanceName: string; timeout: number; retries: number; signal: AbortSignal; port?: number }): Promise<number>;
};
const tsql = spawnSync('tsql', ['-C'], { encoding: 'utf8' });
const noTsql = tsql.error || tsql.status !== 0 ? 'FreeTDS tsql is not installed (freetds-bin)' : undefined;

describe('SQL Server Browser simulator', () => {
  let browser: SqlBrowser;
  const instances: { name: string; port: number; dacPort?: number }[] = [
    { name: 'RPR', port: 41433 },
    { name: 'Reporting', port: 41434, dacPort: 41435 },
  ];

  beforeAll(async () => {
    browser = await startSqlBrowser(instances);
  });
  afterAll(async () => browser?.stop());

  it("tells tedious a named instance's port, whatever the name's case", async () => {
    const signal = new AbortController().signal;
    expect(await instanceLookup({ server: '127.0.0.1', instanceName: 'rpr', timeout: 1_000, retries: 0, signal })).toBe(41433);
    expect(await instanceLookup({ server: '127.0.0.1', instanceName: 'REPORTING', timeout: 1_000, retries: 0, signal })).toBe(41434);
    await expect(instanceLookup({ server: '127.0.0.1', instanceName: 'NOPE', timeout: 1_000, retries: 0, signal })).rejects.toThrow(/Port for NOPE not found/);
  });

  it.skipIf(noTsql !== undefined)('lists every instance to FreeTDS tsql -L', async () => {
    // Not spawnSync: the simulator answers from this process's event loop.
    const { stdout, stderr } = await promisify(execFile)('tsql', ['-LH', '127.0.0.1'], { encoding: 'utf8', timeout: 10_000 });
    const out = stdout + stderr;
    expect(out).toMatch(/InstanceName\s+RPR/);
    expect(out).toMatch(/tcp\s+41433/);
    expect(out).toMatch(/InstanceName\s+Reporting/);
  });

  it('answers CLNT_UCAST_INST and CLNT_UCAST_DAC as [MC-SQLR] 2.2.5 shapes them, and stays silent on what it does not know', async () => {
    const one = answer(Buffer.from([0x04, ...Buffer.from('rpr'), 0]), instances)!;
    expect(one[0]).toBe(0x05);
    expect(one.readUInt16LE(1)).toBe(one.length - 3);
    expect(one.subarray(3).toString('latin1')).toBe('ServerName;RPRSIM;InstanceName;RPR;IsClustered;No;Version;16.0.1000.6;tcp;41433;;');
    expect([...answer(Buffer.from([0x0f, 0x01, ...Buffer.from('Reporting'), 0]), instances)!]).toEqual([0x05, 6, 0, 0x01, 41435 & 0xff, 41435 >> 8]);
    expect(answer(Buffer.from([0x0f, 0x01, ...Buffer.from('RPR'), 0]), instances)).toBeUndefined();
    expect(answer(Buffer.from([0x04, ...Buffer.from('x'.repeat(33)), 0]), instances)).toBeUndefined();
    expect(answer(Buffer.from([0x07]), instances)).toBeUndefined();
    // Over the wire too: an unknown instance gets no datagram back.
    const socket = createSocket('udp4');
    const got: Buffer[] = [];
    socket.on('message', (m) => got.push(m));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    socket.send(Buffer.from([0x04, ...Buffer.from('NOPE'), 0]), browser.port, '127.0.0.1');
    socket.send(Buffer.from([0x04, ...Buffer.from('RPR'), 0]), browser.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 300));
    socket.close();
    expect(got).toHaveLength(1);
    expect(got[0]!.toString('latin1')).toContain('tcp;41433;;');
  });

  it('the mssql adapter reaches a named instance through the Browser, and an instance the Browser does not know is refused naming it', async () => {
    const sim = await startTdsSimulator({ logins: [{ name: 'rpr_admin', password: 'Adm1n-Pass!', alterAnyLogin: true }, { name: 'payroll_app', password: 'Old-Pass-n1' }] });
    instances.push({ name: 'PAYROLL', port: sim.port });
    const admin = { accountId: 'sql2/rpr_admin', username: 'rpr_admin', password: new Secret('Adm1n-Pass!') };
    const account = { id: 'sql2/payroll_app', resourceId: 'sql2', username: 'payroll_app', secretId: 'rpr/sql2/payroll_app', tags: [] };
    const resource = (instanceName: string) => parseResource({ id: 'sql2', type: 'mssql', host: '127.0.0.1', instanceName, caCertificate: testCertificates().ca }) as MssqlResource;
    try {
      const adapter = createMssqlAdapter(adapterContext(resource('payroll'), { admin }));
      expect(await adapter.change({ account, newPassword: new Secret('New-Pass-n1') })).toEqual({ method: 'admin reset' });
      await adapter.close();
      expect(await mssqlPasswordWorks(sim, 'payroll_app', 'New-Pass-n1')).toBe(true);

      const lost = createMssqlAdapter(adapterContext(resource('NOPE'), { admin }, { timeoutMs: 1_500 }));
      const error = await lost.change({ account, newPassword: new Secret('New-Pass-n2') }).catch((e: unknown) => e);
      await lost.close();
      expect(error).toBeInstanceOf(TargetUnchangedError);
      expect((error as Error).message).toMatch(/SQL Server Browser \(UDP 1434\) on 127\.0\.0\.1 did not tell the port of instance "NOPE"/);
      expect(await mssqlPasswordWorks(sim, 'payroll_app', 'New-Pass-n1')).toBe(true);
    } finally {
      instances.pop();
      await sim.stop();
    }
  });
});
