// An Entra simulator with the applications the tests need, and the engine on in-memory stores
// pointed at it: what a user of the entra-id type sees, run by run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../../../layers/engine/stores/types.js';
import { createEntraIdAdapter } from '../../../layers/resources/entra-id/adapter.js';
import { openResourceSession, type ResourceSession } from '../../../layers/engine/session.js';
import { REGISTRY } from '../../../layers/resources/registry.js';
import { startEntraSimulator, type EntraSimulator } from '../../simulators/https/entra.js';

export const TENANT = '7d1c2f4e-0b6a-4e8e-9d2a-3f5b6c7d8e9f';
export const DOMAIN = 'rprtest.onmicrosoft.com';
export const APP = { clientId: 'a1b2c3d4-0000-4000-8000-000000000001', secret: `Sx~${randomBytes(18).toString('base64url')}` };
/** Holds User.ReadWrite.All but no directory role. */
export const NO_ROLE_APP = { clientId: 'a1b2c3d4-0000-4000-8000-000000000002', secret: `Sy~${randomBytes(18).toString('base64url')}` };
/** Its only secret expired yesterday. */
export const EXPIRED_APP = { clientId: 'a1b2c3d4-0000-4000-8000-000000000003', secret: `Sz~${randomBytes(18).toString('base64url')}` };
/** Signs in with a certificate (RSA key made by openssl). */
export const CERT_APP = { clientId: 'a1b2c3d4-0000-4000-8000-000000000004' };
export const BANNED = ['contoso', 'password', 'summer', 'winter'];

export function makeCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-entra-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=rpr entra test app'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startTestTenant(options: { rateLimit?: { resourceUnits: number; windowMs: number }; certificate?: string } = {}): Promise<EntraSimulator> {
  const write = ['User.ReadWrite.All'];
  return startEntraSimulator({
    tenantId: TENANT,
    domain: DOMAIN,
    banned: BANNED,
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    apps: [
      { clientId: APP.clientId, secrets: [{ value: APP.secret }], permissions: write, directoryRoles: ['User Administrator'] },
      { clientId: NO_ROLE_APP.clientId, secrets: [{ value: NO_ROLE_APP.secret }], permissions: write, directoryRoles: [] },
      { clientId: EXPIRED_APP.clientId, secrets: [{ value: EXPIRED_APP.secret, expires: new Date(Date.now() - 86_400_000) }], permissions: write, directoryRoles: ['User Administrator'] },
      { clientId: CERT_APP.clientId, certificates: options.certificate ? [options.certificate] : [], permissions: write, directoryRoles: ['User Administrator'] },
    ],
  });
}

/** The engine on in-memory stores with the entra-id adapter. */
export async function openEngine(options: { concurrency?: number; timeoutMs?: number } = {}) {
  const stores = await openMemoryStores();
  const config = new Configurator(stores.state, stores.credentials, REGISTRY);
  const log = new Log({ level: 'SILENT' });
  const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { 'entra-id': createEntraIdAdapter }, log, timeoutMs: options.timeoutMs ?? 10_000, concurrency: options.concurrency ?? 4 });
  let n = 0;
  return {
    stores,
    config,
    engine,
    /** A resource on the simulator, its credential stored as the standalone secret it names. */
    async resource(sim: EntraSimulator, over: Record<string, unknown> = {}, credential: { secret?: string; certificate?: string } = { secret: APP.secret }): Promise<string> {
      const id = `entra${++n}`;
      const secretId = `entra/${id}/credential`;
      await config.putSecret(secretId, new Secret(credential.secret ?? credential.certificate!));
      await config.putResource({
        id,
        type: 'entra-id',
        host: '127.0.0.1',
        port: sim.https.port,
        authority: sim.origin,
        tenantId: TENANT,
        clientId: APP.clientId,
        ...(credential.secret !== undefined ? { clientSecretSecretId: secretId } : { clientCertificateSecretId: secretId }),
        ...over,
      });
      return id;
    },
    /** A user in the simulator and its account in rpr, both with `password`. */
    async account(sim: EntraSimulator, resourceId: string, password: string, options: { isAdmin?: boolean } = {}) {
      const upn = `u${randomUUID().slice(0, 8)}@${DOMAIN}`;
      const user = sim.addUser(upn, password, options);
      const account = await config.putAccount({ resourceId, username: upn, secretId: `entra/${resourceId}/${upn}` }, { password: new Secret(password) });
      return { user, account };
    },
    async run(resourceId: string, accountIds?: string[]) {
      const record = await engine.run({ resourceIds: [resourceId], ...(accountIds ? { accountIds } : {}) });
      return { record, results: await stores.state.listAccountResults(record.runId) };
    },
    /** `fn` on the resource's session as the engine opens it (guarded adapter, redactor, policy). */
    async withSession<T>(resourceId: string, fn: (session: ResourceSession) => Promise<T>): Promise<T> {
      const session = await openResourceSession({ state: stores.state, credentials: stores.credentials, registry: REGISTRY, adapters: { 'entra-id': createEntraIdAdapter }, log, timeoutMs: 10_000 }, resourceId);
      try {
        return await fn(session);
      } finally {
        await session.close();
      }
    },
    async current(secretId: string): Promise<string> {
      return (await stores.credentials.getValue(secretId, { stage: AWSCURRENT })).value.reveal();
    },
  };
}

export const startPassword = () => `Start-${randomBytes(6).toString('base64url')}-9a!`;
