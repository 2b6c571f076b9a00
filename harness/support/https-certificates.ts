// A test CA and a certificate for 127.0.0.1/localhost that it signs, for the HTTPS simulators of
// the cloud-identity providers. Made once with openssl (Debian's, as the test servers' CAs are) under
// .test-servers/https/ and reused while valid. Node reads NODE_EXTRA_CA_CERTS only when a process
// starts: the test run's global setup sets it to `caFile` before vitest starts its workers, so every
// library (fetch, msal, gaxios, jsforce) verifies the simulators as it would verify the providers.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { stateDir } from '../servers/index.js';

export interface TestCertificates {
  readonly caFile: string;
  /** PEM of the CA. */
  readonly ca: string;
  /** PEM certificate for 127.0.0.1 and localhost, and its key. */
  readonly cert: string;
  readonly key: string;
}

const DIR = join(stateDir, 'https');

function valid(certFile: string): boolean {
  try {
    const c = new X509Certificate(readFileSync(certFile));
    return Date.parse(c.validTo) > Date.now() + 7 * 86_400_000;
  } catch {
    return false;
  }
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The certificates, made first when missing or near expiry. Safe to call from several processes (made in a temporary folder, renamed into place). */
export function testCertificates(): TestCertificates {
  if (!valid(join(DIR, 'server.pem'))) {
    mkdirSync(stateDir, { recursive: true });
    const tmp = `${DIR}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '825', '-subj', '/CN=rpr test HTTPS CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], tmp);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], tmp);
    writeFileSync(join(tmp, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '820', '-extfile', 'ext.cnf'], tmp);
    rmSync(join(tmp, 'ca.key'));
    if (!valid(join(DIR, 'server.pem'))) {
      rmSync(DIR, { recursive: true, force: true });
      try {
        renameSync(tmp, DIR);
      } catch {
        // Another process put its own in place first: use that one.
      }
    }
    rmSync(tmp, { recursive: true, force: true });
  }
  const caFile = join(DIR, 'ca.pem');
  if (!existsSync(caFile)) throw new Error(`${caFile} is missing`);
  return { caFile, ca: readFileSync(caFile, 'utf8'), cert: readFileSync(join(DIR, 'server.pem'), 'utf8'), key: readFileSync(join(DIR, 'server.key'), 'utf8') };
}
