// The SAP ASE simulator (test/simulators/tds5) proven against FreeTDS's tsql speaking TDS 5.0, and,
// for what tsql cannot show, against a raw client written from the TDS 5.0 Functional Specification
// (raw-tds5.ts). Each test states what a real ASE does and checks the simulator does it.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAseSimulator, type AseSimulator } from '../../simulators/tds5/server.js';
import { TSQL, tsqlTds5 } from '../../support/freetds-tsql.js';
import { BE, dbrpc, language, LE, loginRecord, packetsOf, Raw } from './raw-tds5.js';

const SSO = { name: 'rpr_sso', password: 'Sso-Pass-01', roles: ['sso_role', 'sa_role'] as const };
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

// ---- tsql ----

describe.skipIf(!existsSync(TSQL))('SAP ASE simulator (TDS 5.0) with FreeTDS tsql (skipped when /usr/bin/tsql, from freetds-bin, is missing)', () => {
  let sim: AseSimulator;

  beforeAll(async () => {
    sim = await startAseSimulator({
      logins: [
        SSO,
        { name: 'app_user', password: 'App-Pass-01' },
        { name: 'self_user', password: 'Self-Pass-01' },
        { name: 'victim', password: 'Victim-Pass-01' },
        { name: 'locked_user', password: 'Locked-Pass-01', locked: true },
        { name: 'expired_user', password: 'Expired-Pass-01', passwordExpired: true },
        { name: 'ascii_user', password: 'Ascii-Pass-01' },
        { name: 'uni_user', password: 'Uni-Pass-01' },
        { name: "o'brien", password: 'Obrien-Pass-01' },
        { name: 'o', password: 'Just-O-Pass-01' },
        { name: 'long_user', password: 'Long-Pass-01' },
      ],
    });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  /** tsql with TDS 5.0, the password on stdin; each batch ends with `go`. */
  const tsql = (user: string, password: string, ...batches: string[]) => tsqlTds5(sim, user, password, ...batches);
  const logsIn = async (user: string, password: string): Promise<boolean> => (await tsql(user, password, 'select suser_name()')).out.includes('(1 row affected)');
  const q = (s: string): string => `'${s.replaceAll("'", "''")}'`;

  it('accepts a login and answers select @@version, suser_name() as ASE 16 would; tsql logs in with TDS 5.0 in the little-endian order of its host', async () => {
    const r = await tsql('app_user', 'App-Pass-01', 'select @@version, suser_name(), @@servername');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Adaptive Server Enterprise/16.0');
    expect(r.out).toMatch(/\tapp_user\tSIMULATOR/);
    const c = sim.connections.at(-1)!;
    expect(c.logins).toMatchObject([{ userName: 'app_user', appName: 'TSQL', accepted: true, byteOrder: 'little-endian', tls: false }]);
    expect(c.messages.map((m) => m.type)).toEqual([0x02, 0x0f, 0x0f, 0x0f]); // login, FreeTDS's "select @@spid", ours, logout
    expect(c.requests.at(-1)).toMatchObject({ kind: 'logout' });
  });

  it('refuses a wrong password, an unknown login and a locked login alike with 4002 "Login failed." (severity 14); tsql exits 1', async () => {
    for (const [user, pw] of [['app_user', 'Wrong-Pass-01'], ['nobody', 'App-Pass-01'], ['locked_user', 'Locked-Pass-01']] as const) {
      const r = await tsql(user, pw, 'select 1');
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/Msg 4002 \(severity 14, state 1\) from SIMULATOR[^\n]*\n\s*"Login failed\."/);
      expect(sim.connections.at(-1)!.logins).toMatchObject([{ userName: user, accepted: false }]);
    }
  });

  it('proc_role is 1 for a role the login has and 0 otherwise; show_role lists them; suser_id of an unknown login is NULL', async () => {
    const admin = await tsql(SSO.name, SSO.password, "select proc_role('sso_role'), proc_role('sa_role'), show_role(), suser_id(), suser_id('nobody')");
    expect(admin.out).toMatch(/\n1\t1\tsso_role sa_role\t1\tNULL\n/);
    const user = await tsql('app_user', 'App-Pass-01', "select proc_role('sso_role'), show_role(), suser_id('app_user')");
    expect(user.out).toMatch(/\n0\tNULL\t2\n/);
  });

  it('sp_password changes one\'s own password given the current one: "Password correctly set.", return status 0; the old password then fails and the new logs in', async () => {
    const r = await tsql('self_user', 'Self-Pass-01', "exec sp_password 'Self-Pass-01', 'Self-Pass-02'");
    expect(r.out).toContain('Password correctly set.');
    expect(r.out).toContain('(return status = 0)');
    expect(await logsIn('self_user', 'Self-Pass-01')).toBe(false);
    expect(await logsIn('self_user', 'Self-Pass-02')).toBe(true);
    // The batch's text held passwords: the record keeps the statement, not the text.
    const req = sim.connections.flatMap((c) => c.requests).find((x) => x.statements.includes('sp_password'))!;
    expect(req.text).toBe('[withheld: mentions a password]');
  });

  it('refuses as sp_password does: a wrong caller password (10315, 17720), another login without sso_role (10353), a password under 6 bytes (10317), the current password again (10315, 17720), an unknown login (17231); each returns status 1', async () => {
    const r = await tsql(
      'app_user',
      'App-Pass-01',
      "exec sp_password 'Not-My-Pass', 'App-Pass-99'",
      "exec sp_password 'App-Pass-01', 'App-Pass-99', victim",
      "exec sp_password 'App-Pass-01', 'short'",
      "exec sp_password 'App-Pass-01', 'App-Pass-01'",
    );
    expect(r.out).toMatch(/Msg 10315 \(severity 14[^\n]*Procedure sp_password[^\n]*\n\s*"Invalid caller's password specified, password left unchanged\."/);
    expect(r.out).toMatch(/Msg 17720 \(severity 16[^\n]*\n\s*"Error: Unable to set the Password\."/);
    expect(r.out).toMatch(/Msg 10353 \(severity 14[^\n]*\n\s*"You must have any of the following role\(s\) to execute this command\/procedure: 'sso_role'/);
    expect(r.out).toMatch(/Msg 10317 /);
    expect(r.out.match(/Msg 10315 /g)).toHaveLength(2);
    expect(r.out.match(/\(return status = 1\)/g)).toHaveLength(4);
    const sso = await tsql(SSO.name, SSO.password, "exec sp_password 'Sso-Pass-01', 'Whatever-01', nobody");
    expect(sso.out).toMatch(/Msg 17231 \(severity 16[^\n]*\n\s*"No login with the specified name exists\."/);
    expect(sim.store.passwordOf('app_user')).toBe('App-Pass-01');
    expect(sim.store.passwordOf('victim')).toBe('Victim-Pass-01');
  });

  it("an sso_role admin changes another login's password with the admin's own password, by sp_password and by alter login … with password … modify password", async () => {
    const r = await tsql(SSO.name, SSO.password, "exec sp_password @caller_passwd = 'Sso-Pass-01', @new_passwd = 'Victim-Pass-02', @loginame = 'victim'");
    expect(r.out).toContain('Password correctly set.');
    expect(await logsIn('victim', 'Victim-Pass-01')).toBe(false);
    expect(await logsIn('victim', 'Victim-Pass-02')).toBe(true);
    const a = await tsql(SSO.name, SSO.password, "alter login victim with password 'Sso-Pass-01' modify password immediately 'Victim-Pass-03'");
    expect(a.out).not.toMatch(/Msg \d+ \(severity 1[1-9]/);
    expect(await logsIn('victim', 'Victim-Pass-03')).toBe(true);
  });

  it('every printable ASCII character, quoted by doubling, goes through sp_password and logs in (in pieces of at most 30 bytes, the lpw field)', async () => {
    let current = 'Ascii-Pass-01';
    for (let at = 0; at < PRINTABLE.length; at += 24) {
      const next = `Aa1${PRINTABLE.slice(at, at + 24)}`;
      const r = await tsql('ascii_user', current, `exec sp_password ${q(current)}, ${q(next)}`);
      expect(r.out).toContain('(return status = 0)');
      expect(sim.store.passwordOf('ascii_user')).toBe(next);
      expect(await logsIn('ascii_user', next)).toBe(true);
      current = next;
    }
  });

  it('a password longer than 30 bytes counts by its first 30, as ASE documents: set by sp_password, it logs in whole (FreeTDS sends lpw, 30 bytes) or cut', async () => {
    const long = 'Long-Pass-0123456789-abcdefghij-KLMNOPQRST';
    const r = await tsql('long_user', 'Long-Pass-01', `exec sp_password 'Long-Pass-01', ${q(long)}`);
    expect(r.out).toContain('(return status = 0)');
    expect(sim.store.passwordOf('long_user')).toBe(long.slice(0, 30));
    expect(await logsIn('long_user', long)).toBe(true);
    expect(await logsIn('long_user', long.slice(0, 30))).toBe(true);
    expect(await logsIn('long_user', long.slice(0, 29))).toBe(false);
  });

  it('a Unicode password (UTF-8 on both sides) is changed and logs in', async () => {
    const next = 'Pässwörd-日本-🔑';
    const r = await tsql('uni_user', 'Uni-Pass-01', `exec sp_password 'Uni-Pass-01', ${q(next)}`);
    expect(r.out).toContain('(return status = 0)');
    expect(sim.store.passwordOf('uni_user')).toBe(next);
    expect(await logsIn('uni_user', next)).toBe(true);
  });

  it("a login name with a quote, quoted by doubling, names that login and no other; left unquoted it is a syntax error and nothing changes", async () => {
    const bad = await tsql(SSO.name, SSO.password, "exec sp_password 'Sso-Pass-01', 'Injected-01', 'o'brien'");
    expect(bad.out).toMatch(/Msg 10[25] \(severity 15/);
    expect(sim.store.passwordOf('o')).toBe('Just-O-Pass-01');
    expect(sim.store.passwordOf("o'brien")).toBe('Obrien-Pass-01');
    const good = await tsql(SSO.name, SSO.password, `exec sp_password 'Sso-Pass-01', 'Obrien-Pass-02', ${q("o'brien")}`);
    expect(good.out).toContain('Password correctly set.');
    expect(sim.store.passwordOf("o'brien")).toBe('Obrien-Pass-02');
    expect(sim.store.passwordOf('o')).toBe('Just-O-Pass-01');
    expect(await logsIn("o'brien", 'Obrien-Pass-02')).toBe(true);
  });

  it('an expired password logs in with message 4022 and runs nothing but a password change (4023); the change lifts that', async () => {
    const r = await tsql('expired_user', 'Expired-Pass-01', 'select 1', "exec sp_password 'Expired-Pass-01', 'Expired-Pass-02'", 'select suser_name()');
    expect(r.out).toMatch(/Msg 4022 /);
    expect(r.out).toMatch(/Msg 4023 /);
    expect(r.out).toContain('Password correctly set.');
    expect(r.out).toMatch(/\nexpired_user\n/);
  });

  it(`with quoted_identifier off (ASE's default) "…" is a string with "" for a quote, as '…' is with ''; once it is on, "…" names a column (207)`, async () => {
    const r = await tsql('app_user', 'App-Pass-01', `select "say ""hi""", 'it''s'`, 'set quoted_identifier on', 'select "say"');
    expect(r.out).toContain(`say "hi"\tit's`);
    expect(r.out).toMatch(/Msg 207 \(severity 16[^\n]*\n\s*"Invalid column name 'say'\."/);
  });

  it('an unknown procedure is 2812 and other statements 102, as ASE words them', async () => {
    const r = await tsql('app_user', 'App-Pass-01', 'exec sp_nothere', 'select , 1');
    expect(r.out).toMatch(/Msg 2812 \(severity 16[^\n]*\n\s*"Stored procedure 'sp_nothere' not found\./);
    expect(r.out).toMatch(/Msg 102 \(severity 15[^\n]*\n\s*"Incorrect syntax near ','\."/);
  });
});

// ---- raw TDS 5.0 ----

describe('SAP ASE simulator (TDS 5.0) with a raw client written from the specification', () => {
  let sim: AseSimulator;
  let tlsSim: AseSimulator;
  beforeAll(async () => {
    const logins = [SSO, { name: 'raw_user', password: 'Raw-Pass-01' }, { name: 'rpc_user', password: 'Rpc-Pass-01' }, { name: 'drop_user', password: 'Drop-Pass-01' }];
    sim = await startAseSimulator({ logins, minPasswordLength: 8 });
    tlsSim = await startAseSimulator({ logins, ssl: true });
  });
  afterAll(async () => {
    await sim?.stop();
    await tlsSim?.stop();
  });

  it('reassembles a login and a request sent in many small packets, one byte per write, and answers in TDS_BUF_RESPONSE packets of the negotiated size', async () => {
    const raw = await Raw.open(sim, LE);
    const login = (await raw.send(packetsOf(0x02, loginRecord(LE, 'raw_user', 'Raw-Pass-01', 512), 100), true))!;
    expect(login.loginAck).toBe(5);
    // As SAP's go-ase driver expects of ASE: LOGINACK first, DONE(FINAL) with TDS_TRAN_COMPLETED last.
    expect(login.done).toEqual([{ token: 0xfd, status: 0, tranState: 2, count: 0 }]);
    expect(sim.connections.at(-1)!.messages[0]).toMatchObject({ type: 0x02, packets: 7 });
    expect(sim.connections.at(-1)!.logins[0]).toMatchObject({ hostName: 'testhost', appName: 'rawclient', programName: 'rawlib', packetSize: 512 });
    const long = 'x'.repeat(1500);
    const a = (await raw.send(packetsOf(0x0f, language(LE, `select '${long}', 7`), 64), true))!;
    expect(a.rows).toEqual([[long, 7]]);
    expect(a.packets.length).toBeGreaterThan(3);
    expect(a.packets.every((p) => p.type === 0x04 && p.length <= 512)).toBe(true);
    expect(a.packets.map((p) => p.last)).toEqual([...a.packets.slice(1).map(() => false), true]);
    expect(a.done).toMatchObject([{ token: 0xfd, status: 0x10, count: 1 }]);
    raw.close();
  });

  it('answers a big-endian client (lint2 TDS_INT2_LSB_HI, lint4 TDS_INT4_LSB_HI) with big-endian integers throughout', async () => {
    const raw = await Raw.open(sim, BE);
    const login = await raw.login('raw_user', 'Raw-Pass-01');
    expect(login.loginAck).toBe(5);
    expect(login.messages.map((m) => m.number)).toContain(5701);
    const a = (await raw.send(packetsOf(0x0f, language(BE, 'select 258, -2, suser_id()'), 512)))!;
    expect(a.rows).toEqual([[258, -2, 2]]);
    expect(a.done).toMatchObject([{ token: 0xfd, status: 0x10, count: 1 }]);
    expect(sim.connections.at(-1)!.logins[0]!.byteOrder).toBe('big-endian');
    const wrong = await (await Raw.open(sim, BE)).login('raw_user', 'nope-nope');
    expect(wrong.loginAck).toBe(6);
    expect(wrong.messages).toEqual([{ number: 4002, severity: 14, text: 'Login failed.' }]);
    expect(wrong.done).toMatchObject([{ token: 0xfd, status: 0x02, count: 0 }]);
    raw.close();
  });

  it('runs sp_password sent as TDS_DBRPC with named PARAMFMT/PARAMS parameters, and as positional ones; records parameter names, never values', async () => {
    const raw = await Raw.open(sim, LE);
    await raw.login('rpc_user', 'Rpc-Pass-01');
    const a = (await raw.send(packetsOf(0x0f, dbrpc(LE, 'sp_password', [{ name: '@caller_passwd', value: 'Rpc-Pass-01' }, { name: '@new_passwd', value: 'Rpc-Pass-02' }]), 512)))!;
    expect(a.messages.map((m) => m.text)).toEqual(['Password correctly set.']);
    expect(a.returnStatus).toBe(0);
    expect(a.done).toMatchObject([{ token: 0xfe, status: 0, count: 0 }]);
    const short = (await raw.send(packetsOf(0x0f, dbrpc(LE, 'sp_password', [{ name: '', value: 'Rpc-Pass-02' }, { name: '', value: 'Short-7' }]), 512)))!;
    expect(short.messages.map((m) => m.number)).toEqual([10317, 17720]);
    expect(short.returnStatus).toBe(1);
    expect(short.done[0]).toMatchObject({ token: 0xfe, status: 0x02 });
    expect(sim.store.passwordOf('rpc_user')).toBe('Rpc-Pass-02');
    const c = sim.connections.at(-1)!;
    expect(c.requests[0]).toMatchObject({ kind: 'rpc', proc: 'sp_password', parameterNames: ['@caller_passwd', '@new_passwd'] });
    expect(JSON.stringify(c)).not.toMatch(/Rpc-Pass|Short-7/);
    raw.close();
  });

  it('binds a LANGUAGE request\'s PARAMFMT/PARAMS parameters by name, and takes DBRPC2 with PARAMFMT2 in a big-endian session', async () => {
    const raw = await Raw.open(sim, LE);
    await raw.login('rpc_user', 'Rpc-Pass-02');
    const a = (await raw.send(packetsOf(0x0f, language(LE, 'exec sp_password @old, @new', [{ name: '@old', value: 'Rpc-Pass-02' }, { name: '@new', value: 'Rpc-Pass-03' }]), 512)))!;
    expect(a.messages.map((m) => m.text)).toEqual(['Password correctly set.']);
    expect(a.returnStatus).toBe(0);
    expect(sim.connections.at(-1)!.requests[0]).toMatchObject({ kind: 'language', parameterNames: ['@old', '@new'], text: '[withheld: mentions a password]' });
    raw.close();
    const be = await Raw.open(sim, BE);
    await be.login('rpc_user', 'Rpc-Pass-03');
    const b = (await be.send(packetsOf(0x0f, dbrpc(BE, 'sp_password', [{ name: '@caller_passwd', value: 'Rpc-Pass-03' }, { name: '@new_passwd', value: 'Rpc-Pass-04' }], true), 512)))!;
    expect(b.returnStatus).toBe(0);
    expect(sim.store.passwordOf('rpc_user')).toBe('Rpc-Pass-04');
    be.close();
  });

  it('dropNext closes the connection without an answer before applying a change (password unchanged) or after applying it (password changed)', async () => {
    const change = (from: string, to: string): Buffer => packetsOf(0x0f, language(LE, `exec sp_password '${from}', '${to}'`), 512);
    sim.dropNext('sp_password', 'before');
    const r1 = await Raw.open(sim, LE);
    await r1.login('drop_user', 'Drop-Pass-01');
    expect(await r1.send(change('Drop-Pass-01', 'Drop-Pass-02'))).toBeUndefined();
    expect(sim.store.passwordOf('drop_user')).toBe('Drop-Pass-01');
    expect(sim.connections.at(-1)!.dropped).toBe('before');

    sim.dropNext('sp_password', 'after');
    const r2 = await Raw.open(sim, LE);
    await r2.login('drop_user', 'Drop-Pass-01');
    expect(await r2.send(change('Drop-Pass-01', 'Drop-Pass-03'))).toBeUndefined();
    expect(sim.store.passwordOf('drop_user')).toBe('Drop-Pass-03');
    expect(sim.connections.at(-1)!.dropped).toBe('after');
    // The same hooks for sp_password as a DBRPC, and for alter login (by its keyword).
    sim.dropNext('sp_password', 'before');
    const r3 = await Raw.open(sim, LE);
    await r3.login('drop_user', 'Drop-Pass-03');
    expect(await r3.send(packetsOf(0x0f, dbrpc(LE, 'sp_password', [{ name: '@caller_passwd', value: 'Drop-Pass-03' }, { name: '@new_passwd', value: 'Drop-Pass-04' }]), 512))).toBeUndefined();
    expect(sim.store.passwordOf('drop_user')).toBe('Drop-Pass-03');
    sim.dropNext('alter login', 'after');
    const r4 = await Raw.open(sim, LE);
    await r4.login('drop_user', 'Drop-Pass-03');
    expect(await r4.send(packetsOf(0x0f, language(LE, "alter login drop_user with password 'Drop-Pass-03' modify password 'Drop-Pass-05'"), 512))).toBeUndefined();
    expect(sim.store.passwordOf('drop_user')).toBe('Drop-Pass-05');
    expect(sim.connections.at(-1)!.dropped).toBe('after');
  });

  it('answers an attention with DONE carrying TDS_DONE_ATTN, and TDS_LOGOUT with DONE before closing', async () => {
    const raw = await Raw.open(sim, LE);
    await raw.login('raw_user', 'Raw-Pass-01');
    // An attention is a header alone: type TDS_BUF_ATTN, last packet, length 8.
    const attn = (await raw.send(Buffer.from([0x06, 0x01, 0x00, 0x08, 0, 0, 1, 0])))!;
    expect(attn.done).toMatchObject([{ token: 0xfd, status: 0x20, count: 0 }]);
    const bye = (await raw.send(packetsOf(0x0f, Buffer.from([0x71, 0]), 512)))!;
    expect(bye.done).toMatchObject([{ token: 0xfd, status: 0, count: 0 }]);
    await new Promise((ok) => setTimeout(ok, 50));
    expect(raw.closed).toBe(true);
  });

  // FreeTDS 1.3's tsql has no TLS for TDS 5.0 (its `encryption = require` asks for ASE's encrypted
  // password instead, `strict` is TDS 8 only), so TLS is shown with node:tls and the raw login.
  it('with ssl, speaks TLS from the first byte with the test CA\'s certificate and records the login as under TLS', async () => {
    const raw = await Raw.open(tlsSim, LE, true);
    const login = await raw.login('raw_user', 'Raw-Pass-01');
    expect(login.loginAck).toBe(5);
    const a = (await raw.send(packetsOf(0x0f, language(LE, 'select suser_name()'), 512)))!;
    expect(a.rows).toEqual([['raw_user']]);
    expect(tlsSim.connections.at(-1)!.logins).toMatchObject([{ userName: 'raw_user', tls: true, accepted: true }]);
    raw.close();
  });
});
