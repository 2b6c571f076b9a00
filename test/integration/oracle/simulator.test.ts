// The real node-oracledb 26 (Thin mode) against the Oracle protocol simulator
// (test/simulators/oracle): each test says what Oracle Database does and shows the simulator doing
// it to the driver, over TNS, O5LOGON with the 12c verifier, and OALL8.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import oracledbModule from 'oracledb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOracleSimulator, type OracleSimulator } from '../../simulators/oracle/server.js';

// Every printable ASCII character but the double quote, which no quoted identifier can hold.
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))
  .filter((c) => c !== '"')
  .join('');

// node-oracledb ships no types (layers/resources/oracle/oracledb.d.ts): what these tests call.
interface ThinConnection {
  readonly oracleServerVersionString: string;
  execute(sql: string): Promise<{ rowsAffected?: number }>;
  changePassword(user: string, oldPassword: string, newPassword: string): Promise<void>;
  close(): Promise<void>;
}
interface ConnectAttributes {
  user: string;
  password: string;
  connectString: string;
  newPassword?: string;
  connectTimeout?: number;
  transportConnectTimeout?: number;
}
const oracledb = oracledbModule as { getConnection(a: ConnectAttributes): Promise<ThinConnection> };

let sim: OracleSimulator;

beforeAll(async () => {
  sim = await startOracleSimulator({
    users: [
      { name: 'RPR_ADMIN', password: 'Adm1n-Pass-0', alterUser: true },
      { name: 'APP_USER', password: 'Old-App-Pass-1' },
      { name: 'SELF_USER', password: 'Self-Pass-1' },
      { name: 'LOCKED_USER', password: 'Locked-Pass-1', locked: true },
      { name: 'EXPIRED_USER', password: 'Expired-Pass-1', expired: true },
      { name: 'PLAIN_USER', password: 'Plain-Pass-1' },
      { name: 'POLICY_USER', password: 'Policy-Pass-1', profile: { verify: (p) => (p.length < 12 ? 'password shorter than 12 characters' : undefined), noReuse: true } },
      { name: 'WIRE_USER', password: 'Wire-Secret-Pass-9' },
      { name: 'GUESSED_USER', password: 'Guessed-Pass-1', profile: { failedLoginAttempts: 3 } },
    ],
  });
});

afterAll(async () => {
  await sim.close();
});

const login = (user: string, password: string, more: Partial<ConnectAttributes> = {}) => oracledb.getConnection({ user, password, connectString: sim.connectString, ...more });

async function refusal(work: Promise<unknown>): Promise<{ errorNum?: number; code?: string; message: string }> {
  try {
    await work;
  } catch (e) {
    return e as { errorNum?: number; code?: string; message: string };
  }
  throw new Error('expected the server to refuse');
}

async function logsIn(user: string, password: string): Promise<boolean> {
  try {
    await (await login(user, password)).close();
    return true;
  } catch (e) {
    if ((e as { errorNum?: number }).errorNum === 1017) return false;
    throw e;
  }
}

describe('Oracle protocol simulator with the real node-oracledb Thin driver', () => {
  it('accepts a login with the right password (O5LOGON, 12c verifier) and the driver checks the server knew the verifier', async () => {
    const c = await login('app_user', 'Old-App-Pass-1');
    // AUTH_SVR_RESPONSE decrypted with the combined key: the driver refuses the connection with NJS-173 when it is wrong.
    expect(c.oracleServerVersionString).toBe('19.3.0.0.0');
    await c.close();
    const record = sim.records.find((r) => r.user === 'APP_USER' && r.loggedIn);
    expect(record).toMatchObject({ service: 'ORCL', loggedIn: true, loggedOff: true });
  });

  it('refuses a wrong password and an unknown user alike with ORA-01017', async () => {
    expect(await refusal(login('app_user', 'not-the-password'))).toMatchObject({ errorNum: 1017, message: expect.stringMatching(/^ORA-01017: invalid username\/password; logon denied/) });
    expect(await refusal(login('nobody_here', 'whatever'))).toMatchObject({ errorNum: 1017 });
  });

  it('refuses a locked account with ORA-28000', async () => {
    expect(await refusal(login('locked_user', 'Locked-Pass-1'))).toMatchObject({ errorNum: 28000, message: expect.stringMatching(/^ORA-28000: the account is locked/) });
  });

  it('locks an account after FAILED_LOGIN_ATTEMPTS wrong passwords in a row; then even the right one gets ORA-28000', async () => {
    for (let i = 0; i < 2; i++) expect(await refusal(login('guessed_user', `wrong-${i}`))).toMatchObject({ errorNum: 1017 });
    expect(await logsIn('guessed_user', 'Guessed-Pass-1')).toBe(true);
    for (let i = 0; i < 3; i++) expect(await refusal(login('guessed_user', `wrong-${i}`))).toMatchObject({ errorNum: 1017 });
    expect(await refusal(login('guessed_user', 'Guessed-Pass-1'))).toMatchObject({ errorNum: 28000 });
  });

  it('refuses an expired password with ORA-28001, and a login that brings a new one changes it', async () => {
    expect(await refusal(login('expired_user', 'Expired-Pass-1'))).toMatchObject({ errorNum: 28001 });
    await (await login('expired_user', 'Expired-Pass-1', { newPassword: 'Expired-New-2' })).close();
    expect(await logsIn('expired_user', 'Expired-Pass-1')).toBe(false);
    expect(await logsIn('expired_user', 'Expired-New-2')).toBe(true);
  });

  it("changes a user's own password with the driver's changePassword: the old password no longer logs in, the new one does", async () => {
    const c = await login('self_user', 'Self-Pass-1');
    await c.changePassword('self_user', 'Self-Pass-1', 'Self-Pass-2');
    await c.close();
    expect(await logsIn('self_user', 'Self-Pass-1')).toBe(false);
    expect(await logsIn('self_user', 'Self-Pass-2')).toBe(true);
  });

  it('refuses a password change with a wrong old password with ORA-28008 and keeps the password', async () => {
    const c = await login('self_user', 'Self-Pass-2');
    try {
      expect(await refusal(c.changePassword('self_user', 'Wrong-Old-Pass', 'Self-Pass-3'))).toMatchObject({ errorNum: 28008 });
      expect(await refusal(c.execute('ALTER USER self_user IDENTIFIED BY "Self-Pass-3" REPLACE "Wrong-Old-Pass"'))).toMatchObject({ errorNum: 28008 });
    } finally {
      await c.close();
    }
    expect(await logsIn('self_user', 'Self-Pass-2')).toBe(true);
  });

  it('runs ALTER USER … IDENTIFIED BY for a user with the ALTER USER privilege; the new password logs in, the old one does not', async () => {
    const admin = await login('rpr_admin', 'Adm1n-Pass-0');
    try {
      const result = await admin.execute('ALTER USER "APP_USER" IDENTIFIED BY "New-App-Pass-2"');
      expect(result.rowsAffected).toBe(0);
    } finally {
      await admin.close();
    }
    expect(await logsIn('app_user', 'Old-App-Pass-1')).toBe(false);
    expect(await logsIn('app_user', 'New-App-Pass-2')).toBe(true);
  });

  it("refuses another user's ALTER USER without the privilege with ORA-01031, and names a missing user with ORA-01918", async () => {
    const plain = await login('plain_user', 'Plain-Pass-1');
    try {
      expect(await refusal(plain.execute('ALTER USER "APP_USER" IDENTIFIED BY "Stolen-Pass-1"'))).toMatchObject({ errorNum: 1031, message: expect.stringMatching(/^ORA-01031: insufficient privileges/) });
      expect(await refusal(plain.execute('ALTER USER "APP_USER" ACCOUNT LOCK'))).toMatchObject({ errorNum: 1031 });
    } finally {
      await plain.close();
    }
    expect(await logsIn('app_user', 'New-App-Pass-2')).toBe(true);
    const admin = await login('rpr_admin', 'Adm1n-Pass-0');
    try {
      expect(await refusal(admin.execute('ALTER USER "NO_SUCH_USER" IDENTIFIED BY "Any-Pass-1"'))).toMatchObject({ errorNum: 1918, message: expect.stringMatching(/^ORA-01918: user 'NO_SUCH_USER' does not exist/) });
      // Not ALTER USER's language: a trailing semicolon, an unknown statement.
      expect(await refusal(admin.execute('ALTER USER "APP_USER" IDENTIFIED BY "X-Pass-1";'))).toMatchObject({ errorNum: 922 });
      expect(await refusal(admin.execute('GRANT DBA TO APP_USER'))).toMatchObject({ errorNum: 900 });
    } finally {
      await admin.close();
    }
  });

  it("applies the profile: the verify function's refusal is ORA-28003, a password used before is ORA-28007", async () => {
    const c = await login('policy_user', 'Policy-Pass-1');
    try {
      expect(await refusal(c.changePassword('policy_user', 'Policy-Pass-1', 'short'))).toMatchObject({ errorNum: 28003 });
      expect(await refusal(c.changePassword('policy_user', 'Policy-Pass-1', 'Policy-Pass-1'))).toMatchObject({ errorNum: 28007 });
      // With a verify function a user's own ALTER USER must give the old password (REPLACE).
      expect(await refusal(c.execute('ALTER USER policy_user IDENTIFIED BY "Policy-Pass-Long-2"'))).toMatchObject({ errorNum: 28221 });
      await c.execute('ALTER USER policy_user IDENTIFIED BY "Policy-Pass-Long-2" REPLACE "Policy-Pass-1"');
    } finally {
      await c.close();
    }
    expect(await logsIn('policy_user', 'Policy-Pass-Long-2')).toBe(true);
  });

  it('takes a password holding every printable ASCII character but the double quote, by ALTER USER and by changePassword', async () => {
    const admin = await login('rpr_admin', 'Adm1n-Pass-0');
    try {
      await admin.execute(`ALTER USER "PLAIN_USER" IDENTIFIED BY "${PRINTABLE}"`);
    } finally {
      await admin.close();
    }
    expect(await logsIn('plain_user', PRINTABLE)).toBe(true);
    const c = await login('plain_user', PRINTABLE);
    await c.changePassword('plain_user', PRINTABLE, `${PRINTABLE}2`);
    await c.close();
    expect(await logsIn('plain_user', `${PRINTABLE}2`)).toBe(true);
    expect(await logsIn('plain_user', PRINTABLE)).toBe(false);
  });

  it('sees no password in clear: not in the bytes of a login or a driver password change, not in the recorded statements', async () => {
    const before = sim.records.length;
    const c = await login('wire_user', 'Wire-Secret-Pass-9');
    await c.changePassword('wire_user', 'Wire-Secret-Pass-9', 'Wire-Secret-Next-8');
    await c.close();
    const admin = await login('rpr_admin', 'Adm1n-Pass-0');
    await admin.execute('ALTER USER "WIRE_USER" IDENTIFIED BY "Wire-Secret-Last-7"');
    await admin.close();
    const mine = sim.records.slice(before);
    const wire = Buffer.concat(mine[0]!.received);
    expect(wire.includes('WIRE_USER', 0, 'utf8') || wire.includes('wire_user', 0, 'utf8')).toBe(true);
    for (const secret of ['Wire-Secret-Pass-9', 'Wire-Secret-Next-8']) expect(wire.includes(secret, 0, 'utf8')).toBe(false);
    expect(mine[0]!.passwordChanges).toEqual([{ user: 'WIRE_USER' }]);
    // ALTER USER carries the new password in its SQL text (TCPS protects it on a real network); the record keeps none.
    expect(JSON.stringify(mine.map((r) => ({ ...r, received: undefined })))).not.toMatch(/Wire-Secret/);
    expect(mine[1]!.statements).toEqual([{ sql: 'ALTER USER "WIRE_USER" IDENTIFIED BY ***' }]);
  });

  it("refuses a service the listener does not know, as the listener does (TNS-12514, the driver's NJS-518)", async () => {
    const port = sim.port;
    const e = await refusal(oracledb.getConnection({ user: 'app_user', password: 'New-App-Pass-2', connectString: `127.0.0.1:${port}/NOSUCH` }));
    expect(e.code).toBe('NJS-518');
  });

  it('runs a cached statement again by its cursor (the driver re-executes rather than parses a second time)', async () => {
    const c = await login('rpr_admin', 'Adm1n-Pass-0');
    try {
      await c.execute('COMMIT');
      await c.execute('COMMIT');
    } finally {
      await c.close();
    }
    expect(sim.records.at(-1)!.statements).toEqual([{ sql: 'COMMIT' }, { sql: 'COMMIT' }]);
  });

  it('reads a connect descriptor too long for the CONNECT packet from the DATA packet that follows it', async () => {
    const service = `pdb1.${'x'.repeat(200)}.example.com`;
    const long = await startOracleSimulator({ users: [{ name: 'APP_USER', password: 'Long-Pass-1' }], serviceName: service });
    try {
      const c = await oracledb.getConnection({ user: 'app_user', password: 'Long-Pass-1', connectString: `127.0.0.1:${long.port}/${service}` });
      await c.close();
      expect(long.records[0]).toMatchObject({ service, loggedIn: true });
    } finally {
      await long.close();
    }
  });

  it('takes a full connect descriptor as the adapter writes it', async () => {
    const descriptor = `(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT=${sim.port}))(CONNECT_DATA=(SERVICE_NAME=ORCL)))`;
    const c = await oracledb.getConnection({ user: 'rpr_admin', password: 'Adm1n-Pass-0', connectString: descriptor, connectTimeout: 5, transportConnectTimeout: 5 });
    await c.close();
  });
});

// python-oracledb's Thin mode is a second, separate implementation of the same protocol (Cython, not
// a port of node-oracledb's JavaScript). `test/servers/setup.sh install` puts it in
// /opt/rpr-test-oracledb; RPR_ORACLEDB_PYTHON names another Python that can `import oracledb`.
// Without either the test is skipped, except under CI, where a missing second client fails.
const INSTALLED = '/opt/rpr-test-oracledb/bin/python';
const PYTHON = process.env.RPR_ORACLEDB_PYTHON ?? (existsSync(INSTALLED) || process.env.CI === 'true' ? INSTALLED : undefined);

const PY_SCRIPT = String.raw`
import json, sys, oracledb
dsn = sys.argv[1]
out = {}
def refusal(f):
    try:
        f()
    except oracledb.DatabaseError as e:
        return e.args[0].code
    return None
c = oracledb.connect(user='py_user', password='Py-Pass-1', dsn=dsn)
out['version'] = c.version
c.changepassword('Py-Pass-1', 'Py-Pass-2')
out['ownAlterWithoutPrivilege'] = refusal(lambda: c.cursor().execute('ALTER USER "RPR_ADMIN" IDENTIFIED BY "Py-Stolen-1"'))
c.close()
out['wrongPassword'] = refusal(lambda: oracledb.connect(user='py_user', password='Py-Pass-1', dsn=dsn))
oracledb.connect(user='py_user', password='Py-Pass-2', dsn=dsn).close()
a = oracledb.connect(user='py_admin', password='Py-Admin-1', dsn=dsn)
a.cursor().execute('ALTER USER "PY_USER" IDENTIFIED BY "Py-Pass-3"')
a.close()
oracledb.connect(user='py_user', password='Py-Pass-3', dsn=dsn).close()
print(json.dumps(out))
`;

describe.skipIf(!PYTHON)('Oracle protocol simulator with python-oracledb Thin mode (second client, installed by test/servers/setup.sh)', () => {
  let py: OracleSimulator;

  beforeAll(async () => {
    py = await startOracleSimulator({
      users: [
        { name: 'PY_ADMIN', password: 'Py-Admin-1', alterUser: true },
        { name: 'PY_USER', password: 'Py-Pass-1' },
        { name: 'RPR_ADMIN', password: 'Py-Other-1' },
      ],
    });
  });

  afterAll(async () => {
    await py.close();
  });

  it('logs in, changes its own password, is refused ORA-01017 with the old one and ORA-01031 for another user, and an admin ALTER USER takes effect', async () => {
    const { stdout } = await promisify(execFile)(PYTHON!, ['-c', PY_SCRIPT, py.connectString], { encoding: 'utf8', timeout: 15_000 });
    expect(JSON.parse(stdout)).toEqual({ version: '19.3.0.0.0', ownAlterWithoutPrivilege: 1031, wrongPassword: 1017 });
    expect(py.users.passwordIs('PY_USER', 'Py-Pass-3')).toBe(true);
    expect(py.users.passwordIs('RPR_ADMIN', 'Py-Other-1')).toBe(true);
    const wire = Buffer.concat(py.records[0]!.received);
    for (const secret of ['Py-Pass-1', 'Py-Pass-2']) expect(wire.includes(secret, 0, 'utf8')).toBe(false);
    expect(py.records.map((r) => [r.user, r.loggedIn, r.refused])).toEqual([
      ['PY_USER', true, undefined],
      ['PY_USER', false, 1017],
      ['PY_USER', true, undefined],
      ['PY_ADMIN', true, undefined],
      ['PY_USER', true, undefined],
    ]);
  });
});
