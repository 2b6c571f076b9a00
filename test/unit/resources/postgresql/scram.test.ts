import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../../../layers/engine/secret.js';
import { saslprep } from '../../../../layers/resources/postgresql/saslprep.js';
import { scramKeys, scramVerifier } from '../../../../layers/resources/postgresql/scram.js';

// RFC 7677 section 3: user "user", password "pencil".
const RFC7677 = {
  password: 'pencil',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  iterations: 4096,
  clientFirstBare: 'n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinalWithoutProof: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  proof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};
const authMessage = [RFC7677.clientFirstBare, RFC7677.serverFirst, RFC7677.clientFinalWithoutProof].join(',');

describe('SCRAM-SHA-256 verifier', () => {
  it('derives the keys of RFC 7677 test vector: the client proof and the server signature match', async () => {
    const k = await scramKeys(RFC7677.password, Buffer.from(RFC7677.salt, 'base64'), RFC7677.iterations);

    const clientSignature = createHmac('sha256', k.storedKey).update(authMessage).digest();
    const proof = Buffer.from(k.clientKey.map((b, i) => b ^ clientSignature[i]!));
    const serverSignature = createHmac('sha256', k.serverKey).update(authMessage).digest();

    expect(proof.toString('base64')).toBe(RFC7677.proof);
    expect(serverSignature.toString('base64')).toBe(RFC7677.serverSignature);
  });

  it('builds the text PostgreSQL stores, against which the RFC 7677 proof verifies as the server checks it', async () => {
    const v = await scramVerifier(new Secret(RFC7677.password), { salt: Buffer.from(RFC7677.salt, 'base64') });

    const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(v);
    expect(m).not.toBeNull();
    const [, iterations, salt, storedKey, serverKey] = m!;
    expect(iterations).toBe('4096');
    expect(salt).toBe(RFC7677.salt);
    const clientSignature = createHmac('sha256', Buffer.from(storedKey!, 'base64')).update(authMessage).digest();
    const clientKey = Buffer.from(Buffer.from(RFC7677.proof, 'base64').map((b, i) => b ^ clientSignature[i]!));
    expect(createHash('sha256').update(clientKey).digest().toString('base64')).toBe(storedKey);
    expect(createHmac('sha256', Buffer.from(serverKey!, 'base64')).update(authMessage).digest().toString('base64')).toBe(RFC7677.serverSignature);
  });

  it('uses a fresh 16-byte salt each time and never contains the password', async () => {
    const pw = new Secret('pencil-and-paper');
    const [a, b] = [await scramVerifier(pw), await scramVerifier(pw)];
    expect(a).not.toBe(b);
    expect(Buffer.from(a.split('$')[1]!.split(':')[1]!, 'base64')).toHaveLength(16);
    expect(a).not.toContain('pencil');
    expect(a).toMatch(/^[A-Za-z0-9+/=$:-]+$/);
  });
});

describe('SASLprep as PostgreSQL applies it', () => {
  it('leaves ASCII as it is, including characters SASLprep would refuse', () => {
    const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
    expect(saslprep(ascii)).toBe(ascii);
  });

  it('maps non-ASCII spaces to a space, drops characters mapped to nothing and normalizes to NFKC', () => {
    expect(saslprep('a\u00a0b\u00adc')).toBe('a bc');
    expect(saslprep('\uff21\ufb01')).toBe('Afi'); // full-width A, "fi" ligature
    expect(saslprep('e\u0301')).toBe('\u00e9');
  });

  it('falls back to the raw password when the result would hold a prohibited or unassigned (Unicode 3.2) character', () => {
    expect(saslprep('\ufb01\ue000')).toBe('\ufb01\ue000'); // private use
    expect(saslprep('\ufb01\u{1f600}')).toBe('\ufb01\u{1f600}'); // emoji: unassigned in Unicode 3.2
  });

  it('falls back to the raw password on mixed-direction text, and accepts right-to-left text alone', () => {
    expect(saslprep('\u05d0a\ufb01\u05d0')).toBe('\u05d0a\ufb01\u05d0');
    expect(saslprep('\u05d0\u05d1')).toBe('\u05d0\u05d1');
  });

  it('falls back to the raw password when mapping leaves nothing', () => {
    expect(saslprep('\u00ad')).toBe('\u00ad');
  });
});
