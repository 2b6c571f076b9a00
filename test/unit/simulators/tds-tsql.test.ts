// The SQL Server simulator's T-SQL evaluator checked against what Microsoft documents SQL Server does,
// so the adapter's tests stand on SQL Server's behaviour and not on the simulator's own idea of it.
import { describe, expect, it } from 'vitest';
import { deobfuscate, Encrypt, negotiate } from '../../simulators/tds/login7.js';
import { LoginStore, policyRefusal } from '../../simulators/tds/logins.js';
import { quotename } from '../../simulators/tds/tsql-values.js';
import { execProc, runBatch, type Session } from '../../simulators/tds/tsql.js';

function session(alterAnyLogin = true): Session {
  const store = new LoginStore([
    { name: 'admin', password: 'Adm1n-Pass!', alterAnyLogin },
    { name: 'target', password: 'Target-Pass-1' },
  ]);
  return { login: store.get('admin')!, store, database: 'master', databases: ['master'], serverName: 'SIM', version: 'Microsoft SQL Server 2022', spid: 51 };
}

const selected = (s: Session, sql: string) => runBatch(sql, s).find((o) => o.result)?.result?.rows[0];
const errors = (s: Session, sql: string) => runBatch(sql, s).flatMap((o) => o.messages.filter((m) => m.class > 10).map((m) => m.number));

describe('T-SQL as SQL Server evaluates it', () => {
  it('QUOTENAME doubles the closing delimiter, takes the documented quote characters and is NULL past 128 characters', () => {
    expect(quotename('a]b')).toBe('[a]]b]');
    expect(quotename("it's", "'")).toBe("'it''s'");
    expect(quotename('a)b', '(')).toBe('(a))b)');
    expect(quotename('x', '!')).toBeNull();
    expect(quotename('x'.repeat(128))).toHaveLength(130);
    expect(quotename('x'.repeat(129))).toBeNull();
  });

  it('nvarchar without a length is nvarchar(1), declared lengths truncate, varchar loses what code page 1252 cannot hold, NULL + text is NULL', () => {
    const s = session();
    expect(selected(s, "DECLARE @a nvarchar = N'abc', @b nvarchar(2) = N'xyz'; SELECT @a, @b")).toEqual(['a', 'xy']);
    expect(selected(s, "DECLARE @v varchar(20) = N'Ünï€-Ω-密'; SELECT @v")).toEqual(['Ünï€-?-?']);
    expect(selected(s, "DECLARE @n nvarchar(10); SELECT N'a' + @n")).toEqual([null]);
  });

  it('a syntax error or an undeclared variable stops the whole batch before it runs; a run-time error only its statement', () => {
    const s = session();
    expect(errors(s, "ALTER LOGIN target WITH PASSWORD = N'Tgt-Pass-22'; SELECT 1 +")).toEqual([102]);
    expect(s.store.verify('target', 'Target-Pass-1')).toBe(true);
    expect(errors(s, 'SELECT @nowhere')).toEqual([137]);
    const out = runBatch("ALTER LOGIN nobody WITH PASSWORD = N'Xx-Pass-12'; ALTER LOGIN target WITH PASSWORD = N'Tgt-Pass-22'", s);
    expect(out.map((o) => o.error)).toEqual([true, false]);
    expect(s.store.verify('target', 'Tgt-Pass-22')).toBe(true);
  });

  it('ALTER LOGIN takes only a literal password (a variable is a syntax error), so parameters reach it through dynamic SQL', () => {
    const s = session();
    expect(errors(s, "DECLARE @p nvarchar(128) = N'Target-Pass-3'; ALTER LOGIN target WITH PASSWORD = @p")).toEqual([102]);
    const stmt = { type: { kind: 'nvarchar', length: 'max' }, value: "EXEC (N'ALTER LOGIN ' + QUOTENAME(@l) + N' WITH PASSWORD = ' + QUOTENAME(@p, ''''))" } as const;
    const params = { type: { kind: 'nvarchar', length: 'max' }, value: '@l sysname, @p nvarchar(128)' } as const;
    const v = (value: string) => ({ type: { kind: 'nvarchar', length: 128 }, value }) as const;
    execProc('sp_executesql', [{ value: stmt }, { value: params }, { name: '@l', value: v('target') }, { name: '@p', value: v("N'x']]'--Pass-3") }], s);
    expect(s.store.verify('target', "N'x']]'--Pass-3")).toBe(true);
  });

  it('sp_executesql wants nvarchar for its statement (214) and every declared parameter (8178)', () => {
    const s = session();
    expect(() => execProc('sp_executesql', [{ value: { type: { kind: 'varchar', length: 8 }, value: 'SELECT 1' } }], s)).toThrow(/ntext\/nchar\/nvarchar/);
    expect(() => execProc('sp_executesql', [{ value: { type: { kind: 'nvarchar', length: 9 }, value: 'SELECT @a' } }, { value: { type: { kind: 'nvarchar', length: 6 }, value: '@a int' } }], s)).toThrow(/expects the parameter '@a'/);
  });

  it('without ALTER ANY LOGIN a login changes only its own password and only with OLD_PASSWORD (15151 otherwise)', () => {
    const s = session(false);
    expect(errors(s, "ALTER LOGIN target WITH PASSWORD = N'Target-Pass-4'")).toEqual([15151]);
    expect(errors(s, "ALTER LOGIN admin WITH PASSWORD = N'Adm1n-Pass-2'")).toEqual([15151]);
    expect(errors(s, "ALTER LOGIN admin WITH PASSWORD = N'Adm1n-Pass-2' OLD_PASSWORD = N'wrong'")).toEqual([15151]);
    expect(errors(s, "ALTER LOGIN admin WITH PASSWORD = N'Adm1n-Pass-2' OLD_PASSWORD = N'Adm1n-Pass!'")).toEqual([]);
    expect(s.store.verify('admin', 'Adm1n-Pass-2')).toBe(true);
  });
});

describe('the password policy of CHECK_POLICY = ON', () => {
  it('wants 8 to 128 characters, 3 of the 4 classes and not the login name', () => {
    expect(policyRefusal('bob', 'Ab1!xyz')?.number).toBe(15116);
    expect(policyRefusal('bob', `Ab1!${'x'.repeat(125)}`)?.number).toBe(15117);
    expect(policyRefusal('bob', 'abcdefg1')?.number).toBe(15118);
    expect(policyRefusal('alice', 'xALICEx-1')?.number).toBe(15118);
    expect(policyRefusal('bob', 'abcdefg1!')).toBeUndefined();
    expect(policyRefusal('bob', 'ABCDEFG1!')).toBeUndefined();
  });
});

describe('PRELOGIN and LOGIN7', () => {
  it('negotiates encryption per the [MS-TDS] table: Force Encryption answers REQ to a client that did not offer ON', () => {
    expect(negotiate('off', Encrypt.ON)).toEqual({ answer: Encrypt.ON, then: 'full' });
    expect(negotiate('off', Encrypt.OFF)).toEqual({ answer: Encrypt.OFF, then: 'login-only' });
    expect(negotiate('off', Encrypt.NOT_SUP)).toEqual({ answer: Encrypt.NOT_SUP, then: 'none' });
    expect(negotiate('on', Encrypt.NOT_SUP)).toEqual({ answer: Encrypt.REQ, then: 'full' });
    expect(negotiate('not-supported', Encrypt.ON)).toEqual({ answer: Encrypt.NOT_SUP, then: 'none' });
  });

  it('undoes the LOGIN7 password obfuscation (swap nibbles, XOR 0xA5)', () => {
    const clear = Buffer.from('Pässw0rd', 'utf16le');
    const obfuscated = Buffer.from(clear.map((b) => (((b & 0x0f) << 4) | (b >> 4)) ^ 0xa5));
    expect(deobfuscate(obfuscated)).toBe('Pässw0rd');
  });
});
