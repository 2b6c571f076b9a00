import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { encrypt } from 'unixcrypt';
import { Secret } from '../../../../layers/engine/secret.js';
import { cryptSalt, sha512Crypt } from '../../../../layers/resources/google-workspace/crypt.js';

// Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512" (https://www.akkadia.org/drepper/SHA-crypt.txt),
// the SHA-512 test vectors, as glibc's crypt(3) computes them.
const DREPPER = [
  ['$6$saltstring', 'Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  ['$6$rounds=10000$saltstringsaltstring', 'Hello world!', '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'],
  ['$6$rounds=5000$toolongsaltstring', 'This is just a test', '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0'],
  [
    '$6$rounds=1400$anotherlongsaltstring',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  ['$6$rounds=77777$short', 'we have a short salt string but not a short password', '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0'],
  ['$6$rounds=123456$asaltof16chars..', 'a short string', '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1'],
  ['$6$rounds=10$roundstoolow', 'the minimum number is still observed', '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.'],
] as const;

/** OpenSSL's SHA-512 crypt (`openssl passwd -6`), an implementation independent of unixcrypt; the password on stdin. */
function openssl(password: string, salt: string): string {
  return execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: `${password}\n`, encoding: 'utf8' }).trim();
}

describe('SHA-512 crypt for Google (hashFunction "crypt")', () => {
  it.each(DREPPER)('matches the specification vector for %s', (salt, password, expected) => {
    expect(encrypt(password, salt)).toBe(expected);
  });

  it('makes $6$ strings with the default rounds that OpenSSL computes identically, for every printable ASCII character, spaces at the ends and 100 characters', () => {
    const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
    const passwords = [printable.slice(0, 50), printable.slice(50), '  leading and trailing  ', `'"\\$(id)\`;--`, 'x'.repeat(100), 'eight888'];
    for (const password of passwords) {
      const salt = cryptSalt();
      const hash = sha512Crypt(new Secret(password), salt);
      expect(hash).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
      expect(hash).toBe(openssl(password, salt));
    }
  });

  it('salts each hash afresh from the whole crypt alphabet, and never puts the password in it', () => {
    const secret = new Secret('same password 1!');
    const hashes = new Set(Array.from({ length: 20 }, () => sha512Crypt(secret)));
    expect(hashes.size).toBe(20);
    for (const h of hashes) expect(h).not.toContain('same password');
    const chars = new Set(Array.from({ length: 400 }, () => cryptSalt()).join(''));
    expect(chars.size).toBe(64);
  });

  it('refuses a salt outside crypt\'s alphabet', () => {
    expect(() => sha512Crypt(new Secret('password1'), 'bad$salt')).toThrow(/salt/);
  });
});
