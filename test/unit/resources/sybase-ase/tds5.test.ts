// The TDS 5.0 client's encodings checked byte for byte against SAP's TDS 5.0 specification (the
// login record's fields in their order and widths, the packet header, TDS_DBRPC/TDS_PARAMFMT/
// TDS_PARAMS, TDS_LANGUAGE) and its reading of the answers' tokens, including what it refuses.
import { describe, expect, it } from 'vitest';
import { languageRequest, loginRecord, packets, parseResponse, rpcRequest } from '../../../../layers/resources/sybase-ase/tds5.js';

const name = (buf: Buffer, at: number, size: number) => buf.subarray(at, at + buf[at + size]!).toString('utf8');

describe('the TDS 5.0 login record', () => {
  const record = loginRecord({ host: 'h', port: 5000, user: 'app_user', password: 'pw-Ä1!' }, 2048);

  it('holds the fields in the specification\'s order and widths, integers declared little-endian', () => {
    expect(name(record, 31, 30)).toBe('app_user'); // lusername
    expect(name(record, 62, 30)).toBe('pw-Ä1!'); // lpw, UTF-8
    expect([...record.subarray(124, 130)]).toEqual([3, 1, 6, 10, 9, 1]); // lint2 LSB_LO, lint4 LSB_LO, lchar, lflt, ldate, lusedb
    expect(name(record, 140, 30)).toBe('remote-password-reset'); // lappname
    // lrempw: an empty server name, then the password, its length + 2 in the last byte.
    const pw = Buffer.from('pw-Ä1!');
    expect(record[202]).toBe(0);
    expect(record[203]).toBe(pw.length);
    expect(record.subarray(204, 204 + pw.length)).toEqual(pw);
    expect(record[457]).toBe(pw.length + 2);
    expect([...record.subarray(458, 462)]).toEqual([5, 0, 0, 0]); // ltds version 5.0
    expect(name(record, 525, 30)).toBe('utf8'); // lcharset
    expect(record[556]).toBe(1); // lsetcharset
    expect(name(record, 557, 6)).toBe('2048'); // lpacketsize
    // The capability token follows the 568 bytes: requests (type 1) and responses (type 2), 14 bytes each.
    expect(record[568]).toBe(0xe2);
    expect(record.readUInt16LE(569)).toBe(32);
    expect([record[571], record[572], record[587], record[588]]).toEqual([1, 14, 2, 14]);
    // TDS_REQ_LANG (bit 1) and TDS_REQ_RPC (bit 2) are in the last request byte.
    expect(record[571 + 2 + 13]! & 0b110).toBe(0b110);
    expect(record.length).toBe(568 + 3 + 32);
  });

  it('refuses, before anything is sent, a name or password the record cannot hold (30 bytes)', () => {
    expect(() => loginRecord({ host: 'h', port: 1, user: 'u', password: 'é'.repeat(16) }, 512)).toThrow(/32 bytes.*at most 30/);
    expect(() => loginRecord({ host: 'h', port: 1, user: 'x'.repeat(31), password: 'p' }, 512)).toThrow(/lusername is 31 bytes/);
  });
});

describe('packets', () => {
  it('split a message by the packet size, the length big-endian, the last marked end of message', () => {
    const out = packets(0x02, Buffer.alloc(1200, 7), 512);
    expect(out.map((p) => p.length)).toEqual([512, 512, 8 + 1200 - 2 * 504]);
    expect(out.map((p) => p[1])).toEqual([0, 0, 1]);
    expect(out.map((p) => p.readUInt16BE(2))).toEqual([512, 512, 200]);
    expect(out.map((p) => p[6])).toEqual([1, 2, 3]);
    expect(out.every((p) => p[0] === 0x02)).toBe(true);
  });
});

describe('requests', () => {
  it('an RPC carries its parameters bound (TDS_DBRPC, TDS_PARAMFMT as VARCHAR, TDS_PARAMS), never as text', () => {
    const rpc = rpcRequest('sp_password', [{ name: '', value: "o'ld" }, { name: '', value: 'n"ew' }]);
    expect(rpc[0]).toBe(0xe6);
    expect(rpc.readUInt16LE(1)).toBe(1 + 11 + 2);
    expect(rpc.subarray(4, 15).toString()).toBe('sp_password');
    expect(rpc.readUInt16LE(15)).toBe(0x0002); // TDS_RPC_PARAMS
    expect(rpc[17]).toBe(0xec);
    expect(rpc.readUInt16LE(20)).toBe(2); // two parameters
    // Each format: no name, status 0, usertype 0, VARCHAR (0x27) of up to 255, no locale.
    expect([...rpc.subarray(22, 31)]).toEqual([0, 0, 0, 0, 0, 0, 0x27, 255, 0]);
    const params = rpc.indexOf(0xd7, 31);
    expect(rpc.subarray(params + 1)).toEqual(Buffer.concat([Buffer.from([4]), Buffer.from("o'ld"), Buffer.from([4]), Buffer.from('n"ew')]));
  });

  it('a language request with parameters says so in its status and names them', () => {
    const lang = languageRequest('select suser_id(@login)', [{ name: '@login', value: 'x' }]);
    expect(lang[0]).toBe(0x21);
    expect(lang.readUInt32LE(1)).toBe(1 + 23);
    expect(lang[5]).toBe(0x01);
    expect(lang.subarray(6, 29).toString()).toBe('select suser_id(@login)');
    expect(lang[29]).toBe(0xec);
    expect(lang[34]).toBe(6);
    expect(lang.subarray(35, 41).toString()).toBe('@login');
    expect(() => rpcRequest('p', [{ name: '', value: 'x'.repeat(256) }])).toThrow(/at most 255/);
  });
});

/** Tokens as the specification lays them out, integers little-endian as the login declared. */
const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
const i32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b; };
const str1 = (s: string) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
function eed(number: number, severity: number, message: string, proc = ''): Buffer {
  const body = Buffer.concat([i32(number), Buffer.from([1, severity]), str1('ZZZZZ'), Buffer.from([0]), u16(0), u16(Buffer.byteLength(message)), Buffer.from(message), str1('ASE1'), str1(proc), u16(7)]);
  return Buffer.concat([Buffer.from([0xe5]), u16(body.length), body]);
}
const done = (status: number) => Buffer.concat([Buffer.from([0xfd]), u16(status), u16(0), i32(0)]);

describe('reading answers', () => {
  it('reads rows (INTN, VARCHAR, NULL), messages with their procedure, the return status and DONE', () => {
    const fmtBody = Buffer.concat([u16(2), str1('id'), Buffer.from([0x10]), i32(0), Buffer.from([0x26, 4]), Buffer.from([0]), str1(''), Buffer.from([0]), i32(0), Buffer.from([0x27, 30]), Buffer.from([0])]);
    const message = Buffer.concat([
      Buffer.from([0xee]), u16(fmtBody.length), fmtBody,
      Buffer.from([0xd1]), Buffer.from([4]), i32(42), str1('Ünï'),
      Buffer.from([0xd1]), Buffer.from([0]), Buffer.from([0]),
      eed(17720, 10, 'Password correctly set.', 'sp_password'),
      Buffer.from([0x79]), i32(0),
      done(0),
    ]);
    const parsed = parseResponse(message);
    expect(parsed.rows).toEqual([[42, 'Ünï'], [null, null]]);
    expect(parsed.messages).toEqual([{ number: 17720, state: 1, severity: 10, message: 'Password correctly set.', sqlState: 'ZZZZZ', procedure: 'sp_password', line: 7 }]);
    expect(parsed.returnStatus).toBe(0);
    expect(parsed.doneError).toBe(false);
  });

  it('marks an answer whose DONE has the error bit, and the packet size the server chose', () => {
    const env = Buffer.concat([Buffer.from([4]), str1('4096'), str1('2048')]);
    const parsed = parseResponse(Buffer.concat([Buffer.from([0xe3]), u16(env.length), env, eed(4002, 14, 'Login failed.'), done(0x0002)]));
    expect(parsed.packetSize).toBe(4096);
    expect(parsed.doneError).toBe(true);
    expect(parsed.messages[0]).toMatchObject({ number: 4002, severity: 14 });
  });

  it('refuses a token it does not know and one that runs past the message, rather than guess', () => {
    expect(() => parseResponse(Buffer.from([0x99, 0, 0]))).toThrow(/unexpected token 0x99/);
    expect(() => parseResponse(eed(1, 16, 'cut').subarray(0, 12))).toThrow(/runs past the end/);
    const fmt = Buffer.concat([u16(1), str1('t'), Buffer.from([0]), i32(0), Buffer.from([0x23]), Buffer.from([0])]);
    expect(() => parseResponse(Buffer.concat([Buffer.from([0xee]), u16(fmt.length), fmt]))).toThrow(/data type 0x23/);
  });
});
