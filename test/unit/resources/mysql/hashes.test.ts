import { describe, expect, it } from 'vitest';
import { Secret } from '../../../../layers/engine/secret.js';
import { attest, cachingSha2Hash, cachingSha2Salt, comparable, nativePasswordHash, parseCachingSha2, sha256CryptDigest } from '../../../../layers/resources/mysql/hashes.js';

const salt = (hex: string) => Buffer.from(hex, 'hex');

describe('mysql_native_password hash', () => {
  it("is MySQL's documented PASSWORD('mypass') and the well-known PASSWORD('password')", () => {
    // MySQL 5.7 reference manual, PASSWORD(): SELECT PASSWORD('mypass') -> '*6C8989366EAF75BB670AD8EA7A7FC1176A95CEF4'.
    expect(nativePasswordHash(new Secret('mypass'))).toBe('*6C8989366EAF75BB670AD8EA7A7FC1176A95CEF4');
    expect(nativePasswordHash(new Secret('password'))).toBe('*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19');
  });

  it('hashes the UTF-8 bytes of the password (as a utf8mb4 session sends them)', () => {
    // SHA1(SHA1(UTF-8 bytes)), computed with Python's hashlib.
    expect(nativePasswordHash(new Secret('pässwörd 🔑'))).toBe('*3930B0833C918CE77578DD45EA65744F38E7EA5C');
  });

  it('attests the right password and refuses a wrong one, an empty string only for an empty password', () => {
    const stored = Buffer.from('*6c8989366eaf75bb670ad8ea7a7fc1176a95cef4', 'latin1');
    expect(attest('mysql_native_password', stored, new Secret('mypass'))).toBe(true);
    expect(attest('mysql_native_password', stored, new Secret('mypass '))).toBe(false);
    expect(attest('mysql_native_password', Buffer.alloc(0), new Secret(''))).toBe(true);
    expect(attest('mysql_native_password', Buffer.alloc(0), new Secret('x'))).toBe(false);
  });

  it('has nothing to compare for a malformed value or another plugin', () => {
    expect(attest('mysql_native_password', Buffer.from('*ABC', 'latin1'), new Secret('x'))).toBeUndefined();
    expect(attest('unix_socket', Buffer.alloc(0), new Secret('x'))).toBeUndefined();
    expect(comparable('unix_socket', Buffer.alloc(0))).toBe(false);
  });
});

describe("SHA-crypt (SHA-256), the digest of MySQL's caching_sha2_password", () => {
  // Ulrich Drepper's published test vectors (https://www.akkadia.org/drepper/SHA-crypt.txt), also
  // what glibc's crypt() returns for them; salts longer than 16 are cut at 16 there, as glibc does.
  const drepper: [string, string, number, string][] = [
    ['Hello world!', 'saltstring', 5000, '5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
    ['Hello world!', 'saltstringsaltst', 10000, '3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA'],
    ['This is just a test', 'toolongsaltstrin', 5000, 'Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5'],
    ['a very much longer text to encrypt.  This one even stretches over morethan one line.', 'anotherlongsalts', 1400, 'Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1'],
    ['we have a short salt string but not a short password', 'short', 77777, 'JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/'],
    ['a short string', 'asaltof16chars..', 123456, 'gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD'],
  ];
  it.each(drepper)('%j with salt %j and %i rounds', (password, s, rounds, digest) => {
    expect(sha256CryptDigest(Buffer.from(password), Buffer.from(s), rounds)).toBe(digest);
  });

  it("matches glibc's crypt() for a UTF-8 password with quotes and a backslash, and for an empty one", () => {
    // Python 3.11: crypt.crypt(password, '$5$rounds=1000$abcdefghijklmnop') and '$5$rounds=2000$x'.
    expect(sha256CryptDigest(Buffer.from("pässwörd 🔑 'quoted' \\back"), Buffer.from('abcdefghijklmnop'), 1000)).toBe('VCIubCkPNflaRsbfQY.Znf7hXR9Zb.fEYk9mdxAt/V0');
    expect(sha256CryptDigest(Buffer.alloc(0), Buffer.from('x'), 2000)).toBe('bYS1oPT58MZWgzljkoZKK1s1zpylIZ6ZeWbRrgSkjJ3');
  });
});

describe('caching_sha2_password stored form (MySQL 8; derived from its source, untested against a MySQL server)', () => {
  // Vectors from a line-by-line Python transcription of my_crypt_genhash (mysys/crypt_genhash_impl.cc)
  // with MySQL's 20-byte salts, which glibc cannot make (it cuts salts at 16).
  const vectors: [string, string, number, string][] = [
    ['Hello world!', '0102030405060708090a0b0c0d0e0f1011121314', 5000, 'SP1aF/DFMyLSR2EsBIUCwwybnm9V2LbuBfsbxDdk7dB'],
    ["pässwörd 🔑 'q' \\b", '275c1a226162636465666768696a7f3031323334', 5000, '8BVBKXl9oTFscW.UlD.R5T4AqlMNB5CxLc3dczoJl34'],
    ['', '4142434445464748494a4b4c4d4e4f5051525354', 10000, 'Q2nmKoHS51lQxIFTQ0NYRM8Dx/pag7LcgnycADSNZW8'],
  ];

  it.each(vectors)('%j: $A$<rounds in hex>$<salt><digest>, 70 bytes', (password, saltHex, rounds, digest) => {
    const stored = cachingSha2Hash(new Secret(password), { salt: salt(saltHex), rounds });

    const head = `$A$${rounds === 5000 ? '005' : '00A'}$`;
    expect(stored).toEqual(Buffer.concat([Buffer.from(head), salt(saltHex), Buffer.from(digest)]));
    expect(stored).toHaveLength(70);
    expect(parseCachingSha2(stored)).toEqual({ rounds, salt: salt(saltHex), digest });
  });

  it('attests by recomputing with the stored salt and rounds: the right password matches, a wrong one does not', () => {
    const stored = cachingSha2Hash(new Secret('Right-pass-1'));

    expect(attest('caching_sha2_password', stored, new Secret('Right-pass-1'))).toBe(true);
    expect(attest('caching_sha2_password', stored, new Secret('Right-pass-2'))).toBe(false);
    expect(attest('caching_sha2_password', Buffer.from('$A$005$short'), new Secret('x'))).toBeUndefined();
  });

  it("makes salts as MySQL's generate_user_salt does: 20 bytes, 7-bit, never NUL or '$'", () => {
    for (let i = 0; i < 50; i++) {
      const s = cachingSha2Salt();
      expect(s).toHaveLength(20);
      for (const b of s) {
        expect(b).toBeGreaterThan(0);
        expect(b).toBeLessThan(0x80);
        expect(b).not.toBe(0x24);
      }
    }
  });

  it('refuses salts and round counts the stored form cannot hold', () => {
    expect(() => cachingSha2Hash(new Secret('x'), { salt: Buffer.alloc(16, 0x41) })).toThrow(RangeError);
    expect(() => cachingSha2Hash(new Secret('x'), { rounds: 5500 })).toThrow(RangeError);
  });
});
