import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certificateCredential } from '../../../../layers/resources/entra-id/adapter.js';

function pair(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-entra-unit-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=unit'], { cwd: dir, stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the entra-id certificate secret', () => {
  const { key, cert } = pair();
  it('PEM key and certificate: the SHA-256 thumbprint is the certificate’s, and x5c goes along', () => {
    const c = certificateCredential(`${cert}\n${key}`);
    expect(c.thumbprintSha256).toBe(createHash('sha256').update(new X509Certificate(cert).raw).digest('hex').toUpperCase());
    expect(c.privateKey).toBe(key.trim());
    expect(c.x5c).toBe(cert.trim());
  });

  it('JSON with privateKey and thumbprintSha256 (colons allowed)', () => {
    const hex = 'ab'.repeat(32);
    expect(certificateCredential(JSON.stringify({ privateKey: key, thumbprintSha256: hex.replace(/(..)(?!$)/g, '$1:') }))).toEqual({ privateKey: key, thumbprintSha256: hex.toUpperCase() });
  });

  it('anything else is a configuration error naming the field, without the secret in it', () => {
    for (const bad of [key, cert, '{"privateKey": "x"}', JSON.stringify({ privateKey: key, thumbprintSha256: 'short' }), '{not json']) {
      let e: unknown;
      try {
        certificateCredential(bad);
      } catch (x) {
        e = x;
      }
      expect(e).toMatchObject({ name: 'InvalidConfigurationError', field: 'clientCertificateSecretId' });
      expect(String((e as Error).message)).not.toContain('PRIVATE KEY');
    }
  });
});
