// The SQL Server simulator (test/simulators/tds) proven against two independent clients: tedious,
// through the `mssql` package the adapter will use, and FreeTDS's tsql. Each test states what a real
// SQL Server does and checks the simulator does it to a real client.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import { PacketType } from '../../simulators/tds/packets.js';
import { startTdsSimulator, type TdsSimulator } from '../../simulators/tds/server.js';

const ADMIN = { name: 'rpr_admin', password: 'Adm1n-Pass!' };
const TSQL = '/usr/bin/tsql';

type Encrypt = { encrypt: false } | { encrypt: true; ca: string };

function config(sim: TdsSimulator, user: string, password: string, tls: Encrypt = { encrypt: false }): sql.config {
  return {
    server: sim.host,
    port: sim.port,
    user,
    password,
    database: 'master',
    connectionTimeout: 5000,
    requestTimeout: 5000,
    pool: { max: 1, min: 0 },
    options: { encrypt: tls.encrypt, trustServerCertificate: false, ...(tls.encrypt ? { cryptoCredentialsDetails: { ca: tls.ca } } : {}) },
  };
}

async function withPool<T>(c: sql.config, f: (pool: sql.ConnectionPool) => Promise<T>): Promise<T> {
  const pool = new sql.ConnectionPool(c);
  await pool.connect();
  try {
    return await f(pool);
  } finally {
    await pool.close();
  }
}

/** Error number a login or a request was refused with (tedious's ConnectionError wraps the server's ERROR). */
async function refusal(p: Promise<unknown>): Promise<{ number?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { number?: number; message: string; originalError?: { number?: number; message: string } };
    const number = err.number ?? err.originalError?.number;
    return { ...(number === undefined ? {} : { number }), message: err.message };
  }
  throw new Error('expected a refusal');
}

const loginsTo = (sim: TdsSimulator, user: string, password: string) => withPool(config(sim, user, password), async () => true).catch(() => false);

/** ALTER LOGIN built server-side from bound parameters, as the adapter will send it. */
const ALTER_BY_ADMIN = `DECLARE @sql nvarchar(max) = N'ALTER LOGIN ' + QUOTENAME(@login) + N' WITH PASSWORD = ' + QUOTENAME(@password, '''');
EXEC (@sql);`;

describe('SQL Server simulator (TDS 7.4) with tedious', () => {
  let sim: TdsSimulator;
  let ca: string;
  let wrongCa: string;
  let dir: string;

  beforeAll(async () => {
    ca = testCertificates().ca;
    dir = mkdtempSync(join(tmpdir(), 'rpr-tds-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=another CA', '-addext', 'basicConstraints=critical,CA:TRUE'], { cwd: dir, stdio: 'ignore' });
    wrongCa = readFileSync(join(dir, 'ca.pem'), 'utf8');
    sim = await startTdsSimulator({
      logins: [
        { ...ADMIN, alterAnyLogin: true },
        { name: 'app_user', password: 'App-Pass-01' },
        { name: 'self_user', password: 'Self-Pass-01' },
        { name: 'disabled_user', password: 'Dis-Pass-01', disabled: true },
        { name: 'fresh_user', password: 'Fresh-Pass-01', mustChange: true },
        { name: 'gauntlet_user', password: 'Gaunt-Pass-01' },
      ],
    });
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in without TLS and answers SELECT @@VERSION and SUSER_SNAME()', async () => {
    const row = await withPool(config(sim, 'app_user', 'App-Pass-01'), async (pool) => (await pool.request().query<{ v: string; who: string }>('SELECT @@VERSION AS v, SUSER_SNAME() AS who')).recordset[0]);
    expect(row?.v).toMatch(/^Microsoft SQL Server 2022/);
    expect(row?.who).toBe('app_user');
  });

  it('logs in with TLS verified against the test CA: LOGIN7 and everything after it travel under TLS', async () => {
    const before = sim.connections.length;
    const who = await withPool(config(sim, 'app_user', 'App-Pass-01', { encrypt: true, ca }), async (pool) => (await pool.request().query<{ who: string }>('SELECT SUSER_SNAME() AS who')).recordset[0]?.who);
    expect(who).toBe('app_user');
    const c = sim.connections[before]!;
    expect(c.encryption).toBe('full');
    expect(c.messages.filter((m) => m.type !== PacketType.PRELOGIN).every((m) => m.tls)).toBe(true);
    expect(c.logins).toMatchObject([{ userName: 'app_user', tls: true, accepted: true }]);
  });

  it('a client with another CA refuses the certificate before LOGIN7: the password is never sent', async () => {
    const before = sim.connections.length;
    const r = await refusal(withPool(config(sim, 'app_user', 'App-Pass-01', { encrypt: true, ca: wrongCa }), async () => undefined));
    expect(r.message).toMatch(/certificate/i);
    const c = sim.connections[before]!;
    expect(c.messages.some((m) => m.type === PacketType.LOGIN7)).toBe(false);
    expect(c.logins).toEqual([]);
  });

  it('a server that forces encryption answers REQ: tedious with encrypt off refuses before LOGIN7, with encrypt on it logs in', async () => {
    const forced = await startTdsSimulator({ encryption: 'on', logins: [{ name: 'app_user', password: 'App-Pass-01' }] });
    try {
      const r = await refusal(withPool(config(forced, 'app_user', 'App-Pass-01'), async () => undefined));
      expect(r.message).toMatch(/requires encryption/);
      expect(forced.connections[0]?.messages.some((m) => m.type === PacketType.LOGIN7)).toBe(false);
      expect(await withPool(config(forced, 'app_user', 'App-Pass-01', { encrypt: true, ca }), async () => true)).toBe(true);
    } finally {
      await forced.stop();
    }
  });

  it('a wrong password is 18456 "Login failed for user"; a disabled login 18470; a password to change 18488', async () => {
    // tedious turns a login's ERROR token into a ConnectionError (ELOGIN) carrying the server's text only.
    const refusedAs = async (user: string, password: string) => (await refusal(withPool(config(sim, user, password), async () => undefined))).message;
    expect(await refusedAs('app_user', 'wrong-Pass-1')).toBe("Login failed for user 'app_user'.");
    expect(await refusedAs('nobody', 'App-Pass-01')).toBe("Login failed for user 'nobody'.");
    expect(await refusedAs('disabled_user', 'Dis-Pass-01')).toBe("Login failed for user 'disabled_user'. Reason: The account is disabled.");
    expect(await refusedAs('disabled_user', 'wrong-Pass-1')).toBe("Login failed for user 'disabled_user'.");
    expect(await refusedAs('fresh_user', 'Fresh-Pass-01')).toBe("Login failed for user 'fresh_user'. Reason: The password of the account must be changed.");
  });

  it('ALTER LOGIN built with QUOTENAME inside sp_executesql from bound parameters changes the password: the new one logs in, the old one does not', async () => {
    await withPool(config(sim, ADMIN.name, ADMIN.password), async (pool) => {
      await pool.request().input('login', sql.NVarChar(128), 'app_user').input('password', sql.NVarChar(128), 'App-Pass-02').query(ALTER_BY_ADMIN);
    });
    const rpc = sim.connections.flatMap((c) => c.requests).findLast((r) => r.sql.includes('ALTER LOGIN'));
    expect(rpc).toMatchObject({ proc: 'sp_executesql', parameterNames: ['@statement', '@params', '@login', '@password'] });
    expect(rpc?.sql).not.toContain('App-Pass-02');
    expect(await loginsTo(sim, 'app_user', 'App-Pass-02')).toBe(true);
    expect(await loginsTo(sim, 'app_user', 'App-Pass-01')).toBe(false);
  });

  it('a login changes its own password with OLD_PASSWORD; a wrong old password and another login without ALTER ANY LOGIN are 15151', async () => {
    const self = `DECLARE @sql nvarchar(max) = N'ALTER LOGIN ' + QUOTENAME(SUSER_SNAME()) + N' WITH PASSWORD = ' + QUOTENAME(@new, '''') + N' OLD_PASSWORD = ' + QUOTENAME(@old, '''');
EXEC sp_executesql @sql;`;
    await withPool(config(sim, 'self_user', 'Self-Pass-01'), async (pool) => {
      const wrongOld = await refusal(pool.request().input('new', sql.NVarChar(128), 'Self-Pass-02').input('old', sql.NVarChar(128), 'not-Mine-1').query(self));
      expect(wrongOld.number).toBe(15151);
      const other = await refusal(pool.request().input('login', sql.NVarChar(128), 'gauntlet_user').input('password', sql.NVarChar(128), 'Other-Pass-9').query(ALTER_BY_ADMIN));
      expect(other).toMatchObject({ number: 15151, message: "Cannot alter the login 'gauntlet_user', because it does not exist or you do not have permission." });
      await pool.request().input('new', sql.NVarChar(128), 'Self-Pass-02').input('old', sql.NVarChar(128), 'Self-Pass-01').query(self);
    });
    expect(await loginsTo(sim, 'self_user', 'Self-Pass-02')).toBe(true);
    expect(sim.store.verify('gauntlet_user', 'Other-Pass-9')).toBe(false);
  });

  it('CHECK_POLICY refusals: 15118 not complex enough, 15116 too short, 15118 for a password holding the login name; CHECK_POLICY = OFF takes them', async () => {
    await withPool(config(sim, ADMIN.name, ADMIN.password), async (pool) => {
      const attempt = (password: string) => refusal(pool.request().input('login', sql.NVarChar(128), 'gauntlet_user').input('password', sql.NVarChar(128), password).query(ALTER_BY_ADMIN));
      expect(await attempt('alllowercase1')).toMatchObject({
        number: 15118,
        message: 'Password validation failed. The password does not meet the operating system policy requirements because it is not complex enough.',
      });
      expect((await attempt('Ab1!')).number).toBe(15116);
      expect((await attempt('x-Gauntlet_User-9')).number).toBe(15118);
      await pool.request().query("ALTER LOGIN [gauntlet_user] WITH PASSWORD = N'weak', CHECK_POLICY = OFF");
    });
    expect(await loginsTo(sim, 'gauntlet_user', 'weak')).toBe(true);
  });

  it("a password with quotes, brackets, N' and Unicode goes through bound parameters and logs in after", async () => {
    const password = "q'u\"o]t[e N'x' ]]'' Ünï€ode-Ω-密码-1";
    await withPool(config(sim, ADMIN.name, ADMIN.password), async (pool) => {
      await pool.request().input('login', sql.NVarChar(128), 'gauntlet_user').input('password', sql.NVarChar(128), password).query(ALTER_BY_ADMIN);
    });
    expect(await loginsTo(sim, 'gauntlet_user', password)).toBe(true);
  });

  it('a bracketed login name with ]] and a literal ALTER LOGIN in a batch are parsed as T-SQL, not matched as strings', async () => {
    sim.store.add({ name: 'odd]name', password: 'Odd-Pass-01' });
    await withPool(config(sim, ADMIN.name, ADMIN.password), async (pool) => {
      await pool.request().batch("alter   login [odd]]name]\n  with password = N'Odd''s-Pass-02' , check_policy = on;");
      const tooLong = await pool.request().input('login', sql.NVarChar(200), 'x'.repeat(129)).query<{ q: string | null }>('SELECT QUOTENAME(@login) AS q');
      expect(tooLong.recordset[0]?.q).toBeNull();
    });
    expect(sim.store.verify('odd]name', "Odd's-Pass-02")).toBe(true);
  });
});

// tsql comes from Debian's freetds-bin, which test/servers/setup.sh installs; without it there is no second client to run.
describe.skipIf(!existsSync(TSQL))('SQL Server simulator with FreeTDS tsql (second client; skipped when /usr/bin/tsql, from freetds-bin, is missing)', () => {
  let sim: TdsSimulator;
  let dir: string;
  let wrongCaFile: string;
  beforeAll(async () => {
    sim = await startTdsSimulator({ logins: [{ name: 'tsql_user', password: 'Tsql-Pass-01' }] });
    dir = mkdtempSync(join(tmpdir(), 'rpr-freetds-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'wrong-ca.pem', '-days', '2', '-subj', '/CN=another CA', '-addext', 'basicConstraints=critical,CA:TRUE'], { cwd: dir, stdio: 'ignore' });
    wrongCaFile = join(dir, 'wrong-ca.pem');
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** tsql with TDS 7.4, its configuration from a file of the test's own, the password on stdin. */
  function tsql(user: string, password: string, input: string, conf: string): Promise<{ code: number | null; out: string }> {
    const file = join(dir, 'freetds.conf');
    writeFileSync(file, conf);
    return new Promise((resolve) => {
      const child = spawn(TSQL, ['-H', sim.host, '-p', String(sim.port), '-U', user], { env: { ...process.env, TDSVER: '7.4', FREETDSCONF: file, TDSDUMP: '' } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
      child.stdin.end(`${password}\n${input}`);
    });
  }

  it('logs in and runs a batch with the password on stdin; FreeTDS by default encrypts LOGIN7 alone', async () => {
    const r = await tsql('tsql_user', 'Tsql-Pass-01', 'SELECT SUSER_SNAME() AS who, @@VERSION AS v\ngo\nexit\n', '[global]\n');
    expect(r.out).toContain('tsql_user');
    expect(r.out).toContain('Microsoft SQL Server 2022');
    const c = sim.connections.at(-1)!;
    expect(c.encryption).toBe('login-only');
    expect(c.logins).toMatchObject([{ userName: 'tsql_user', appName: 'TSQL', tls: true, accepted: true }]);
    expect(c.messages.find((m) => m.type === PacketType.SQL_BATCH)?.tls).toBe(false);
  });

  it('with encryption = require and the test CA the whole session is under verified TLS; with another CA no LOGIN7 is sent', async () => {
    const ok = await tsql('tsql_user', 'Tsql-Pass-01', 'SELECT SUSER_SNAME()\ngo\nexit\n', `[global]\n\tencryption = require\n\tca file = ${testCertificates().caFile}\n`);
    expect(ok.out).toContain('tsql_user');
    const c = sim.connections.at(-1)!;
    expect(c.encryption).toBe('full');
    expect(c.messages.filter((m) => m.type !== PacketType.PRELOGIN).every((m) => m.tls)).toBe(true);

    const before = sim.connections.length;
    const refused = await tsql('tsql_user', 'Tsql-Pass-01', 'SELECT 1\ngo\nexit\n', `[global]\n\tencryption = require\n\tca file = ${wrongCaFile}\n`);
    expect(refused.out).not.toContain('(1 row affected)');
    expect(sim.connections.slice(before).flatMap((x) => x.messages).some((m) => m.type === PacketType.LOGIN7)).toBe(false);
  });

  it('a wrong password is refused with 18456 as tsql reports it', async () => {
    const r = await tsql('tsql_user', 'wrong-Pass-1', 'SELECT 1\ngo\nexit\n', '[global]\n');
    expect(r.out).toMatch(/Msg 18456.*\n.*Login failed for user 'tsql_user'\./);
  });
});
